//! Calendar differences in complete parts, as DuckDB counts them: `date_sub(part, start, end)`
//! (and `datesub`) — how many *complete* parts lie between two times, where `date_diff` counts
//! the boundaries crossed (a month is complete when the end's day and time of day reach the
//! start's, a month's last day reaching any later day) — and `age(a [, b])`, the interval
//! `a - b` in months, days and time.

use std::sync::Arc;

use chrono::{Datelike, NaiveDateTime, Timelike};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, IntervalMonthDayNanoArray};
use datafusion::arrow::datatypes::IntervalMonthDayNano;
use datafusion::arrow::datatypes::{DataType, TimestampMicrosecondType};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use crate::engine::compat::functions::datetime::common::{naive, timestamps_micros};
use crate::engine::compat::functions::datetime::date_diff::per_row_difference;

pub(crate) fn date_sub() -> ScalarUDF {
    ScalarUDF::new_from_impl(DateSub { signature: Signature::any(3, Volatility::Immutable) })
}

pub(crate) fn age() -> ScalarUDF {
    ScalarUDF::new_from_impl(Age { signature: Signature::variadic_any(Volatility::Immutable) })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Age {
    signature: Signature,
}

const DAY_MICROS: i64 = 86_400_000_000;

/// `a - b` as DuckDB's `age`: months, days and time subtracted field by field, then borrowed so
/// that all three have the sign of the difference (a borrowed month has the days of the earlier
/// timestamp's month, as DuckDB's `Interval::GetAge`).
fn age_between(a: NaiveDateTime, b: NaiveDateTime) -> IntervalMonthDayNano {
    let mut months = (a.year() as i64 - b.year() as i64) * 12 + (a.month() as i64 - b.month() as i64);
    let mut days = a.day() as i64 - b.day() as i64;
    let time = |t: &NaiveDateTime| t.num_seconds_from_midnight() as i64 * 1_000_000 + (t.nanosecond() / 1000) as i64;
    let mut micros = time(&a) - time(&b);
    let month_days = days_in_month(if a >= b { &b } else { &a }) as i64;
    if a >= b {
        if micros < 0 {
            micros += DAY_MICROS;
            days -= 1;
        }
        while days < 0 {
            days += month_days;
            months -= 1;
        }
    } else {
        if micros > 0 {
            micros -= DAY_MICROS;
            days += 1;
        }
        while days > 0 {
            days -= month_days;
            months += 1;
        }
    }
    IntervalMonthDayNano::new(months as i32, days as i32, micros * 1000)
}

impl ScalarUDFImpl for Age {
    fn name(&self) -> &str {
        "age"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if !(1..=2).contains(&args.len()) {
            return plan_err!("age takes age(end [, start])");
        }
        Ok(DataType::Interval(datafusion::arrow::datatypes::IntervalUnit::MonthDayNano))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays: Vec<ArrayRef> = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<_>>()?;
        // One argument: the age at today's midnight (UTC), as DuckDB's age(ts).
        let today = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_micros());
        let (ends, starts) = match arrays.as_slice() {
            [start] => (None, timestamps_micros(start)?),
            [end, start] => (Some(timestamps_micros(end)?), timestamps_micros(start)?),
            _ => return exec_err!("age takes age(end [, start])"),
        };
        let starts = starts.as_primitive::<TimestampMicrosecondType>();
        let ends = ends.as_ref().map(|e| e.as_primitive::<TimestampMicrosecondType>());
        let out: IntervalMonthDayNanoArray = (0..rows)
            .map(|r| {
                let end = match ends {
                    Some(ends) if ends.is_null(r) => return None,
                    Some(ends) => ends.value(r),
                    None => today?,
                };
                if starts.is_null(r) {
                    return None;
                }
                Some(age_between(naive(end)?, naive(starts.value(r))?))
            })
            .collect();
        let result: ArrayRef = Arc::new(out);
        if scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?));
        }
        Ok(ColumnarValue::Array(result))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DateSub {
    signature: Signature,
}

fn days_in_month(t: &NaiveDateTime) -> u32 {
    let (y, m) = (t.year(), t.month());
    let next = if m == 12 {
        chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    next.and_then(|n| n.pred_opt()).map_or(31, |d| d.day())
}

/// Complete months from `a` to `b` (`a` ≤ `b`).
fn complete_months(a: &NaiveDateTime, b: &NaiveDateTime) -> i64 {
    let months = (b.year() as i64 * 12 + b.month0() as i64) - (a.year() as i64 * 12 + a.month0() as i64);
    let start_day = a.day().min(days_in_month(b));
    let short = (b.day(), b.num_seconds_from_midnight(), b.nanosecond())
        < (start_day, a.num_seconds_from_midnight(), a.nanosecond());
    months - i64::from(months > 0 && short)
}

fn difference(part: &str, a: NaiveDateTime, b: NaiveDateTime) -> Option<i64> {
    let (from, to, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
    let micros = to.and_utc().timestamp_micros() - from.and_utc().timestamp_micros();
    let months = || complete_months(&from, &to);
    let n = match part.trim_end_matches('s') {
        "year" | "yr" | "y" | "isoyear" => months() / 12,
        "quarter" => months() / 3,
        "month" | "mon" => months(),
        "decade" => months() / 120,
        "century" => months() / 1200,
        "millennium" | "millennia" => months() / 12000,
        "week" | "w" | "yearweek" | "weekofyear" => micros / (7 * 86_400_000_000),
        "day" | "d" | "dayofmonth" | "dow" | "isodow" | "doy" | "dayofweek" | "dayofyear" | "weekday" | "julian" => {
            micros / 86_400_000_000
        }
        "hour" | "h" | "hr" => micros / 3_600_000_000,
        "minute" | "m" | "min" => micros / 60_000_000,
        "second" | "sec" | "epoch" => micros / 1_000_000,
        "millisecond" | "ms" | "msec" => micros / 1000,
        "microsecond" | "us" | "usec" => micros,
        _ => return None,
    };
    Some(sign * n)
}

impl ScalarUDFImpl for DateSub {
    fn name(&self) -> &str {
        "date_sub"
    }

    fn aliases(&self) -> &[String] {
        static ALIASES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| vec!["datesub".to_string()]);
        &ALIASES
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if args.len() != 3 {
            return plan_err!("date_sub takes date_sub(part, start, end)");
        }
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays: Vec<ArrayRef> = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<_>>()?;
        let result = per_row_difference(&arrays, "date_sub", difference)?;
        if scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?));
        }
        Ok(ColumnarValue::Array(result))
    }
}

/// `epoch(interval)`: seconds, a year of months counted as 365.25 days and each other month as 30.
pub(crate) fn interval_epoch() -> ScalarUDF {
    crate::engine::compat::functions::common::row_udf(
        "interval_epoch",
        "epoch(interval)",
        1..=1,
        |_| Ok(DataType::Float64),
        |a| {
            use datafusion::arrow::array::{AsArray, Float64Array};
            use datafusion::arrow::datatypes::IntervalMonthDayNanoType;
            let intervals = datafusion::arrow::compute::cast(
                &a[0],
                &DataType::Interval(datafusion::arrow::datatypes::IntervalUnit::MonthDayNano),
            )?;
            let out: Float64Array = intervals
                .as_primitive::<IntervalMonthDayNanoType>()
                .iter()
                .map(|v| {
                    v.map(|v| {
                        let (years, months) = (v.months / 12, v.months % 12);
                        let days = years as f64 * 365.25 + months as f64 * 30.0 + v.days as f64;
                        days * 86_400.0 + v.nanoseconds as f64 / 1e9
                    })
                })
                .collect();
            Ok(std::sync::Arc::new(out))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_is_duckdbs() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let hour = 3_600_000_000_000i64;
        for (a, b, (months, days, nanos)) in [
            ("2025-10-01 00:00", "2025-01-15 00:00", (8, 17, 0)),
            ("2025-01-15 00:00", "2025-10-01 00:00", (-8, -17, 0)),
            ("2025-03-31 10:00", "2025-04-30 09:00", (0, -29, -23 * hour)),
            ("2024-02-29 00:00", "2025-02-28 00:00", (-11, -28, 0)),
            ("2025-10-04 00:00", "2015-02-04 08:27", (127, 27, (15 * 60 + 33) * 60_000_000_000)),
            ("2025-05-15 00:00", "2025-02-20 00:00", (2, 23, 0)),
        ] {
            assert_eq!(age_between(t(a), t(b)), IntervalMonthDayNano::new(months, days, nanos), "{a} - {b}");
        }
    }

    #[test]
    fn complete_parts_as_duckdb_counts_them() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        // DuckDB 2.0.1's answers: (month, year, day, hour, week).
        for (a, b, expected) in [
            ("2025-01-31 00:00", "2025-02-28 00:00", [1, 0, 28, 672, 4]),
            ("1992-09-15 00:00", "1992-11-14 00:00", [1, 0, 60, 1440, 8]),
            ("2025-03-31 10:00", "2025-04-30 09:00", [0, 0, 29, 719, 4]),
            ("2025-05-10 00:00", "2025-03-11 00:00", [-1, 0, -60, -1440, -8]),
            ("2024-02-29 00:00", "2025-02-28 00:00", [12, 1, 365, 8760, 52]),
        ] {
            let got: Vec<i64> =
                ["month", "year", "day", "hour", "week"].iter().map(|p| difference(p, t(a), t(b)).unwrap()).collect();
            assert_eq!(got, expected, "{a} → {b}");
        }
    }
}
