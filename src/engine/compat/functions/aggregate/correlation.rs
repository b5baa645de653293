//! DuckDB's `corr(y, x)`: the covariance over the product of the standard deviations, NaN where
//! that is 0 / 0 (one pair, or a constant column). DataFusion's answers NULL there, which a
//! `corr(...) IS NULL` test takes for "no rows"; only a group without pairs is NULL in DuckDB.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::functions_aggregate::correlation::corr_udaf;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature};

pub(crate) fn udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(Correlation { inner: corr_udaf() })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Correlation {
    inner: std::sync::Arc<AggregateUDF>,
}

impl AggregateUDFImpl for Correlation {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }
    fn signature(&self) -> &Signature {
        self.inner.signature()
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.inner.return_type(args)
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner.state_fields(args)
    }
    // Always the row accumulator, whose state starts with the count of pairs; the grouped one
    // keeps other sums.
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(NanWhereUndefined(self.inner.accumulator(args)?)))
    }
}

#[derive(Debug)]
struct NanWhereUndefined(Box<dyn Accumulator>);

impl Accumulator for NanWhereUndefined {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.update_batch(values)
    }
    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.retract_batch(values)
    }
    fn supports_retract_batch(&self) -> bool {
        self.0.supports_retract_batch()
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        let value = self.0.evaluate()?;
        let pairs =
            self.0.state()?.first().is_some_and(|count| matches!(count, ScalarValue::UInt64(Some(n)) if *n > 0));
        Ok(if value.is_null() && pairs { ScalarValue::Float64(Some(f64::NAN)) } else { value })
    }
    fn size(&self) -> usize {
        self.0.size()
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.0.state()
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.0.merge_batch(states)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    async fn corr_of(rows: &str) -> String {
        let ctx = SessionContext::new();
        ctx.register_udaf(udaf());
        let sql = format!("SELECT CAST(corr(y, x) AS VARCHAR) FROM (VALUES {rows}) t(y, x)");
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        datafusion::arrow::util::display::ArrayFormatter::try_new(batches[0].column(0).as_ref(), &Default::default())
            .unwrap()
            .value(0)
            .to_string()
    }

    #[tokio::test]
    async fn undefined_correlations_are_nan_and_no_pairs_null() {
        assert_eq!(corr_of("(1.0, 2.0), (2.0, 4.0), (3.0, 7.0)").await, "0.9933992677987828");
        assert_eq!(corr_of("(1.0, 2.0)").await, "NaN");
        assert_eq!(corr_of("(1.0, 2.0), (3.0, 2.0)").await, "NaN");
        assert_eq!(corr_of("(1.0, CAST(NULL AS DOUBLE))").await, "");
    }
}
