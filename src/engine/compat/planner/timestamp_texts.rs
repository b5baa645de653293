//! Timestamp text without seconds (`'2025-10-01 10:00'`), which DuckDB reads as a timestamp and
//! Arrow's parser refuses: completed with `:00` where the text becomes a timestamp — in a cast,
//! and compared with (or BETWEEN bounds of) a timestamp or date (one-digit months, days and hours
//! padded, which Arrow's parser also refuses). A year of fewer than four digits is padded too
//! (`'209-03-22'`), and a date text Arrow cannot read at all — a year past 9999, before year 0
//! (`'-5877641-06-25'`) or BC (`'290309-12-22 (BC)'`) — becomes the DATE it names, as DuckDB's
//! dates span Arrow's whole range of days.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::expr::{Between, BinaryExpr, Cast, ScalarFunction, TryCast};
use datafusion::logical_expr::{Expr, ExprSchemable, Operator};
use regex::Regex;

static UNPADDED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(\d{1,4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(:\d{2}(?:\.\d+)?)?)?\s*$")
        .unwrap_or_else(|e| unreachable!("a valid regex: {e}"))
});

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(-?\d+)-(\d{1,2})-(\d{1,2})(\s*\(BC\))?\s*$")
        .unwrap_or_else(|e| unreachable!("a valid regex: {e}"))
});

/// `expr` with its timestamp texts completed, if it has any.
pub(crate) fn completed(expr: &Expr, schema: &DFSchema) -> Option<Expr> {
    let is_time = |e: &Expr| e.get_type(schema).is_ok_and(|t| matches!(t, DataType::Timestamp(..) | DataType::Date32));
    match expr {
        Expr::Cast(Cast { expr: inner, field }) | Expr::TryCast(TryCast { expr: inner, field })
            if field.data_type() == &DataType::Date32 =>
        {
            far_date(inner)
        }
        Expr::Cast(Cast { expr: inner, field }) if matches!(field.data_type(), DataType::Timestamp(..)) => {
            far_timestamp(inner, field.data_type())
                .or_else(|| Some(Expr::Cast(Cast::new_from_field(Box::new(text_completed(inner)?), field.clone()))))
        }
        Expr::TryCast(TryCast { expr: inner, field }) if matches!(field.data_type(), DataType::Timestamp(..)) => {
            far_timestamp(inner, field.data_type()).or_else(|| {
                Some(Expr::TryCast(TryCast::new_from_field(Box::new(text_completed(inner)?), field.clone())))
            })
        }
        // `::TIMESTAMPTZ` is an arrow_cast to a UTC timestamp here.
        Expr::ScalarFunction(f) if matches!(f.name(), "arrow_cast" | "arrow_try_cast") => match f.args.as_slice() {
            [value, target @ Expr::Literal(ScalarValue::Utf8(Some(t)), _)] if t.starts_with("Timestamp") => {
                let args = vec![text_completed(value)?, target.clone()];
                Some(Expr::ScalarFunction(ScalarFunction::new_udf(f.func.clone(), args)))
            }
            _ => None,
        },
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if matches!(
                op,
                Operator::Eq | Operator::NotEq | Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq
            ) =>
        {
            let (l, r) = if is_time(left) {
                (None, text_completed(right))
            } else if is_time(right) {
                (text_completed(left), None)
            } else {
                return None;
            };
            if l.is_none() && r.is_none() {
                return None;
            }
            let left = Box::new(l.unwrap_or_else(|| (**left).clone()));
            let right = Box::new(r.unwrap_or_else(|| (**right).clone()));
            Some(Expr::BinaryExpr(BinaryExpr { left, op: *op, right }))
        }
        Expr::Between(Between { expr: value, negated, low, high }) if is_time(value) => {
            let (l, h) = (text_completed(low), text_completed(high));
            if l.is_none() && h.is_none() {
                return None;
            }
            Some(Expr::Between(Between {
                expr: value.clone(),
                negated: *negated,
                low: Box::new(l.unwrap_or_else(|| (**low).clone())),
                high: Box::new(h.unwrap_or_else(|| (**high).clone())),
            }))
        }
        _ => None,
    }
}

/// A text literal of a timestamp without seconds or with one-digit parts, as Arrow reads it.
fn text_completed(expr: &Expr) -> Option<Expr> {
    match expr {
        Expr::Literal(ScalarValue::Utf8(Some(text)), metadata) => {
            Some(Expr::Literal(ScalarValue::Utf8(Some(completed_text(text)?)), metadata.clone()))
        }
        _ => None,
    }
}

/// A timestamp text without seconds or with one-digit parts as Arrow reads it; `None` for text
/// that needs nothing (or is no timestamp). Also for `TIMESTAMP '...'` literals, which table
/// functions (`generate_series`) read before any rewrite of the plan.
pub(crate) fn completed_text(text: &str) -> Option<String> {
    let parts = UNPADDED.captures(text)?;
    let pad = |i: usize| format!("{:0>2}", &parts[i]);
    let date = format!("{:0>4}-{}-{}", &parts[1], pad(2), pad(3));
    let full = match parts.get(5) {
        Some(minutes) => {
            let seconds = parts.get(6).map_or(":00", |s| s.as_str());
            format!("{date} {}:{}{seconds}", pad(4), minutes.as_str())
        }
        None => date,
    };
    (full != text).then_some(full)
}

/// A date text Arrow's parser cannot read, as the DATE it names (days since 1970-01-01).
fn far_date(expr: &Expr) -> Option<Expr> {
    let Expr::Literal(ScalarValue::Utf8(Some(text)), _) = expr else { return None };
    let parts = DATE.captures(text)?;
    let bc = parts.get(4).is_some();
    if parts[1].len() == 4 && !bc {
        return None;
    }
    let year: i64 = parts[1].parse().ok()?;
    // Year 1 BC is year 0.
    let year = if bc { 1 - year } else { year };
    let (month, day): (i64, i64) = (parts[2].parse().ok()?, parts[3].parse().ok()?);
    let days = days_from_civil(year, month, day)?;
    Some(Expr::Literal(ScalarValue::Date32(Some(i32::try_from(days).ok()?)), None))
}

/// A timestamp text of a year Arrow's parser cannot hold (it reads through nanoseconds, which
/// span 1677 to 2262) as the TIMESTAMP it names: DuckDB's timestamps reach from 290309 BC to
/// 294247.
fn far_timestamp(expr: &Expr, target: &DataType) -> Option<Expr> {
    let Expr::Literal(ScalarValue::Utf8(Some(text)), _) = expr else { return None };
    let DataType::Timestamp(unit, zone) = target else { return None };
    let parts = FAR_TIMESTAMP.captures(text)?;
    let bc = parts.get(9).is_some() || parts.name("early_bc").is_some();
    let year: i64 = parts[1].parse().ok()?;
    let year = if bc { 1 - year } else { year };
    if (1678..=2261).contains(&year) {
        return None;
    }
    let number = |i: usize| parts.get(i).map_or(Some(0), |m| m.as_str().parse::<i64>().ok());
    let (month, day) = (number(2)?, number(3)?);
    let (hour, minute, second) = (number(5)?, number(6)?, number(7)?);
    if hour > 24 || minute > 59 || second > 59 || (hour == 24 && (minute, second) != (0, 0)) {
        return None;
    }
    let fraction = parts.get(8).map_or(0, |m| {
        let digits: String = m.as_str()[1..].chars().chain(std::iter::repeat('0')).take(6).collect();
        digits.parse::<i64>().unwrap_or(0)
    });
    let seconds = days_from_civil(year, month, day)? * 86_400 + hour * 3_600 + minute * 60 + second;
    let micros = seconds.checked_mul(1_000_000)?.checked_add(fraction)?;
    // DuckDB's last timestamp is 294247-01-10 04:00:54.775806.
    if !(-9_223_372_036_854_775_806..=9_223_372_036_854_775_806).contains(&micros) {
        return None;
    }
    let value = match unit {
        TimeUnit::Second => ScalarValue::TimestampSecond(Some(micros.div_euclid(1_000_000)), zone.clone()),
        TimeUnit::Millisecond => ScalarValue::TimestampMillisecond(Some(micros.div_euclid(1_000)), zone.clone()),
        // `TIMESTAMP '...'` is planned in nanoseconds, which cannot hold it: microseconds, as
        // DuckDB's TIMESTAMP (and the tables' timestamps) are.
        TimeUnit::Microsecond | TimeUnit::Nanosecond => ScalarValue::TimestampMicrosecond(Some(micros), zone.clone()),
    };
    Some(Expr::Literal(value, None))
}

static FAR_TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    // `(BC)` after the time, or after the date as DuckDB prints it (`1001-03-15 (BC) 20:38:40`).
    Regex::new(
        r"^\s*(\d{1,6})-(\d{1,2})-(\d{1,2})(?:\s*(?<early_bc>\(BC\)))?(?:[ T]\s*(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(\(BC\))?\s*$",
    )
        .unwrap_or_else(|e| unreachable!("a valid regex: {e}"))
});

/// Days since 1970-01-01 of a day of the proleptic Gregorian calendar (Howard Hinnant's
/// algorithm); `None` for a day the month does not have.
fn days_from_civil(year: i64, month: i64, day: i64) -> Option<i64> {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let length = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day < 1 || day > length[(month - 1) as usize] {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_texts_without_seconds_are_completed() {
        let text = |s: &str| Expr::Literal(ScalarValue::Utf8(Some(s.into())), None);
        assert_eq!(text_completed(&text("2025-10-01 10:00")), Some(text("2025-10-01 10:00:00")));
        assert_eq!(text_completed(&text("2025-10-1T9:30")), Some(text("2025-10-01 09:30:00")));
        assert_eq!(text_completed(&text("2025-10-01 9:30:15.5")), Some(text("2025-10-01 09:30:15.5")));
        assert_eq!(text_completed(&text("209-03-22")), Some(text("0209-03-22")));
        for untouched in ["2025-10-01 10:00:00", "2025-10-01", "10:00", "note 2025-10-01 10:00"] {
            assert_eq!(text_completed(&text(untouched)), None, "{untouched}");
        }
    }

    #[test]
    fn far_timestamps_are_the_instants_they_name() {
        use datafusion::arrow::datatypes::TimeUnit;
        let micro = DataType::Timestamp(TimeUnit::Microsecond, None);
        let at = |s: &str| far_timestamp(&Expr::Literal(ScalarValue::Utf8(Some(s.into())), None), &micro);
        let micros = |m: i64| Some(Expr::Literal(ScalarValue::TimestampMicrosecond(Some(m), None), None));
        assert_eq!(at("0001-01-01"), micros(-62_135_596_800_000_000));
        assert_eq!(at("0001-01-01 10:00:00.5"), micros(-62_135_596_800_000_000 + 36_000_500_000));
        assert_eq!(at("9999-12-31 23:59:59"), micros(253_402_300_799_000_000));
        assert_eq!(at("2025-10-01 10:00:00"), None, "Arrow reads it");
        assert_eq!(at("0001-02-30"), None);
        assert_eq!(at("1001-03-15 (BC) 20:38:40"), at("1001-03-15 20:38:40 (BC)"));
        assert!(at("1001-03-15 (BC) 20:38:40").is_some());
    }

    #[test]
    fn far_dates_are_the_days_they_name() {
        let date = |s: &str| far_date(&Expr::Literal(ScalarValue::Utf8(Some(s.into())), None));
        let days = |d: i32| Some(Expr::Literal(ScalarValue::Date32(Some(d)), None));
        // DuckDB's (and Arrow's) first and last dates.
        assert_eq!(date("-5877641-06-25"), days(-2_147_483_646));
        assert_eq!(date("5881580-07-10"), days(2_147_483_646));
        assert_eq!(date("0001-01-01 (BC)"), days(-719_528));
        assert_eq!(date("2025-10-01"), None);
        assert_eq!(date("5881580-02-30"), None);
    }
}
