//! `json_extract`, `->`, `->>` and `json_extract_string` of documents nested deeper than the
//! JSON functions' parser goes (jiter stops at 200 levels and answers NULL): DuckDB reads any
//! depth. datafusion-functions-json's `json_get_json` and `json_as_text` are wrapped; where one
//! answers NULL for a document with that many brackets, the row is read again in place by
//! [`crate::engine::compat::functions::json::json_raw`], which does not recurse. Other rows cost one count of brackets.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl};

use crate::engine::compat::functions::json::json_path::PathStep;
use crate::engine::compat::functions::json::json_raw;

/// The nesting jiter refuses (its recursion limit): only documents with at least this many
/// opening brackets can have been refused for their depth.
const PARSER_DEPTH: usize = 200;

pub(crate) fn functions() -> Vec<ScalarUDF> {
    use datafusion_functions_json::udfs::{json_as_text_udf, json_get_json_udf};
    [(json_get_json_udf(), false), (json_as_text_udf(), true)]
        .into_iter()
        .map(|(inner, as_text)| ScalarUDF::new_from_impl(AnyDepth { inner, as_text }))
        .collect()
}

#[derive(Debug)]
struct AnyDepth {
    inner: Arc<ScalarUDF>,
    /// `json_as_text` (`->>`): a string without its quotes, JSON null as NULL.
    as_text: bool,
}

crate::engine::compat::functions::common::compared_by_name!(AnyDepth, udf => udf.inner.name());

impl ScalarUDFImpl for AnyDepth {
    crate::engine::compat::functions::common::as_inner_function!();

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let values = args.args.clone();
        let answer = self.inner.invoke_with_args(args)?;
        let Some(document) = values.first() else { return Ok(answer) };
        if !matches!(document.data_type(), DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8) {
            return Ok(answer);
        }
        let scalar = matches!(answer, ColumnarValue::Scalar(_));
        let answered = answer.to_array(rows)?;
        if answered.null_count() == 0 || !matches!(answered.data_type(), DataType::Utf8) {
            return Ok(answer);
        }
        let documents = document.to_array(rows)?;
        let text_at = |row: usize| -> Option<&str> {
            if documents.is_null(row) {
                return None;
            }
            Some(match documents.data_type() {
                DataType::Utf8View => documents.as_string_view().value(row),
                DataType::LargeUtf8 => documents.as_string::<i64>().value(row),
                _ => documents.as_string::<i32>().value(row),
            })
        };
        // A NULL is most often a key the document lacks; only a long text with that many
        // brackets can be one jiter refused.
        let refused = |row: usize| {
            answered.is_null(row)
                && text_at(row).is_some_and(|text| {
                    text.len() >= 2 * PARSER_DEPTH
                        && memchr::memchr2_iter(b'[', b'{', text.as_bytes()).nth(PARSER_DEPTH - 1).is_some()
                })
        };
        if !(0..rows).any(refused) {
            return Ok(answer);
        }
        let paths: Vec<ArrayRef> = values[1..].iter().map(|v| v.to_array(rows)).collect::<Result<_>>()?;
        let answered = answered.as_string::<i32>();
        let out: StringArray = (0..rows)
            .map(|row| {
                if !refused(row) {
                    return Ok(answered.is_valid(row).then(|| answered.value(row).to_string()));
                }
                let steps = paths.iter().map(|p| step(p, row)).collect::<Result<Option<Vec<_>>>>()?;
                let document = text_at(row).and_then(json_raw::document);
                let value = document.as_deref().zip(steps).and_then(|(d, steps)| json_raw::at(d, &steps));
                Ok(value.and_then(|raw| json_raw::shown(raw, self.as_text)))
            })
            .collect::<Result<_>>()?;
        let out: ArrayRef = Arc::new(out);
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}

/// A path argument of the row as a step: a key for text, a position for a number.
fn step(path: &ArrayRef, row: usize) -> Result<Option<PathStep>> {
    Ok(match ScalarValue::try_from_array(path, row)? {
        ScalarValue::Utf8(Some(key)) | ScalarValue::Utf8View(Some(key)) | ScalarValue::LargeUtf8(Some(key)) => {
            Some(PathStep::Key(key))
        }
        number if number.data_type().is_integer() && !number.is_null() => {
            number.cast_to(&DataType::Int64).ok().and_then(|n| match n {
                ScalarValue::Int64(Some(i)) => Some(PathStep::Index(i)),
                _ => None,
            })
        }
        _ => None,
    })
}
