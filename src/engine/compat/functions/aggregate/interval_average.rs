//! `avg` of intervals as DuckDB computes it (Postgres' way): months, days and microseconds are
//! summed apart, each sum divided by the count, and the remainders shifted down — a month's as
//! 30 days, a day's as microseconds (`avg` of 1 month, 2 days and 5 hours is `10 days 17:40:00`).
//! Averaging the intervals' lengths instead gives other days and microseconds.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit,
};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility};

use crate::engine::compat::functions::common::invalid;

const MICROS_PER_DAY: i128 = 86_400_000_000;

pub(crate) fn interval_avg() -> AggregateUDF {
    AggregateUDF::new_from_impl(IntervalAverage { signature: Signature::any(1, Volatility::Immutable) })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct IntervalAverage {
    signature: Signature,
}

fn interval_type() -> DataType {
    DataType::Interval(IntervalUnit::MonthDayNano)
}

impl AggregateUDFImpl for IntervalAverage {
    fn name(&self) -> &str {
        "interval_avg"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(interval_type())
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::<Sums>::default())
    }

    fn create_sliding_accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::<Sums>::default())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let field = |part: &str, t: DataType| Arc::new(Field::new(format!("{}[{part}]", args.name), t, true));
        Ok(vec![
            field("count", DataType::Int64),
            field("months", DataType::Decimal128(38, 0)),
            field("days", DataType::Decimal128(38, 0)),
            field("micros", DataType::Decimal128(38, 0)),
        ])
    }
}

/// The count and the three sums (wide enough that no sum of a query's rows overflows).
#[derive(Debug, Default)]
struct Sums {
    count: i64,
    months: i128,
    days: i128,
    micros: i128,
}

impl Sums {
    fn add(&mut self, values: &ArrayRef, sign: i128) -> Result<()> {
        let values = cast(values, &interval_type())?;
        for v in values.as_primitive::<IntervalMonthDayNanoType>().iter().flatten() {
            self.count += sign as i64;
            self.months += sign * i128::from(v.months);
            self.days += sign * i128::from(v.days);
            self.micros += sign * i128::from(v.nanoseconds / 1000);
        }
        Ok(())
    }

    /// DuckDB's `IntervalAverageOperation::Finalize`; `None` when there is no row, or the
    /// average does not fit an INTERVAL.
    fn average(&self) -> Option<IntervalMonthDayNano> {
        let n = i128::from(self.count);
        if n == 0 {
            return None;
        }
        let months = self.months / n;
        let mut days = self.days / n;
        let mut micros = self.micros / n;
        let months_left = self.months % n * 30;
        days += months_left / n;
        let days_left = (self.days % n + months_left % n) * MICROS_PER_DAY;
        micros += self.micros % n + days_left / n;
        Some(IntervalMonthDayNano {
            months: i32::try_from(months).ok()?,
            days: i32::try_from(days).ok()?,
            nanoseconds: i64::try_from(micros.checked_mul(1000)?).ok()?,
        })
    }
}

impl Accumulator for Sums {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.add(&values[0], 1)
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.add(&values[0], -1)
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let count = states[0].as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        let sums: Vec<_> =
            states[1..].iter().map(|s| s.as_primitive::<datafusion::arrow::datatypes::Decimal128Type>()).collect();
        for row in 0..count.len() {
            self.count += count.value(row);
            self.months += sums[0].value(row);
            self.days += sums[1].value(row);
            self.micros += sums[2].value(row);
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let sum = |v: i128| ScalarValue::Decimal128(Some(v), 38, 0);
        Ok(vec![ScalarValue::Int64(Some(self.count)), sum(self.months), sum(self.days), sum(self.micros)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.count == 0 {
            return Ok(ScalarValue::IntervalMonthDayNano(None));
        }
        let average = self.average().ok_or_else(|| invalid("the average interval is out of range".into()))?;
        Ok(ScalarValue::IntervalMonthDayNano(Some(average)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn average(values: &[(i32, i32, i64)]) -> (i32, i32, i64) {
        let intervals: ArrayRef = Arc::new(datafusion::arrow::array::IntervalMonthDayNanoArray::from_iter_values(
            values.iter().map(|&(months, days, micros)| IntervalMonthDayNano::new(months, days, micros * 1000)),
        ));
        let mut sums = Sums::default();
        sums.update_batch(&[intervals]).unwrap();
        let ScalarValue::IntervalMonthDayNano(Some(v)) = sums.evaluate().unwrap() else { panic!("an interval") };
        (v.months, v.days, v.nanoseconds / 1000)
    }

    #[test]
    fn remainders_shift_down_as_duckdbs_do() {
        let hour = 3_600_000_000;
        // DuckDB 2.0.1: avg of 1 month, 2 days and 5 hours is 10 days 17:40:00.
        assert_eq!(average(&[(1, 0, 0), (0, 2, 0), (0, 0, 5 * hour)]), (0, 10, 17 * hour + 40 * 60_000_000));
        assert_eq!(average(&[(0, 0, 36 * hour), (0, 2, 0)]), (0, 1, 18 * hour));
        // The microseconds' remainder is added whole, as DuckDB adds it.
        assert_eq!(average(&[(0, 0, 1), (0, 0, 2)]), (0, 0, 2));
    }
}
