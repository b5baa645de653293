//! `export`: whole categories (or a query's result) of a range, streamed batch by batch from
//! the engine into Parquet, CSV or NDJSON files, in one file or hive-partitioned folders, on a
//! local folder or an object store. Memory stays flat: a bounded number of files is open at
//! once, each buffering at most a row group.
//!
//! A single file appears whole or not at all (the object store writes it under another name
//! and renames, or completes a multipart upload). A folder of parts is complete only once its
//! `_SUCCESS` manifest (files, rows, bytes, SHA-256) is written, last.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use datafusion::object_store::buffered::BufWriter;
use datafusion::object_store::path::Path as StorePath;
use datafusion::object_store::{ObjectStore, ObjectStoreExt};
use datafusion::parquet::arrow::AsyncArrowWriter;
use datafusion::parquet::arrow::async_writer::AsyncFileWriter;
use datafusion::parquet::basic::{Compression, GzipLevel, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::sql::sqlparser::ast::Statement;
use flate2::write::GzEncoder;
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::category::Category;
use crate::cli::{ExportCompression, ExportFormat, PartitionBy};
use crate::dates::DateRange;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::output::{write_csv_header, write_csv_rows, write_ndjson_rows};
use crate::printer::Printer;

/// Files open at once; past this, the least recently written one is finished (a partition seen
/// again later gets another part file).
const MAX_OPEN_FILES: usize = 16;
pub const SUCCESS_FILE: &str = "_SUCCESS";

/// What one export writes: a category, or the result of `--sql`.
#[derive(Debug, Clone)]
pub enum Subject {
    Category(Category),
    Query(Box<Statement>),
}

impl Subject {
    fn name(&self) -> &str {
        match self {
            Subject::Category(c) => c.name(),
            Subject::Query(_) => "query",
        }
    }
}

pub struct ExportRequest {
    pub subjects: Vec<Subject>,
    pub range: DateRange,
    pub format: ExportFormat,
    pub compression: ExportCompression,
    pub row_group_size: usize,
    pub partition_by: PartitionBy,
    pub max_rows_per_file: Option<u64>,
    pub overwrite: bool,
}

impl ExportRequest {
    pub fn default_compression(format: ExportFormat) -> ExportCompression {
        match format {
            ExportFormat::Parquet => ExportCompression::Zstd,
            ExportFormat::Csv | ExportFormat::Ndjson => ExportCompression::None,
        }
    }

    /// Checks the combination of flags before anything is fetched.
    pub fn validate(&self) -> Result<()> {
        let text = self.format != ExportFormat::Parquet;
        if text && !matches!(self.compression, ExportCompression::None | ExportCompression::Gzip) {
            return Err(Error::Usage(
                format!("--compression {:?} is for Parquet: CSV and NDJSON take gzip or none", self.compression)
                    .to_lowercase(),
            ));
        }
        Ok(())
    }

    fn extension(&self) -> String {
        let gz = self.format != ExportFormat::Parquet && self.compression == ExportCompression::Gzip;
        format!("{}{}", self.format.extension(), if gz { ".gz" } else { "" })
    }

    /// One file, or a folder of parts.
    fn single_file(&self) -> bool {
        self.partition_by == PartitionBy::None && self.max_rows_per_file.is_none()
    }

    fn base_name(&self, subject: &Subject) -> String {
        format!("{}_{}_{}", subject.name(), self.range.start, self.range.end)
    }

    /// Where a subject's output goes: its file, or its folder.
    fn target(&self, destination: &Destination, subject: &Subject) -> StorePath {
        if self.single_file() {
            destination.child(&format!("{}.{}", self.base_name(subject), self.extension()))
        } else if self.partition_by == PartitionBy::None {
            destination.child(&self.base_name(subject))
        } else {
            destination.child(subject.name())
        }
    }

    /// How a subject's rows are partitioned: snapshots (user and group lists) are not dated,
    /// so they go whole into their folder.
    fn partition_of(&self, subject: &Subject) -> PartitionBy {
        match subject {
            Subject::Category(c) if c.is_snapshot() => PartitionBy::None,
            _ => self.partition_by,
        }
    }

    fn parquet_properties(&self) -> WriterProperties {
        let compression = match self.compression {
            ExportCompression::Zstd => Compression::ZSTD(ZstdLevel::default()),
            ExportCompression::Snappy => Compression::SNAPPY,
            ExportCompression::Gzip => Compression::GZIP(GzipLevel::default()),
            ExportCompression::Lz4 => Compression::LZ4_RAW,
            ExportCompression::None => Compression::UNCOMPRESSED,
        };
        WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_row_count(Some(self.row_group_size))
            .build()
    }
}

/// A local folder or an object store, and the prefix inside it.
pub struct Destination {
    store: Arc<dyn ObjectStore>,
    prefix: StorePath,
    display: String,
}

impl Destination {
    /// `s3://`, `gs://`, `az://` (credentials from each cloud's usual environment variables,
    /// and `AWS_ENDPOINT_URL` for S3-compatible stores), `file://` or a plain folder.
    pub fn parse(target: &str) -> Result<Destination> {
        use datafusion::object_store::aws::AmazonS3Builder;
        use datafusion::object_store::azure::MicrosoftAzureBuilder;
        use datafusion::object_store::gcp::GoogleCloudStorageBuilder;
        use datafusion::object_store::local::LocalFileSystem;
        let bad = |e: &dyn std::fmt::Display| Error::Usage(format!("--output-dir {target}: {e}"));
        let (scheme, rest) = target.split_once("://").unwrap_or(("", target));
        let cloud = |store: Arc<dyn ObjectStore>| -> Result<Destination> {
            let prefix = rest.split_once('/').map_or("", |(_, p)| p).trim_matches('/');
            Ok(Destination {
                store,
                prefix: StorePath::from(prefix),
                display: target.trim_end_matches('/').to_string(),
            })
        };
        match scheme {
            "s3" | "s3a" => {
                let mut builder = AmazonS3Builder::from_env().with_url(target);
                if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
                    builder = builder.with_allow_http(endpoint.starts_with("http://")).with_endpoint(endpoint);
                }
                cloud(Arc::new(builder.build().map_err(|e| bad(&e))?))
            }
            "gs" => {
                cloud(Arc::new(GoogleCloudStorageBuilder::from_env().with_url(target).build().map_err(|e| bad(&e))?))
            }
            "az" | "abfs" | "abfss" | "azure" => {
                cloud(Arc::new(MicrosoftAzureBuilder::from_env().with_url(target).build().map_err(|e| bad(&e))?))
            }
            "" | "file" => {
                let dir = std::path::PathBuf::from(if scheme == "file" { rest } else { target });
                std::fs::create_dir_all(&dir).map_err(Error::io("cannot create the output folder", &dir))?;
                let store = LocalFileSystem::new_with_prefix(&dir).map_err(|e| bad(&e))?;
                Ok(Destination {
                    store: Arc::new(store),
                    prefix: StorePath::default(),
                    display: dir.display().to_string(),
                })
            }
            other => Err(Error::Usage(format!(
                "--output-dir {target}: unknown scheme '{other}://' (use a folder, file://, s3://, gs:// or az://)"
            ))),
        }
    }

    fn child(&self, name: &str) -> StorePath {
        let mut parts: Vec<String> = self.prefix.parts().map(|p| p.as_ref().to_string()).collect();
        parts.extend(name.split('/').map(str::to_string));
        StorePath::from_iter(parts)
    }

    fn shown(&self, path: &StorePath) -> String {
        let relative =
            path.as_ref().strip_prefix(self.prefix.as_ref()).unwrap_or(path.as_ref()).trim_start_matches('/');
        format!("{}/{relative}", self.display)
    }

    fn failed(&self, what: &str, path: &StorePath, e: impl std::fmt::Display) -> Error {
        Error::Write { context: format!("cannot {what} {}", self.shown(path)), message: e.to_string() }
    }

    async fn exists(&self, target: &StorePath) -> Result<bool> {
        match self.store.head(target).await {
            Ok(_) => return Ok(true),
            Err(datafusion::object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(self.failed("reach", target, e)),
        }
        let mut listing = self.store.list(Some(target));
        match listing.next().await {
            Some(Ok(_)) => Ok(true),
            Some(Err(datafusion::object_store::Error::NotFound { .. })) | None => Ok(false),
            Some(Err(e)) => Err(self.failed("list", target, e)),
        }
    }

    async fn remove_all(&self, target: &StorePath) -> Result<()> {
        let _ = self.store.delete(target).await;
        let objects: Vec<_> = self.store.list(Some(target)).try_collect().await.unwrap_or_default();
        for object in objects {
            self.store.delete(&object.location).await.map_err(|e| self.failed("remove", &object.location, e))?;
        }
        Ok(())
    }
}

/// A file being written: bytes go to the store as they come, counted and hashed on the way.
struct Sink {
    writer: BufWriter,
    hasher: Sha256,
    bytes: u64,
}

impl Sink {
    async fn put(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.hasher.update(data);
        self.bytes += data.len() as u64;
        self.writer.write_all(data).await
    }
}

impl AsyncFileWriter for Sink {
    fn write(&mut self, bs: Bytes) -> BoxFuture<'_, datafusion::parquet::errors::Result<()>> {
        Box::pin(async move {
            self.put(&bs).await.map_err(|e| datafusion::parquet::errors::ParquetError::External(Box::new(e)))
        })
    }

    fn complete(&mut self) -> BoxFuture<'_, datafusion::parquet::errors::Result<()>> {
        Box::pin(async move {
            self.writer.shutdown().await.map_err(|e| datafusion::parquet::errors::ParquetError::External(Box::new(e)))
        })
    }
}

struct TextFile {
    sink: Sink,
    gzip: Option<GzEncoder<Vec<u8>>>,
    csv: bool,
    header: bool,
}

enum Encoder {
    Parquet(Box<AsyncArrowWriter<Sink>>),
    Text(Box<TextFile>),
}

struct OpenFile {
    path: StorePath,
    encoder: Encoder,
    rows: u64,
    last_used: u64,
}

#[derive(Debug, Serialize)]
struct ManifestFile {
    path: String,
    rows: u64,
    bytes: u64,
    sha256: String,
}

#[derive(Debug, Serialize)]
struct Manifest {
    rows: u64,
    bytes: u64,
    files: Vec<ManifestFile>,
}

impl OpenFile {
    async fn write(&mut self, batch: &RecordBatch) -> std::result::Result<(), String> {
        self.rows += batch.num_rows() as u64;
        match &mut self.encoder {
            Encoder::Parquet(writer) => writer.write(batch).await.map_err(|e| e.to_string()),
            Encoder::Text(file) => {
                let TextFile { sink, gzip, csv, header } = &mut **file;
                let mut text = Vec::with_capacity(batch.num_rows() * 128);
                if *csv {
                    let mut writer = csv::Writer::from_writer(&mut text);
                    if !*header {
                        write_csv_header(&mut writer, &batch.schema()).map_err(|e| e.to_string())?;
                        *header = true;
                    }
                    write_csv_rows(&mut writer, batch).map_err(|e| e.to_string())?;
                    writer.flush().map_err(|e| e.to_string())?;
                } else {
                    write_ndjson_rows(&mut text, batch).map_err(|e| e.to_string())?;
                }
                let out = match gzip {
                    Some(encoder) => {
                        encoder.write_all(&text).map_err(|e| e.to_string())?;
                        std::mem::take(encoder.get_mut())
                    }
                    None => text,
                };
                sink.put(&out).await.map_err(|e| e.to_string())
            }
        }
    }

    async fn finish(self) -> std::result::Result<ManifestFile, String> {
        let sink = match self.encoder {
            Encoder::Parquet(mut writer) => {
                // Writes the footer and completes the upload (Sink::complete).
                writer.finish().await.map_err(|e| e.to_string())?;
                writer.into_inner()
            }
            Encoder::Text(file) => {
                let TextFile { mut sink, gzip, .. } = *file;
                if let Some(encoder) = gzip {
                    let tail = encoder.finish().map_err(|e| e.to_string())?;
                    sink.put(&tail).await.map_err(|e| e.to_string())?;
                }
                sink.writer.shutdown().await.map_err(|e| e.to_string())?;
                sink
            }
        };
        Ok(ManifestFile {
            path: self.path.to_string(),
            rows: self.rows,
            bytes: sink.bytes,
            sha256: hex::encode(sink.hasher.finalize()),
        })
    }

    async fn abort(self) {
        let mut sink = match self.encoder {
            Encoder::Parquet(writer) => writer.into_inner(),
            Encoder::Text(file) => file.sink,
        };
        let _ = sink.writer.abort().await;
    }
}

/// The partition a row belongs to, from its `ts` (or first timestamp or date) column.
fn partition_keys(batch: &RecordBatch, by: PartitionBy) -> std::result::Result<Vec<String>, String> {
    let schema = batch.schema();
    let index = schema
        .index_of("ts")
        .ok()
        .or_else(|| {
            schema.fields().iter().position(|f| matches!(f.data_type(), DataType::Timestamp(_, _) | DataType::Date32))
        })
        .ok_or("--partition-by needs a `ts` column (or another timestamp or date column) in what is exported")?;
    let column =
        datafusion::arrow::compute::cast(batch.column(index), &DataType::Timestamp(TimeUnit::Microsecond, None))
            .map_err(|e| e.to_string())?;
    let micros = column.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
    let format = match by {
        PartitionBy::Day => "date=%Y-%m-%d",
        PartitionBy::Month => "month=%Y-%m",
        PartitionBy::None => unreachable!("partitions only with --partition-by"),
    };
    (0..micros.len())
        .map(|i| {
            if micros.is_null(i) {
                return Ok("date=__HIVE_DEFAULT_PARTITION__".to_string());
            }
            DateTime::<Utc>::from_timestamp_micros(micros.value(i))
                .map(|t| t.format(format).to_string())
                .ok_or_else(|| "a timestamp out of range".to_string())
        })
        .collect()
}

pub struct Exported {
    pub subject: String,
    pub location: String,
    pub files: usize,
    pub rows: u64,
    pub bytes: u64,
}

struct SubjectExport<'a> {
    request: &'a ExportRequest,
    partition: PartitionBy,
    destination: &'a Destination,
    target: StorePath,
    schema: SchemaRef,
    open: HashMap<String, OpenFile>,
    parts: BTreeMap<String, usize>,
    finished: Vec<ManifestFile>,
    clock: u64,
}

impl SubjectExport<'_> {
    fn bytes_written(&self) -> u64 {
        let open: u64 = self
            .open
            .values()
            .map(|f| match &f.encoder {
                Encoder::Parquet(w) => w.bytes_written() as u64,
                Encoder::Text(t) => t.sink.bytes,
            })
            .sum();
        open + self.finished.iter().map(|f| f.bytes).sum::<u64>()
    }

    fn part_path(&mut self, key: &str) -> StorePath {
        if self.request.single_file() {
            return self.target.clone();
        }
        let index = self.parts.entry(key.to_string()).or_insert(0);
        let name = format!("part-{:05}.{}", *index, self.request.extension());
        *index += 1;
        let mut parts: Vec<String> = self.target.parts().map(|p| p.as_ref().to_string()).collect();
        if !key.is_empty() {
            parts.push(key.to_string());
        }
        parts.push(name);
        StorePath::from_iter(parts)
    }

    async fn open_file(&mut self, key: &str) -> Result<OpenFile> {
        let path = self.part_path(key);
        let sink = Sink {
            writer: BufWriter::new(self.destination.store.clone(), path.clone()),
            hasher: Sha256::new(),
            bytes: 0,
        };
        let encoder = match self.request.format {
            ExportFormat::Parquet => Encoder::Parquet(Box::new(
                AsyncArrowWriter::try_new(sink, self.schema.clone(), Some(self.request.parquet_properties()))
                    .map_err(|e| self.destination.failed("start", &path, e))?,
            )),
            format => Encoder::Text(Box::new(TextFile {
                sink,
                gzip: (self.request.compression == ExportCompression::Gzip)
                    .then(|| GzEncoder::new(Vec::new(), flate2::Compression::default())),
                csv: format == ExportFormat::Csv,
                header: false,
            })),
        };
        Ok(OpenFile { path, encoder, rows: 0, last_used: 0 })
    }

    async fn write(&mut self, key: String, batch: RecordBatch) -> Result<()> {
        self.clock += 1;
        if !self.open.contains_key(&key) {
            if self.open.len() >= MAX_OPEN_FILES {
                let oldest = self.open.iter().min_by_key(|(_, f)| f.last_used).map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    self.close(&oldest).await?;
                }
            }
            let file = self.open_file(&key).await?;
            self.open.insert(key.clone(), file);
        }
        let limit = self.request.max_rows_per_file.unwrap_or(u64::MAX);
        let mut batch = batch;
        while batch.num_rows() > 0 {
            let Some(file) = self.open.get_mut(&key) else { break };
            let room = (limit - file.rows.min(limit)) as usize;
            if room == 0 {
                self.close(&key).await?;
                let file = self.open_file(&key).await?;
                self.open.insert(key.clone(), file);
                continue;
            }
            let take = batch.num_rows().min(room);
            let (now, rest) = (batch.slice(0, take), batch.slice(take, batch.num_rows() - take));
            file.last_used = self.clock;
            let path = file.path.clone();
            file.write(&now).await.map_err(|e| self.destination.failed("write", &path, e))?;
            batch = rest;
        }
        Ok(())
    }

    async fn close(&mut self, key: &str) -> Result<()> {
        if let Some(file) = self.open.remove(key) {
            let path = file.path.clone();
            let done = file.finish().await.map_err(|e| self.destination.failed("finish", &path, e))?;
            self.finished.push(done);
        }
        Ok(())
    }

    async fn abort(&mut self) {
        for (_, file) in self.open.drain() {
            file.abort().await;
        }
        if !self.request.single_file() {
            for file in &self.finished {
                let _ = self.destination.store.delete(&StorePath::from(file.path.as_str())).await;
            }
        }
    }
}

/// Refuses existing output (without --overwrite) before anything is fetched or written.
pub async fn check_targets(request: &ExportRequest, destination: &Destination) -> Result<()> {
    for subject in &request.subjects {
        let target = request.target(destination, subject);
        if !request.overwrite && destination.exists(&target).await? {
            return Err(Error::OutputExists(destination.shown(&target).into()));
        }
    }
    Ok(())
}

pub async fn export(
    engine: &Engine,
    request: &ExportRequest,
    destination: &Destination,
    printer: &Printer,
) -> Result<Vec<Exported>> {
    if request.overwrite {
        for subject in &request.subjects {
            destination.remove_all(&request.target(destination, subject)).await?;
        }
    }
    let mut results = Vec::new();
    for subject in &request.subjects {
        results.push(export_subject(engine, request, destination, subject, printer).await?);
    }
    Ok(results)
}

async fn export_subject(
    engine: &Engine,
    request: &ExportRequest,
    destination: &Destination,
    subject: &Subject,
    printer: &Printer,
) -> Result<Exported> {
    let statement = match subject {
        Subject::Category(c) => select_all(*c),
        Subject::Query(q) => (**q).clone(),
    };
    let mut stream = engine.execute(statement).await?;
    let mut job = SubjectExport {
        request,
        partition: request.partition_of(subject),
        destination,
        target: request.target(destination, subject),
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
                    take_record_batch(&batch, &UInt32Array::from(indices)).map_err(|e| Error::Query(e.to_string()))?
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
    if !request.single_file() {
        let manifest = Manifest { rows, bytes, files: std::mem::take(&mut job.finished) };
        let text = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Query(e.to_string()))?;
        let success =
            StorePath::from_iter(job.target.parts().map(|p| p.as_ref().to_string()).chain([SUCCESS_FILE.to_string()]));
        destination.store.put(&success, text.into()).await.map_err(|e| destination.failed("write", &success, e))?;
        job.finished = manifest.files;
    }
    let location = destination.shown(&job.target);
    printer.info(&format!("wrote {location} ({rows} rows, {bytes} bytes, {} file(s))", job.finished.len()));
    Ok(Exported { subject: subject.name().to_string(), location, files: job.finished.len(), rows, bytes })
}

fn select_all(category: Category) -> Statement {
    let sql = format!("SELECT * FROM {}", crate::engine::table_name(category));
    crate::compat::prepare(&sql).ok().and_then(|mut s| s.pop()).expect("SELECT * FROM a table is valid SQL")
}
