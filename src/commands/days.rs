//! Which days a command reads: the range its flags give, or, without them, the days its SQL's
//! filters on `ts` select (see `engine::day_filter`) — so that `WHERE ts >= now() - INTERVAL 7
//! DAY` needs no flags, and a range that the filter leaves empty is said, not answered silently.

use chrono::{Days, NaiveDate};
use datafusion::sql::sqlparser::ast::Statement;

use crate::category::Category;
use crate::context::{Context, Parallelism};
use crate::dates::{DateRange, EARLIEST};
use crate::engine::DaySpan;
use crate::error::Result;

/// The ranges to read for `statements` (which read `categories`): `given`, after a warning if
/// the SQL's filter on `ts` selects days outside it; else the days the filter selects, or the
/// last 7 complete days when it sets no lower bound. One line on stderr says which and why.
pub(super) async fn days_to_read(
    context: &Context,
    given: Option<DateRange>,
    statements: &[Statement],
    categories: &[Category],
) -> Result<Vec<DateRange>> {
    let newest = context.newest_complete_day()?;
    let last_week = DateRange { start: newest - Days::new(6), end: newest };
    let dated = categories.iter().any(|c| !c.is_snapshot());
    if !dated {
        return Ok(vec![given.unwrap_or(last_week)]);
    }
    let selected = if statements.is_empty() {
        None
    } else {
        let probe = context.engine(last_week, &[], false, Parallelism::AllCores).await?;
        probe.days_read(statements).await.map(|spans| clipped(&spans, newest))
    };
    let printer = context.printer();
    match (given, selected) {
        (Some(range), Some(selected)) => {
            let inside = selected.iter().any(|s| s.start <= range.end && s.end >= range.start);
            // The parts of the selected days before and after the range.
            let outside: Vec<DateRange> = selected
                .iter()
                .flat_map(|s| {
                    let before = DateRange::new(s.start, s.end.min(range.start - Days::new(1))).ok();
                    let after = DateRange::new(s.start.max(range.end + Days::new(1)), s.end).ok();
                    before.into_iter().chain(after)
                })
                .collect();
            if let (Some(first), Some(last)) = (selected.first(), selected.last()) {
                let (start, end) = (first.start.min(range.start), last.end.max(range.end));
                if !inside {
                    printer.warn(&format!(
                        "the SQL's filter on ts selects {}, none of {} to {}: the answer is empty; pass --start-date {} --end-date {} (or leave both out)",
                        shown(&selected),
                        range.start,
                        range.end,
                        first.start,
                        last.end
                    ));
                } else if !outside.is_empty() {
                    printer.warn(&format!(
                        "the SQL's filter on ts also selects days outside {} to {} ({}): pass --start-date {start} --end-date {end} to read them",
                        range.start,
                        range.end,
                        shown(&outside)
                    ));
                }
            }
            Ok(vec![range])
        }
        (Some(range), None) => Ok(vec![range]),
        (None, None) => {
            printer.info(&format!(
                "reading the last 7 complete days, {} to {}: the SQL sets no lower bound on ts (filter on ts, or pass --start-date and --end-date, for other days)",
                last_week.start, last_week.end
            ));
            Ok(vec![last_week])
        }
        (None, Some(selected)) if selected.is_empty() => {
            printer.warn(&format!(
                "the SQL's filter on ts selects no complete day (the last is {newest}): the answer is empty"
            ));
            Ok(vec![DateRange { start: newest, end: newest }])
        }
        (None, Some(selected)) => {
            let days: i64 = selected.iter().map(DateRange::len_days).sum();
            let plural = if days == 1 { "" } else { "s" };
            printer
                .info(&format!("reading {} ({days} day{plural}), as the SQL's filter on ts selects", shown(&selected)));
            Ok(selected)
        }
    }
}

/// Spans as ranges within what the source has (2015 on, up to `newest`), merged and sorted.
fn clipped(spans: &[DaySpan], newest: NaiveDate) -> Vec<DateRange> {
    let mut ranges: Vec<DateRange> = spans
        .iter()
        .filter_map(|(start, end)| {
            let start = start.unwrap_or(EARLIEST).max(EARLIEST);
            let end = end.unwrap_or(newest).min(newest);
            DateRange::new(start, end).ok()
        })
        .collect();
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<DateRange> = Vec::new();
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end + Days::new(1) => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

fn shown(ranges: &[DateRange]) -> String {
    ranges
        .iter()
        .map(|r| if r.start == r.end { r.start.to_string() } else { format!("{} to {}", r.start, r.end) })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        crate::dates::parse_date(text).unwrap()
    }

    #[test]
    fn spans_are_clipped_and_merged() {
        let newest = day("2025-10-10");
        let spans = vec![
            (Some(day("2025-10-05")), None),
            (Some(day("2025-10-01")), Some(day("2025-10-02"))),
            (Some(day("2025-10-03")), Some(day("2025-10-03"))),
            (Some(day("2025-10-20")), Some(day("2025-10-22"))),
        ];
        let ranges = clipped(&spans, newest);
        assert_eq!(shown(&ranges), "2025-10-01 to 2025-10-03, 2025-10-05 to 2025-10-10");
    }
}
