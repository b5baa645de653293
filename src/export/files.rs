//! One exported file as it is written: encoded (Parquet, CSV, NDJSON, optionally gzip),
//! streamed to the store, counted and hashed for the `_SUCCESS` manifest.

use std::io::Write;

use datafusion::arrow::array::RecordBatch;
use datafusion::object_store::path::Path as StorePath;
use flate2::write::GzEncoder;
use serde::Serialize;
use sha2::Digest;
use tokio::io::AsyncWriteExt;

use super::parquet_file::ParquetFile;
use super::sink::Sink;
use crate::encode::{write_csv_header, write_csv_rows, write_ndjson_rows};

pub(super) struct TextFile {
    pub(super) sink: Sink,
    pub(super) gzip: Option<GzEncoder<Vec<u8>>>,
    pub(super) csv: bool,
    pub(super) header: bool,
    /// For the header of a CSV file that gets no rows.
    pub(super) schema: datafusion::arrow::datatypes::SchemaRef,
}

pub(super) enum Encoder {
    Parquet(Box<ParquetFile>),
    Text(Box<TextFile>),
}

pub(super) struct OpenFile {
    pub(super) path: StorePath,
    pub(super) encoder: Encoder,
    pub(super) rows: u64,
    pub(super) last_used: u64,
}

#[derive(Debug, Serialize)]
pub(super) struct ManifestFile {
    pub(super) path: String,
    pub(super) rows: u64,
    pub(super) bytes: u64,
    sha256: String,
}

#[derive(Debug, Serialize)]
pub(super) struct Manifest {
    pub(super) rows: u64,
    pub(super) bytes: u64,
    pub(super) files: Vec<ManifestFile>,
}

impl TextFile {
    async fn write(&mut self, batch: &RecordBatch) -> std::result::Result<(), String> {
        let mut text = Vec::with_capacity(batch.num_rows() * 128);
        if self.csv {
            let mut writer = csv::Writer::from_writer(&mut text);
            if !self.header {
                write_csv_header(&mut writer, &batch.schema()).map_err(|e| e.to_string())?;
                self.header = true;
            }
            write_csv_rows(&mut writer, batch).map_err(|e| e.to_string())?;
            writer.flush().map_err(|e| e.to_string())?;
        } else {
            write_ndjson_rows(&mut text, batch).map_err(|e| e.to_string())?;
        }
        let out = match &mut self.gzip {
            Some(encoder) => {
                encoder.write_all(&text).map_err(|e| e.to_string())?;
                std::mem::take(encoder.get_mut())
            }
            None => text,
        };
        self.sink.put(&out).await.map_err(|e| e.to_string())
    }
}

impl OpenFile {
    pub(super) async fn write(&mut self, batch: &RecordBatch) -> std::result::Result<(), String> {
        self.rows += batch.num_rows() as u64;
        match &mut self.encoder {
            Encoder::Parquet(file) => file.write(batch).await,
            Encoder::Text(file) => file.write(batch).await,
        }
    }

    pub(super) async fn finish(self) -> std::result::Result<ManifestFile, String> {
        let sink = match self.encoder {
            Encoder::Parquet(file) => {
                let mut sink = file.finish().await?;
                sink.writer.shutdown().await.map_err(|e| e.to_string())?;
                sink
            }
            Encoder::Text(mut file) => {
                if file.csv && !file.header {
                    // A CSV file without rows still says what its columns are.
                    file.write(&RecordBatch::new_empty(file.schema.clone())).await?;
                }
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

    pub(super) async fn abort(self) {
        let mut sink = match self.encoder {
            Encoder::Parquet(file) => file.into_sink(),
            Encoder::Text(file) => file.sink,
        };
        let _ = sink.writer.abort().await;
    }
}
