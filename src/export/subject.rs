//! One subject's export: its batches split by partition into part files, a bounded number
//! open at once.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use datafusion::object_store::ObjectStoreExt;
use datafusion::object_store::buffered::BufWriter;
use datafusion::object_store::path::Path as StorePath;

use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use super::destination::Destination;
use super::files::{Encoder, ManifestFile, OpenFile, TextFile};
use super::parquet_file::ParquetFile;
use super::request::ExportRequest;
use super::sink::Sink;
use super::{ExportCompression, ExportFormat, PartitionBy};
use crate::error::Result;

/// Files open at once; past this, the least recently written one is finished (a partition seen
/// again later gets another part file).
const MAX_OPEN_FILES: usize = 16;

/// The partition a row belongs to, from its `ts` (or first timestamp or date) column.
pub(super) fn partition_keys(batch: &RecordBatch, by: PartitionBy) -> std::result::Result<Vec<String>, String> {
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

pub(super) struct SubjectExport<'a> {
    pub(super) request: &'a ExportRequest,
    pub(super) partition: PartitionBy,
    pub(super) destination: &'a Destination,
    /// Where the files are written until they are whole (below `_tmp/<run>/`).
    pub(super) staged: StorePath,
    pub(super) schema: SchemaRef,
    pub(super) open: HashMap<String, OpenFile>,
    pub(super) parts: BTreeMap<String, usize>,
    pub(super) finished: Vec<ManifestFile>,
    pub(super) clock: u64,
}

impl SubjectExport<'_> {
    pub(super) fn bytes_written(&self) -> u64 {
        let open: u64 = self
            .open
            .values()
            .map(|f| match &f.encoder {
                Encoder::Parquet(w) => w.bytes_written(),
                Encoder::Text(t) => t.sink.bytes,
            })
            .sum();
        open + self.finished.iter().map(|f| f.bytes).sum::<u64>()
    }

    pub(super) fn part_path(&mut self, key: &str) -> StorePath {
        if self.request.single_file() {
            return self.staged.clone();
        }
        let index = self.parts.entry(key.to_string()).or_insert(0);
        let name = format!("part-{:05}.{}", *index, self.request.extension());
        *index += 1;
        let mut parts: Vec<String> = self.staged.parts().map(|p| p.as_ref().to_string()).collect();
        if !key.is_empty() {
            parts.push(key.to_string());
        }
        parts.push(name);
        StorePath::from_iter(parts)
    }

    pub(super) async fn open_file(&mut self, key: &str) -> Result<OpenFile> {
        let path = self.part_path(key);
        let sink = Sink {
            writer: BufWriter::new(self.destination.store.clone(), path.clone()),
            hasher: Sha256::new(),
            bytes: 0,
        };
        let encoder = match self.request.format {
            ExportFormat::Parquet => Encoder::Parquet(Box::new(
                ParquetFile::try_new(sink, self.schema.clone(), self.request.parquet_properties())
                    .map_err(|e| self.destination.failed("start", &path, e))?,
            )),
            format => Encoder::Text(Box::new(TextFile {
                sink,
                gzip: (self.request.compression == ExportCompression::Gzip)
                    .then(|| GzEncoder::new(Vec::new(), flate2::Compression::default())),
                csv: format == ExportFormat::Csv,
                header: false,
                schema: self.schema.clone(),
            })),
        };
        Ok(OpenFile { path, encoder, rows: 0, last_used: 0 })
    }

    pub(super) async fn write(&mut self, key: String, batch: RecordBatch) -> Result<()> {
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

    pub(super) async fn close(&mut self, key: &str) -> Result<()> {
        if let Some(file) = self.open.remove(key) {
            let path = file.path.clone();
            let done = file.finish().await.map_err(|e| self.destination.failed("finish", &path, e))?;
            self.finished.push(done);
        }
        Ok(())
    }

    pub(super) async fn abort(&mut self) {
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
