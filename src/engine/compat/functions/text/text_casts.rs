//! `CAST(x AS VARCHAR)` as DuckDB writes values: `nan`, `1e+20`, `2025-10-01 08:15:02.311+00`,
//! `{'a': 1}`, `(1, 2)`, `{k=1}`, `1 day 02:00:00`. Arrow's casts write some of these otherwise
//! (`NaN`, `2025-10-01T08:15:02.311`) and refuse structs and maps; the cast becomes `varchar_text(x)`,
//! which prints each value as the CLI does and leaves text alone (a cast of a text column stays
//! a plain column, so Parquet filters still reach it).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr as PlanExpr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::sql::sqlparser::ast::Expr;

use crate::engine::compat::ast::call;
use crate::engine::compat::functions::common::columnar;
use crate::engine::compat::functions::common::is_text;
use crate::engine::compat::types::is_text_type;

const NAME: &str = "varchar_text";

/// The rewrite of a cast to text; `None` for other expressions.
pub(crate) fn text_cast(expr: &Expr) -> Option<Expr> {
    match expr {
        Expr::Cast { data_type, expr: value, .. } if is_text_type(data_type) => {
            Some(call(NAME, vec![(**value).clone()]))
        }
        _ => None,
    }
}

pub(crate) fn varchar_text() -> ScalarUDF {
    ScalarUDF::new_from_impl(VarcharText { signature: Signature::any(1, Volatility::Immutable) })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct VarcharText {
    signature: Signature,
}

impl ScalarUDFImpl for VarcharText {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn simplify(&self, mut args: Vec<PlanExpr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let Some(arg) = args.pop() else { return Ok(ExprSimplifyResult::Original(args)) };
        let data_type = info.get_data_type(&arg)?;
        Ok(if is_text(&data_type) {
            ExprSimplifyResult::Simplified(PlanExpr::Cast(datafusion::logical_expr::Cast::new(
                Box::new(arg),
                DataType::Utf8,
            )))
        } else {
            ExprSimplifyResult::Original(vec![arg])
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let input = args.args[0].to_array(args.number_rows)?;
        columnar(texts(&input)?, scalar)
    }
}

/// Each value as DuckDB writes it (NULL stays NULL).
fn texts(input: &ArrayRef) -> Result<ArrayRef> {
    if is_text(input.data_type()) || input.data_type().is_null() {
        return Ok(cast(input, &DataType::Utf8)?);
    }
    let out: StringArray = (0..input.len())
        .map(|row| input.is_valid(row).then(|| crate::encode::display_text(input.as_ref(), row)))
        .collect();
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{AsArray, Float64Array};

    use super::*;

    #[test]
    fn doubles_are_written_as_duckdb_writes_them() {
        let input: ArrayRef = Arc::new(Float64Array::from(vec![Some(f64::NAN), Some(1e20), None, Some(1.0)]));
        let out = texts(&input).unwrap();
        let out = out.as_string::<i32>();
        assert_eq!(out.value(0), "nan");
        assert_eq!(out.value(1), "1e+20");
        assert!(out.is_null(2));
        assert_eq!(out.value(3), "1.0");
    }
}
