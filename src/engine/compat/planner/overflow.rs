//! Integer `+`, `-` and `*` that fail on overflow, as DuckDB's do ("Overflow in addition of
//! INT64"), where DataFusion's wrap (`9223372036854775807 + 1` would be the smallest BIGINT).

use std::sync::Arc;

use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, cast,
};

/// `left op right` on integers of types `l` and `r`, checked; `None` for other operators.
pub(crate) fn checked(op: Operator, left: Expr, l: &DataType, right: Expr, r: &DataType) -> Option<Expr> {
    if !matches!(op, Operator::Plus | Operator::Minus | Operator::Multiply) {
        return None;
    }
    // Both sides in one type, as DataFusion's coercion would give them.
    let common = if l == r {
        l.clone()
    } else if l.is_unsigned_integer() && r.is_unsigned_integer() {
        DataType::UInt64
    } else {
        DataType::Int64
    };
    let side = |e: Expr, t: &DataType| if *t == common { e } else { cast(e, common.clone()) };
    let udf = ScalarUDF::new_from_impl(CheckedArithmetic { op, signature: Signature::any(2, Volatility::Immutable) });
    Some(Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(udf), vec![side(left, l), side(right, r)])))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct CheckedArithmetic {
    op: Operator,
    signature: Signature,
}

impl ScalarUDFImpl for CheckedArithmetic {
    fn name(&self) -> &str {
        match self.op {
            Operator::Plus => "checked_add",
            Operator::Minus => "checked_subtract",
            _ => "checked_multiply",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [left, right] = args.args.as_slice() else { return exec_err!("{} takes two arguments", self.name()) };
        let datum = |v: &ColumnarValue| -> Result<Box<dyn datafusion::arrow::array::Datum>> {
            Ok(match v {
                ColumnarValue::Array(a) => Box::new(a.clone()),
                ColumnarValue::Scalar(s) => Box::new(s.to_scalar()?),
            })
        };
        let (l, r) = (datum(left)?, datum(right)?);
        // arrow's non-wrapping kernels return an error on overflow.
        let result = match self.op {
            Operator::Plus => numeric::add(l.as_ref(), r.as_ref()),
            Operator::Minus => numeric::sub(l.as_ref(), r.as_ref()),
            _ => numeric::mul(l.as_ref(), r.as_ref()),
        };
        let result = result.map_err(|e| {
            datafusion::error::DataFusionError::Execution(format!(
                "integer overflow: {} (cast to DOUBLE or DECIMAL for larger values)",
                e.to_string().trim_start_matches("Arithmetic overflow: ")
            ))
        })?;
        if matches!((left, right), (ColumnarValue::Scalar(_), ColumnarValue::Scalar(_))) {
            return Ok(ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(&result, 0)?));
        }
        Ok(ColumnarValue::Array(result))
    }
}
