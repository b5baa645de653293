//! `date_part` (and `EXTRACT`, which DataFusion plans as it) answered as a BIGINT, as DuckDB's
//! is: DataFusion's gives an INTEGER, which a table's header, `typeof` and an exported file's
//! schema would show. The epoch stays a DOUBLE. DataFusion's function computes the part; its
//! preimage (`date_part('year', ts) = 2025` read as a range of `ts`, which prunes days) still
//! applies.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::preimage::PreimageResult;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl};

pub(crate) fn date_part() -> ScalarUDF {
    ScalarUDF::new_from_impl(BigintPart { inner: datafusion::functions::datetime::date_part() })
}

#[derive(Debug)]
struct BigintPart {
    inner: Arc<ScalarUDF>,
}

crate::engine::compat::functions::common::compared_by_name!(BigintPart, udf => udf.inner.name());

impl ScalarUDFImpl for BigintPart {
    crate::engine::compat::functions::common::as_inner_function!();

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types).map(widened)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let field = self.inner.return_field_from_args(args)?;
        Ok(Arc::new(Field::new(field.name(), widened(field.data_type().clone()), field.is_nullable())))
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // DataFusion's function checks its result against the type it promises itself.
        let own = {
            let scalars: Vec<Option<&ScalarValue>> = args
                .args
                .iter()
                .map(|a| match a {
                    ColumnarValue::Scalar(s) => Some(s),
                    ColumnarValue::Array(_) => None,
                })
                .collect();
            self.inner
                .return_field_from_args(ReturnFieldArgs { arg_fields: &args.arg_fields, scalar_arguments: &scalars })?
        };
        let promised = std::mem::replace(&mut args.return_field, own);
        let part = self.inner.invoke_with_args(args)?;
        if part.data_type() == *promised.data_type() { Ok(part) } else { part.cast_to(promised.data_type(), None) }
    }

    fn preimage(&self, args: &[Expr], lit_expr: &Expr, info: &SimplifyContext) -> Result<PreimageResult> {
        // DataFusion's preimage reads the year it is compared with as an INTEGER.
        match lit_expr {
            Expr::Literal(ScalarValue::Int64(Some(year)), metadata) => match i32::try_from(*year) {
                Ok(year) => {
                    self.inner.preimage(args, &Expr::Literal(ScalarValue::Int32(Some(year)), metadata.clone()), info)
                }
                Err(_) => Ok(PreimageResult::None),
            },
            _ => Ok(PreimageResult::None),
        }
    }
}

fn widened(part_type: DataType) -> DataType {
    if part_type == DataType::Int32 { DataType::Int64 } else { part_type }
}
