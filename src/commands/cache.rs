//! `cache path | list | verify | compact | clear` and `tables`: what is cached, and what can be queried.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};

use crate::cli::CacheCommand;
use crate::context::Context;
use crate::engine::all_columns;
use crate::error::{Error, Result};
use crate::output::{print_table, print_text};

pub(super) fn tables() -> Result<()> {
    print_table(&all_columns()?)
}

pub(super) fn run(context: &Context, command: CacheCommand) -> Result<()> {
    let cache = context.cache()?;
    match command {
        CacheCommand::Path => print_text(&cache.root().display().to_string()),
        CacheCommand::List => {
            let entries = cache.list()?;
            let text = |values: Vec<String>| Arc::new(StringArray::from(values)) as ArrayRef;
            let optional = |values: Vec<Option<String>>| Arc::new(StringArray::from(values)) as ArrayRef;
            let count = |values: Vec<u64>| Arc::new(UInt64Array::from(values)) as ArrayRef;
            let batch = RecordBatch::try_from_iter(vec![
                ("source", text(entries.iter().map(|e| e.source.clone()).collect())),
                ("category", text(entries.iter().map(|e| e.category.name().to_string()).collect())),
                ("days", count(entries.iter().map(|e| e.days.len() as u64).collect())),
                ("first_day", optional(entries.iter().map(|e| e.days.first().map(|d| d.to_string())).collect())),
                ("last_day", optional(entries.iter().map(|e| e.days.last().map(|d| d.to_string())).collect())),
                ("snapshot", text(entries.iter().map(|e| if e.has_snapshot { "yes" } else { "no" }.into()).collect())),
                ("bytes", count(entries.iter().map(|e| e.bytes).collect())),
            ])
            .map_err(|e| Error::internal("listing the cache")(e.to_string()))?;
            print_table(&batch)
        }
        CacheCommand::Verify => verify(context),
        CacheCommand::Compact => {
            let compacted = cache.compact(context.printer())?;
            let batch = RecordBatch::try_from_iter(vec![
                (
                    "source",
                    Arc::new(StringArray::from_iter_values(compacted.iter().map(|(s, _)| s.clone()))) as ArrayRef,
                ),
                (
                    "months_rewritten",
                    Arc::new(UInt64Array::from_iter_values(compacted.iter().map(|(_, n)| *n))) as ArrayRef,
                ),
            ])
            .map_err(|e| Error::internal("reporting the compaction")(e.to_string()))?;
            print_table(&batch)
        }
        CacheCommand::Clear { cached_source } => {
            let cleared = cache.clear(cached_source.as_deref(), context.printer())?;
            if cleared.names.is_empty() {
                context.printer().info(&format!("the cache at {} was already empty", cache.root().display()));
            } else {
                context.printer().info(&format!(
                    "removed {} from {} ({} files, {} bytes)",
                    cleared.names.join(", "),
                    cache.root().display(),
                    cleared.files,
                    cleared.bytes
                ));
            }
            Ok(())
        }
    }
}

/// `cache verify`: a line per source on stdout; each damaged file named on stderr.
fn verify(context: &Context) -> Result<()> {
    let cache = context.cache()?;
    let report = cache.verify(context.printer())?;
    let text = |values: Vec<String>| Arc::new(StringArray::from(values)) as ArrayRef;
    let count = |values: Vec<u64>| Arc::new(UInt64Array::from(values)) as ArrayRef;
    let batch = RecordBatch::try_from_iter(vec![
        ("source", text(report.iter().map(|v| v.source.clone()).collect())),
        ("files_intact", count(report.iter().map(|v| v.files).collect())),
        ("bytes", count(report.iter().map(|v| v.bytes).collect())),
        ("newly_recorded", count(report.iter().map(|v| v.recorded).collect())),
        ("damaged", count(report.iter().map(|v| v.damaged.len() as u64).collect())),
    ])
    .map_err(|e| Error::internal("reporting the verification")(e.to_string()))?;
    print_table(&batch)?;
    let damaged: Vec<String> =
        report.iter().flat_map(|v| v.damaged.iter().map(move |file| format!("{}/{file}", v.source))).collect();
    if damaged.is_empty() {
        return Ok(());
    }
    for file in &damaged {
        context.printer().warn(&format!("removed the damaged cached file {file}"));
    }
    Err(Error::Damaged(format!(
        "{} cached file(s) did not match the checksum the cache recorded and were removed: the next query that needs those days fetches them again",
        damaged.len()
    )))
}
