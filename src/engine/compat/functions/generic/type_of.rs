//! DuckDB's `typeof`: the type name of its argument as DuckDB writes it (JSON for DuckDB's JSON,
//! which only the argument's field says).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use crate::engine::compat::functions::common::columnar;
use crate::engine::compat::types::{field_type_name, sql_type_name};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![ScalarUDF::new_from_impl(TypeOf { signature: Signature::variadic_any(Volatility::Immutable) })]
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
