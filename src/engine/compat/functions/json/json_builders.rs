//! DuckDB's JSON builders: `json_object(key, value, ...)`, `json_array(value, ...)`,
//! `to_json(value)` and `json_quote(value)` — values written as JSON text (minified, keys in
//! order), as `query --json` writes them.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};
use serde_json::Value;

use crate::encode::sql_json_value;

pub(crate) fn functions() -> Vec<ScalarUDF> {
    ["json_object", "json_array", "to_json", "json_quote"]
        .into_iter()
        .map(|name| {
            // No arguments too: `json_object()` is `{}`.
            let signature =
                Signature::one_of(vec![TypeSignature::VariadicAny, TypeSignature::Nullary], Volatility::Immutable);
            ScalarUDF::new_from_impl(JsonBuilder { name, signature })
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonBuilder {
    name: &'static str,
    signature: Signature,
}

/// A value as JSON: JSON-typed text is embedded as the JSON it holds, other values written as
/// `to_json` writes them.
fn value(column: &ArrayRef, field: Option<&FieldRef>, row: usize) -> Value {
    if column.data_type() == &DataType::Null || column.is_null(row) {
        return Value::Null;
    }
    let written = sql_json_value(column.as_ref(), row);
    match written {
        Value::String(text) if field.is_some_and(|f| crate::engine::compat::types::is_json(f)) => {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
        other => other,
    }
}

impl ScalarUDFImpl for JsonBuilder {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match (self.name, args.len()) {
            ("json_object", n) if n % 2 == 1 => exec_err!("json_object takes key, value pairs"),
            ("to_json" | "json_quote", n) if n != 1 => exec_err!("{} takes one value", self.name),
            _ => Ok(DataType::Utf8),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        self.return_type(&types)?;
        Ok(crate::engine::compat::types::json_field(self.name))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        // Constants answer one row; columns as many as they have (none in an empty batch).
        let rows = if scalar { args.number_rows.max(1) } else { args.number_rows };
        let columns: Vec<ArrayRef> = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<_>>()?;
        let mut out = StringBuilder::with_capacity(rows, rows * 32);
        for row in 0..rows {
            let built = match self.name {
                "json_object" => {
                    let mut object = serde_json::Map::new();
                    for (index, pair) in columns.chunks(2).enumerate() {
                        let [key, val] = pair else { continue };
                        let key = match value(key, None, row) {
                            Value::String(s) => s,
                            Value::Null => return exec_err!("json_object: a key is NULL"),
                            other => other.to_string(),
                        };
                        object.insert(key, value(val, args.arg_fields.get(index * 2 + 1), row));
                    }
                    Value::Object(object)
                }
                "json_array" => Value::Array(
                    columns.iter().enumerate().map(|(i, c)| value(c, args.arg_fields.get(i), row)).collect(),
                ),
                _ => {
                    // A NULL is SQL NULL, not the JSON text `null`.
                    if columns[0].data_type() == &DataType::Null || columns[0].is_null(row) {
                        out.append_null();
                        continue;
                    }
                    value(&columns[0], args.arg_fields.first(), row)
                }
            };
            out.append_value(built.to_string());
        }
        let result: ArrayRef = Arc::new(out.finish());
        if scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?));
        }
        Ok(ColumnarValue::Array(result))
    }
}
