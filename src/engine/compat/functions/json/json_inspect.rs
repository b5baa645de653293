//! DuckDB's functions that look into a JSON value: `json_valid`, `json_type`, `json_keys` and
//! `json_array_length`, each at the document or at a path.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, ListBuilder, StringArray, StringBuilder, UInt64Array,
};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;
use serde_json::Value;

use crate::engine::compat::functions::common::{row_udf, strings};
use crate::engine::compat::functions::json::json_path::parse_json_path;
use crate::engine::compat::functions::json::json_raw;

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let keys = |_: &[DataType]| Ok(DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))));
    vec![
        row_udf("json_valid", "one argument: json_valid(json)", 1..=1, |_| Ok(DataType::Boolean), json_valid),
        row_udf("json_type", "json_type(json [, path])", 1..=2, |_| Ok(DataType::Utf8), |a| inspected(a, Look::Type)),
        row_udf("json_keys", "json_keys(json [, path])", 1..=2, keys, |a| inspected(a, Look::Keys)),
        row_udf(
            "json_array_length",
            "json_array_length(json [, path])",
            1..=2,
            |_| Ok(DataType::UInt64),
            |a| inspected(a, Look::ArrayLength),
        ),
    ]
}

/// What a function looks at in the value.
#[derive(Clone, Copy)]
enum Look {
    Type,
    Keys,
    ArrayLength,
}

fn json_valid(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = json_texts(&arrays[0])?;
    let texts = texts.as_string::<i32>();
    Ok(Arc::new(
        (0..texts.len())
            .map(|r| texts.is_valid(r).then(|| json_raw::document(texts.value(r)).is_some()))
            .collect::<BooleanArray>(),
    ))
}

/// The type, keys or array length of each row's value at its path (NULL for a NULL text or path).
fn inspected(arrays: &[ArrayRef], look: Look) -> Result<ArrayRef> {
    let texts = json_texts(&arrays[0])?;
    let texts = texts.as_string::<i32>();
    let paths = arrays.get(1).map(strings).transpose()?;
    let rows = texts.len();
    let (mut types, mut keys, mut lengths) =
        (StringBuilder::new(), ListBuilder::new(StringBuilder::new()), Vec::with_capacity(rows));
    for row in 0..rows {
        let path = match &paths {
            Some(p) if p.is_null(row) => None,
            Some(p) => Some(
                parse_json_path(p.as_string::<i32>().value(row))
                    .map_err(|e| datafusion::error::DataFusionError::Execution(e.to_string()))?,
            ),
            None => Some(vec![]),
        };
        let document = if texts.is_valid(row) { json_raw::document(texts.value(row)) } else { None };
        let value = document.as_deref().zip(path).and_then(|(d, p)| json_raw::at(d, &p));
        match look {
            Look::Type => types.append_option(value.and_then(raw_json_type)),
            Look::Keys => match value {
                Some(value) => {
                    for (key, _) in json_raw::members(value).unwrap_or_default() {
                        keys.values().append_value(key);
                    }
                    keys.append(true);
                }
                None => keys.append(false),
            },
            Look::ArrayLength => lengths.push(value.map(|v| json_raw::elements(v).map_or(0, |e| e.len() as u64))),
        }
    }
    Ok(match look {
        Look::Type => Arc::new(types.finish()),
        Look::Keys => Arc::new(keys.finish()),
        Look::ArrayLength => Arc::new(UInt64Array::from(lengths)),
    })
}

/// A JSON argument as JSON text: text as it is, other values (a list, a struct) as the JSON DuckDB
/// casts them to.
fn json_texts(array: &ArrayRef) -> Result<ArrayRef> {
    if matches!(
        array.data_type(),
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::Struct(_)
            | DataType::Map(..)
    ) {
        let out: StringArray = (0..array.len())
            .map(|r| (!array.is_null(r)).then(|| crate::encode::sql_json_value(array.as_ref(), r).to_string()))
            .collect();
        return Ok(Arc::new(out));
    }
    strings(array)
}

pub(crate) fn duckdb_json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NULL",
        Value::Bool(_) => "BOOLEAN",
        Value::Number(n) if n.is_u64() => "UBIGINT",
        Value::Number(n) if n.is_i64() => "BIGINT",
        Value::Number(_) => "DOUBLE",
        Value::String(_) => "VARCHAR",
        Value::Array(_) => "ARRAY",
        Value::Object(_) => "OBJECT",
    }
}

/// DuckDB's name of the JSON type of a value read in place.
fn raw_json_type(value: &serde_json::value::RawValue) -> Option<&'static str> {
    Some(match json_raw::kind(value) {
        b'{' => "OBJECT",
        b'[' => "ARRAY",
        _ => duckdb_json_type(&json_raw::scalar(value)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_types_are_duckdbs() {
        assert_eq!(duckdb_json_type(&Value::from(-1)), "BIGINT");
        assert_eq!(duckdb_json_type(&Value::from(1)), "UBIGINT");
    }
}
