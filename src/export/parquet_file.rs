//! An exported Parquet file encoded on every core: each row group's columns are encoded on
//! blocking threads (one per column) while the query produces the next rows, and the encoded
//! row groups are appended in order, their bytes streamed to the store.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowRowGroupWriterFactory, compute_leaves};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::file::writer::SerializedFileWriter;
use tokio::task::JoinHandle;

use super::files::Sink;

/// Row groups being encoded at once: one beside the query, one waiting to be appended.
const IN_FLIGHT: usize = 2;

type Encoded = std::result::Result<Vec<ArrowColumnChunk>, String>;

pub(super) struct ParquetFile {
    sink: Sink,
    /// Writes into memory; what it wrote is moved to the sink after each row group.
    writer: SerializedFileWriter<Vec<u8>>,
    factory: Arc<ArrowRowGroupWriterFactory>,
    schema: SchemaRef,
    row_group_rows: usize,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    in_flight: VecDeque<JoinHandle<Encoded>>,
    row_groups: usize,
}

impl ParquetFile {
    pub(super) fn try_new(sink: Sink, schema: SchemaRef, properties: WriterProperties) -> Result<Self, String> {
        let row_group_rows = properties.max_row_group_row_count().unwrap_or(1 << 20).max(1);
        let (writer, factory) = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(properties))
            .and_then(ArrowWriter::into_serialized_writer)
            .map_err(|e| e.to_string())?;
        Ok(ParquetFile {
            sink,
            writer,
            factory: Arc::new(factory),
            schema,
            row_group_rows,
            pending: Vec::new(),
            pending_rows: 0,
            in_flight: VecDeque::new(),
            row_groups: 0,
        })
    }

    pub(super) async fn write(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let mut batch = batch.clone();
        while self.pending_rows + batch.num_rows() >= self.row_group_rows {
            let take = self.row_group_rows - self.pending_rows;
            self.pending.push(batch.slice(0, take));
            self.pending_rows += take;
            batch = batch.slice(take, batch.num_rows() - take);
            self.encode_pending().await?;
        }
        if batch.num_rows() > 0 {
            self.pending_rows += batch.num_rows();
            self.pending.push(batch);
        }
        Ok(())
    }

    /// Starts encoding the pending rows as the next row group; appends the oldest encoded one
    /// when too many are under way.
    async fn encode_pending(&mut self) -> Result<(), String> {
        let rows = concat_batches(&self.schema, &self.pending).map_err(|e| e.to_string())?;
        self.pending.clear();
        self.pending_rows = 0;
        let (factory, index) = (self.factory.clone(), self.row_groups);
        self.row_groups += 1;
        self.in_flight.push_back(tokio::task::spawn_blocking(move || encode(&factory, index, &rows)));
        while self.in_flight.len() > IN_FLIGHT {
            self.append_oldest().await?;
        }
        Ok(())
    }

    async fn append_oldest(&mut self) -> Result<(), String> {
        let Some(job) = self.in_flight.pop_front() else { return Ok(()) };
        let chunks = job.await.map_err(|e| format!("an encoding thread stopped: {e}"))??;
        let mut row_group = self.writer.next_row_group().map_err(|e| e.to_string())?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group).map_err(|e| e.to_string())?;
        }
        row_group.close().map_err(|e| e.to_string())?;
        self.drain().await
    }

    /// Moves what the file writer has produced so far to the sink.
    async fn drain(&mut self) -> Result<(), String> {
        let bytes = Bytes::from(std::mem::take(self.writer.inner_mut()));
        if bytes.is_empty() {
            return Ok(());
        }
        self.sink.put(&bytes).await.map_err(|e| e.to_string())
    }

    /// Bytes handed to the store so far (for progress).
    pub(super) fn bytes_written(&self) -> u64 {
        self.sink.bytes
    }

    /// Encodes the last rows, writes the footer and hands back the sink (not yet shut down).
    pub(super) async fn finish(mut self) -> Result<Sink, String> {
        if self.pending_rows > 0 {
            self.encode_pending().await?;
        }
        while !self.in_flight.is_empty() {
            self.append_oldest().await?;
        }
        self.writer.finish().map_err(|e| e.to_string())?;
        self.drain().await?;
        Ok(self.sink)
    }

    /// The sink, for an aborted upload; encodings under way are dropped.
    pub(super) fn into_sink(self) -> Sink {
        for job in &self.in_flight {
            job.abort();
        }
        self.sink
    }
}

/// One row group's columns, each encoded on a thread of its own.
fn encode(factory: &ArrowRowGroupWriterFactory, index: usize, rows: &RecordBatch) -> Encoded {
    let writers = factory.create_column_writers(index).map_err(|e| e.to_string())?;
    let mut leaves = Vec::with_capacity(writers.len());
    for (field, column) in rows.schema().fields().iter().zip(rows.columns()) {
        leaves.extend(compute_leaves(field, column).map_err(|e| e.to_string())?);
    }
    if leaves.len() != writers.len() {
        return Err(format!("{} columns to write with {} column writers", leaves.len(), writers.len()));
    }
    std::thread::scope(|scope| {
        let jobs: Vec<_> = writers
            .into_iter()
            .zip(leaves)
            .map(|(mut writer, leaf)| {
                scope.spawn(move || {
                    writer.write(&leaf)?;
                    writer.close()
                })
            })
            .collect();
        jobs.into_iter()
            .map(|job| match job.join() {
                Ok(chunk) => chunk.map_err(|e| e.to_string()),
                Err(_) => Err("a column encoder stopped".to_string()),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, Int64Array, ListArray, StringArray};
    use datafusion::arrow::datatypes::Int32Type;
    use datafusion::object_store::{ObjectStore, ObjectStoreExt};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn row_groups_encoded_apart_read_back_in_order() {
        let store: Arc<dyn ObjectStore> = Arc::new(datafusion::object_store::memory::InMemory::new());
        let path = datafusion::object_store::path::Path::from("x.parquet");
        let sink = Sink {
            writer: datafusion::object_store::buffered::BufWriter::new(store.clone(), path.clone()),
            hasher: sha2::Digest::new(),
            bytes: 0,
        };
        let n = 10_000i64;
        let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..n));
        let names: ArrayRef = Arc::new(StringArray::from_iter_values((0..n).map(|i| format!("name {i}"))));
        let lists: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(
            (0..n).map(|i| if i % 3 == 0 { None } else { Some(vec![Some(i as i32), None]) }),
        ));
        let batch = RecordBatch::try_from_iter([("id", ids), ("name", names), ("list", lists)]).unwrap();
        let properties = WriterProperties::builder().set_max_row_group_row_count(Some(999)).build();
        let mut file = ParquetFile::try_new(sink, batch.schema(), properties).unwrap();
        for offset in (0..n as usize).step_by(1234) {
            file.write(&batch.slice(offset, 1234.min(n as usize - offset))).await.unwrap();
        }
        let mut sink = file.finish().await.unwrap();
        tokio::io::AsyncWriteExt::shutdown(&mut sink.writer).await.unwrap();
        let bytes = store.get(&path).await.unwrap().bytes().await.unwrap();
        assert_eq!(sink.bytes, bytes.len() as u64);
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 11, "999 rows a group");
        let read: Vec<RecordBatch> = reader.build().unwrap().map(Result::unwrap).collect();
        assert_eq!(concat_batches(&batch.schema(), &read).unwrap(), batch);
    }
}
