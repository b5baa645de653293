//! Date ranges: `YYYY-MM-DD` in UTC, both ends inclusive.

use chrono::{Datelike, Duration, NaiveDate, Utc};

/// The first day Activity Data can hold; earlier dates are typos.
pub const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(2015, 1, 1) {
    Some(d) => d,
    None => panic!("2015-01-01 is a valid date"),
};

/// Parses a `YYYY-MM-DD` date, refusing other shapes and dates before 2015 or after today (UTC).
pub fn parse_date(input: &str) -> Result<NaiveDate, String> {
    let well_formed = input.len() == 10
        && input.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    let date = well_formed
        .then(|| NaiveDate::parse_from_str(input, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| format!("'{input}' is not a date: write it as YYYY-MM-DD, e.g. 2025-10-01"))?;
    if date < EARLIEST {
        return Err(format!("{input} is before 2015, when Activity Data begins"));
    }
    let today = Utc::now().date_naive();
    if date > today {
        return Err(format!("{input} is in the future (today is {today} UTC)"));
    }
    Ok(date)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl DateRange {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, String> {
        if start > end {
            return Err(format!("--start-date {start} is after --end-date {end}: swap them or fix one"));
        }
        Ok(Self { start, end })
    }

    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let end = self.end;
        self.start.iter_days().take_while(move |d| *d <= end)
    }

    pub fn len_days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }
}

/// Microseconds in a UTC day, the unit of the cache's `ts`.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Days since 1970-01-01, the unit of Arrow's Date32.
pub fn epoch_day(day: NaiveDate) -> i32 {
    day.num_days_from_ce() - EPOCH_DAYS_FROM_CE
}

pub fn from_epoch_day(days: i64) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(Duration::days(days))
}

const EPOCH_DAYS_FROM_CE: i32 = 719_163;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_well_formed_dates() {
        assert_eq!(parse_date("2025-10-01").unwrap(), NaiveDate::from_ymd_opt(2025, 10, 1).unwrap());
    }

    #[test]
    fn refuses_malformed_and_out_of_range_dates() {
        for bad in ["2025-1-01", "2025/10/01", "20251001", "2025-02-30", "", "2025-10-01x", "１２３４-10-01"] {
            assert!(parse_date(bad).is_err(), "{bad} accepted");
        }
        assert!(parse_date("2014-12-31").unwrap_err().contains("before 2015"));
        assert!(parse_date("2999-01-01").unwrap_err().contains("future"));
    }

    #[test]
    fn ranges_are_inclusive_and_ordered() {
        let d = |s| parse_date(s).unwrap();
        let r = DateRange::new(d("2025-10-01"), d("2025-10-07")).unwrap();
        assert_eq!(r.days().count(), 7);
        assert_eq!(r.len_days(), 7);
        assert!(DateRange::new(d("2025-10-02"), d("2025-10-01")).is_err());
    }

    #[test]
    fn epoch_days_round_trip() {
        let day = NaiveDate::from_ymd_opt(2025, 10, 1).unwrap();
        assert_eq!(epoch_day(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()), 0);
        assert_eq!(from_epoch_day(epoch_day(day) as i64), Some(day));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any text: an error or a date that prints back as the same text, never a panic.
        #[test]
        fn parse_date_never_panics(input in "\\PC{0,16}") {
            if let Ok(date) = parse_date(&input) {
                prop_assert_eq!(date.format("%Y-%m-%d").to_string(), input);
            }
        }

        #[test]
        fn well_formed_dates_in_range_parse(days in 0i64..3650) {
            let date = EARLIEST + Duration::days(days);
            if date <= Utc::now().date_naive() {
                prop_assert_eq!(parse_date(&date.to_string()), Ok(date));
            }
        }
    }
}
