//! Brings the cache up to date for what a command needs, then holds it steady while the
//! command reads: source → cache, before the engine sees any file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use chrono::Duration;

use crate::cache::{Cache, CacheLock, SourceCache};
use crate::category::Category;
use crate::dates::DateRange;
use crate::error::{Error, Result};
use crate::ingest::CacheWriter;
use crate::printer::Printer;
use crate::source::{FetchPlan, Source};

/// The cached files of each category over a range, readable until this is dropped.
pub struct CachedRange {
    pub range: DateRange,
    pub files: BTreeMap<Category, Vec<PathBuf>>,
    _lock: CacheLock,
}

/// Fetches whatever `categories` lack over `range` (everything with `refresh`), and returns
/// their files under a shared lock. Days the source cannot deliver whole yet are left out.
pub fn cached_range(
    source: &Source,
    cache: &Cache,
    range: DateRange,
    categories: &[Category],
    refresh: bool,
    printer: &Printer,
) -> Result<CachedRange> {
    cache.ensure_root()?;
    let store = cache.source(&source.cache_id());
    let ready = ready_part(source, range, printer);
    let mut refresh = refresh;
    // Between giving up the writer's lock and taking the readers' one, another process may
    // have cleared the cache: then fill it again.
    for _ in 0..3 {
        fill(source, &store, ready, categories, refresh, printer)?;
        refresh = false;
        let lock = store.lock_shared(printer)?;
        let files: BTreeMap<Category, Vec<PathBuf>> = categories
            .iter()
            .map(|&c| match (c.is_snapshot(), ready) {
                (true, _) => (c, store.files(c, &range)),
                (false, Some(ready)) => (c, store.files(c, &ready)),
                (false, None) => (c, vec![]),
            })
            .collect();
        if files.values().flatten().all(|f| f.is_file()) {
            return Ok(CachedRange { range, files, _lock: lock });
        }
        printer.warn("the cache was cleared by another process while this one filled it; filling it again");
    }
    Err(Error::Source("the cache keeps being cleared by another process: try again when it is done".into()))
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
        "{days} not complete at CARTO yet (a day is complete at 05:00 UTC the next day: {} at {} 05:00 UTC), so left out of the results",
        range.end,
        range.end + Duration::days(1)
    ));
    DateRange::new(range.start, newest).ok()
}

/// Under the writer's lock: fetches what `categories` lack over `range` into the cache.
fn fill(
    source: &Source,
    store: &SourceCache,
    range: Option<DateRange>,
    categories: &[Category],
    refresh: bool,
    printer: &Printer,
) -> Result<()> {
    let _write = store.lock_exclusive(printer)?;
    store.remove_stale_temporaries()?;
    for &category in categories {
        let files = match (category.is_snapshot(), range) {
            (true, _) => vec![store.snapshot_path(category)],
            (false, Some(range)) => store.files(category, &range),
            (false, None) => vec![],
        };
        let damaged = store.remove_damaged(files)?;
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
        } else if let Some(range) = range {
            let days = if refresh { range.days().collect() } else { store.missing_days(category, &range) };
            if !days.is_empty() {
                plan.days.insert(category, days);
            }
        }
    }
    if plan.is_empty() {
        printer.debug(&format!("cache: all {} days of {} are cached", range.map_or(0, |r| r.len_days()), store.id()));
        return Ok(());
    }
    let started = Instant::now();
    let mut writer = CacheWriter::new(store, plan.days.clone());
    source.fetch(&plan, &mut writer, printer)?;
    let rows = writer.rows_written();
    let files = writer.commit()?;
    printer.debug(&format!(
        "cache: fetched {} day(s) and {} snapshot(s) from {}: {rows} rows in {files} files, {:.2}s",
        plan.day_count(),
        plan.snapshots.len(),
        store.id(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}
