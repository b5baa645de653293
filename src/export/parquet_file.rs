//! An exported Parquet file encoded on every core: each column of the row group being written
//! has an encoder thread of its own, fed batch by batch while the query produces the next
//! rows (so memory holds encoded pages, as Parquet's own writer does, not raw row groups);
//! at each row group's end the columns are appended in order and the bytes streamed to the store.

use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowLeafColumn, ArrowRowGroupWriterFactory, compute_leaves,
};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::file::writer::SerializedFileWriter;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::sink::Sink;

/// Batches queued for each column's encoder: enough to keep it busy, few enough to bound memory.
const QUEUED: usize = 2;

type Chunk = Result<ArrowColumnChunk, String>;

/// One row group being encoded: a queue and a thread per leaf column.
struct RowGroup {
    columns: Vec<(mpsc::Sender<ArrowLeafColumn>, JoinHandle<Chunk>)>,
    rows: usize,
}

pub(super) struct ParquetFile {
    sink: Sink,
    /// Writes into memory; what it wrote is moved to the sink after each row group.
    writer: SerializedFileWriter<Vec<u8>>,
    factory: Arc<ArrowRowGroupWriterFactory>,
    schema: SchemaRef,
    row_group_rows: usize,
    current: Option<RowGroup>,
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
            current: None,
            row_groups: 0,
        })
    }

    pub(super) async fn write(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let mut batch = batch.clone();
        while batch.num_rows() > 0 {
            let room = self.row_group_rows - self.current.as_ref().map_or(0, |g| g.rows);
            let part = batch.slice(0, room.min(batch.num_rows()));
            batch = batch.slice(part.num_rows(), batch.num_rows() - part.num_rows());
            self.feed(&part).await?;
            if self.current.as_ref().is_some_and(|g| g.rows >= self.row_group_rows) {
                self.close_row_group().await?;
            }
        }
        Ok(())
    }

    /// Hands each column of `batch` to its encoder (starting a row group if none is open).
    async fn feed(&mut self, batch: &RecordBatch) -> Result<(), String> {
        if self.current.is_none() {
            let writers = self.factory.create_column_writers(self.row_groups).map_err(|e| e.to_string())?;
            self.row_groups += 1;
            let columns = writers.into_iter().map(spawn_encoder).collect();
            self.current = Some(RowGroup { columns, rows: 0 });
        }
        let Some(group) = self.current.as_mut() else { return Ok(()) };
        let mut leaves = Vec::with_capacity(group.columns.len());
        for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
            leaves.extend(compute_leaves(field, column).map_err(|e| e.to_string())?);
        }
        for ((queue, _), leaf) in group.columns.iter().zip(leaves) {
            // A closed queue means the encoder stopped: its error is reported when the group closes.
            let _ = queue.send(leaf).await;
        }
        group.rows += batch.num_rows();
        Ok(())
    }

    /// Waits for the row group's encoders and appends their columns to the file.
    async fn close_row_group(&mut self) -> Result<(), String> {
        let Some(group) = self.current.take() else { return Ok(()) };
        let mut chunks = Vec::with_capacity(group.columns.len());
        for (queue, encoder) in group.columns {
            drop(queue);
            chunks.push(encoder.await.map_err(|e| format!("a column encoder stopped: {e}"))??);
        }
        let mut row_group = self.writer.next_row_group().map_err(|e| e.to_string())?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group).map_err(|e| e.to_string())?;
        }
        row_group.close().map_err(|e| e.to_string())?;
        let bytes = Bytes::from(std::mem::take(self.writer.inner_mut()));
        self.sink.put(&bytes).await.map_err(|e| e.to_string())
    }

    /// Bytes handed to the store so far (for progress).
    pub(super) fn bytes_written(&self) -> u64 {
        self.sink.bytes
    }

    /// Encodes the last rows, writes the footer and hands back the sink (not yet shut down).
    pub(super) async fn finish(mut self) -> Result<Sink, String> {
        self.close_row_group().await?;
        self.writer.finish().map_err(|e| e.to_string())?;
        let bytes = Bytes::from(std::mem::take(self.writer.inner_mut()));
        self.sink.put(&bytes).await.map_err(|e| e.to_string())?;
        Ok(self.sink)
    }

    /// The sink, for an aborted upload; the encoders stop as their queues close.
    pub(super) fn into_sink(self) -> Sink {
        self.sink
    }
}

/// An encoder thread for one column of one row group: it encodes what its queue brings and
/// closes the column when the queue is closed.
fn spawn_encoder(mut writer: ArrowColumnWriter) -> (mpsc::Sender<ArrowLeafColumn>, JoinHandle<Chunk>) {
    let (queue, mut incoming) = mpsc::channel::<ArrowLeafColumn>(QUEUED);
    let encoder = tokio::task::spawn_blocking(move || {
        while let Some(leaf) = incoming.blocking_recv() {
            writer.write(&leaf).map_err(|e| e.to_string())?;
        }
        writer.close().map_err(|e| e.to_string())
    });
    (queue, encoder)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, Int64Array, ListArray, StringArray};
    use datafusion::arrow::compute::concat_batches;
    use datafusion::arrow::datatypes::Int32Type;
    use datafusion::object_store::{ObjectStore, ObjectStoreExt};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn columns_encoded_apart_read_back_in_order() {
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
