//! Text read as an INTERVAL the way DuckDB reads it (`Interval::FromCString`): `1 year 2 months
//! 3 days 04:05:06.789`, `01:02:03`, `1.5 days` (fractions cascade: a month is 30 days), `2 days
//! ago`, `30` (seconds), DuckDB's unit abbreviations (`1y 2mon 3d 4h 5m 6s 7ms 8us`), weeks,
//! quarters, decades, centuries and millennia. Arrow's parser reads units only and refuses the
//! clock form DuckDB itself prints; a cast of text to INTERVAL (`CAST(x AS INTERVAL)`,
//! `x::INTERVAL`, `TRY_CAST`) becomes `interval_text(x)` (or `try_interval_text(x)`).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, IntervalMonthDayNanoArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano, IntervalUnit};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{invalid, row_udf};

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;
const DAYS_PER_MONTH: i32 = 30;

/// `interval_text(text)`: the text as an INTERVAL, an error for text DuckDB does not read.
pub(crate) fn interval_text() -> ScalarUDF {
    row_udf("interval_text", "one text: interval_text(x)", 1..=1, interval_type, |arrays| {
        intervals_of(&arrays[0], false)
    })
}

/// `try_interval_text(text)`: as `interval_text`, NULL for text DuckDB does not read.
pub(crate) fn try_interval_text() -> ScalarUDF {
    row_udf("try_interval_text", "one text: try_interval_text(x)", 1..=1, interval_type, |arrays| {
        intervals_of(&arrays[0], true)
    })
}

fn interval_type(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Interval(IntervalUnit::MonthDayNano))
}

fn intervals_of(texts: &ArrayRef, null_if_unread: bool) -> Result<ArrayRef> {
    let texts = cast(texts, &DataType::Utf8)?;
    let out: IntervalMonthDayNanoArray = texts
        .as_string::<i32>()
        .iter()
        .map(|text| match text.map(duckdb_interval).transpose() {
            Err(_) if null_if_unread => Ok(None),
            Err(reason) => Err(invalid(reason)),
            Ok(value) => Ok(value),
        })
        .collect::<Result<_>>()?;
    Ok(Arc::new(out) as ArrayRef)
}

/// An interval as DuckDB holds it: months, days and microseconds.
#[derive(Debug, Default, PartialEq, Eq)]
struct Parts {
    months: i32,
    days: i32,
    micros: i64,
}

/// `text` as DuckDB reads it into an INTERVAL, or a one-line reason it does not.
pub(crate) fn duckdb_interval(text: &str) -> std::result::Result<IntervalMonthDayNano, String> {
    let unread = || {
        format!(
            "could not convert string '{text}' to INTERVAL (write it as DuckDB prints one: '1 year 2 months 3 days 04:05:06')"
        )
    };
    let parts = parts_of(text.as_bytes()).ok_or_else(unread)?;
    let nanoseconds = parts
        .micros
        .checked_mul(1000)
        .ok_or_else(|| format!("the interval '{text}' has more time than an INTERVAL holds here (±2,562,047 hours)"))?;
    Ok(IntervalMonthDayNano { months: parts.months, days: parts.days, nanoseconds })
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n')
}

/// DuckDB's state machine over the bytes: numbers with a unit, or a clock that ends the text.
fn parts_of(s: &[u8]) -> Option<Parts> {
    let mut parts = Parts::default();
    let mut pos = usize::from(s.first() == Some(&b'@'));
    let mut found_any = false;
    loop {
        while pos < s.len() && is_space(s[pos]) {
            pos += 1;
        }
        let Some(&c) = s.get(pos) else {
            return found_any.then_some(parts);
        };
        let negative = c == b'-';
        if c == b'a' || c == b'A' {
            let rest = &s[pos..];
            let ago =
                rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"ago") && rest[3..].iter().all(|&c| is_space(c));
            if !ago || !found_any {
                return None;
            }
            return Some(Parts {
                months: parts.months.checked_neg()?,
                days: parts.days.checked_neg()?,
                micros: -parts.micros,
            });
        }
        if !negative && !c.is_ascii_digit() {
            return None;
        }
        pos += usize::from(negative);
        let start = pos;
        while pos < s.len() && s[pos].is_ascii_digit() {
            pos += 1;
        }
        if s.get(pos) == Some(&b':') {
            // The clock is the last part DuckDB reads: whatever follows it is ignored.
            let clock = clock_micros(&s[start..])?;
            parts.micros = parts.micros.checked_add(clock)?;
            if negative {
                parts.micros = -parts.micros;
            }
            return Some(parts);
        }
        if pos == start {
            return None;
        }
        let whole: i64 = std::str::from_utf8(&s[start..pos]).ok()?.parse().ok()?;
        let mut fraction = 0.0;
        if s.get(pos) == Some(&b'.') {
            pos += 1;
            let digits = pos;
            while pos < s.len() && s[pos].is_ascii_digit() {
                pos += 1;
            }
            if pos > digits {
                fraction = format!("0.{}", std::str::from_utf8(&s[digits..pos]).ok()?).parse().ok()?;
            }
        }
        let (number, fraction) = if negative { (-whole, -fraction) } else { (whole, fraction) };
        while pos < s.len() && is_space(s[pos]) {
            pos += 1;
        }
        let unit_start = pos;
        while pos < s.len() && s[pos].is_ascii_alphabetic() {
            pos += 1;
        }
        let unit = std::str::from_utf8(&s[unit_start..pos]).ok()?.to_ascii_lowercase();
        if unit.is_empty() && !found_any {
            // A bare number is seconds, and must end the text.
            add(&mut parts.micros, number, MICROS_PER_SECOND, fraction)?;
            return s[pos..].iter().all(|&c| is_space(c)).then_some(parts);
        }
        add_unit(&mut parts, &unit, number, fraction)?;
        found_any = true;
    }
}

/// `target += number * per` and the fraction's share rounded, failing on overflow.
fn add<T>(target: &mut T, number: i64, per: i64, fraction: f64) -> Option<()>
where
    T: TryFrom<i64> + Copy + Into<i64>,
{
    let mut total: i64 = (*target).into().checked_add(number.checked_mul(per)?)?;
    if fraction.abs() > 1e-10 {
        total = total.checked_add((fraction * per as f64).round() as i64)?;
    }
    *target = T::try_from(total).ok()?;
    Some(())
}

/// The units of an interval DuckDB names, in its spellings (`TryGetDatePartSpecifier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Millennium,
    Century,
    Decade,
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
}

/// The unit a (lower-case) spelling names; `None` for parts of dates only, or no unit.
pub(crate) fn part_named(spelling: &str) -> Option<Part> {
    Some(match spelling {
        "millennium" | "mil" | "millenniums" | "millennia" | "mils" | "millenium" => Part::Millennium,
        "century" | "cent" | "centuries" | "c" => Part::Century,
        "decade" | "dec" | "decades" | "decs" => Part::Decade,
        "year" | "yr" | "y" | "years" | "yrs" => Part::Year,
        "quarter" | "quarters" => Part::Quarter,
        "month" | "mon" | "months" | "mons" => Part::Month,
        "week" | "weeks" | "w" | "weekofyear" => Part::Week,
        "day" | "days" | "d" | "dayofmonth" => Part::Day,
        "hour" | "hr" | "hours" | "hrs" | "h" => Part::Hour,
        "minute" | "min" | "minutes" | "mins" | "m" => Part::Minute,
        "second" | "sec" | "seconds" | "secs" | "s" => Part::Second,
        "milliseconds" | "millisecond" | "ms" | "msec" | "msecs" | "msecond" | "mseconds" => Part::Millisecond,
        "microseconds" | "microsecond" | "us" | "usec" | "usecs" | "usecond" | "useconds" => Part::Microsecond,
        _ => return None,
    })
}

/// A unit's share of the interval; a fraction of months, weeks or quarters cascades into days
/// and then into time, as DuckDB's does.
fn add_unit(parts: &mut Parts, unit: &str, number: i64, fraction: f64) -> Option<()> {
    match part_named(unit)? {
        Part::Millennium => add(&mut parts.months, number, 12_000, fraction),
        Part::Century => add(&mut parts.months, number, 1_200, fraction),
        Part::Decade => add(&mut parts.months, number, 120, fraction),
        Part::Year => add(&mut parts.months, number, 12, fraction),
        // DuckDB keeps no fraction of a microsecond.
        Part::Microsecond => add(&mut parts.micros, number, 1, 0.0),
        Part::Millisecond => add(&mut parts.micros, number, 1_000, fraction),
        Part::Second => add(&mut parts.micros, number, MICROS_PER_SECOND, fraction),
        Part::Minute => add(&mut parts.micros, number, 60 * MICROS_PER_SECOND, fraction),
        Part::Hour => add(&mut parts.micros, number, 3_600 * MICROS_PER_SECOND, fraction),
        Part::Day => {
            add(&mut parts.days, number, 1, 0.0)?;
            add(&mut parts.micros, 0, MICROS_PER_DAY, fraction)
        }
        Part::Week => {
            add(&mut parts.days, number, 7, 0.0)?;
            fraction_as_days(parts, fraction * 7.0)
        }
        Part::Month => {
            add(&mut parts.months, number, 1, 0.0)?;
            fraction_as_days(parts, fraction * f64::from(DAYS_PER_MONTH))
        }
        Part::Quarter => {
            add(&mut parts.months, number, 3, 0.0)?;
            let months = (fraction * 3.0) as i32;
            add(&mut parts.months, i64::from(months), 1, 0.0)?;
            add(&mut parts.days, 0, i64::from(DAYS_PER_MONTH), fraction * 3.0 - f64::from(months))
        }
    }
}

/// A fraction of a unit counted in days: its whole days, and the rest as time.
fn fraction_as_days(parts: &mut Parts, days: f64) -> Option<()> {
    let whole = days as i32;
    add(&mut parts.days, i64::from(whole), 1, 0.0)?;
    add(&mut parts.micros, 0, MICROS_PER_DAY, days - f64::from(whole))
}

/// `HHH:MM[:SS[.ffffff]]` from the first digit of the hours (up to nine digits of them); what
/// follows the clock is ignored, as DuckDB ignores it.
fn clock_micros(s: &[u8]) -> Option<i64> {
    let mut pos = 0;
    let mut hours: i64 = 0;
    while pos < s.len() && s[pos].is_ascii_digit() {
        if pos == 9 {
            return None;
        }
        hours = hours * 10 + i64::from(s[pos] - b'0');
        pos += 1;
    }
    if pos == 0 || s.get(pos) != Some(&b':') {
        return None;
    }
    pos += 1;
    let minutes = if pos == s.len() { 0 } else { two_digits(s, &mut pos)? };
    let seconds = match s.get(pos) {
        None => 0,
        Some(b':') if pos + 1 == s.len() => 0,
        Some(b':') => {
            pos += 1;
            two_digits(s, &mut pos)?
        }
        Some(_) => return None,
    };
    if minutes >= 60 || seconds >= 60 {
        return None;
    }
    let mut micros = 0;
    if s.get(pos) == Some(&b'.') {
        pos += 1;
        let mut scale = 100_000;
        while pos < s.len() && s[pos].is_ascii_digit() {
            micros += i64::from(s[pos] - b'0') * scale;
            scale /= 10;
            pos += 1;
        }
    }
    Some(((hours * 60 + minutes) * 60 + seconds) * MICROS_PER_SECOND + micros)
}

/// One or two digits at `pos`, as DuckDB's `ParseDoubleDigit`.
fn two_digits(s: &[u8], pos: &mut usize) -> Option<i64> {
    let first = *s.get(*pos).filter(|c| c.is_ascii_digit())?;
    *pos += 1;
    let mut value = i64::from(first - b'0');
    if let Some(&second) = s.get(*pos).filter(|c| c.is_ascii_digit()) {
        value = value * 10 + i64::from(second - b'0');
        *pos += 1;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Option<(i32, i32, i64)> {
        duckdb_interval(text).ok().map(|v| (v.months, v.days, v.nanoseconds / 1000))
    }

    const HOUR: i64 = 3_600_000_000;

    #[test]
    fn texts_read_as_duckdb_reads_them() {
        // Each checked against DuckDB 2.0.1's CAST(text AS INTERVAL).
        assert_eq!(read("01:02:03"), Some((0, 0, HOUR + 123_000_000)));
        assert_eq!(read("1 year 2 months 3 days 04:05:06.789"), Some((14, 3, 4 * HOUR + 306_789_000)));
        assert_eq!(read("-01:02:03"), Some((0, 0, -(HOUR + 123_000_000))));
        assert_eq!(read("1:2"), Some((0, 0, HOUR + 120_000_000)));
        assert_eq!(read("1.5 days"), Some((0, 1, 12 * HOUR)));
        assert_eq!(read("1.5 years"), Some((18, 0, 0)));
        assert_eq!(read("2 days ago"), Some((0, -2, 0)));
        assert_eq!(read("@ 1 day"), Some((0, 1, 0)));
        assert_eq!(read("1 day -01:00:00"), Some((0, 1, -HOUR)));
        assert_eq!(read("1y 2mon 3d 4h 5m 6s 7ms 8us"), Some((14, 3, 4 * HOUR + 306_007_008)));
        assert_eq!(read("1 week"), Some((0, 7, 0)));
        assert_eq!(read("1 quarter"), Some((3, 0, 0)));
        assert_eq!(read("1 millennium"), Some((12_000, 0, 0)));
        assert_eq!(read("30"), Some((0, 0, 30_000_000)));
        assert_eq!(read("  5 minutes  "), Some((0, 0, 300_000_000)));
        assert_eq!(read("100:00:00"), Some((0, 0, 100 * HOUR)));
        assert_eq!(read("1 day 12:30"), Some((0, 1, 12 * HOUR + 1_800_000_000)));
        assert_eq!(read("1.25 months"), Some((1, 7, 12 * HOUR)));
        assert_eq!(read("1.5 weeks"), Some((0, 10, 12 * HOUR)));
        assert_eq!(read("0.5 seconds"), Some((0, 0, 500_000)));
        assert_eq!(read("3 MINUTES"), Some((0, 0, 180_000_000)));
        assert_eq!(read("-1 year -2 mons"), Some((-14, 0, 0)));
        // What the SQL rewrite writes for DataFusion reads back as the same interval.
        assert_eq!(read("-14 months 3 days -5 microseconds"), Some((-14, 3, -5)));
    }

    #[test]
    fn texts_duckdb_refuses_are_refused() {
        for text in [
            "1 day 2",
            "P1Y2M3DT4H5M6S",
            "1 day, 2 hours",
            "1 year ago 2 days",
            "+3 days",
            "abc",
            "",
            "- 1 day",
            "1e2 days",
            "ago",
        ] {
            assert_eq!(read(text), None, "{text}");
        }
        assert!(duckdb_interval("abc").unwrap_err().contains("'abc'"));
    }
}
