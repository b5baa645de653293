//! `named_cast(value, 'TYPE')`: the value itself, under a name that carries the type DuckDB's
//! result name shows (`CAST(x AS INTEGER)` inside an aggregate); gone after simplification.

pub(crate) const NAMED_CAST: &str = "named_cast";

pub(crate) fn functions() -> Vec<datafusion::logical_expr::ScalarUDF> {
    vec![datafusion::logical_expr::ScalarUDF::new_from_impl(NamedCast {
        signature: datafusion::logical_expr::Signature::any(2, datafusion::logical_expr::Volatility::Immutable),
    })]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct NamedCast {
    signature: datafusion::logical_expr::Signature,
}

impl datafusion::logical_expr::ScalarUDFImpl for NamedCast {
    fn name(&self) -> &str {
        NAMED_CAST
    }

    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }

    fn return_type(
        &self,
        args: &[datafusion::arrow::datatypes::DataType],
    ) -> datafusion::common::Result<datafusion::arrow::datatypes::DataType> {
        Ok(args[0].clone())
    }

    fn simplify(
        &self,
        mut args: Vec<datafusion::logical_expr::Expr>,
        _info: &datafusion::logical_expr::simplify::SimplifyContext,
    ) -> datafusion::common::Result<datafusion::logical_expr::simplify::ExprSimplifyResult> {
        args.truncate(1);
        Ok(datafusion::logical_expr::simplify::ExprSimplifyResult::Simplified(args.remove(0)))
    }

    fn invoke_with_args(
        &self,
        args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> datafusion::common::Result<datafusion::logical_expr::ColumnarValue> {
        Ok(args.args[0].clone())
    }
}
