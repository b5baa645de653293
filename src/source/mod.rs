//! Where Activity Data comes from. Each source delivers Arrow batches in the normalised schemas
//! of [`Category`]; the cache and everything after it do not know which source it was.

pub mod demo;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;

use crate::category::Category;
use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::ingest::CacheWriter;
use crate::printer::Printer;
use demo::{DEFAULT_SEED, DemoOrg};

/// What one fetch must deliver: the missing days of dated categories, and stale snapshots.
#[derive(Debug, Default, Clone)]
pub struct FetchPlan {
    pub days: BTreeMap<Category, Vec<NaiveDate>>,
    pub snapshots: Vec<Category>,
}

impl FetchPlan {
    pub fn is_empty(&self) -> bool {
        self.snapshots.is_empty() && self.days.values().all(Vec::is_empty)
    }

    pub fn day_count(&self) -> usize {
        self.days.values().map(Vec::len).sum()
    }
}

pub enum Source {
    Demo(DemoOrg),
}

const NO_SOURCE: &str = "no CARTO source is configured: this version cannot reach CARTO's API yet; \
                         add --demo (or --source demo) to use the built-in demo organisation";

impl Source {
    pub fn from_flags(flags: &GlobalArgs) -> Result<Source> {
        let name = if flags.demo {
            Some("demo")
        } else {
            flags.source.as_deref()
        };
        match name {
            Some("demo") => Ok(Source::Demo(DemoOrg::new(
                DEFAULT_SEED,
                flags.demo_events_per_day,
            ))),
            None | Some("api") => Err(Error::NoSource(NO_SOURCE.into())),
            Some(other) => Err(Error::Usage(format!(
                "unknown --source '{other}': use `demo` (the built-in demo organisation)"
            ))),
        }
    }

    /// The name of this source's part of the cache: everything that changes its rows.
    pub fn cache_id(&self) -> String {
        match self {
            Source::Demo(org) => format!("demo-s{DEFAULT_SEED}-e{}", org.events_per_day()),
        }
    }

    pub fn fetch(
        &self,
        plan: &FetchPlan,
        writer: &mut CacheWriter,
        printer: &Printer,
    ) -> Result<()> {
        match self {
            Source::Demo(org) => fetch_demo(org, plan, writer, printer),
        }
    }
}

/// Generates days on every core but one while the calling thread writes them to the cache.
fn fetch_demo(
    org: &DemoOrg,
    plan: &FetchPlan,
    writer: &mut CacheWriter,
    printer: &Printer,
) -> Result<()> {
    for &category in &plan.snapshots {
        let batch = match category {
            Category::UserList => org.user_list(),
            Category::GroupList => org.group_list(),
            other => unreachable!("{other} is not a snapshot"),
        }
        .map_err(|e| Error::Source(format!("demo {category}: {e}")))?;
        writer.write_snapshot(category, &batch)?;
    }
    let work: Vec<(Category, NaiveDate)> = plan
        .days
        .iter()
        .flat_map(|(c, days)| days.iter().map(move |d| (*c, *d)))
        .collect();
    if work.is_empty() {
        return Ok(());
    }
    let bar = printer.progress(work.len() as u64, "demo days");
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let next = AtomicUsize::new(0);
    let result = std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = mpsc::sync_channel::<(Category, Result<RecordBatch>)>(workers);
        for _ in 0..workers {
            let tx = tx.clone();
            let (work, next) = (&work, &next);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(category, day)) = work.get(i) else {
                        break;
                    };
                    let batch = match category {
                        Category::Activity => org.activity(day),
                        Category::ApiUsage => org.api_usage(day),
                        other => unreachable!("{other} is not dated"),
                    }
                    .map_err(|e| Error::Source(format!("demo {category} of {day}: {e}")));
                    if tx.send((category, batch)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (category, batch) in rx {
            writer.write_dated(category, &batch?)?;
            bar.inc(1);
        }
        Ok(())
    });
    bar.finish_and_clear();
    result
}
