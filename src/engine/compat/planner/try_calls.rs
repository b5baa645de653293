//! DuckDB's `try(expr)`: NULL where `expr` fails. A function call inside runs as itself, and where
//! a batch fails, row by row, each failing row giving NULL; a cast inside becomes a TRY_CAST;
//! other expressions are evaluated as they are (their errors still end the query).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, new_null_array};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::expr::{Cast, ScalarFunction, TryCast};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

/// `try(CAST(x AS t))` as `TRY_CAST(x AS t)`, before planning: the cast may be planned as more
/// than one call (a text read as an integer), each of which could fail.
pub(crate) fn try_cast(expr: &datafusion::sql::sqlparser::ast::Expr) -> Option<datafusion::sql::sqlparser::ast::Expr> {
    use datafusion::sql::sqlparser::ast::{CastKind, Expr as SqlExpr};
    let SqlExpr::Function(f) = expr else { return None };
    if !f.name.to_string().eq_ignore_ascii_case("try") {
        return None;
    }
    let args = crate::engine::compat::ast::plain_args(f)?;
    let [SqlExpr::Cast { expr, data_type, array, format, .. }] = args.as_slice() else {
        return None;
    };
    Some(SqlExpr::Cast {
        kind: CastKind::TryCast,
        expr: expr.clone(),
        data_type: data_type.clone(),
        array: *array,
        format: format.clone(),
    })
}

/// The planned `try(expr)` as a call that gives NULL where `expr` fails; `None` for other exprs.
pub(crate) fn try_rewrite(expr: &Expr) -> Option<Expr> {
    let Expr::ScalarFunction(f) = expr else { return None };
    if f.name() != "try" {
        return None;
    }
    Some(match f.args.first()? {
        Expr::ScalarFunction(inner) => {
            let guarded =
                ScalarUDF::new_from_impl(Guarded { inner: inner.func.clone(), name: format!("try({})", inner.name()) });
            Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(guarded), inner.args.clone()))
        }
        Expr::Cast(Cast { expr, field }) => Expr::TryCast(TryCast::new_from_field(expr.clone(), field.clone())),
        other => other.clone(),
    })
}

/// A function whose failing rows give NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Guarded {
    inner: Arc<ScalarUDF>,
    name: String,
}

impl ScalarUDFImpl for Guarded {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let field = self.inner.return_field_from_args(args)?;
        Ok(Arc::new(field.as_ref().clone().with_nullable(true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if let Ok(value) = self.inner.invoke_with_args(args.clone()) {
            return Ok(value);
        }
        let rows = args.number_rows;
        let data_type = args.return_field.data_type().clone();
        let mut results: Vec<ArrayRef> = Vec::with_capacity(rows);
        for row in 0..rows {
            let one_row: Vec<ColumnarValue> = args
                .args
                .iter()
                .map(|a| match a {
                    ColumnarValue::Array(array) => ColumnarValue::Array(array.slice(row, 1)),
                    scalar => scalar.clone(),
                })
                .collect();
            let call = ScalarFunctionArgs { args: one_row, number_rows: 1, ..args.clone() };
            let value = self.inner.invoke_with_args(call).and_then(|v| v.into_array(1));
            results.push(value.unwrap_or_else(|_| new_null_array(&data_type, 1)));
        }
        let refs: Vec<&dyn datafusion::arrow::array::Array> = results.iter().map(|a| a.as_ref()).collect();
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        if refs.is_empty() {
            return Ok(ColumnarValue::Array(new_null_array(&data_type, 0)));
        }
        crate::engine::compat::functions::common::columnar(datafusion::arrow::compute::concat(&refs)?, all_scalar)
    }
}
