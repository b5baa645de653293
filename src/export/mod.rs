//! `export`: whole categories (or a query's result) of a range, streamed batch by batch from
//! the engine into Parquet, CSV or NDJSON files, in one file or hive-partitioned folders, on a
//! local folder or an object store. Memory stays flat: a bounded number of files is open at
//! once, each buffering at most a row group.
//!
//! Files are written under `_tmp/<run>/` and renamed into place once whole (see [`staging`]);
//! a folder of parts is complete only once its `_SUCCESS` manifest (files, rows, bytes,
//! SHA-256) is written, last. The caller holds the destination's lock ([`staging`]) throughout,
//! from the check of what exists to the last file.

mod destination;
mod files;
mod parquet_file;
mod request;
mod sink;
mod staging;
mod subject;

use std::collections::{BTreeMap, HashMap};

use datafusion::arrow::array::UInt32Array;
use datafusion::arrow::compute::take_record_batch;
use datafusion::object_store::ObjectStoreExt;
use datafusion::object_store::path::Path as StorePath;
use datafusion::sql::sqlparser::ast::Statement;
use futures::StreamExt;

pub(crate) use destination::Destination;
pub(crate) use request::{ExportCompression, ExportFormat, ExportRequest, PartitionBy, Subject, parquet_properties};
use staging::Run;
pub use staging::remove_abandoned_staging;

use crate::category::Category;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::printer::Printer;
use files::Manifest;
use subject::{SubjectExport, partition_keys};

pub const SUCCESS_FILE: &str = "_SUCCESS";

/// What one subject's export wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Written {
    pub location: String,
    pub rows: u64,
    pub bytes: u64,
    pub files: usize,
}

/// Refuses existing output (without --overwrite) before anything is fetched or written; call
/// with the destination's lock held, so that no other export can pass the same check.
pub(crate) async fn check_targets(request: &ExportRequest, destination: &Destination) -> Result<()> {
    for subject in &request.subjects {
        let target = request.target(destination, subject);
        if !request.overwrite && destination.exists(&target).await? {
            return Err(Error::OutputExists(destination.shown(&target).into()));
        }
    }
    Ok(())
}

pub(crate) async fn export(
    engine: &Engine,
    request: &ExportRequest,
    destination: &Destination,
    printer: &Printer,
) -> Result<Vec<Written>> {
    let run = destination.start_run().await?;
    if request.overwrite {
        for subject in &request.subjects {
            destination.remove_all(&request.target(destination, subject)).await?;
        }
    }
    let mut written = Vec::new();
    for subject in &request.subjects {
        let target = request.target(destination, subject);
        written.push(export_subject(engine, request, destination, subject, &target, &run, printer).await?);
    }
    Ok(written)
}

/// Writes `subject` as a folder of part files at `target`, with its `_SUCCESS` manifest last
/// (what a `sync` to Parquet writes per day). The caller holds the destination's lock.
pub(crate) async fn export_folder(
    engine: &Engine,
    request: &ExportRequest,
    destination: &Destination,
    subject: &Subject,
    target: &StorePath,
    printer: &Printer,
) -> Result<Written> {
    let run = destination.start_run().await?;
    export_subject(engine, request, destination, subject, target, &run, printer).await
}

async fn export_subject(
    engine: &Engine,
    request: &ExportRequest,
    destination: &Destination,
    subject: &Subject,
    target: &StorePath,
    run: &Run,
    printer: &Printer,
) -> Result<Written> {
    let statement = match subject {
        Subject::Category(c) => select_all(*c)?,
        Subject::Query(q) => (**q).clone(),
    };
    let mut stream = engine.execute(statement).await?;
    let target = target.clone();
    let mut job = SubjectExport {
        request,
        partition: request.partition_of(subject),
        destination,
        staged: destination.staged(run, &target),
        schema: stream.schema(),
        open: HashMap::new(),
        parts: BTreeMap::new(),
        finished: Vec::new(),
        clock: 0,
    };
    let bar = printer.spinner(subject.name());
    let outcome: Result<()> = async {
        let mut total = 0u64;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(Error::query)?;
            total += batch.num_rows() as u64;
            bar.set_message(format!("{}: {total} rows, {} bytes written", subject.name(), job.bytes_written()));
            if job.partition == PartitionBy::None {
                job.write(String::new(), batch).await?;
                continue;
            }
            let keys = partition_keys(&batch, job.partition).map_err(Error::Usage)?;
            let mut rows: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
            for (i, key) in keys.iter().enumerate() {
                rows.entry(key).or_default().push(i as u32);
            }
            for (key, indices) in rows {
                let part = if indices.len() == batch.num_rows() {
                    batch.clone()
                } else {
                    take_record_batch(&batch, &UInt32Array::from(indices))
                        .map_err(|e| Error::internal("splitting rows by partition")(e.to_string()))?
                };
                job.write(key.to_string(), part).await?;
            }
        }
        let keys: Vec<String> = job.open.keys().cloned().collect();
        for key in keys {
            job.close(&key).await?;
        }
        if job.finished.is_empty() {
            // An empty result still gives a file (or folder) with the schema.
            let file = job.open_file("").await?;
            let path = file.path.clone();
            job.finished.push(file.finish().await.map_err(|e| destination.failed("finish", &path, e))?);
        }
        Ok(())
    }
    .await;
    bar.finish_and_clear();
    if let Err(e) = outcome {
        job.abort().await;
        return Err(e);
    }
    let rows = job.finished.iter().map(|f| f.rows).sum();
    let bytes = job.finished.iter().map(|f| f.bytes).sum();
    let mut files = std::mem::take(&mut job.finished);
    let mut moves = Vec::with_capacity(files.len());
    for file in &mut files {
        let staged = StorePath::from(file.path.as_str());
        let below = staged.as_ref().strip_prefix(job.staged.as_ref()).unwrap_or("").trim_start_matches('/');
        let place = if below.is_empty() { target.clone() } else { child_of(&target, below) };
        file.path = place.to_string();
        moves.push((staged, place));
    }
    if request.single_file() {
        for (staged, place) in &moves {
            destination.publish(staged, place).await?;
        }
    } else {
        let manifest = Manifest { rows, bytes, files };
        let text = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| Error::internal("encoding the manifest")(e.to_string()))?;
        // A new local folder moves into place whole, its manifest inside; elsewhere each file
        // moves, then the manifest says the export is complete.
        if !destination.publish_folder(&job.staged, &target, &text)? {
            for (staged, place) in &moves {
                destination.publish(staged, place).await?;
            }
            let success = child_of(&target, SUCCESS_FILE);
            destination.store.put(&success, text.into()).await.map_err(|e| destination.failed("write", &success, e))?;
        }
        files = manifest.files;
    }
    let location = destination.shown(&target);
    printer.info(&format!("wrote {location} ({rows} rows, {bytes} bytes, {} file(s))", files.len()));
    Ok(Written { location, rows, bytes, files: files.len() })
}

fn child_of(path: &StorePath, below: &str) -> StorePath {
    StorePath::from_iter(path.parts().map(|p| p.as_ref().to_string()).chain(below.split('/').map(str::to_string)))
}

/// `SELECT *` of a category's table, prepared.
pub(crate) fn select_all(category: Category) -> Result<Statement> {
    let sql = format!("SELECT * FROM {}", crate::engine::table_name(category));
    let mut statements = crate::engine::Prepared::new(&sql)?.statements;
    statements.pop().ok_or_else(|| Error::Internal(format!("{sql} gave no statement")))
}
