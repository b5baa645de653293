//! Brings the cache up to date for what a command needs, then holds it steady while the
//! command reads: source → cache, before the engine sees any file.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{Duration, NaiveDate};

use crate::cache::writer::CacheWriter;
use crate::cache::{KnownFile, SourceCache, SourceLock};
use crate::category::Category;
use crate::dates::DateRange;
use crate::error::{Error, Result};
use crate::printer::Printer;
use crate::source::{FetchPlan, Source};

/// The cached files of each category over one range, with what the manifest knows of them.
pub(crate) type RangeFiles = BTreeMap<Category, Vec<KnownFile>>;

/// What one call must make readable.
pub(crate) struct Request<'a> {
    pub ranges: &'a [DateRange],
    pub categories: &'a [Category],
    /// Fetch everything again and replace the cached days.
    pub refresh: bool,
}

/// Fetches whatever `request` lacks (everything with `refresh`) under `lock` held exclusive,
/// then leaves `lock` shared and returns each range's files. Days the source cannot deliver
/// whole yet are left out. When the manifest already describes every file (and no snapshot is
/// stale), only the shared lock is taken and no file is opened.
pub(crate) async fn fill_and_share(
    source: &Source,
    store: &SourceCache,
    lock: &SourceLock,
    request: &Request<'_>,
    printer: &Printer,
) -> Result<Vec<RangeFiles>> {
    let ready: Vec<Option<DateRange>> = request.ranges.iter().map(|r| ready_part(source, *r, printer)).collect();
    // Concurrent calls of one process (an MCP server's) share the lock file: they wait here.
    let _turn = lock.turn().await;
    if !request.refresh {
        lock.shared(printer)?;
        if let Some(files) = known_files(store, request, &ready, true) {
            let count: usize = files.iter().flat_map(|f| f.values()).map(Vec::len).sum();
            printer.debug(&format!(
                "cache: all {count} files of {} are cached, as its manifest describes them",
                store.id()
            ));
            return Ok(files);
        }
    }
    let mut refresh = request.refresh;
    // Between giving up the writer's mode and taking the readers' one, another process may
    // have cleared the cache: then fill it again.
    for _ in 0..3 {
        lock.exclusive(printer)?;
        let filled = fill(source, store, &ready, request.categories, refresh, printer).await;
        lock.shared(printer)?;
        filled?;
        refresh = false;
        if let Some(files) = known_files(store, request, &ready, false) {
            return Ok(files);
        }
        printer.warn("the cache was cleared by another process while this one filled it; filling it again");
    }
    Err(Error::Source("the cache keeps being cleared by another process: try again when it is done".into()))
}

/// Each range's files as the manifest describes them; `None` if one is missing, changed or
/// (with `fresh_snapshots`) a snapshot is due to be fetched again.
fn known_files(
    store: &SourceCache,
    request: &Request<'_>,
    ready: &[Option<DateRange>],
    fresh_snapshots: bool,
) -> Option<Vec<RangeFiles>> {
    let manifest = store.recorded();
    let mut all = Vec::with_capacity(ready.len());
    for ready in ready {
        let days: Vec<NaiveDate> = ready.iter().flat_map(|r| r.days()).collect();
        let mut files = RangeFiles::new();
        for &category in request.categories {
            let known = if category.is_snapshot() {
                if fresh_snapshots && !store.snapshot_is_fresh(category) {
                    return None;
                }
                vec![store.known(&manifest, category, &store.snapshot_path(category))?]
            } else {
                store.known_days(&manifest, category, &days)?
            };
            files.insert(category, known);
        }
        all.push(files);
    }
    Some(all)
}

/// The part of `range` the source can deliver whole; the user is told about the rest.
fn ready_part(source: &Source, range: DateRange, printer: &Printer) -> Option<DateRange> {
    let Some(newest) = source.newest_ready_day() else { return Some(range) };
    if range.end <= newest {
        return Some(range);
    }
    let first_missing = range.start.max(newest + Duration::days(1));
    let days =
        if first_missing == range.end { format!("{}", range.end) } else { format!("{first_missing}..{}", range.end) };
    printer.warn(&format!(
        "{days} not complete yet (CARTO completes a day at 05:00 UTC the next day: {} at {} 05:00 UTC), so left out of the results",
        range.end,
        range.end + Duration::days(1)
    ));
    DateRange::new(range.start, newest).ok()
}

/// With the writer's lock held: fetches what `categories` lack over the ranges into the cache.
async fn fill(
    source: &Source,
    store: &SourceCache,
    ranges: &[Option<DateRange>],
    categories: &[Category],
    refresh: bool,
    printer: &Printer,
) -> Result<()> {
    store.remove_stale_temporaries()?;
    let mut manifest = store.manifest(printer);
    let days: Vec<chrono::NaiveDate> = {
        let mut days: Vec<_> = ranges.iter().flatten().flat_map(|r| r.days()).collect();
        days.sort();
        days.dedup();
        days
    };
    for &category in categories {
        let files = store.files_to_check(category, &days);
        let damaged = store.vouch_for(&mut manifest, category, &files, printer)?;
        if !damaged.is_empty() {
            printer.warn(&format!("the cached {category} of {} was damaged: fetching it again", damaged.join(", ")));
        }
    }
    let mut plan = FetchPlan::default();
    for &category in categories {
        if category.is_snapshot() {
            if refresh || !store.snapshot_is_fresh(category) {
                plan.snapshots.push(category);
            }
        } else {
            let missing: Vec<_> = if refresh { days.clone() } else { store.missing_days(&manifest, category, &days) };
            if !missing.is_empty() {
                plan.days.insert(category, missing);
            }
        }
    }
    if plan.is_empty() {
        printer.debug(&format!("cache: all {} days of {} are cached", days.len(), store.id()));
        manifest.save()?;
        return store.compact_filled_months(&mut manifest, categories, &days, printer);
    }
    let started = Instant::now();
    let writer = CacheWriter::new(store.clone(), plan.days.clone());
    let writer = source.fetch(&plan, writer, printer).await;
    // What was checked is recorded even when the fetch failed.
    let writer = match writer {
        Ok(writer) => writer,
        Err(e) => return manifest.save().and(Err(e)),
    };
    let rows = writer.rows_written();
    // Finishing and syncing the files is blocking work.
    let written = tokio::task::spawn_blocking(move || writer.commit())
        .await
        .map_err(|e| Error::internal("committing the cache")(e.to_string()))??;
    let files = written.len();
    store.record(&mut manifest, written);
    manifest.save()?;
    printer.debug(&format!(
        "cache: fetched {} day(s) and {} snapshot(s) from {}: {rows} rows in {files} files, {:.2}s",
        plan.day_count(),
        plan.snapshots.len(),
        store.id(),
        started.elapsed().as_secs_f64()
    ));
    store.compact_filled_months(&mut manifest, categories, &days, printer)
}
