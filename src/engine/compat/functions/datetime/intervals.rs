//! DuckDB's intervals where Arrow's differ. A timestamp minus a timestamp is an INTERVAL of days
//! and time in DuckDB (`2 days 01:00:00`) where Arrow makes a DURATION (printed `PT176400S`,
//! whose hour is 49 and which DataFusion compares wrongly with an INTERVAL); and DuckDB compares
//! intervals by their length (a month as 30 days, a day as 24 hours: `INTERVAL 25 HOUR >
//! INTERVAL 1 DAY`), where Arrow compares months, then days, then nanoseconds. DuckDB also
//! multiplies and divides intervals by numbers, which Arrow does not.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array, IntervalMonthDayNanoArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, DurationNanosecondType, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit, TimeUnit,
};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{invalid, row_udf};

const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// `timestamp_difference(a - b)`: the DURATION as DuckDB's INTERVAL of whole days and the rest
/// (both carrying the sign, as DuckDB's do).
pub(crate) fn timestamp_difference() -> ScalarUDF {
    row_udf(
        "timestamp_difference",
        "one duration: timestamp_difference(a - b)",
        1..=1,
        |_| Ok(DataType::Interval(IntervalUnit::MonthDayNano)),
        |arrays| as_duckdb_interval(&arrays[0]),
    )
}

/// An interval, or a duration as DuckDB's interval of whole days and the rest.
pub(crate) fn as_duckdb_interval(array: &ArrayRef) -> Result<ArrayRef> {
    if matches!(array.data_type(), DataType::Interval(_)) {
        return Ok(cast(array, &DataType::Interval(IntervalUnit::MonthDayNano))?);
    }
    let nanos = cast(array, &DataType::Duration(TimeUnit::Nanosecond))
        .map_err(|_| invalid(format!("timestamp_difference takes a duration, not {}", array.data_type())))?;
    let out: IntervalMonthDayNanoArray =
        nanos.as_primitive::<DurationNanosecondType>().iter().map(|n| n.map(split_days)).collect();
    Ok(Arc::new(out) as ArrayRef)
}

fn split_days(nanos: i64) -> IntervalMonthDayNano {
    // Whole days fit an i32: an i64 of nanoseconds spans ±106,751 days.
    IntervalMonthDayNano { months: 0, days: (nanos / NANOS_PER_DAY) as i32, nanoseconds: nanos % NANOS_PER_DAY }
}

/// `interval_length(i)`: an interval's length in microseconds, a month counted as 30 days, for
/// comparing intervals as DuckDB does.
pub(crate) fn interval_length() -> ScalarUDF {
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

pub(crate) fn length_micros(v: IntervalMonthDayNano) -> Result<i64> {
    let days = i64::from(v.months) * 30 + i64::from(v.days);
    days.checked_mul(NANOS_PER_DAY / 1000)
        .and_then(|d| d.checked_add(v.nanoseconds / 1000))
        .ok_or_else(|| invalid("the interval is too long to compare".into()))
}

/// `interval_part(part, i)`: one part of an interval as DuckDB's `date_part` takes it: years,
/// months within the year, days, and the time's hours, minutes within the hour, seconds (and
/// their milli- and microseconds) within the minute; decades, centuries and millennia of the
/// months; the quarter of the months within the year.
pub(crate) fn interval_part() -> ScalarUDF {
    row_udf(
        "interval_part",
        "interval_part(part, interval)",
        2..=2,
        |_| Ok(DataType::Int64),
        |arrays| {
            let intervals = cast(&arrays[1], &DataType::Interval(IntervalUnit::MonthDayNano))?;
            let out: Int64Array = by_part(&arrays[0], &intervals, part_of)?.into_iter().collect();
            Ok(Arc::new(out) as ArrayRef)
        },
    )
}

/// Each row's part (in lower case) and interval (of `MonthDayNano`) through `f`; NULL where
/// either is.
pub(crate) fn by_part<T>(
    parts: &ArrayRef,
    intervals: &ArrayRef,
    f: impl Fn(&str, IntervalMonthDayNano) -> Result<T>,
) -> Result<Vec<Option<T>>> {
    let parts = cast(parts, &DataType::Utf8)?;
    parts
        .as_string::<i32>()
        .iter()
        .zip(intervals.as_primitive::<IntervalMonthDayNanoType>().iter())
        .map(|(part, value)| match (part, value) {
            (Some(part), Some(value)) => f(&part.to_ascii_lowercase(), value).map(Some),
            _ => Ok(None),
        })
        .collect()
}

fn part_of(part: &str, v: IntervalMonthDayNano) -> Result<i64> {
    use super::interval_texts::{Part, part_named};
    const MICROS_PER_MINUTE: i64 = 60_000_000;
    let (months, micros) = (i64::from(v.months), v.nanoseconds / 1000);
    Ok(match part_named(part) {
        Some(Part::Millennium) => months / 12_000,
        Some(Part::Century) => months / 1_200,
        Some(Part::Decade) => months / 120,
        Some(Part::Year) => months / 12,
        Some(Part::Quarter) => months % 12 / 3 + 1,
        Some(Part::Month) => months % 12,
        Some(Part::Day) => i64::from(v.days),
        Some(Part::Hour) => micros / 3_600_000_000,
        Some(Part::Minute) => micros % 3_600_000_000 / MICROS_PER_MINUTE,
        Some(Part::Second) => micros % MICROS_PER_MINUTE / 1_000_000,
        Some(Part::Millisecond) => micros % MICROS_PER_MINUTE / 1_000,
        Some(Part::Microsecond) => micros % MICROS_PER_MINUTE,
        Some(Part::Week) | None => {
            return Err(invalid(format!(
                "an interval has no part '{part}': take year, month, day, hour, minute, second, millisecond, microsecond or epoch"
            )));
        }
    })
}

/// `interval_times(i, factor)`: `i * factor` as DuckDB computes it. An integer factor scales each
/// part; a fractional one (Postgres' `interval_mul`) cascades the fractions of months into days
/// (30 a month) and of days into time, rounded to the microsecond.
pub(crate) fn interval_times() -> ScalarUDF {
    row_udf(
        "interval_times",
        "interval_times(interval, factor)",
        2..=2,
        |_| Ok(DataType::Interval(IntervalUnit::MonthDayNano)),
        |arrays| {
            let intervals = cast(&arrays[0], &DataType::Interval(IntervalUnit::MonthDayNano))?;
            let intervals = intervals.as_primitive::<IntervalMonthDayNanoType>();
            let out: IntervalMonthDayNanoArray = if arrays[1].data_type().is_integer() {
                let factors = cast(&arrays[1], &DataType::Int64)?;
                intervals
                    .iter()
                    .zip(factors.as_primitive::<datafusion::arrow::datatypes::Int64Type>().iter())
                    .map(|(i, f)| i.zip(f).map(|(i, f)| scaled_whole(i, f)).transpose())
                    .collect::<Result<_>>()?
            } else {
                let factors = cast(&arrays[1], &DataType::Float64)?;
                intervals
                    .iter()
                    .zip(factors.as_primitive::<datafusion::arrow::datatypes::Float64Type>().iter())
                    .map(|(i, f)| i.zip(f).map(|(i, f)| scaled(i, f)).transpose())
                    .collect::<Result<_>>()?
            };
            Ok(Arc::new(out) as ArrayRef)
        },
    )
}

fn overflow() -> datafusion::error::DataFusionError {
    invalid("Overflow in multiplication of INTERVAL".into())
}

fn scaled_whole(v: IntervalMonthDayNano, factor: i64) -> Result<IntervalMonthDayNano> {
    let factor32 = i32::try_from(factor).map_err(|_| overflow())?;
    Ok(IntervalMonthDayNano {
        months: v.months.checked_mul(factor32).ok_or_else(overflow)?,
        days: v.days.checked_mul(factor32).ok_or_else(overflow)?,
        nanoseconds: (v.nanoseconds / 1000)
            .checked_mul(factor)
            .and_then(|m| m.checked_mul(1000))
            .ok_or_else(overflow)?,
    })
}

fn scaled(v: IntervalMonthDayNano, factor: f64) -> Result<IntervalMonthDayNano> {
    const SECS_PER_DAY: f64 = 86_400.0;
    let to_micro = |x: f64| (x * 1e6).round_ties_even() / 1e6;
    let whole = |d: f64| {
        if d.is_nan() || d < f64::from(i32::MIN) || d > f64::from(i32::MAX) {
            Err(overflow())
        } else {
            Ok(d.trunc() as i32)
        }
    };
    let months_product = f64::from(v.months) * factor;
    let days_product = f64::from(v.days) * factor;
    let months = whole(months_product)?;
    let mut days = whole(days_product)?;
    let month_remainder = to_micro((months_product - f64::from(months)) * 30.0);
    let day_remainder = month_remainder.trunc() as i32;
    let mut seconds =
        to_micro((days_product - f64::from(days) + month_remainder - f64::from(day_remainder)) * SECS_PER_DAY);
    if seconds.abs() >= SECS_PER_DAY {
        let carried = (seconds / SECS_PER_DAY).trunc();
        days = days.checked_add(carried as i32).ok_or_else(overflow)?;
        seconds -= carried * SECS_PER_DAY;
    }
    days = days.checked_add(day_remainder).ok_or_else(overflow)?;
    let micros = ((v.nanoseconds / 1000) as f64 * factor + seconds * 1e6).round_ties_even();
    if micros.is_nan() || micros.abs() >= 9.2e18 / 1000.0 {
        return Err(overflow());
    }
    Ok(IntervalMonthDayNano { months, days, nanoseconds: micros as i64 * 1000 })
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

    #[test]
    fn fractions_of_months_and_days_cascade_down() {
        let micros = |v: IntervalMonthDayNano| (v.months, v.days, v.nanoseconds / 1000);
        let month = IntervalMonthDayNano { months: 1, days: 0, nanoseconds: 0 };
        // DuckDB: 1 month * 1.5 = 1 month 15 days; 1 month / 7 = 4 days 06:51:25.6896.
        assert_eq!(micros(scaled(month, 1.5).unwrap()), (1, 15, 0));
        assert_eq!(micros(scaled(month, 1.0 / 7.0).unwrap()), (0, 4, 24_685_689_600));
        let day = IntervalMonthDayNano { months: 0, days: 1, nanoseconds: 0 };
        assert_eq!(micros(scaled(day, -0.5).unwrap()), (0, 0, -43_200_000_000));
        assert_eq!(micros(scaled_whole(day, 3).unwrap()), (0, 3, 0));
        assert!(scaled(day, f64::NAN).is_err());
    }
}
