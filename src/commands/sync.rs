//! `sync`: the flags resolved, the destination locked and every table checked before anything is
//! fetched, then the days each table lacks written in order, and a summary.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use serde_json::json;

use crate::category::Category;
use crate::cli::SyncArgs;
use crate::context::{Context, Parallelism};
use crate::dates::DateRange;
use crate::error::{Error, Result};
use crate::export::Destination;
use crate::output::print_text;
use crate::printer::Printer;
use crate::sync::{Table, TableSummary};

pub(super) async fn run(context: &Context, args: SyncArgs) -> Result<()> {
    let mut categories = if args.categories.is_empty() { Category::ALL.to_vec() } else { args.categories.clone() };
    categories.sort();
    categories.dedup();
    if let (Some(from), Some(until)) = (args.from, args.until)
        && from > until
    {
        return Err(Error::Usage(format!("--from {from} is after --until {until}: swap them or fix one")));
    }
    let destination = Destination::parse("--to", &args.to, &context.write_policy())?;
    let source = context.source_identity()?;
    let newest = context.newest_complete_day()?;
    let until = match args.until {
        Some(until) if until > newest => {
            return Err(Error::Usage(format!(
                "--until {until} is not complete yet: the last complete day is {newest} (a day is complete at 05:00 UTC the next day)"
            )));
        }
        Some(until) => until,
        None => newest,
    };
    let lock = destination.lock().await?;
    let outcome = sync(context, &args, &destination, &categories, &source, until).await;
    destination.unlock(lock).await;
    let summary = outcome?;
    report(context.printer(), &summary, args.json)
}

struct Summary {
    tables: Vec<TableSummary>,
    days: usize,
    until: NaiveDate,
}

async fn sync(
    context: &Context,
    args: &SyncArgs,
    destination: &Destination,
    categories: &[Category],
    source: &str,
    until: NaiveDate,
) -> Result<Summary> {
    // Every table is opened (and refused if it is not ours) before anything is fetched.
    let mut tables = Vec::new();
    for category in categories {
        tables.push((*category, Table::open(args.format, destination, *category, source, args.compression).await?));
    }
    // The days each table lacks, by its own record: from --from (or its first day) to `until`.
    let mut wanted: Vec<(usize, Vec<NaiveDate>)> = Vec::new();
    for (index, (category, table)) in tables.iter().enumerate() {
        if category.is_snapshot() {
            continue;
        }
        let held = table.days_held(destination).await?;
        let start = match (held.first(), held.last(), args.from) {
            (Some(_), Some(last), Some(from)) if from > *last + Days::new(1) => {
                return Err(Error::Usage(format!(
                    "--from {from} would leave {category} without {}..{} ({} holds days up to {last}): pass --from {}, or leave --from out",
                    *last + Days::new(1),
                    from - Days::new(1),
                    table.location(),
                    *last + Days::new(1),
                )));
            }
            (Some(first), _, Some(from)) => {
                let skipped: Vec<NaiveDate> =
                    first.iter_days().take_while(|d| *d < from).filter(|d| !held.contains(d)).collect();
                if let (Some(a), Some(b)) = (skipped.first(), skipped.last()) {
                    context.printer().warn(&format!(
                        "{} lacks {} day(s) between {a} and {b}, before --from {from}: leave --from out to fill them",
                        table.location(),
                        skipped.len()
                    ));
                }
                from
            }
            (Some(first), _, None) => *first,
            (None, _, Some(from)) => from,
            (None, _, None) => {
                return Err(Error::Usage(format!(
                    "{} holds no day yet: pass --from YYYY-MM-DD, the first day to sync",
                    table.location()
                )));
            }
        };
        let days: Vec<NaiveDate> =
            start.iter_days().take_while(|d| *d <= until).filter(|d| !held.contains(d)).collect();
        wanted.push((index, days));
    }
    let all_days: BTreeSet<NaiveDate> = wanted.iter().flat_map(|(_, days)| days.iter().copied()).collect();
    let dated = categories.iter().any(|c| !c.is_snapshot());
    let mut summaries: Vec<TableSummary> = tables
        .iter()
        .map(|(category, table)| TableSummary {
            category: category.name().to_string(),
            location: table.location(),
            last_day: table.last_day().map(|d| d.to_string()),
            version: table.version(),
            ..TableSummary::default()
        })
        .collect();
    if dated && all_days.is_empty() {
        return Ok(Summary { tables: summaries, days: 0, until });
    }
    // The snapshots are taken with the last day's fetch (or today's, when only they are synced).
    let days: Vec<NaiveDate> = if all_days.is_empty() { vec![until] } else { all_days.iter().copied().collect() };
    let ranges: Vec<DateRange> = days.iter().map(|d| DateRange { start: *d, end: *d }).collect();
    let engines = context.engines(&ranges, categories, args.no_cache, Parallelism::InOrder).await?;
    let printer = context.printer();
    let quiet = Printer::new(true, 0);
    let bar = printer.progress(if dated { days.len() as u64 } else { 0 }, "days synced");
    for (day, engine) in days.iter().zip(&engines).filter(|_| dated) {
        for (index, days_of_table) in &wanted {
            if !days_of_table.contains(day) {
                continue;
            }
            let (_, table) = &mut tables[*index];
            let added = table.append_day(engine, destination, *day, &quiet).await?;
            let summary = &mut summaries[*index];
            summary.days_added += 1;
            summary.rows += added.rows;
            summary.bytes += added.bytes;
            summary.last_day = table.last_day().map(|d| d.to_string());
            summary.version = table.version();
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if let Some(engine) = engines.last() {
        for (index, (category, table)) in tables.iter_mut().enumerate() {
            if category.is_snapshot() {
                let added = table.replace(engine, destination, &quiet).await?;
                summaries[index].rows = added.rows;
                summaries[index].bytes = added.bytes;
                summaries[index].version = table.version();
            }
        }
    }
    Ok(Summary { tables: summaries, days: if dated { days.len() } else { 0 }, until })
}

fn report(printer: &Printer, summary: &Summary, json: bool) -> Result<()> {
    let rows: u64 = summary.tables.iter().map(|t| t.rows).sum();
    let bytes: u64 = summary.tables.iter().map(|t| t.bytes).sum();
    let nothing = summary.days == 0 && summary.tables.iter().all(|t| t.rows == 0 && t.days_added == 0);
    if nothing {
        printer.info(&format!("nothing to add: every table is synced up to {}", summary.until));
    } else {
        let versions: Vec<String> = summary
            .tables
            .iter()
            .map(|t| match (t.version, &t.last_day) {
                (Some(v), _) => format!("{} v{v}", t.category),
                (None, Some(day)) => format!("{} to {day}", t.category),
                (None, None) => format!("{} replaced", t.category),
            })
            .collect();
        printer.info(&format!("synced {} day(s): {rows} rows, {bytes} bytes ({})", summary.days, versions.join(", ")));
    }
    if json {
        let value = json!({
            "days_added": summary.days,
            "rows": rows,
            "bytes": bytes,
            "until": summary.until.to_string(),
            "changed": !nothing,
            "tables": summary.tables,
        });
        print_text(&value.to_string())?;
    }
    Ok(())
}
