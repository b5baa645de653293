//! DuckDB's `strptime` format reader: a text and a format to microseconds since the epoch, by
//! DuckDB's rules (see the `strptime` module).

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

#[derive(Default)]
struct Parts {
    year: Option<i32>,
    iso_year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    day_of_year: Option<u32>,
    sunday_week: Option<u32>,
    monday_week: Option<u32>,
    iso_week: Option<u32>,
    /// 0 = Sunday … 6 = Saturday.
    weekday: Option<u32>,
    hour: u32,
    twelve_hour: bool,
    afternoon: Option<bool>,
    minute: u32,
    second: u32,
    micros: u32,
    offset_minutes: Option<i32>,
}

struct Input<'a> {
    rest: &'a str,
}

impl<'a> Input<'a> {
    fn number(&mut self, min_digits: usize, max_digits: usize) -> Result<i64, String> {
        self.rest = self.rest.trim_start();
        let (negative, body) = match self.rest.strip_prefix('-') {
            Some(b) if max_digits == 4 => (true, b),
            _ => (false, self.rest),
        };
        let digits = body.bytes().take(max_digits).take_while(u8::is_ascii_digit).count();
        if digits < min_digits.max(1) {
            return Err("expected a number".into());
        }
        let value: i64 = body[..digits].parse().map_err(|_| "expected a number".to_string())?;
        self.rest = &body[digits..];
        Ok(if negative { -value } else { value })
    }

    /// A fraction of a second with up to `max_digits` digits, in units of 10^-max_digits.
    fn fraction(&mut self, max_digits: usize) -> Result<u32, String> {
        let digits = self.rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > max_digits {
            return Err(format!("expected up to {max_digits} digits"));
        }
        let value: u32 = self.rest[..digits].parse().map_err(|_| "expected digits".to_string())?;
        self.rest = &self.rest[digits..];
        Ok(value * 10u32.pow((max_digits - digits) as u32))
    }

    /// The index of the name (full names first) that the input starts with, in any case.
    fn name(&mut self, full: &[&str], short: bool) -> Result<u32, String> {
        let lower = self.rest.to_lowercase();
        let candidates = full.iter().map(|n| n.to_string()).chain(full.iter().map(|n| n[..3].to_string()));
        for (i, name) in candidates.enumerate() {
            if (short && i < full.len()) || !lower.starts_with(&name) {
                continue;
            }
            if !self.rest.is_char_boundary(name.len()) {
                continue;
            }
            self.rest = &self.rest[name.len()..];
            return Ok((i % full.len()) as u32);
        }
        Err("expected a name".into())
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DAYS: [&str; 7] = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

fn in_range(value: i64, range: std::ops::RangeInclusive<i64>, what: &str) -> Result<u32, String> {
    if range.contains(&value) { Ok(value as u32) } else { Err(format!("{what} out of range")) }
}

fn read_spec(spec: char, input: &mut Input, parts: &mut Parts) -> Result<(), String> {
    match spec {
        'Y' => parts.year = Some(input.number(1, 4)? as i32),
        'G' => parts.iso_year = Some(input.number(1, 4)? as i32),
        'y' => {
            let y = input.number(1, 2)?;
            parts.year = Some(if y < 69 { 2000 + y as i32 } else { 1900 + y as i32 });
        }
        'm' => parts.month = Some(in_range(input.number(1, 2)?, 1..=12, "month")?),
        'd' | 'e' => parts.day = Some(in_range(input.number(1, 2)?, 1..=31, "day")?),
        'j' => parts.day_of_year = Some(in_range(input.number(1, 3)?, 1..=366, "day of the year")?),
        'H' => parts.hour = in_range(input.number(1, 2)?, 0..=23, "hour")?,
        'I' => {
            parts.hour = in_range(input.number(1, 2)?, 1..=12, "hour")?;
            parts.twelve_hour = true;
        }
        'M' => parts.minute = in_range(input.number(1, 2)?, 0..=59, "minute")?,
        'S' => parts.second = in_range(input.number(1, 2)?, 0..=59, "second")?,
        'f' => parts.micros = input.fraction(6)?,
        'g' => parts.micros = input.fraction(3)? * 1000,
        'n' => parts.micros = input.fraction(9)? / 1000,
        'p' => {
            let upper = input.rest.get(..2).map(str::to_uppercase);
            parts.afternoon = Some(match upper.as_deref() {
                Some("AM") => false,
                Some("PM") => true,
                _ => return Err("expected AM or PM".into()),
            });
            input.rest = &input.rest[2..];
        }
        'a' => parts.weekday = Some(input.name(&DAYS, true)?),
        'A' => parts.weekday = Some(input.name(&DAYS, false)?),
        'b' | 'h' => parts.month = Some(input.name(&MONTHS, true)? + 1),
        'B' => parts.month = Some(input.name(&MONTHS, false)? + 1),
        'w' => parts.weekday = Some(in_range(input.number(1, 1)?, 0..=6, "weekday")?),
        'u' => parts.weekday = Some(in_range(input.number(1, 1)?, 1..=7, "weekday")? % 7),
        'U' => parts.sunday_week = Some(in_range(input.number(1, 2)?, 0..=53, "week")?),
        'W' => parts.monday_week = Some(in_range(input.number(1, 2)?, 0..=53, "week")?),
        'V' => parts.iso_week = Some(in_range(input.number(1, 2)?, 1..=53, "week")?),
        'z' => parts.offset_minutes = Some(offset(input)?),
        'Z' => {
            let length = input
                .rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '/')))
                .unwrap_or(input.rest.len());
            input.rest = &input.rest[length..];
        }
        '%' => input.rest = input.rest.strip_prefix('%').ok_or("expected '%'")?,
        other => return Err(format!("unknown specifier %{other}")),
    }
    Ok(())
}

/// `+HH`, `+HHMM` or `+HH:MM` (or `Z`), in minutes east of UTC.
fn offset(input: &mut Input) -> Result<i32, String> {
    if let Some(rest) = input.rest.strip_prefix('Z') {
        input.rest = rest;
        return Ok(0);
    }
    let sign = match input.rest.chars().next() {
        Some('+') => 1,
        Some('-') => -1,
        _ => return Err("expected a UTC offset".into()),
    };
    let body = &input.rest[1..];
    let two = |s: &str| -> Option<i32> {
        (s.len() >= 2 && s.as_bytes()[..2].iter().all(u8::is_ascii_digit)).then(|| s[..2].parse().ok()).flatten()
    };
    let hours = two(body).ok_or("expected a UTC offset")?;
    let mut rest = &body[2..];
    let mut minutes = 0;
    let after = rest.strip_prefix(':').unwrap_or(rest);
    if let Some(m) = two(after) {
        minutes = m;
        rest = &after[2..];
    } else if rest.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("expected a UTC offset".into());
    }
    input.rest = rest;
    Ok(sign * (hours * 60 + minutes))
}

/// The date the parts name, by DuckDB's precedence: month and day, then weeks, then day of year.
fn date_of(parts: &Parts) -> Result<NaiveDate, String> {
    let year = parts.year.or(parts.iso_year).unwrap_or(1900);
    let weeks = [parts.sunday_week.is_some(), parts.monday_week.is_some(), parts.iso_week.is_some()];
    if weeks.iter().filter(|w| **w).count() > 1
        || (weeks.iter().any(|w| *w) && parts.day_of_year.is_some())
        || ((weeks[0] || weeks[1]) && parts.iso_year.is_some())
    {
        return Err("conflicting week specifiers".into());
    }
    let invalid = || "invalid date".to_string();
    if parts.month.is_some() || parts.day.is_some() {
        return NaiveDate::from_ymd_opt(year, parts.month.unwrap_or(1), parts.day.unwrap_or(1)).ok_or_else(invalid);
    }
    let jan1 = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(invalid)?;
    let first_weekday = jan1.weekday().num_days_from_sunday() as i64;
    if let Some(week) = parts.sunday_week {
        let first_sunday = (7 - first_weekday) % 7;
        let day = first_sunday + (week as i64 - 1) * 7 + parts.weekday.unwrap_or(0) as i64;
        return jan1.checked_add_signed(Duration::days(day)).ok_or_else(invalid);
    }
    if let Some(week) = parts.monday_week {
        let first_monday = (8 - first_weekday) % 7;
        let from_monday = (parts.weekday.unwrap_or(1) as i64 + 6) % 7;
        let day = first_monday + (week as i64 - 1) * 7 + from_monday;
        return jan1.checked_add_signed(Duration::days(day)).ok_or_else(invalid);
    }
    if let Some(week) = parts.iso_week {
        return match (parts.iso_year, parts.year) {
            (Some(iso_year), _) => iso(iso_year, week, parts),
            (None, Some(_)) => Err("%V takes its year from %G".into()),
            (None, None) => iso(1900, week, parts),
        };
    }
    if let Some(day) = parts.day_of_year {
        return NaiveDate::from_yo_opt(year, day).ok_or_else(invalid);
    }
    Ok(jan1)
}

fn iso(year: i32, week: u32, parts: &Parts) -> Result<NaiveDate, String> {
    let weekday = match parts.weekday.unwrap_or(1) {
        0 => Weekday::Sun,
        n => Weekday::try_from((n - 1) as u8).map_err(|_| "invalid weekday".to_string())?,
    };
    NaiveDate::from_isoywd_opt(year, week, weekday).ok_or_else(|| "invalid ISO week".into())
}

/// Microseconds since the epoch (UTC when the text has an offset).
pub(super) fn parse(text: &str, format: &str) -> Result<i64, String> {
    let mut parts = Parts::default();
    let mut input = Input { rest: text };
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            let mut spec = chars.next().ok_or("a format ends with '%'")?;
            // `%-d` and friends: DuckDB's numbers take one digit or two either way.
            if spec == '-' {
                spec = chars.next().ok_or("a format ends with '%-'")?;
            }
            match spec {
                'c' => ["Y", "-", "m", "-", "d", " ", "H", ":", "M", ":", "S"]
                    .iter()
                    .try_for_each(|p| literal_or(p, &mut input, &mut parts))?,
                'x' => ["Y", "-", "m", "-", "d"].iter().try_for_each(|p| literal_or(p, &mut input, &mut parts))?,
                'X' | 'T' => {
                    ["H", ":", "M", ":", "S"].iter().try_for_each(|p| literal_or(p, &mut input, &mut parts))?
                }
                spec => read_spec(spec, &mut input, &mut parts)?,
            }
        } else if c.is_whitespace() {
            input.rest = input.rest.trim_start();
        } else {
            input.rest = input.rest.strip_prefix(c).ok_or_else(|| format!("expected '{c}'"))?;
        }
    }
    if !input.rest.trim().is_empty() {
        return Err("Full specifier did not match: trailing characters".into());
    }
    if let Some(afternoon) = parts.afternoon {
        if parts.hour > 12 {
            return Err("hour out of range for AM/PM".into());
        }
        parts.hour = match (parts.hour, afternoon) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    let date = date_of(&parts)?;
    let time =
        NaiveTime::from_hms_micro_opt(parts.hour, parts.minute, parts.second, parts.micros).ok_or("invalid time")?;
    let local = NaiveDateTime::new(date, time).and_utc().timestamp_micros();
    Ok(local - parts.offset_minutes.unwrap_or(0) as i64 * 60_000_000)
}

/// A piece of an expanded specifier: a one-letter specifier or a literal.
fn literal_or(piece: &str, input: &mut Input, parts: &mut Parts) -> Result<(), String> {
    match piece {
        ":" | "-" | " " => {
            input.rest = input.rest.strip_prefix(piece).ok_or_else(|| format!("expected '{piece}'"))?;
            Ok(())
        }
        spec => read_spec(spec.chars().next().unwrap_or('%'), input, parts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, format: &str) -> Option<String> {
        let micros = parse(text, format).ok()?;
        Some(chrono::DateTime::from_timestamp_micros(micros)?.naive_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string())
    }

    #[test]
    fn duckdbs_parser_rules() {
        assert_eq!(at("Mon 30, December 2003, 7:3:5 PM", "%a %d, %B %Y, %I:%M:%S %p").unwrap(), "2003-12-30 19:03:05");
        assert_eq!(at("1", "%U").unwrap(), "1900-01-07 00:00:00");
        assert_eq!(at("2021-0-5", "%Y-%W-%w").unwrap(), "2021-01-01 00:00:00");
        assert_eq!(at("2021-1-5", "%G-%V-%u").unwrap(), "2021-01-08 00:00:00");
        assert_eq!(
            at("2020-12-31 21:25:58.745232+0215", "%Y-%m-%d %H:%M:%S.%f%z").unwrap(),
            "2020-12-31 19:10:58.745232"
        );
        assert_eq!(at("2001-02-30", "%Y-%m-%d"), None);
        assert_eq!(at("2000-10-01 23:59:59.10000000", "%Y-%m-%d %H:%M:%S.%f"), None);
        assert_eq!(at("20 19", "%U %W"), None);
    }
}
