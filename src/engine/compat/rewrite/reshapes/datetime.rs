//! Date and time calls in DuckDB's shapes: `strftime` with its arguments either way round,
//! `to_timestamp(seconds)`, the part functions (`year(t)`, `epoch(t)`, `dayname(t)`, ...),
//! `to_days(n)` and the other interval makers, `date_add`, `last_day`, `date_part` of a list of
//! parts, a NULL part or a part read from a column, and `date_trunc`'s other names for its units.

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CastKind, DataType as SqlType, ExactNumberInfo, Expr, Function, TimezoneInfo, Value, ValueWithSpan,
};

use crate::engine::compat::ast::{arity, as_instant, call, cast, interval, plain_args, text};
use crate::error::Result;

/// DuckDB takes the format first or second; `%f` is microseconds (chrono's `%6f`).
pub(super) fn strftime(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let [first, second] = args.as_slice() else { return Ok(None) };
    let (mut format, value) = match first {
        Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(s), .. }) if s.contains('%') => {
            (first.clone(), second.clone())
        }
        _ => (second.clone(), first.clone()),
    };
    if let Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(s), .. }) = &mut format {
        *s = s.replace("%f", "%6f");
    }
    Ok(Some(call("to_char", vec![value, format])))
}

/// DuckDB's `to_timestamp(seconds)` is an instant, rounded to the nearest microsecond.
pub(super) fn to_timestamp(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let [seconds] = args.as_slice() else { return Ok(None) };
    let micros = Expr::BinaryOp {
        left: Box::new(cast(seconds.clone(), SqlType::Double(ExactNumberInfo::None))),
        op: BinaryOperator::Multiply,
        right: Box::new(Expr::value(Value::Number("1000000".into(), false))),
    };
    let whole = cast(call("round", vec![micros]), SqlType::BigInt(None));
    Ok(Some(as_instant(call("to_timestamp_micros", vec![whole]))))
}

/// The interval makers: `to_days(n)` is `n` days.
pub(super) const TO_UNITS: &[&str] = &[
    "to_years",
    "to_months",
    "to_days",
    "to_hours",
    "to_minutes",
    "to_seconds",
    "to_weeks",
    "to_milliseconds",
    "to_microseconds",
    "to_quarters",
    "to_decades",
    "to_centuries",
    "to_millennia",
];

pub(super) fn to_units(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    arity(name, &args, 1, &format!("{name}(number)"))?;
    // DataFusion multiplies no interval by a number: the interval is written as text.
    let (factor, unit) = match &name[3..] {
        "quarters" => (3, "months"),
        "decades" => (10, "years"),
        "centuries" => (100, "years"),
        "millennia" => (1000, "years"),
        "weeks" => (7, "days"),
        unit => (1, unit),
    };
    let count = Expr::BinaryOp {
        left: Box::new(args[0].clone()),
        op: BinaryOperator::Multiply,
        right: Box::new(Expr::value(Value::Number(factor.to_string(), false))),
    };
    Ok(Some(crate::engine::compat::ast::units_interval(count, unit)))
}

/// The part functions: `year(t)` is `date_part('year', t)`.
pub(super) const PARTS: &[&str] = &[
    "epoch",
    "hour",
    "minute",
    "second",
    "year",
    "month",
    "day",
    "quarter",
    "week",
    "dayofyear",
    "doy",
    "dayofweek",
    "dow",
    "isodow",
];

pub(super) fn part(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    arity(name, &args, 1, &format!("{name}(timestamp)"))?;
    let part = match name {
        "dayofyear" => "doy",
        "dayofweek" => "dow",
        other => other,
    };
    Ok(Some(call("date_part", vec![text(part), args[0].clone()])))
}

/// `dayname(t)` and `monthname(t)`: the names in English.
pub(super) fn names(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    arity(name, &args, 1, &format!("{name}(timestamp)"))?;
    Ok(Some(call("to_char", vec![args[0].clone(), text(if name == "dayname" { "%A" } else { "%B" })])))
}

pub(super) fn date_add(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    arity(name, &args, 2, "date_add(date, INTERVAL ...)")?;
    Ok(Some(Expr::Nested(Box::new(Expr::BinaryOp {
        left: Box::new(args[0].clone()),
        op: BinaryOperator::Plus,
        right: Box::new(args[1].clone()),
    }))))
}

/// The last day of the date's month.
pub(super) fn last_day(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    arity(name, &args, 1, "last_day(date)")?;
    let month = call("date_trunc", vec![text("month"), args[0].clone()]);
    let end = Expr::BinaryOp {
        left: Box::new(Expr::BinaryOp {
            left: Box::new(month),
            op: BinaryOperator::Plus,
            right: Box::new(interval("1 month")),
        }),
        op: BinaryOperator::Minus,
        right: Box::new(interval("1 day")),
    };
    Ok(Some(cast(end, SqlType::Date)))
}

/// `date_part(['year', 'month'], t)`: a STRUCT of each part.
pub(super) fn parts_struct(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let [Expr::Array(parts), value] = args.as_slice() else { return Ok(None) };
    let mut fields = Vec::with_capacity(parts.elem.len() * 2);
    for part in &parts.elem {
        fields.push(part.clone());
        fields.push(call("date_part", vec![part.clone(), value.clone()]));
    }
    // A NULL value has a NULL struct of parts, not a struct of NULLs.
    let parts = call("named_struct", fields);
    let is_null = Expr::IsNull(Box::new(value.clone()));
    Ok(Some(crate::engine::compat::ast::case_when(is_null, Expr::value(Value::Null), Some(parts))))
}

/// `date_part(part_column, t)`: the part named row by row (any of DuckDB's spellings), a DOUBLE as
/// DuckDB gives it for a part that is not a constant; NULL for a NULL part, an error for a part
/// it does not name.
pub(super) fn column_part(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let [part, value] = args.as_slice() else { return Ok(None) };
    if matches!(part, Expr::Value(_) | Expr::Array(_)) {
        return Ok(None);
    }
    let part = call("lower", vec![cast(part.clone(), SqlType::Varchar(None))]);
    let spellings = TRUNCATION_SPELLINGS.iter().filter(|(unit, _)| *unit != "isoyear").chain(OTHER_PART_SPELLINGS);
    let conditions: Vec<(Expr, Expr)> = spellings
        .map(|(unit, spellings)| {
            let spelled = Expr::InList {
                expr: Box::new(part.clone()),
                list: spellings.iter().map(|s| text(s)).collect(),
                negated: false,
            };
            let value = match *unit {
                "decade" | "century" | "millennium" => call(unit, vec![value.clone()]),
                unit => call("date_part", vec![text(unit), value.clone()]),
            };
            (spelled, cast(value, SqlType::Double(ExactNumberInfo::None)))
        })
        .collect();
    let null = cast(Expr::value(Value::Null), SqlType::Double(ExactNumberInfo::None));
    let unknown = cast(
        call(
            "error",
            vec![text(
                "date_part: a part read from the column is none of DuckDB's (year, month, day, hour, minute, second, epoch, ...): fix the part's text",
            )],
        ),
        SqlType::Double(ExactNumberInfo::None),
    );
    let chosen = conditions
        .into_iter()
        .rev()
        .fold(unknown, |otherwise, (when, then)| crate::engine::compat::ast::case_when(when, then, Some(otherwise)));
    Ok(Some(crate::engine::compat::ast::case_when(Expr::IsNull(Box::new(part)), null, Some(chosen))))
}

/// `date_part('timezone' | 'timezone_hour' | 'timezone_minute', t)`: the session is UTC, so 0
/// (NULL for a NULL value), as DuckDB answers in UTC; DataFusion has no such parts.
pub(super) fn zone_part(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let [Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(part), .. }), value] = args.as_slice() else {
        return Ok(None);
    };
    if !["timezone", "timezone_hour", "timezone_minute"].contains(&part.to_ascii_lowercase().as_str()) {
        return Ok(None);
    }
    let zero = cast(Expr::value(Value::Number("0".into(), false)), SqlType::BigInt(None));
    let null = cast(Expr::value(Value::Null), SqlType::BigInt(None));
    Ok(Some(crate::engine::compat::ast::case_when(Expr::IsNull(Box::new(value.clone())), null, Some(zero))))
}

/// The parts `date_part` takes besides the units `date_trunc` truncates to.
const OTHER_PART_SPELLINGS: &[(&str, &[&str])] = &[
    ("dow", &["dow", "dayofweek", "weekday"]),
    ("isodow", &["isodow"]),
    ("doy", &["doy", "dayofyear"]),
    ("epoch", &["epoch"]),
];

/// `date_trunc('microseconds' | 'us' | 'isoyear' | 'decade', t)`: DuckDB's other names for the
/// parts, and its parts DataFusion lacks; a part that is not a constant (a column) chooses among
/// them row by row.
pub(super) fn truncation_units(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    match args.as_slice() {
        [Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(part), .. }), value] => {
            Ok(truncation_unit(part).map(|unit| truncated(unit, value)))
        }
        [Expr::Value(_), _] => Ok(None),
        [part, value] => {
            let part = call("lower", vec![cast(part.clone(), SqlType::Varchar(None))]);
            let conditions = TRUNCATION_SPELLINGS.iter().chain(TRUNCATION_ONLY).map(|(unit, spellings)| {
                let spelled = Expr::InList {
                    expr: Box::new(part.clone()),
                    list: spellings.iter().map(|s| text(s)).collect(),
                    negated: false,
                };
                (spelled, truncated(unit, value))
            });
            Ok(Some(conditions.rev().fold(Expr::value(Value::Null), |otherwise, (when, then)| {
                crate::engine::compat::ast::case_when(when, then, Some(otherwise))
            })))
        }
        _ => Ok(None),
    }
}

/// DuckDB's spellings of each part `date_trunc` takes, by the unit it truncates to.
const TRUNCATION_SPELLINGS: &[(&str, &[&str])] = &[
    ("microsecond", &["microsecond", "microseconds", "us", "usec", "usecs", "usecond", "useconds"]),
    ("millisecond", &["millisecond", "milliseconds", "ms", "msec", "msecs", "msecond", "mseconds"]),
    ("second", &["second", "seconds", "sec", "secs", "s"]),
    ("minute", &["minute", "minutes", "min", "mins", "m"]),
    ("hour", &["hour", "hours", "hr", "hrs", "h"]),
    ("day", &["day", "days", "d", "dayofmonth"]),
    ("week", &["week", "weeks", "w", "weekofyear", "yearweek"]),
    ("month", &["month", "months", "mon", "mons"]),
    ("quarter", &["quarter", "quarters"]),
    ("year", &["year", "years", "y", "yr", "yrs"]),
    ("isoyear", &["isoyear"]),
    ("decade", &["decade", "decades", "dec"]),
    ("century", &["century", "centuries", "cent", "c"]),
    ("millennium", &["millennium", "millennia", "millenium", "mil", "mils"]),
];

/// Parts of `date_part` that `date_trunc` takes as the unit they count: the epoch as seconds,
/// the day of the week or year as the day.
const TRUNCATION_ONLY: &[(&str, &[&str])] =
    &[("second", &["epoch"]), ("day", &["dow", "isodow", "doy", "dayofweek", "dayofyear", "weekday"])];

/// `t` truncated to `unit` (a name of `TRUNCATION_SPELLINGS`).
fn truncated(unit: &str, value: &Expr) -> Expr {
    let as_interval = |e: Expr| cast(e, SqlType::Interval { fields: None, precision: None });
    let years = match unit {
        "decade" => 10,
        "century" => 100,
        "millennium" => 1000,
        "isoyear" => {
            // The Monday of the ISO year's first week.
            let week = call("date_trunc", vec![text("week"), value.clone()]);
            let weeks_in = call("date_part", vec![text("week"), value.clone()]);
            let back =
                as_interval(crate::engine::compat::ast::concat(cast(weeks_in, SqlType::Varchar(None)), text(" weeks")));
            return Expr::BinaryOp {
                left: Box::new(Expr::BinaryOp {
                    left: Box::new(week),
                    op: BinaryOperator::Minus,
                    right: Box::new(back),
                }),
                op: BinaryOperator::Plus,
                right: Box::new(as_interval(text("1 week"))),
            };
        }
        unit => return call("date_trunc", vec![text(unit), value.clone()]),
    };
    // The year less its years into the decade, century or millennium.
    let year = cast(call("date_part", vec![text("year"), value.clone()]), SqlType::BigInt(None));
    let into = Expr::BinaryOp {
        left: Box::new(year),
        op: BinaryOperator::Modulo,
        right: Box::new(Expr::value(Value::Number(years.to_string(), false))),
    };
    let back = as_interval(crate::engine::compat::ast::concat(cast(into, SqlType::Varchar(None)), text(" years")));
    Expr::BinaryOp {
        left: Box::new(call("date_trunc", vec![text("year"), value.clone()])),
        op: BinaryOperator::Minus,
        right: Box::new(back),
    }
}

/// DataFusion's name for a DuckDB `date_trunc` part written otherwise (plural or abbreviated),
/// or a part DataFusion lacks; `None` for the names DataFusion takes as they are.
fn truncation_unit(part: &str) -> Option<&'static str> {
    let part = part.to_lowercase();
    let (unit, _) =
        TRUNCATION_SPELLINGS.iter().chain(TRUNCATION_ONLY).find(|(_, spellings)| spellings.contains(&part.as_str()))?;
    let datafusion_takes =
        ["microsecond", "millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year"];
    (part != *unit || !datafusion_takes.contains(unit)).then_some(unit)
}

/// A NULL part: NULL (DataFusion asks for a constant part).
pub(super) fn null_part(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let [null @ Expr::Value(ValueWithSpan { value: Value::Null, .. }), _] = args.as_slice() else {
        return Ok(None);
    };
    let data_type = if name.contains("part") {
        SqlType::Double(ExactNumberInfo::None)
    } else {
        SqlType::Timestamp(None, TimezoneInfo::None)
    };
    Ok(Some(Expr::Cast { kind: CastKind::Cast, expr: Box::new(null.clone()), data_type, array: false, format: None }))
}
