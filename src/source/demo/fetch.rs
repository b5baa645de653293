//! Delivering demo days: generated (and shredded) on every core while one thread hands them to
//! the sink, all on the blocking pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;

use super::DemoOrg;
use crate::category::Category;
use crate::error::{Error, Result};
use crate::printer::Printer;
use crate::source::{FetchPlan, RowSink};

pub(crate) async fn fetch<S: RowSink>(org: Arc<DemoOrg>, plan: FetchPlan, mut sink: S, printer: Printer) -> Result<S> {
    tokio::task::spawn_blocking(move || deliver(&org, &plan, &mut sink, &printer).map(|()| sink))
        .await
        .map_err(|e| Error::internal("generating demo days")(e.to_string()))?
}

fn deliver(org: &DemoOrg, plan: &FetchPlan, sink: &mut impl RowSink, printer: &Printer) -> Result<()> {
    for &category in &plan.snapshots {
        let batch = match category {
            Category::UserList => org.user_list(),
            _ => org.group_list(),
        }
        .map_err(|e| Error::Source(format!("demo {category}: {e}")))?;
        sink.write_snapshot(category, &batch)?;
    }
    let work: Vec<(Category, NaiveDate)> =
        plan.days.iter().flat_map(|(c, days)| days.iter().map(move |d| (*c, *d))).collect();
    if work.is_empty() {
        return Ok(());
    }
    let bar = printer.progress(work.len() as u64, "demo days");
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let next = AtomicUsize::new(0);
    let result = std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = mpsc::sync_channel::<(Category, NaiveDate, Result<RecordBatch>)>(workers);
        for _ in 0..workers {
            let tx = tx.clone();
            let (work, next) = (&work, &next);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(category, day)) = work.get(i) else {
                        break;
                    };
                    // Shredded here, on every core, rather than by the single writing thread.
                    let batch = match category {
                        Category::ApiUsage => org.api_usage(day),
                        _ => org.activity(day),
                    }
                    .map_err(|e| e.to_string())
                    .and_then(|b| crate::shred::shred(category, &b))
                    .map_err(|e| Error::Source(format!("demo {category} of {day}: {e}")));
                    if tx.send((category, day, batch)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (category, day, batch) in rx {
            sink.write_dated(category, &batch?)?;
            // A demo day comes whole: its file is finished at once, so memory does not grow
            // with the range.
            sink.day_complete(category, day)?;
            bar.inc(1);
        }
        Ok(())
    });
    bar.finish_and_clear();
    result
}
