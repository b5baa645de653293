//! Delivering demo days: generated (and shredded) on every core while one thread hands them to
//! the sink, all on the blocking pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;

use super::DemoOrg;
use crate::category::Category;
use crate::error::{Error, Result};
use crate::printer::Printer;
use crate::source::{FetchPlan, RowSink};

pub(crate) async fn fetch<S: RowSink>(org: Arc<DemoOrg>, plan: FetchPlan, mut sink: S, printer: Printer) -> Result<S> {
    // Dropping this future (Ctrl-C, a cancelled MCP call) stops the generating threads too.
    let stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
    let stopped = stop.0.clone();
    tokio::task::spawn_blocking(move || deliver(&org, &plan, &mut sink, &printer, &stopped).map(|()| sink))
        .await
        .map_err(|e| Error::internal("generating demo days")(e.to_string()))?
}

/// Raises its flag when dropped.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn deliver(
    org: &DemoOrg,
    plan: &FetchPlan,
    sink: &mut impl RowSink,
    printer: &Printer,
    stopped: &AtomicBool,
) -> Result<()> {
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
    /// Events generated at once per worker: a few hundred MB at most in flight.
    const CHUNK_ROWS: usize = 200_000;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let next = AtomicUsize::new(0);
    let result = std::thread::scope(|scope| -> Result<()> {
        // (category, day, rows, whether the day is complete with them)
        let (tx, rx) = mpsc::sync_channel::<(Category, NaiveDate, Result<RecordBatch>, bool)>(workers);
        for _ in 0..workers {
            let tx = tx.clone();
            let (work, next) = (&work, &next);
            scope.spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(category, day)) = work.get(i) else {
                        break;
                    };
                    // Shredded here, on every core, rather than by the single writing thread.
                    let shredded = |batch: Result<RecordBatch, datafusion::arrow::error::ArrowError>| {
                        batch
                            .map_err(|e| e.to_string())
                            .and_then(|b| crate::shred::shred(category, &b))
                            .map_err(|e| Error::Source(format!("demo {category} of {day}: {e}")))
                    };
                    let chunks: Box<dyn Iterator<Item = _>> = match category {
                        Category::ApiUsage => Box::new(std::iter::once(org.api_usage(day))),
                        _ => Box::new(org.activity_chunks(day, CHUNK_ROWS)),
                    };
                    let mut chunks = chunks.map(shredded).peekable();
                    let mut sent = false;
                    while let Some(batch) = chunks.next() {
                        let last = chunks.peek().is_none();
                        if tx.send((category, day, batch, last)).is_err() {
                            return;
                        }
                        sent = true;
                    }
                    if !sent {
                        let empty = shredded(Ok(RecordBatch::new_empty(category.schema())));
                        if tx.send((category, day, empty, true)).is_err() {
                            return;
                        }
                    }
                }
            });
        }
        drop(tx);
        for (category, day, batch, last) in rx {
            if stopped.load(Ordering::Relaxed) {
                return Err(Error::Interrupted);
            }
            sink.write_dated(category, &batch?)?;
            // A demo day's file is finished with its last batch, so memory does not grow
            // with the range.
            if last {
                sink.day_complete(category, day)?;
                bar.inc(1);
            }
        }
        Ok(())
    });
    bar.finish_and_clear();
    result
}
