//! Dates, timestamps, times and intervals as microseconds, for the aggregates DuckDB computes on
//! them (`median`, `quantile_cont`, `mad`, `avg`) by their numbers: a value's microseconds (a
//! date's since the epoch, an interval's with a month as 30 days), and a result back in the
//! type DuckDB gives (a date's median is a TIMESTAMP, a median absolute deviation an INTERVAL).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Int64Type, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit, TimeUnit,
};
use datafusion::common::{Result, ScalarValue};

const MICROS_PER_DAY: i64 = 86_400_000_000;

pub(crate) fn is_temporal(t: &DataType) -> bool {
    t.is_temporal() || matches!(t, DataType::Interval(_))
}

/// The type of an aggregate of values of type `t` that keeps their kind: a date's is a TIMESTAMP.
pub(crate) fn kept(t: &DataType) -> DataType {
    match t {
        DataType::Date32 | DataType::Date64 => DataType::Timestamp(TimeUnit::Microsecond, None),
        DataType::Interval(_) => DataType::Interval(IntervalUnit::MonthDayNano),
        other => other.clone(),
    }
}

/// The values as DOUBLEs: microseconds for temporal ones, numbers as they are.
pub(crate) fn doubles(values: &ArrayRef) -> Result<ArrayRef> {
    let micros: ArrayRef = match values.data_type() {
        DataType::Date32 | DataType::Date64 => {
            let days = cast(&cast(values, &DataType::Date32)?, &DataType::Int32)?;
            let days = cast(&days, &DataType::Int64)?;
            let micros: Float64Array =
                days.as_primitive::<Int64Type>().iter().map(|d| d.map(|d| (d * MICROS_PER_DAY) as f64)).collect();
            return Ok(Arc::new(micros));
        }
        DataType::Timestamp(_, tz) => cast(values, &DataType::Timestamp(TimeUnit::Microsecond, tz.clone()))?,
        DataType::Time32(_) | DataType::Time64(_) => cast(values, &DataType::Time64(TimeUnit::Microsecond))?,
        DataType::Duration(_) => cast(values, &DataType::Duration(TimeUnit::Microsecond))?,
        DataType::Interval(_) => {
            let intervals = cast(values, &DataType::Interval(IntervalUnit::MonthDayNano))?;
            let micros: Float64Array = intervals
                .as_primitive::<IntervalMonthDayNanoType>()
                .iter()
                .map(|v| {
                    v.and_then(|v| crate::engine::compat::functions::datetime::intervals::length_micros(v).ok())
                        .map(|m| m as f64)
                })
                .collect();
            return Ok(Arc::new(micros));
        }
        _ => return Ok(cast(values, &DataType::Float64)?),
    };
    Ok(cast(&cast(&micros, &DataType::Int64)?, &DataType::Float64)?)
}

/// Microseconds as a value of the (temporal) type `t`: an interval of days and time.
pub(crate) fn from_micros(micros: f64, t: &DataType) -> Result<ScalarValue> {
    let whole = micros as i64;
    match t {
        DataType::Interval(_) => Ok(ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano {
            months: 0,
            days: (whole / MICROS_PER_DAY) as i32,
            nanoseconds: (whole % MICROS_PER_DAY) * 1000,
        }))),
        DataType::Time32(_) | DataType::Time64(_) => ScalarValue::Time64Microsecond(Some(whole)).cast_to(t),
        DataType::Timestamp(_, tz) => ScalarValue::TimestampMicrosecond(Some(whole), tz.clone()).cast_to(t),
        DataType::Duration(_) => ScalarValue::DurationMicrosecond(Some(whole)).cast_to(t),
        _ => ScalarValue::Float64(Some(micros)).cast_to(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporal_values_go_to_microseconds_and_back() {
        let dates: ArrayRef = Arc::new(datafusion::arrow::array::Date32Array::from(vec![Some(1), None]));
        let micros = doubles(&dates).unwrap();
        assert_eq!(micros.as_primitive::<datafusion::arrow::datatypes::Float64Type>().value(0), 86_400_000_000.0);
        assert!(micros.is_null(1));
        let day_and_a_half = from_micros(1.5 * 86_400_000_000.0, &DataType::Interval(IntervalUnit::MonthDayNano));
        assert_eq!(
            day_and_a_half.unwrap(),
            ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano {
                months: 0,
                days: 1,
                nanoseconds: 43_200_000_000_000
            }))
        );
        assert_eq!(kept(&DataType::Date32), DataType::Timestamp(TimeUnit::Microsecond, None));
    }
}
