//! DuckDB's intervals where Arrow's differ. A timestamp minus a timestamp is an INTERVAL of days
//! and time in DuckDB (`2 days 01:00:00`) where Arrow makes a DURATION (printed `PT176400S`,
//! whose hour is 49 and which DataFusion compares wrongly with an INTERVAL); and DuckDB compares
//! intervals by their length (a month as 30 days, a day as 24 hours: `INTERVAL 25 HOUR >
//! INTERVAL 1 DAY`), where Arrow compares months, then days, then nanoseconds.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array, IntervalMonthDayNanoArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, DurationNanosecondType, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit, TimeUnit,
};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::udf::{invalid, row_udf};

const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// `timestamp_difference(a - b)`: the DURATION as DuckDB's INTERVAL of whole days and the rest
/// (both carrying the sign, as DuckDB's do).
pub(super) fn timestamp_difference() -> ScalarUDF {
    row_udf(
        "timestamp_difference",
        "one duration: timestamp_difference(a - b)",
        1..=1,
        |_| Ok(DataType::Interval(IntervalUnit::MonthDayNano)),
        |arrays| {
            if matches!(arrays[0].data_type(), DataType::Interval(_)) {
                return Ok(cast(&arrays[0], &DataType::Interval(IntervalUnit::MonthDayNano))?);
            }
            let nanos = cast(&arrays[0], &DataType::Duration(TimeUnit::Nanosecond)).map_err(|_| {
                invalid(format!("timestamp_difference takes a duration, not {}", arrays[0].data_type()))
            })?;
            let out: IntervalMonthDayNanoArray =
                nanos.as_primitive::<DurationNanosecondType>().iter().map(|n| n.map(split_days)).collect();
            Ok(Arc::new(out) as ArrayRef)
        },
    )
}

fn split_days(nanos: i64) -> IntervalMonthDayNano {
    // Whole days fit an i32: an i64 of nanoseconds spans ±106,751 days.
    IntervalMonthDayNano { months: 0, days: (nanos / NANOS_PER_DAY) as i32, nanoseconds: nanos % NANOS_PER_DAY }
}

/// `interval_length(i)`: an interval's length in microseconds, a month counted as 30 days, for
/// comparing intervals as DuckDB does.
pub(super) fn interval_length() -> ScalarUDF {
    row_udf(
        "interval_length",
        "one interval: interval_length(i)",
        1..=1,
        |_| Ok(DataType::Int64),
        |arrays| {
            let intervals = cast(&arrays[0], &DataType::Interval(IntervalUnit::MonthDayNano))?;
            let out: Int64Array = intervals
                .as_primitive::<IntervalMonthDayNanoType>()
                .iter()
                .map(|v| v.map(length_micros).transpose())
                .collect::<Result<_>>()?;
            Ok(Arc::new(out) as ArrayRef)
        },
    )
}

fn length_micros(v: IntervalMonthDayNano) -> Result<i64> {
    let days = i64::from(v.months) * 30 + i64::from(v.days);
    days.checked_mul(NANOS_PER_DAY / 1000)
        .and_then(|d| d.checked_add(v.nanoseconds / 1000))
        .ok_or_else(|| invalid("the interval is too long to compare".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_is_days_and_time_with_one_sign() {
        let hour = 3_600_000_000_000;
        let late = split_days(2 * NANOS_PER_DAY + hour);
        assert_eq!((late.days, late.nanoseconds), (2, hour));
        let early = split_days(-(2 * NANOS_PER_DAY + hour + 500_000_000));
        assert_eq!((early.days, early.nanoseconds), (-2, -(hour + 500_000_000)));
    }

    #[test]
    fn intervals_compare_by_length() {
        let hours = |h: i64| IntervalMonthDayNano { months: 0, days: 0, nanoseconds: h * 3_600_000_000_000 };
        let day = IntervalMonthDayNano { months: 0, days: 1, nanoseconds: 0 };
        let month = IntervalMonthDayNano { months: 1, days: 0, nanoseconds: 0 };
        assert!(length_micros(hours(25)).unwrap() > length_micros(day).unwrap());
        assert_eq!(length_micros(month).unwrap(), length_micros(hours(720)).unwrap());
    }
}
