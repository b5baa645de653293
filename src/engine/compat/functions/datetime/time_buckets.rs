//! DuckDB's `time_bucket(width, t [, offset | origin])`: `t` truncated to the start of its bucket.
//! Widths of months and years count whole months from 2000-01-01; widths of days and less count
//! microseconds from Monday 2000-01-03; an origin moves that start, an offset shifts the buckets.
//! A TIME is bucketed as that time of 1970-01-01, and answers its bucket's time of day. DataFusion's
//! `date_bin` takes no month widths and no offsets, so this follows DuckDB's own code.

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeDelta};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Time64MicrosecondArray, TimestampMicrosecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit, TimeUnit};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{invalid, row_udf, shared};

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// 2000-01-03 (a Monday), in microseconds since 1970.
const DEFAULT_ORIGIN_MICROS: i64 = 10_959 * MICROS_PER_DAY;
/// 2000-01-01, in months since 1970.
const DEFAULT_ORIGIN_MONTHS: i64 = 360;

pub(crate) fn time_bucket() -> ScalarUDF {
    row_udf(
        "time_bucket",
        "2 or 3 arguments: time_bucket(INTERVAL '1 week', ts [, origin | offset])",
        2..=3,
        |types| Ok(types[1].clone()),
        buckets,
    )
}

/// How the third argument moves the buckets.
enum Shift {
    None,
    Offset(Vec<Option<IntervalMonthDayNano>>),
    Origin(Vec<Option<i64>>),
}

#[derive(Clone, Copy, Debug)]
enum Width {
    Micros(i64),
    Months(i64),
}

fn buckets(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let target = arrays[1].data_type().clone();
    if target == DataType::Null {
        return Ok(arrays[1].clone());
    }
    let widths = intervals(&arrays[0], "width")?;
    let times = micros(&arrays[1])?;
    let shift = match arrays.get(2).map(|a| a.data_type()) {
        None => Shift::None,
        Some(DataType::Interval(_)) => Shift::Offset(intervals(&arrays[2], "offset")?),
        Some(DataType::Null) => Shift::Origin(vec![None; times.len()]),
        Some(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {
            return Err(invalid(
                "time_bucket with a time zone is not supported: timestamps here are UTC, call time_bucket(width, ts)"
                    .into(),
            ));
        }
        Some(_) => Shift::Origin(micros(&arrays[2])?),
    };
    let mut out = Vec::with_capacity(times.len());
    for (row, (width, time)) in widths.iter().zip(&times).enumerate() {
        let (Some(width), Some(time)) = (width, time) else {
            out.push(None);
            continue;
        };
        // A NULL origin or offset gives NULL before the width is checked, as in DuckDB.
        let shift_is_null = match &shift {
            Shift::None => false,
            Shift::Origin(origins) => origins[row].is_none(),
            Shift::Offset(offsets) => offsets[row].is_none(),
        };
        if shift_is_null {
            out.push(None);
            continue;
        }
        let width = classify(width)?;
        let bucket = match &shift {
            Shift::None => Some(bucket_from(width, *time, None)?),
            Shift::Origin(origins) => origins[row].map(|origin| bucket_from(width, *time, Some(origin))).transpose()?,
            Shift::Offset(offsets) => match offsets[row] {
                Some(offset) => {
                    let shifted = add_interval(*time, offset, -1)?;
                    Some(add_interval(bucket_from(width, shifted, None)?, offset, 1)?)
                }
                None => None,
            },
        };
        out.push(bucket);
    }
    if matches!(target, DataType::Time32(_) | DataType::Time64(_)) {
        // A TIME's bucket is the time of day where its timestamp's bucket starts.
        let times = out.into_iter().map(|b| b.map(|b| b.rem_euclid(MICROS_PER_DAY)));
        return Ok(cast(&shared(Time64MicrosecondArray::from_iter(times)), &target)?);
    }
    let result = shared(TimestampMicrosecondArray::from(out));
    Ok(cast(&result, &target)?)
}

fn classify(width: &IntervalMonthDayNano) -> Result<Width> {
    let micros = i64::from(width.days) * MICROS_PER_DAY + width.nanoseconds / 1000;
    if width.months == 0 {
        if micros <= 0 {
            return Err(invalid("time_bucket: the bucket width must be greater than 0".into()));
        }
        Ok(Width::Micros(micros))
    } else if width.days == 0 && width.nanoseconds == 0 {
        if width.months < 0 {
            return Err(invalid("time_bucket: the bucket width must be greater than 0".into()));
        }
        Ok(Width::Months(i64::from(width.months)))
    } else {
        Err(invalid("time_bucket: a width of months cannot have a day or time part (write one or the other)".into()))
    }
}

/// The start of the bucket holding `time` (microseconds since 1970), buckets counted from `origin`.
fn bucket_from(width: Width, time: i64, origin: Option<i64>) -> Result<i64> {
    match width {
        Width::Micros(width) => {
            let origin = origin.unwrap_or(DEFAULT_ORIGIN_MICROS).rem_euclid(width);
            let out_of_range = || invalid("time_bucket: the bucket is out of range".into());
            let since = time.checked_sub(origin).ok_or_else(out_of_range)?;
            (since.div_euclid(width) * width).checked_add(origin).ok_or_else(out_of_range)
        }
        Width::Months(width) => {
            let origin = origin.map(epoch_months).transpose()?.unwrap_or(DEFAULT_ORIGIN_MONTHS) % width;
            let months = (epoch_months(time)? - origin).div_euclid(width) * width + origin;
            let (year, month) = (1970 + months.div_euclid(12), months.rem_euclid(12) + 1);
            let day = i32::try_from(year)
                .ok()
                .and_then(|y| NaiveDate::from_ymd_opt(y, month as u32, 1))
                .ok_or_else(|| invalid("time_bucket: the bucket is out of range".into()))?;
            Ok((day - NaiveDate::default()).num_days() * MICROS_PER_DAY)
        }
    }
}

/// Months since January 1970 of the month `time` falls in.
fn epoch_months(time: i64) -> Result<i64> {
    let date = DateTime::from_timestamp_micros(time)
        .ok_or_else(|| invalid("time_bucket: the timestamp is out of range".into()))?
        .date_naive();
    Ok((i64::from(date.year()) - 1970) * 12 + i64::from(date.month0()))
}

/// `time` plus (`sign` 1) or minus (-1) an interval: months first, then days, then the rest.
fn add_interval(time: i64, interval: IntervalMonthDayNano, sign: i32) -> Result<i64> {
    let out_of_range = || invalid("time_bucket: the offset takes the timestamp out of range".into());
    let at = DateTime::from_timestamp_micros(time).ok_or_else(out_of_range)?.naive_utc();
    let months = interval.months * sign;
    let at = if months >= 0 {
        at.checked_add_months(Months::new(months.unsigned_abs()))
    } else {
        at.checked_sub_months(Months::new(months.unsigned_abs()))
    }
    .ok_or_else(out_of_range)?;
    let rest = TimeDelta::days(i64::from(interval.days * sign))
        + TimeDelta::microseconds(interval.nanoseconds / 1000 * i64::from(sign));
    let at = at.checked_add_signed(rest).ok_or_else(out_of_range)?;
    Ok(at.and_utc().timestamp_micros())
}

fn intervals(array: &ArrayRef, what: &str) -> Result<Vec<Option<IntervalMonthDayNano>>> {
    let array = cast(array, &DataType::Interval(IntervalUnit::MonthDayNano))
        .map_err(|_| invalid(format!("time_bucket: the {what} must be an INTERVAL, not {}", array.data_type())))?;
    Ok(array.as_primitive::<IntervalMonthDayNanoType>().iter().collect())
}

/// A DATE or TIMESTAMP column in microseconds since 1970 (UTC); a TIME as that time of
/// 1970-01-01, as DuckDB buckets it.
fn micros(array: &ArrayRef) -> Result<Vec<Option<i64>>> {
    let micros = match array.data_type() {
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) | DataType::Null => {
            cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None))?
        }
        DataType::Time32(_) | DataType::Time64(_) => {
            let times = cast(array, &DataType::Time64(TimeUnit::Microsecond))?;
            let values = times.as_primitive::<datafusion::arrow::datatypes::Time64MicrosecondType>();
            return Ok(values.iter().collect());
        }
        other => {
            return Err(invalid(format!("time_bucket buckets a DATE, TIMESTAMP or TIME, not {other}")));
        }
    };
    Ok(micros.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>().iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap().and_utc().timestamp_micros()
    }

    #[test]
    fn buckets_count_from_duckdbs_origins() {
        let week = Width::Micros(7 * MICROS_PER_DAY);
        // Weeks start on Mondays (2000-01-03 was one); months on the first.
        assert_eq!(bucket_from(week, at("2025-10-02 13:00:00"), None).unwrap(), at("2025-09-29 00:00:00"));
        assert_eq!(bucket_from(Width::Months(1), at("2025-10-02 13:00:00"), None).unwrap(), at("2025-10-01 00:00:00"));
        assert_eq!(bucket_from(Width::Months(3), at("1969-12-31 23:00:00"), None).unwrap(), at("1969-10-01 00:00:00"));
        let origin = Some(at("2025-10-01 06:00:00"));
        assert_eq!(
            bucket_from(Width::Micros(MICROS_PER_DAY), at("2025-10-02 05:00:00"), origin).unwrap(),
            at("2025-10-01 06:00:00")
        );
    }

    #[test]
    fn widths_mixing_months_and_days_are_refused() {
        let mixed = IntervalMonthDayNano { months: 1, days: 1, nanoseconds: 0 };
        assert!(classify(&mixed).unwrap_err().to_string().contains("cannot have a day"));
        let zero = IntervalMonthDayNano { months: 0, days: 0, nanoseconds: 0 };
        assert!(classify(&zero).is_err());
    }
}
