//! One file the cache's writer is filling: its rows encoded into row groups on a thread of their
//! own (shredded, and sorted by type then time for `activity`), under a temporary name until the
//! fetch commits.

use std::fs::File;

use chrono::NaiveDate;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::{SortColumn, concat_batches, lexsort_to_indices, take_record_batch};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::metadata::KeyValue;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;

use crate::atomic::{Staged, stage};
use crate::cache::manifest::EVENT_TYPES_KEY;
use crate::cache::{FileFacts, SourceCache, Span};
use crate::category::Category;
use crate::error::{Error, Result};
use crate::shred;

/// Small row groups bound the memory of each open day and let statistics prune well.
pub(super) const ROW_GROUP_ROWS: usize = 128 * 1024;

pub(super) fn cache_writer_properties() -> WriterProperties {
    // Payloads are all different and long: a dictionary or min/max statistics of `data` cost
    // time at every write and never help (queries read its shredded columns, which keep both).
    let data = ColumnPath::from("data");
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        // Small pages make the page index precise enough to skip all but one event type.
        .set_data_page_row_count_limit(4096)
        // Event types are a few dictionary entries in long runs: compressing them saves nothing
        // and costs every read a decompression context per column chunk.
        .set_column_compression(ColumnPath::from("type"), Compression::UNCOMPRESSED)
        .set_column_dictionary_enabled(data.clone(), false)
        .set_column_statistics_enabled(data, EnabledStatistics::None)
        .build()
}

pub(super) struct OpenFile {
    encoder: Encoder,
    staged: Staged,
    category: Category,
    /// Whether rows are written sorted by type (then time): for `activity`, so that the page
    /// index lets `type = '...'` filters skip most of a day.
    sorted: bool,
    /// Rows not yet handed to the encoder.
    pending: Vec<RecordBatch>,
    pub(super) pending_rows: usize,
}

/// The file's Parquet writer, or the thread encoding a row group with it: shredding, sorting and
/// compressing run beside the thread that reads and splits the next rows.
enum Encoder {
    Idle(Box<ArrowWriter<File>>),
    Busy(std::thread::JoinHandle<Result<Box<ArrowWriter<File>>>>),
    /// After a failure already reported.
    Gone,
}

impl OpenFile {
    pub(super) fn write(&mut self, batch: RecordBatch) -> Result<()> {
        self.pending_rows += batch.num_rows();
        self.pending.push(batch);
        if self.pending_rows >= ROW_GROUP_ROWS { self.write_pending() } else { Ok(()) }
    }

    /// Hands the pending rows (shredded, and sorted by (type, ts) for `activity`) to the
    /// encoder as a row group of their own, once it is done with the previous one.
    pub(super) fn write_pending(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        self.pending_rows = 0;
        let mut writer = self.idle_writer()?;
        let (category, sorted, temp) = (self.category, self.sorted, self.staged.temp_path().to_path_buf());
        self.encoder = Encoder::Busy(std::thread::spawn(move || {
            let failed = |action: &str, e: &dyn std::fmt::Display| {
                Error::write(format!("{action} {}", temp.display()))(e.to_string())
            };
            let cached = shred::cached_schema(category);
            let mut shredded = Vec::with_capacity(pending.len());
            for batch in pending {
                shredded.push(if batch.schema() == cached {
                    batch
                } else {
                    shred::shred(category, &batch)
                        .map_err(|e| Error::Source(format!("{category} rows do not match its schema: {e}")))?
                });
            }
            let rows = concat_batches(&cached, &shredded).map_err(|e| failed("cannot write", &e))?;
            drop(shredded);
            let rows = if sorted {
                let order = ["type", "ts"].map(|name| SortColumn {
                    values: rows.column_by_name(name).cloned().unwrap_or_else(|| rows.column(0).clone()),
                    options: None,
                });
                lexsort_to_indices(&order, None)
                    .and_then(|indices| take_record_batch(&rows, &indices))
                    .map_err(|e| failed("cannot sort", &e))?
            } else {
                rows
            };
            if sorted {
                writer.append_key_value_metadata(KeyValue::new(
                    EVENT_TYPES_KEY.to_string(),
                    serde_json::to_string(&distinct_sorted(&rows)).unwrap_or_default(),
                ));
            }
            writer.write(&rows).and_then(|()| writer.flush()).map_err(|e| failed("cannot write", &e))?;
            Ok(writer)
        }));
        Ok(())
    }

    /// The writer, once the row group being encoded is written.
    fn idle_writer(&mut self) -> Result<Box<ArrowWriter<File>>> {
        match std::mem::replace(&mut self.encoder, Encoder::Gone) {
            Encoder::Idle(writer) => Ok(writer),
            Encoder::Busy(job) => match job.join() {
                Ok(result) => result,
                Err(_) => Err(Error::internal("writing the cache")("an encoding thread stopped".into())),
            },
            Encoder::Gone => Err(Error::internal("writing the cache")("the file failed before".into())),
        }
    }
}

/// The distinct values of the `type` column of rows sorted by it.
fn distinct_sorted(rows: &RecordBatch) -> Vec<String> {
    let Some(types) = rows.column_by_name("type").and_then(|c| c.as_string_opt::<i32>()) else {
        return Vec::new();
    };
    let mut distinct: Vec<String> = Vec::new();
    for value in types.iter().flatten() {
        if distinct.last().is_none_or(|last| last != value) {
            distinct.push(value.to_string());
        }
    }
    distinct
}

pub(super) type FileKey = (Category, Option<NaiveDate>);

/// A complete file under its temporary name, with what the manifest records of it.
pub(super) struct Finished {
    pub(super) staged: Staged,
    pub(super) category: Category,
    pub(super) facts: FileFacts,
}

/// Writes a file's footer, syncs it and reads its facts back; it is then complete under its
/// temporary name.
pub(super) fn finish((category, day): FileKey, mut file: OpenFile) -> Result<Finished> {
    file.write_pending()?;
    let writer = file.idle_writer()?;
    let staged = file.staged;
    let written = writer
        .into_inner()
        .map_err(|e| Error::write(format!("cannot finish {}", staged.temp_path().display()))(e.to_string()))?;
    written.sync_all().map_err(Error::io("cannot sync", staged.temp_path()))?;
    drop(written);
    let facts = FileFacts::read(staged.temp_path(), category, day.map(Span::Day)).ok_or_else(|| {
        Error::write(format!("cannot read back {}", staged.temp_path().display()))(
            "the file just written does not hold its day".into(),
        )
    })?;
    Ok(Finished { staged, category, facts })
}

pub(super) fn open_file(cache: &SourceCache, category: Category, day: Option<NaiveDate>) -> Result<OpenFile> {
    let target = match day {
        Some(day) => cache.day_path(category, day),
        None => cache.snapshot_path(category),
    };
    // Mode 0600, as the whole cache: it holds an organisation's audit trail.
    let (file, staged) = stage(&target, 0o600, ".parquet")?;
    let writer = ArrowWriter::try_new(file, shred::cached_schema(category), Some(cache_writer_properties()))
        .map_err(|e| Error::write(format!("cannot start {}", staged.temp_path().display()))(e.to_string()))?;
    Ok(OpenFile {
        encoder: Encoder::Idle(Box::new(writer)),
        staged,
        category,
        sorted: category == Category::Activity,
        pending: Vec::new(),
        pending_rows: 0,
    })
}
