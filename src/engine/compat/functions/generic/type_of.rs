//! DuckDB's `typeof`: the type name of its argument as DuckDB writes it (JSON for DuckDB's JSON,
//! which only the argument's field says); `can_cast_implicitly(x, y)`: whether DuckDB would cast
//! x's type to y's without being asked (numbers to wider numbers, DATE to TIMESTAMP, lists of
//! those), whatever the values.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use crate::engine::compat::functions::common::columnar;
use crate::engine::compat::types::{field_type_name, sql_type_name};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(TypeOf { signature: Signature::variadic_any(Volatility::Immutable) }),
        crate::engine::compat::functions::common::row_udf(
            "can_cast_implicitly",
            "two values: can_cast_implicitly(x, y)",
            2..=2,
            |_| Ok(DataType::Boolean),
            |arrays| {
                let answer = implicitly(arrays[0].data_type(), arrays[1].data_type());
                Ok(Arc::new(datafusion::arrow::array::BooleanArray::from(vec![answer; arrays[0].len()])) as ArrayRef)
            },
        ),
    ]
}

/// Whether DuckDB casts `from` to `to` implicitly.
fn implicitly(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    let signed = |t: &DataType| match t {
        Int8 => Some(1),
        Int16 => Some(2),
        Int32 => Some(3),
        Int64 => Some(4),
        _ => None,
    };
    let unsigned = |t: &DataType| match t {
        UInt8 => Some(1),
        UInt16 => Some(2),
        UInt32 => Some(3),
        UInt64 => Some(4),
        _ => None,
    };
    let inexact = |t: &DataType| matches!(t, Float32 | Float64 | Decimal128(..) | Decimal256(..));
    match (from, to) {
        _ if from == to => true,
        (Null, _) => true,
        (List(a), List(b)) => implicitly(a.data_type(), b.data_type()),
        _ if signed(from).is_some() && signed(to).is_some() => signed(to) >= signed(from),
        _ if unsigned(from).is_some() && unsigned(to).is_some() => unsigned(to) >= unsigned(from),
        _ if unsigned(from).is_some() && signed(to).is_some() => signed(to) > unsigned(from),
        _ if signed(from).is_some() || unsigned(from).is_some() => inexact(to),
        (Float32, Float64) => true,
        (Decimal128(..) | Decimal256(..), _) => inexact(to),
        (Date32, Timestamp(..)) => true,
        _ => false,
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TypeOf {
    signature: Signature,
}

impl ScalarUDFImpl for TypeOf {
    fn name(&self) -> &str {
        "typeof"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if args.len() != 1 {
            return plan_err!("typeof takes one argument: typeof(value)");
        }
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let name = match (args.arg_fields.first(), args.args.first()) {
            (Some(field), _) => field_type_name(field),
            (None, Some(arg)) => sql_type_name(&arg.data_type()),
            (None, None) => return plan_err!("typeof takes one argument: typeof(value)"),
        };
        columnar(Arc::new(StringArray::from(vec![name; rows])) as ArrayRef, all_scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_casts_are_duckdbs() {
        assert!(implicitly(&DataType::Int64, &DataType::Decimal128(38, 0)));
        assert!(!implicitly(&DataType::Int64, &DataType::Int32) && !implicitly(&DataType::Int64, &DataType::Utf8));
        assert!(implicitly(&DataType::UInt8, &DataType::Int16) && !implicitly(&DataType::UInt32, &DataType::Int32));
        assert!(!implicitly(&DataType::Float64, &DataType::Decimal128(18, 3)));
    }
}
