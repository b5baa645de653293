//! DuckDB's `decimal_average(x)`: the mean of DECIMALs as a DECIMAL of the argument's own type,
//! rounded to its scale (`avg` gives a DOUBLE). DataFusion's `avg` of decimals computes the mean
//! exactly at four more digits of scale; its result is cast back to the argument's type.

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::functions_aggregate::average::Avg;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};

#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct DecimalAverage {
    inner: Avg,
    signature: Signature,
}

impl DecimalAverage {
    pub(crate) fn new() -> DecimalAverage {
        DecimalAverage { inner: Avg::new(), signature: Signature::any(1, Volatility::Immutable) }
    }

    /// `avg`'s result field for the argument's type.
    fn avg_field(&self, argument: &DataType) -> Result<FieldRef> {
        Ok(Arc::new(Field::new("avg", self.inner.return_type(std::slice::from_ref(argument))?, true)))
    }
}

impl AggregateUDFImpl for DecimalAverage {
    fn name(&self) -> &str {
        "decimal_average"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [decimal @ (DataType::Decimal128(..) | DataType::Decimal256(..))] => Ok(decimal.clone()),
            [other] => plan_err!("decimal_average takes a DECIMAL, not {other}: write avg(x) for a DOUBLE mean"),
            _ => plan_err!("decimal_average takes one argument: decimal_average(x)"),
        }
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let target = args.return_field.data_type().clone();
        let return_field = self.avg_field(&target)?;
        let inner = self.inner.accumulator(AccumulatorArgs { return_field, ..args })?;
        Ok(Box::new(CastBack { inner, target }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let return_field = self.avg_field(args.return_field.data_type())?;
        self.inner.state_fields(StateFieldsArgs { return_field, ..args })
    }
}

/// `avg`'s accumulator, its answer cast to the argument's type.
#[derive(Debug)]
struct CastBack {
    inner: Box<dyn Accumulator>,
    target: DataType,
}

impl Accumulator for CastBack {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.inner.update_batch(values)
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.inner.evaluate()?.cast_to(&self.target)
    }
    fn size(&self) -> usize {
        self.inner.size() + size_of::<DataType>()
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.inner.state()
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.inner.merge_batch(states)
    }
}
