//! DuckDB's `json_transform(json, structure)` (also `from_json`) and its `_strict` forms: the
//! JSON read into the SQL type its structure names — `'{"a": "INTEGER", "b": ["VARCHAR"]}'` is a
//! `STRUCT(a INTEGER, b VARCHAR[])`. A value that does not fit its type is NULL (an error in the
//! strict forms); a missing key is NULL.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, ListArray, NullArray, StringArray, StructArray};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::{CastOptions, cast, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, TimeUnit};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use serde_json::Value;

pub(crate) fn functions() -> Vec<ScalarUDF> {
    [("json_transform", false, "from_json"), ("json_transform_strict", true, "from_json_strict")]
        .into_iter()
        .map(|(name, strict, alias)| {
            ScalarUDF::new_from_impl(JsonTransform {
                name,
                strict,
                signature: Signature::any(2, Volatility::Immutable),
            })
            .with_aliases([alias])
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonTransform {
    name: &'static str,
    strict: bool,
    signature: Signature,
}

/// The SQL type a structure names.
fn type_of(structure: &Value) -> std::result::Result<DataType, String> {
    Ok(match structure {
        Value::String(name) => leaf_type(name)?,
        Value::Array(items) => match items.as_slice() {
            [item] => DataType::List(Arc::new(Field::new_list_field(type_of(item)?, true))),
            _ => return Err("a list in the structure holds exactly one element type".into()),
        },
        Value::Object(fields) => DataType::Struct(
            fields
                .iter()
                .map(|(key, value)| Ok(Arc::new(Field::new(key, type_of(value)?, true))))
                .collect::<std::result::Result<Fields, String>>()?,
        ),
        other => return Err(format!("the structure names types as text, not {other}")),
    })
}

fn leaf_type(name: &str) -> std::result::Result<DataType, String> {
    let upper = name.trim().to_uppercase();
    if let Some(args) = upper.strip_prefix("DECIMAL").or_else(|| upper.strip_prefix("NUMERIC")) {
        let numbers: Vec<u8> = args
            .trim_matches(|c| c == '(' || c == ')' || c == ' ')
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse().map_err(|_| format!("unknown type {name}")))
            .collect::<std::result::Result<_, _>>()?;
        let (precision, scale) = match numbers.as_slice() {
            [] => (18, 3),
            [p] => (*p, 0),
            [p, s] => (*p, *s),
            _ => return Err(format!("unknown type {name}")),
        };
        return Ok(DataType::Decimal128(precision, scale as i8));
    }
    Ok(match upper.as_str() {
        "NULL" => DataType::Null,
        "BOOLEAN" | "BOOL" => DataType::Boolean,
        "TINYINT" => DataType::Int8,
        "SMALLINT" => DataType::Int16,
        "INTEGER" | "INT" => DataType::Int32,
        "BIGINT" => DataType::Int64,
        "UTINYINT" => DataType::UInt8,
        "USMALLINT" => DataType::UInt16,
        "UINTEGER" => DataType::UInt32,
        "UBIGINT" => DataType::UInt64,
        "HUGEINT" => DataType::Decimal128(38, 0),
        "FLOAT" | "REAL" => DataType::Float32,
        "DOUBLE" => DataType::Float64,
        "VARCHAR" | "TEXT" | "STRING" | "JSON" | "BLOB" | "UUID" => DataType::Utf8,
        "DATE" => DataType::Date32,
        "TIME" => DataType::Time64(TimeUnit::Microsecond),
        "TIMESTAMP" | "DATETIME" | "TIMESTAMP_MS" | "TIMESTAMP_NS" | "TIMESTAMP_S" => {
            DataType::Timestamp(TimeUnit::Microsecond, None)
        }
        "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        _ => return Err(format!("unknown type {name} in a JSON structure")),
    })
}

fn structure_type(value: Option<&ScalarValue>) -> Result<DataType> {
    let text = match value {
        Some(ScalarValue::Utf8(Some(t)) | ScalarValue::LargeUtf8(Some(t)) | ScalarValue::Utf8View(Some(t))) => t,
        _ => return plan_err!("json_transform: the structure must be a constant JSON text"),
    };
    let structure: Value = serde_json::from_str(text)
        .map_err(|e| datafusion::error::DataFusionError::Plan(format!("json_transform: malformed structure: {e}")))?;
    type_of(&structure).map_err(|e| datafusion::error::DataFusionError::Plan(format!("json_transform: {e}")))
}

impl ScalarUDFImpl for JsonTransform {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("{}: the structure must be a constant JSON text", self.name)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let null = |i: usize| matches!(args.scalar_arguments.get(i), Some(Some(v)) if v.is_null());
        // NULL in, NULL out, whatever the structure.
        let data_type = if null(0) || null(1) {
            DataType::Null
        } else {
            structure_type(args.scalar_arguments.get(1).copied().flatten())?
        };
        Ok(Arc::new(Field::new(self.name, data_type, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        if args.return_field.data_type().is_null() {
            return Ok(ColumnarValue::Scalar(ScalarValue::Null));
        }
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let texts = cast(&args.args[0].to_array(rows)?, &DataType::Utf8)?;
        let mut parsed = Vec::with_capacity(rows);
        for text in texts.as_string::<i32>().iter() {
            parsed.push(match text {
                Some(t) => Some(serde_json::from_str::<Value>(t).map_err(|e| {
                    datafusion::error::DataFusionError::Execution(format!("{}: malformed JSON: {e}", self.name))
                })?),
                None => None,
            });
        }
        let values: Vec<Option<&Value>> = parsed.iter().map(Option::as_ref).collect();
        let result = column(&values, args.return_field.data_type(), self.strict)?;
        crate::engine::compat::functions::common::columnar(result, scalar)
    }
}

/// The values read as `data_type`, column by column down the structure.
fn column(values: &[Option<&Value>], data_type: &DataType, strict: bool) -> Result<ArrayRef> {
    let present = |v: &Option<&Value>| v.is_some_and(|v| !v.is_null());
    Ok(match data_type {
        DataType::Null => Arc::new(NullArray::new(values.len())),
        DataType::Struct(fields) => {
            let objects: Vec<Option<&serde_json::Map<String, Value>>> =
                values.iter().map(|v| v.and_then(Value::as_object)).collect();
            if strict && values.iter().zip(&objects).any(|(v, o)| present(v) && o.is_none()) {
                return exec_err!("json_transform_strict: a value is not an object");
            }
            let children = fields
                .iter()
                .map(|f| {
                    column(
                        &objects.iter().map(|o| o.and_then(|o| o.get(f.name()))).collect::<Vec<_>>(),
                        f.data_type(),
                        strict,
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            let nulls = NullBuffer::from(objects.iter().map(Option::is_some).collect::<Vec<_>>());
            Arc::new(StructArray::try_new(fields.clone(), children, Some(nulls))?)
        }
        DataType::List(field) => {
            let lists: Vec<Option<&Vec<Value>>> = values.iter().map(|v| v.and_then(Value::as_array)).collect();
            if strict && values.iter().zip(&lists).any(|(v, l)| present(v) && l.is_none()) {
                return exec_err!("json_transform_strict: a value is not an array");
            }
            let elements: Vec<Option<&Value>> = lists.iter().flatten().flat_map(|l| l.iter().map(Some)).collect();
            let child = column(&elements, field.data_type(), strict)?;
            let offsets = OffsetBuffer::from_lengths(lists.iter().map(|l| l.map_or(0, Vec::len)));
            let nulls = NullBuffer::from(lists.iter().map(Option::is_some).collect::<Vec<_>>());
            Arc::new(ListArray::try_new(field.clone(), offsets, child, Some(nulls))?)
        }
        leaf => {
            let texts: StringArray = values
                .iter()
                .map(|v| match v {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Bool(b)) if matches!(leaf, DataType::Decimal128(..)) => {
                        Some(if *b { "1" } else { "0" }.to_string())
                    }
                    // Nested JSON is only text where the structure asks for text.
                    Some(Value::Array(_) | Value::Object(_)) if leaf != &DataType::Utf8 => None,
                    Some(other) => Some(other.to_string()),
                })
                .collect();
            let options = CastOptions { safe: !strict, ..Default::default() };
            cast_with_options(&(Arc::new(texts) as ArrayRef), leaf, &options)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structures_name_sql_types() {
        let structure: Value = serde_json::from_str(r#"{"a": "UBIGINT", "b": ["DECIMAL(3,1)"]}"#).unwrap();
        let DataType::Struct(fields) = type_of(&structure).unwrap() else { panic!("a struct") };
        assert_eq!(fields[0].data_type(), &DataType::UInt64);
        assert_eq!(
            fields[1].data_type(),
            &DataType::List(Arc::new(Field::new_list_field(DataType::Decimal128(3, 1), true)))
        );
        let values: Vec<Value> = vec![serde_json::json!({"a": 42, "b": [1.5, "x"]}), serde_json::json!(7)];
        let refs: Vec<Option<&Value>> = values.iter().map(Some).collect();
        let array = column(&refs, &type_of(&structure).unwrap(), false).unwrap();
        assert_eq!(crate::encode::display_text(array.as_ref(), 0), "{'a': 42, 'b': [1.5, NULL]}");
        assert!(array.is_null(1));
    }
}
