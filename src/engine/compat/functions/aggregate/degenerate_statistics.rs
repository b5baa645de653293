//! DuckDB's answers where a statistic of pairs divides by a variance of 0 (one pair, or a
//! constant column), which DataFusion's functions answer NULL (and a `... IS NULL` test takes for
//! "no rows"): `corr(y, x)` and `regr_slope(y, x)` are NaN (0 / 0), `regr_r2(y, x)` is 1 when
//! only `y` is constant. A group without pairs is NULL in both. DataFusion's accumulators are
//! wrapped: their state starts with the count of pairs, then means and sums of squares.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::functions_aggregate::correlation::corr_udaf;
use datafusion::functions_aggregate::regr::{regr_r2_udaf, regr_slope_udaf};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature};

pub(crate) fn functions() -> Vec<AggregateUDF> {
    [(corr_udaf(), nan_with_pairs as Repair), (regr_slope_udaf(), nan_with_pairs), (regr_r2_udaf(), one_for_constant_y)]
        .into_iter()
        .map(|(inner, repair)| AggregateUDF::new_from_impl(Degenerate { inner, repair }))
        .collect()
}

/// DuckDB's answer from DataFusion's and the accumulator's state.
type Repair = fn(ScalarValue, &[ScalarValue]) -> ScalarValue;

fn pairs(state: &[ScalarValue]) -> u64 {
    match state.first() {
        Some(ScalarValue::UInt64(Some(n))) => *n,
        _ => 0,
    }
}

fn nan_with_pairs(value: ScalarValue, state: &[ScalarValue]) -> ScalarValue {
    if value.is_null() && pairs(state) > 0 { ScalarValue::Float64(Some(f64::NAN)) } else { value }
}

/// `regr_r2` is 1 where `x` varies and `y` does not (the state's fourth and fifth values are the
/// sums of squares of x and y).
fn one_for_constant_y(value: ScalarValue, state: &[ScalarValue]) -> ScalarValue {
    let squares = |at: usize| match state.get(at) {
        Some(ScalarValue::Float64(Some(m2))) => *m2,
        _ => f64::NAN,
    };
    if pairs(state) > 1 && squares(3) != 0.0 && squares(4) == 0.0 { ScalarValue::Float64(Some(1.0)) } else { value }
}

#[derive(Debug)]
struct Degenerate {
    inner: std::sync::Arc<AggregateUDF>,
    repair: Repair,
}

crate::engine::compat::functions::common::compared_by_name!(Degenerate, udf => udf.inner.name());

impl AggregateUDFImpl for Degenerate {
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
        Ok(Box::new(Repaired(self.inner.accumulator(args)?, self.repair)))
    }
}

#[derive(Debug)]
struct Repaired(Box<dyn Accumulator>, Repair);

impl Accumulator for Repaired {
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
        Ok((self.1)(value, &self.0.state()?))
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

    async fn of(function: &str, rows: &str) -> String {
        let ctx = SessionContext::new();
        for udaf in functions() {
            ctx.register_udaf(udaf);
        }
        let sql = format!("SELECT CAST({function}(y, x) AS VARCHAR) FROM (VALUES {rows}) t(y, x)");
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        datafusion::arrow::util::display::ArrayFormatter::try_new(batches[0].column(0).as_ref(), &Default::default())
            .unwrap()
            .value(0)
            .to_string()
    }

    #[tokio::test]
    async fn degenerate_statistics_are_duckdbs_and_no_pairs_null() {
        assert_eq!(of("corr", "(1.0, 2.0), (2.0, 4.0), (3.0, 7.0)").await, "0.9933992677987828");
        assert_eq!(of("corr", "(1.0, 2.0)").await, "NaN");
        assert_eq!(of("corr", "(1.0, 2.0), (3.0, 2.0)").await, "NaN");
        assert_eq!(of("corr", "(1.0, CAST(NULL AS DOUBLE))").await, "");
        assert_eq!(of("regr_slope", "(1.0, 2.0), (3.0, 2.0)").await, "NaN");
        assert_eq!(of("regr_slope", "(1.0, 2.0), (1.0, 3.0)").await, "0.0");
        assert_eq!(of("regr_r2", "(1.0, 2.0), (1.0, 3.0)").await, "1.0");
        assert_eq!(of("regr_r2", "(1.0, 2.0), (3.0, 2.0)").await, "");
        assert_eq!(of("regr_r2", "(1.0, 2.0)").await, "");
    }
}
