//! Integer `+`, `-` and `*` that fail on overflow, as DuckDB's do ("Overflow in addition of
//! INT64"), where DataFusion's wrap (`9223372036854775807 + 1` would be the smallest BIGINT).

use std::sync::Arc;

use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, cast,
};

/// `left op right` on integers of types `l` and `r`, checked; `None` for other operators.
pub(crate) fn checked(op: Operator, left: Expr, l: &DataType, right: Expr, r: &DataType) -> Option<Expr> {
    if !matches!(op, Operator::Plus | Operator::Minus | Operator::Multiply) {
        return None;
    }
    // (Two literals keep their planned types: a VALUES list is typed before this runs.)
    let as_duckdb = |e: &Expr, t: &DataType, other: &Expr, other_type: &DataType| match is_integer_literal(other) {
        true => t.clone(),
        false => literal_type(e, other_type).unwrap_or_else(|| t.clone()),
    };
    let common = common_integer(&as_duckdb(&left, l, &right, r), &as_duckdb(&right, r, &left, l));
    let side = |e: Expr, t: &DataType| if *t == common { e } else { cast(e, common.clone()) };
    let udf =
        ScalarUDF::new_from_impl(CheckedArithmetic { op, signature: Signature::user_defined(Volatility::Immutable) });
    Some(Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(udf), vec![side(left, l), side(right, r)])))
}

/// The type DuckDB gives an integer literal beside an operand of type `other`: that type when
/// the value fits it (`smallint_column + 1` is a SMALLINT), else INTEGER or BIGINT by its size.
fn literal_type(e: &Expr, other: &DataType) -> Option<DataType> {
    let Expr::Literal(ScalarValue::Int64(Some(value)), _) = e else { return None };
    let fits = |t: &DataType| ScalarValue::Int64(Some(*value)).cast_to(t).is_ok();
    if other.is_integer() && fits(other) {
        return Some(other.clone());
    }
    Some(if fits(&DataType::Int32) { DataType::Int32 } else { DataType::Int64 })
}

fn is_integer_literal(e: &Expr) -> bool {
    matches!(e, Expr::Literal(ScalarValue::Int64(_), _))
}

/// The type DuckDB computes `l op r` in: the wider of two signed or two unsigned types; a
/// signed type wider than the unsigned one; else BIGINT (DuckDB's HUGEINT for a UBIGINT with
/// a signed type, which Arrow lacks).
fn common_integer(l: &DataType, r: &DataType) -> DataType {
    let width = |t: &DataType| t.primitive_width().unwrap_or(8);
    let wider = if width(l) >= width(r) { l } else { r };
    match (l.is_signed_integer(), r.is_signed_integer()) {
        (true, true) | (false, false) => wider.clone(),
        (true, false) if width(l) > width(r) => l.clone(),
        (false, true) if width(r) > width(l) => r.clone(),
        _ => DataType::Int64,
    }
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

    /// Both sides in one type again where a plan retyped one after this was planned (an outer
    /// reference read as the column it stands for).
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [l, r] if l.is_integer() && r.is_integer() => Ok(vec![common_integer(l, r); 2]),
            _ => Ok(args.to_vec()),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// DuckDB 2.0's `typeof(a + b)` for columns of these types (HUGEINT read as BIGINT).
    #[test]
    fn integers_meet_in_duckdbs_type() {
        use DataType::*;
        let types = [Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64];
        let duckdb = [
            [Int8, Int16, Int32, Int64, Int64, Int64, Int64, Int64],
            [Int16, Int16, Int32, Int64, Int16, Int64, Int64, Int64],
            [Int32, Int32, Int32, Int64, Int32, Int32, Int64, Int64],
            [Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64],
            [Int64, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64],
            [Int64, Int64, Int32, Int64, UInt16, UInt16, UInt32, UInt64],
            [Int64, Int64, Int64, Int64, UInt32, UInt32, UInt32, UInt64],
            [Int64, Int64, Int64, Int64, UInt64, UInt64, UInt64, UInt64],
        ];
        for (l, row) in types.iter().zip(&duckdb) {
            for (r, expected) in types.iter().zip(row) {
                assert_eq!(&common_integer(l, r), expected, "{l} + {r}");
            }
        }
    }
}
