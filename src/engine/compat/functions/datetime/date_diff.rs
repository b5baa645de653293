//! DuckDB's `date_diff` (part boundaries between two times) and `epoch_ms` (both ways between
//! timestamps and milliseconds).

use std::sync::Arc;

use chrono::{Datelike, NaiveDateTime};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{row_udf, strings};
use crate::engine::compat::functions::datetime::common::{naive, timestamps_micros};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![
        row_udf("date_diff", "date_diff(part, start, end)", 3..=3, |_| Ok(DataType::Int64), date_diff),
        row_udf(
            "epoch_ms",
            "one argument: epoch_ms(timestamp) or epoch_ms(milliseconds)",
            1..=1,
            |args| {
                Ok(if args[0].is_integer() || args[0].is_null() {
                    DataType::Timestamp(TimeUnit::Millisecond, None)
                } else {
                    DataType::Int64
                })
            },
            |a| epoch_ms(&a[0]),
        ),
    ]
}

/// DuckDB's `date_diff`: how many `part` boundaries lie between two times.
fn date_diff(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    if let Some(days) = date_day_difference(arrays)? {
        return Ok(days);
    }
    per_row_difference(arrays, "date_diff", boundaries)
}

/// Days (or weeks) between two dates counted on the dates themselves, which reach past the
/// years a timestamp holds; `None` for other arguments or parts.
fn date_day_difference(arrays: &[ArrayRef]) -> Result<Option<ArrayRef>> {
    use datafusion::arrow::datatypes::Date32Type;
    if arrays[1].data_type() != &DataType::Date32 || arrays[2].data_type() != &DataType::Date32 {
        return Ok(None);
    }
    let parts = strings(&arrays[0])?;
    let parts = parts.as_string::<i32>();
    let (starts, ends) = (arrays[1].as_primitive::<Date32Type>(), arrays[2].as_primitive::<Date32Type>());
    let mut out = Vec::with_capacity(parts.len());
    for r in 0..parts.len() {
        let per = match parts.is_valid(r).then(|| parts.value(r).to_lowercase()).as_deref() {
            Some("day" | "days" | "d" | "dayofmonth" | "dayofyear" | "doy" | "dow" | "isodow" | "julian") => 1,
            Some("week" | "weeks" | "w" | "weekofyear" | "yearweek") => 7,
            Some(_) => return Ok(None),
            None => 0,
        };
        out.push((per > 0 && starts.is_valid(r) && ends.is_valid(r)).then(|| {
            let days = i64::from(ends.value(r)) - i64::from(starts.value(r));
            days / per
        }));
    }
    Ok(Some(Arc::new(Int64Array::from(out))))
}

/// `part` boundaries from `a` to `b`; `None` for a part DuckDB does not know.
fn boundaries(part: &str, a: NaiveDateTime, b: NaiveDateTime) -> Option<i64> {
    let months = |t: NaiveDateTime| t.year() as i64 * 12 + t.month0() as i64;
    let days = |t: NaiveDateTime| t.date().num_days_from_ce() as i64;
    Some(match part.trim_end_matches('s') {
        "year" | "yr" | "y" => b.year() as i64 - a.year() as i64,
        "isoyear" => b.iso_week().year() as i64 - a.iso_week().year() as i64,
        "decade" => (b.year() as i64).div_euclid(10) - (a.year() as i64).div_euclid(10),
        "century" => (b.year() as i64 - 1).div_euclid(100) - (a.year() as i64 - 1).div_euclid(100),
        "millennium" | "millennia" => (b.year() as i64 - 1).div_euclid(1000) - (a.year() as i64 - 1).div_euclid(1000),
        "quarter" => months(b).div_euclid(3) - months(a).div_euclid(3),
        "month" | "mon" => months(b) - months(a),
        // DuckDB counts whole weeks of days, not week boundaries.
        "week" | "w" | "yearweek" | "weekofyear" => (days(b) - days(a)) / 7,
        // Parts of a day count days, as in DuckDB.
        "day" | "d" | "dayofmonth" | "dow" | "isodow" | "doy" | "dayofweek" | "dayofyear" | "weekday" | "julian" => {
            days(b) - days(a)
        }
        // Boundaries before 1970 too: floor, not truncating, division.
        "hour" | "h" | "hr" => b.and_utc().timestamp().div_euclid(3600) - a.and_utc().timestamp().div_euclid(3600),
        "minute" | "m" | "min" => b.and_utc().timestamp().div_euclid(60) - a.and_utc().timestamp().div_euclid(60),
        "second" | "sec" | "epoch" => b.and_utc().timestamp() - a.and_utc().timestamp(),
        "millisecond" | "ms" | "msec" => b.and_utc().timestamp_millis() - a.and_utc().timestamp_millis(),
        "microsecond" | "us" | "usec" => b.and_utc().timestamp_micros() - a.and_utc().timestamp_micros(),
        _ => return None,
    })
}

/// `difference(part, start, end)` row by row over the arrays of `(part, start, end)`: NULL where
/// any is NULL, an error naming `function` for an unknown part.
pub(crate) fn per_row_difference(
    arrays: &[ArrayRef],
    function: &str,
    difference: impl Fn(&str, NaiveDateTime, NaiveDateTime) -> Option<i64>,
) -> Result<ArrayRef> {
    let parts = strings(&arrays[0])?;
    let (starts, ends) = (timestamps_micros(&arrays[1])?, timestamps_micros(&arrays[2])?);
    let (parts, starts, ends) = (
        parts.as_string::<i32>(),
        starts.as_primitive::<TimestampMicrosecondType>(),
        ends.as_primitive::<TimestampMicrosecondType>(),
    );
    let mut out = Vec::with_capacity(parts.len());
    for r in 0..parts.len() {
        if parts.is_null(r) || starts.is_null(r) || ends.is_null(r) {
            out.push(None);
            continue;
        }
        let (Some(a), Some(b)) = (naive(starts.value(r)), naive(ends.value(r))) else {
            out.push(None);
            continue;
        };
        match difference(&parts.value(r).to_lowercase(), a, b) {
            Some(n) => out.push(Some(n)),
            None => {
                return exec_err!(
                    "{function}: unknown date part '{}' (use year, quarter, month, week, day, hour, minute, second, millisecond)",
                    parts.value(r)
                );
            }
        }
    }
    Ok(Arc::new(Int64Array::from(out)))
}

/// `epoch_ms(timestamp)` → milliseconds since 1970; `epoch_ms(integer)` → the timestamp.
fn epoch_ms(array: &ArrayRef) -> Result<ArrayRef> {
    if array.data_type().is_integer() || array.data_type().is_null() {
        return Ok(cast(&cast(array, &DataType::Int64)?, &DataType::Timestamp(TimeUnit::Millisecond, None))?);
    }
    let micros = timestamps_micros(array)?;
    let micros = micros.as_primitive::<TimestampMicrosecondType>();
    // DuckDB rounds to the nearest millisecond, halves away from zero.
    let rounded = |m: i64| (m + if m < 0 { -500 } else { 500 }) / 1000;
    Ok(Arc::new(micros.iter().map(|v| v.map(rounded)).collect::<Int64Array>()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{StringArray, TimestampMicrosecondArray};

    #[test]
    fn date_diff_counts_boundaries() {
        let ts = |s: &str| -> ArrayRef {
            let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap().and_utc().timestamp_micros();
            Arc::new(TimestampMicrosecondArray::from(vec![t]))
        };
        let diff = |part: &str, a, b| {
            let out = date_diff(&[Arc::new(StringArray::from(vec![part])), ts(a), ts(b)]).unwrap();
            out.as_primitive::<datafusion::arrow::datatypes::Int64Type>().value(0)
        };
        assert_eq!(diff("day", "2025-10-01 23:00", "2025-10-02 01:00"), 1);
        assert_eq!(diff("month", "2025-01-31 00:00", "2025-02-01 00:00"), 1);
        assert_eq!(diff("hour", "2025-10-01 10:59", "2025-10-01 11:00"), 1);
        assert_eq!(diff("year", "2025-12-31 00:00", "2024-01-01 00:00"), -1);
        // DuckDB's answers for the same pair.
        for (part, expected) in [
            ("decade", 3),
            ("century", 1),
            ("millennium", 1),
            ("isoyear", 26),
            ("dow", 9191),
            ("yearweek", 1313),
            ("epoch", 794023320),
        ] {
            assert_eq!(diff(part, "1999-12-31 23:00", "2025-02-28 01:02"), expected, "{part}");
        }
    }
}
