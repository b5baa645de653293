//! DuckDB's JSON type: a text column whose field carries Arrow's JSON extension name. Functions
//! that make JSON mark their result so; `typeof` and `DESCRIBE` then say JSON, and the JSON
//! builders embed such a value instead of quoting it as a string.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::engine::compat::functions::common::invalid;
use crate::engine::compat::types::json_field;

/// The JSON marking functions: `json_mark(text)` marks JSON text as JSON (the results of
/// `json_extract` and `->`), `json_cast(value)` is DuckDB's `CAST(value AS JSON)` (text is
/// checked and kept as written, other values written as JSON).
pub(crate) fn functions() -> Vec<ScalarUDF> {
    let mut udfs: Vec<ScalarUDF> = [("json_mark", false), ("json_cast", true)]
        .into_iter()
        .map(|(name, checked)| {
            ScalarUDF::new_from_impl(JsonMark { name, checked, signature: Signature::any(1, Volatility::Immutable) })
        })
        .collect();
    udfs.push(crate::engine::compat::functions::common::row_udf(
        "json_scalar_text",
        "one argument: json_scalar_text(json)",
        1..=1,
        |_| Ok(DataType::Utf8),
        scalar_text,
    ));
    udfs
}

/// A JSON value as the text a cast from JSON reads: a string without its quotes, others as written.
fn scalar_text(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = cast(&arrays[0], &DataType::Utf8)?;
    let values: StringArray = texts
        .as_string::<i32>()
        .iter()
        .map(|t| {
            t.map(|t| match serde_json::from_str::<serde_json::Value>(t) {
                Ok(serde_json::Value::String(s)) => s,
                _ => t.to_string(),
            })
        })
        .collect();
    Ok(Arc::new(values))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonMark {
    name: &'static str,
    checked: bool,
    signature: Signature,
}

impl ScalarUDFImpl for JsonMark {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, _: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(json_field(self.name))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let input = args.args[0].to_array(args.number_rows)?;
        let text: ArrayRef = if !self.checked || input.data_type().is_null() {
            cast(&input, &DataType::Utf8)?
        } else if matches!(input.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
            let text = cast(&input, &DataType::Utf8)?;
            for value in text.as_string::<i32>().iter().flatten() {
                serde_json::from_str::<serde::de::IgnoredAny>(value)
                    .map_err(|e| invalid(format!("Conversion Error: Malformed JSON: {e} in '{value}'")))?;
            }
            text
        } else {
            let values: StringArray = (0..input.len())
                .map(|r| (!input.is_null(r)).then(|| crate::encode::sql_json_value(input.as_ref(), r).to_string()))
                .collect();
            Arc::new(values)
        };
        crate::engine::compat::functions::common::columnar(text, scalar)
    }
}
