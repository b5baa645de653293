//! DuckDB's `fsum(x)` (also `sumkahan`, `kahan_sum`): a DOUBLE sum with Kahan's compensation, so
//! that small values added to a large one are not lost (`2^53 + 1 + 1` is `2^53 + 2`, where a
//! plain sum gives `2^53`). `favg` divides it by the count.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature, TypeSignature, Volatility};

pub(crate) fn udaf() -> AggregateUDF {
    let signature = Signature::one_of(
        vec![TypeSignature::Exact(vec![DataType::Float64]), TypeSignature::Numeric(1)],
        Volatility::Immutable,
    );
    AggregateUDF::new_from_impl(KahanSum { signature, aliases: vec!["sumkahan".into(), "kahan_sum".into()] })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct KahanSum {
    signature: Signature,
    aliases: Vec<String>,
}

impl AggregateUDFImpl for KahanSum {
    fn name(&self) -> &str {
        "fsum"
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Compensated::default()))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(format!("{}[sum]", args.name), DataType::Float64, true)),
            Arc::new(Field::new(format!("{}[error]", args.name), DataType::Float64, true)),
            Arc::new(Field::new(format!("{}[count]", args.name), DataType::Int64, true)),
        ])
    }
}

/// A running sum, the error its rounding has made (to be taken off), and how many values it holds.
#[derive(Debug, Default)]
struct Compensated {
    sum: f64,
    error: f64,
    count: i64,
}

impl Compensated {
    fn add(&mut self, value: f64) {
        let corrected = value - self.error;
        let sum = self.sum + corrected;
        self.error = (sum - self.sum) - corrected;
        self.sum = sum;
    }

    fn add_all(&mut self, values: &ArrayRef, sign: f64) -> Result<()> {
        let doubles = cast(values, &DataType::Float64)?;
        for value in doubles.as_primitive::<Float64Type>().iter().flatten() {
            self.add(sign * value);
            self.count += sign as i64;
        }
        Ok(())
    }
}

impl Accumulator for Compensated {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        values.first().map_or(Ok(()), |column| self.add_all(column, 1.0))
    }
    // A sliding window frame takes the rows that leave it back out.
    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        values.first().map_or(Ok(()), |column| self.add_all(column, -1.0))
    }
    fn supports_retract_batch(&self) -> bool {
        true
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64((self.count > 0).then_some(self.sum)))
    }
    fn size(&self) -> usize {
        size_of::<Self>()
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::Float64(Some(self.sum)),
            ScalarValue::Float64(Some(self.error)),
            ScalarValue::Int64(Some(self.count)),
        ])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [sums, errors, counts] = states else { return Ok(()) };
        let (sums, errors) = (sums.as_primitive::<Float64Type>(), errors.as_primitive::<Float64Type>());
        let counts = counts.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        for ((sum, error), count) in sums.iter().zip(errors.iter()).zip(counts.iter()) {
            self.add(sum.unwrap_or(0.0));
            self.add(-error.unwrap_or(0.0));
            self.count += count.unwrap_or(0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Float64Array;

    #[test]
    fn small_values_added_to_a_large_one_are_kept() {
        let big = 9_007_199_254_740_992.0;
        let mut whole = Compensated::default();
        whole.update_batch(&[Arc::new(Float64Array::from(vec![big, 1.0, 1.0, 0.0])) as ArrayRef]).unwrap();
        assert_eq!(whole.evaluate().unwrap(), ScalarValue::Float64(Some(big + 2.0)));
        let (mut left, mut right) = (Compensated::default(), Compensated::default());
        left.update_batch(&[Arc::new(Float64Array::from(vec![big, 1.0])) as ArrayRef]).unwrap();
        right.update_batch(&[Arc::new(Float64Array::from(vec![1.0])) as ArrayRef]).unwrap();
        let state = right.state().unwrap().iter().map(|s| s.to_array().unwrap()).collect::<Vec<_>>();
        left.merge_batch(&state).unwrap();
        assert_eq!(left.evaluate().unwrap(), ScalarValue::Float64(Some(big + 2.0)));
        assert_eq!(Compensated::default().evaluate().unwrap(), ScalarValue::Float64(None));
    }
}
