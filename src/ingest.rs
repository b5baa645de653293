//! Ingest: files (Parquet, CSV, CSV.gz) → Arrow batches in the normalised schema → split by
//! UTC day → one Parquet file per day in the cache, written under a temporary name and renamed
//! into place only once complete.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
    TimestampMicrosecondArray, UInt32Array,
};
use datafusion::arrow::compute::{SortColumn, concat_batches, lexsort_to_indices, take_record_batch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::EnabledStatistics;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;
use flate2::read::MultiGzDecoder;
use tempfile::TempPath;

use crate::cache::{SourceCache, TEMP_PREFIX, sync_dir};
use crate::category::Category;
use crate::dates::from_epoch_day;
use crate::error::{Error, Result};
use crate::shred;

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// Small row groups bound the memory of each open day and let statistics prune well.
const ROW_GROUP_ROWS: usize = 128 * 1024;

pub fn cache_writer_properties() -> WriterProperties {
    // Payloads are all different and long: a dictionary or min/max statistics of `data` cost
    // time at every write and never help (queries read its shredded columns, which keep both).
    let data = ColumnPath::from("data");
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        // Small pages make the page index precise enough to skip all but one event type.
        .set_data_page_row_count_limit(4096)
        .set_column_dictionary_enabled(data.clone(), false)
        .set_column_statistics_enabled(data, EnabledStatistics::None)
        .build()
}

struct OpenFile {
    writer: ArrowWriter<File>,
    temp: TempPath,
    target: PathBuf,
    /// Activity rows not yet written: they are written sorted by type (then time), so that the
    /// page index lets `type = '...'` filters skip most of a day.
    pending: Vec<RecordBatch>,
    pending_rows: usize,
}

impl OpenFile {
    fn write(&mut self, category: Category, batch: RecordBatch) -> Result<()> {
        if category != Category::Activity {
            return self.writer.write(&batch).map_err(|e| self.error("cannot write", e));
        }
        self.pending_rows += batch.num_rows();
        self.pending.push(batch);
        if self.pending_rows >= ROW_GROUP_ROWS { self.write_pending() } else { Ok(()) }
    }

    /// Writes the pending rows sorted by (type, ts), as row groups of their own.
    fn write_pending(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let schema = self.pending[0].schema();
        let rows = concat_batches(&schema, &self.pending).map_err(|e| self.error("cannot write", e))?;
        self.pending.clear();
        self.pending_rows = 0;
        let order = ["type", "ts"].map(|name| SortColumn {
            values: rows.column_by_name(name).cloned().unwrap_or_else(|| rows.column(0).clone()),
            options: None,
        });
        let sorted = lexsort_to_indices(&order, None)
            .and_then(|indices| take_record_batch(&rows, &indices))
            .map_err(|e| self.error("cannot sort", e))?;
        self.writer.write(&sorted).map_err(|e| self.error("cannot write", e))?;
        self.writer.flush().map_err(|e| self.error("cannot write", e))
    }

    fn error(&self, action: &str, e: impl std::fmt::Display) -> Error {
        Error::write(format!("{action} {}", self.temp.display()))(e.to_string())
    }
}

/// Writes the days (and snapshots) one fetch produces; nothing is visible until `commit`.
pub struct CacheWriter<'a> {
    cache: &'a SourceCache,
    /// The days each category expects; rows of other days are dropped (already cached).
    expected: BTreeMap<Category, Vec<NaiveDate>>,
    open: BTreeMap<(Category, Option<NaiveDate>), OpenFile>,
    /// Days known to be complete, written and synced under their temporary names.
    done: BTreeMap<(Category, Option<NaiveDate>), (TempPath, PathBuf)>,
    rows: u64,
}

impl<'a> CacheWriter<'a> {
    pub fn new(cache: &'a SourceCache, expected: BTreeMap<Category, Vec<NaiveDate>>) -> Self {
        CacheWriter { cache, expected, open: BTreeMap::new(), done: BTreeMap::new(), rows: 0 }
    }

    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    /// Adds rows of a dated category, in any order and spanning any days.
    pub fn write_dated(&mut self, category: Category, batch: &RecordBatch) -> Result<()> {
        let column = category
            .day_column()
            .and_then(|name| batch.column_by_name(name))
            .ok_or_else(|| Error::Source(format!("{category} rows have no `ts` column")))?;
        let ts = column.as_primitive_opt::<TimestampMicrosecondType>().ok_or_else(|| {
            Error::Source(format!("{category}.ts is {} where microsecond timestamps were expected", column.data_type()))
        })?;
        if ts.null_count() > 0 {
            return Err(Error::Source(format!("{category} has rows without a timestamp")));
        }
        let days = ts.values().iter().map(|t| t.div_euclid(MICROS_PER_DAY));
        // Most batches hold one day: write them whole, split only when they straddle days.
        let mut by_day: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
        let first = ts.values().first().map(|t| t.div_euclid(MICROS_PER_DAY));
        if days.clone().all(|d| Some(d) == first) {
            if let Some(day) = first {
                return self.write_day(category, day, batch.clone());
            }
            return Ok(());
        }
        for (row, day) in days.enumerate() {
            by_day.entry(day).or_default().push(row as u32);
        }
        for (day, rows) in by_day {
            let part = take_record_batch(batch, &UInt32Array::from(rows))
                .map_err(|e| Error::Source(format!("cannot split {category} by day: {e}")))?;
            self.write_day(category, day, part)?;
        }
        Ok(())
    }

    fn write_day(&mut self, category: Category, epoch_day: i64, batch: RecordBatch) -> Result<()> {
        let Some(day) = from_epoch_day(epoch_day) else {
            return Err(Error::Source(format!("{category} has a timestamp out of range")));
        };
        if !self.expected.get(&category).is_some_and(|days| days.contains(&day)) {
            return Ok(());
        }
        self.append(category, Some(day), &batch)
    }

    /// Adds rows of a snapshot category (user or group list).
    pub fn write_snapshot(&mut self, category: Category, batch: &RecordBatch) -> Result<()> {
        self.append(category, None, batch)
    }

    fn append(&mut self, category: Category, day: Option<NaiveDate>, batch: &RecordBatch) -> Result<()> {
        let file = match self.open.entry((category, day)) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(open_file(self.cache, category, day)?),
        };
        let batch = if batch.schema() == shred::cached_schema(category) {
            batch.clone()
        } else {
            batch
                .clone()
                .with_schema(category.schema())
                .and_then(|b| shred::shred(category, &b).map_err(datafusion::arrow::error::ArrowError::ComputeError))
                .map_err(|e| Error::Source(format!("{category} rows do not match its schema: {e}")))?
        };
        self.rows += batch.num_rows() as u64;
        file.write(category, batch)?;
        // Rows mostly come day after day: a day that gets no more rows now writes what it holds,
        // so that memory does not grow with the number of days.
        let others: Vec<_> = self
            .open
            .iter()
            .filter(|((c, d), f)| *c == category && *d != day && f.pending_rows > 0)
            .map(|(key, _)| *key)
            .collect();
        for key in others {
            if let Some(file) = self.open.get_mut(&key) {
                file.write_pending()?;
            }
        }
        Ok(())
    }

    /// Finishes every file (days without rows get an empty file: they are known to be empty)
    /// and renames them into place. Until this returns, no new day is visible.
    /// Says that every row of `day` has been written (a source that delivers whole days), so
    /// that its file is finished now rather than held open, with its rows in memory, until
    /// `commit`. It still becomes visible only at `commit`.
    pub fn day_complete(&mut self, category: Category, day: NaiveDate) -> Result<()> {
        let key = (category, Some(day));
        if let Some(file) = self.open.remove(&key) {
            self.done.insert(key, finish(file)?);
        }
        Ok(())
    }

    pub fn commit(mut self) -> Result<usize> {
        let expected: Vec<(Category, Option<NaiveDate>)> =
            self.expected.iter().flat_map(|(c, days)| days.iter().map(|d| (*c, Some(*d)))).collect();
        for key in expected {
            if !self.open.contains_key(&key) && !self.done.contains_key(&key) {
                let file = open_file(self.cache, key.0, key.1)?;
                self.open.insert(key, file);
            }
        }
        // Finishing a file encodes and compresses its last row group: the files are finished on
        // every core at once.
        let files: Vec<OpenFile> = std::mem::take(&mut self.open).into_values().collect();
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
        let per_worker = files.len().div_ceil(workers).max(1);
        let mut groups: Vec<Vec<OpenFile>> = Vec::new();
        let mut files = files.into_iter().peekable();
        while files.peek().is_some() {
            groups.push(files.by_ref().take(per_worker).collect());
        }
        let finished: Vec<(TempPath, PathBuf)> = std::thread::scope(|scope| {
            let handles: Vec<_> =
                groups.into_iter().map(|group| scope.spawn(move || group.into_iter().map(finish).collect())).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::write("cannot finish the cache files")("a writer stopped".into()))
                    })
                })
                .collect::<Result<Vec<Vec<_>>>>()
        })?
        .into_iter()
        .flatten()
        .chain(std::mem::take(&mut self.done).into_values())
        .collect();
        let count = finished.len();
        let mut dirs = Vec::new();
        for (temp, target) in finished {
            temp.persist(&target).map_err(|e| Error::io("cannot move into place", &target)(e.error))?;
            if let Some(parent) = target.parent()
                && !dirs.contains(&parent.to_path_buf())
            {
                dirs.push(parent.to_path_buf());
            }
        }
        for dir in dirs {
            sync_dir(&dir)?;
        }
        Ok(count)
    }
}

/// Writes a file's footer and syncs it; it is then complete under its temporary name.
fn finish(mut file: OpenFile) -> Result<(TempPath, PathBuf)> {
    file.write_pending()?;
    let OpenFile { writer, temp, target, .. } = file;
    let written =
        writer.into_inner().map_err(|e| Error::write(format!("cannot finish {}", temp.display()))(e.to_string()))?;
    written.sync_all().map_err(Error::io("cannot sync", temp.to_path_buf()))?;
    Ok((temp, target))
}

fn open_file(cache: &SourceCache, category: Category, day: Option<NaiveDate>) -> Result<OpenFile> {
    let dir = cache.category_dir(category);
    fs::create_dir_all(&dir).map_err(Error::io("cannot create", &dir))?;
    let (file, temp) = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(".parquet")
        .tempfile_in(&dir)
        .map_err(Error::io("cannot create a file in", &dir))?
        .into_parts();
    let target = match day {
        Some(day) => cache.day_path(category, day),
        None => cache.snapshot_path(category),
    };
    let writer = ArrowWriter::try_new(file, shred::cached_schema(category), Some(cache_writer_properties()))
        .map_err(|e| Error::write(format!("cannot start {}", temp.display()))(e.to_string()))?;
    Ok(OpenFile { writer, temp, target, pending: Vec::new(), pending_rows: 0 })
}

/// Reads a downloaded or exported file as batches of `category`'s normalised schema, one batch
/// at a time (memory does not grow with the file). Gzip is recognised by its magic bytes.
pub fn file_batches(path: &Path, category: Category) -> Result<Box<dyn Iterator<Item = Result<RecordBatch>> + Send>> {
    let mut file = File::open(path).map_err(Error::io("cannot read", path))?;
    let mut magic = [0u8; 4];
    let read = file.read(&mut magic).map_err(Error::io("cannot read", path))?;
    file.seek(SeekFrom::Start(0)).map_err(Error::io("cannot read", path))?;
    let name = path.display().to_string();
    if read == 4 && &magic == b"PAR1" {
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.with_batch_size(BATCH_ROWS).build())
            .map_err(|e| Error::Source(format!("{name} is not a readable Parquet file: {e}")))?;
        return Ok(Box::new(reader.map(move |batch| {
            let batch = batch.map_err(|e| Error::Source(format!("{name}: {e}")))?;
            normalise(category, &batch).map_err(|e| Error::Source(format!("{name}: {e}")))
        })));
    }
    let input: Box<dyn Read + Send> = if read >= 2 && magic[..2] == [0x1f, 0x8b] {
        Box::new(BufReader::new(MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    csv_batches(input, category, name)
}

const BATCH_ROWS: usize = 8192;

/// [`file_batches`] with the reading, decoding and JSON shredding done on another thread, so
/// that they overlap with the cache writer's encoding and compression.
pub fn shredded_batches(path: &Path, category: Category) -> Result<impl Iterator<Item = Result<RecordBatch>>> {
    let batches = file_batches(path, category)?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<RecordBatch>>(4);
    std::thread::spawn(move || {
        for batch in batches {
            let batch = batch.and_then(|b| shred::shred(category, &b).map_err(Error::Source));
            // A closed channel means the writer stopped (an error): stop reading too.
            if tx.send(batch).is_err() {
                break;
            }
        }
    });
    Ok(rx.into_iter())
}

/// CSV as CARTO writes it: RFC 4180 (newlines inside quoted fields), a header naming the
/// columns in any order, ISO 8601 timestamps, `group_ids` as a JSON array.
fn csv_batches(
    input: Box<dyn Read + Send>,
    category: Category,
    name: String,
) -> Result<Box<dyn Iterator<Item = Result<RecordBatch>> + Send>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(input);
    let headers =
        reader.headers().map_err(|e| Error::Source(format!("{name} is not a CSV file with a header: {e}")))?.clone();
    let schema = category.schema();
    let mut positions = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        match headers.iter().position(|h| h.trim().eq_ignore_ascii_case(field.name())) {
            Some(p) => positions.push(p),
            None => {
                let wanted: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(Error::Source(format!(
                    "{name} has no column '{}': a {category} file has the columns {}",
                    field.name(),
                    wanted.join(", ")
                )));
            }
        }
    }
    let mut records = reader.into_records();
    let mut line = 1u64;
    Ok(Box::new(std::iter::from_fn(move || {
        let mut rows = Vec::with_capacity(BATCH_ROWS);
        for record in records.by_ref() {
            line += 1;
            match record {
                Ok(r) => rows.push(r),
                Err(e) => return Some(Err(Error::Source(format!("{name}: record {line}: {e}")))),
            }
            if rows.len() == BATCH_ROWS {
                break;
            }
        }
        if rows.is_empty() {
            return None;
        }
        Some(csv_batch(category, &rows, &positions).map_err(|e| Error::Source(format!("{name}: {e}"))))
    })))
}

fn csv_batch(category: Category, rows: &[csv::StringRecord], positions: &[usize]) -> Result<RecordBatch, String> {
    let schema = category.schema();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(positions.len());
    for (field, &at) in schema.fields().iter().zip(positions) {
        let cells = rows.iter().map(|r| r.get(at).filter(|c| !c.is_empty()));
        let column: ArrayRef = match field.data_type() {
            DataType::Utf8 if field.is_nullable() => Arc::new(StringArray::from_iter(cells)),
            DataType::Utf8 => Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.get(at).unwrap_or("")))),
            DataType::Float64 => Arc::new(
                cells
                    .map(|c| {
                        c.map(|c| {
                            c.trim().parse::<f64>().map_err(|_| format!("{} '{c}' is not a number", field.name()))
                        })
                        .transpose()
                    })
                    .collect::<Result<Float64Array, String>>()?,
            ),
            DataType::Timestamp(_, _) => Arc::new(
                cells
                    .map(|c| {
                        c.map(|c| {
                            parse_timestamp(c)
                                .ok_or_else(|| format!("{} '{c}' is not an ISO 8601 timestamp", field.name()))
                        })
                        .transpose()
                    })
                    .collect::<Result<TimestampMicrosecondArray, String>>()?
                    .with_timezone("UTC"),
            ),
            DataType::List(_) => {
                let mut lists = ListBuilder::new(StringBuilder::new());
                for cell in cells {
                    match cell {
                        None => lists.append(false),
                        Some(c) => {
                            let items: Vec<String> = serde_json::from_str(c)
                                .map_err(|_| format!("{} '{c}' is not a JSON array of strings", field.name()))?;
                            for item in items {
                                lists.values().append_value(item);
                            }
                            lists.append(true);
                        }
                    }
                }
                Arc::new(lists.finish())
            }
            other => return Err(format!("no CSV reading for {other}")),
        };
        columns.push(column);
    }
    RecordBatch::try_new(schema, columns).map_err(|e| format!("rows do not fit the {category} schema: {e}"))
}

/// The contract's timestamp forms: `2025-10-01T08:15:02.311Z`, `2025-10-01 08:15:02.311` and
/// `2025-10-01 08:15:02.311 UTC` (fractions optional), all UTC; as microseconds.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text
        .strip_suffix(" UTC")
        .or_else(|| text.strip_suffix('Z'))
        .or_else(|| text.strip_suffix("+00:00"))
        .unwrap_or(text);
    let normal = text.replacen('T', " ", 1);
    let parsed = chrono::NaiveDateTime::parse_from_str(&normal, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDate::parse_from_str(&normal, "%Y-%m-%d").map(|d| d.and_time(chrono::NaiveTime::MIN)))
        .ok()?;
    Some(parsed.and_utc().timestamp_micros())
}

/// Casts a batch to `category`'s schema: columns found by name in any case, timestamps to
/// microseconds in UTC, other types to the schema's.
pub fn normalise(category: Category, batch: &RecordBatch) -> Result<RecordBatch, String> {
    let schema = category.schema();
    let source = batch.schema();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let Some((index, _)) =
            source.fields().iter().enumerate().find(|(_, f)| f.name().eq_ignore_ascii_case(field.name()))
        else {
            return Err(format!(
                "no column '{}' (a {category} file has {})",
                field.name(),
                schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(", ")
            ));
        };
        let column = batch.column(index);
        let cast = if column.data_type() == field.data_type() {
            column.clone()
        } else {
            datafusion::arrow::compute::cast(column, field.data_type()).map_err(|e| {
                format!("column '{}' ({}) cannot become {}: {e}", field.name(), column.data_type(), field.data_type())
            })?
        };
        columns.push(cast);
    }
    RecordBatch::try_new(schema, columns).map_err(|e| format!("rows do not fit the {category} schema: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::dates::{DateRange, parse_date};

    fn activity(ts: Vec<i64>) -> RecordBatch {
        let n = ts.len();
        RecordBatch::try_new(
            Category::Activity.schema(),
            vec![
                Arc::new(StringArray::from(vec!["E"; n])),
                Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")),
                Arc::new(StringArray::from(vec!["{}"; n])),
            ],
        )
        .unwrap()
    }

    fn rows(path: &PathBuf) -> usize {
        ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
            .unwrap()
            .metadata()
            .file_metadata()
            .num_rows() as usize
    }

    #[test]
    fn splits_by_utc_day_and_commits_only_expected_days() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::locate(Some(dir.path().to_path_buf())).unwrap();
        let source = cache.source("t");
        let range = DateRange::new(parse_date("2025-10-01").unwrap(), parse_date("2025-10-03").unwrap()).unwrap();
        let oct1 = 1_759_276_800_000_000i64; // 2025-10-01T00:00:00Z
        let expected = BTreeMap::from([(Category::Activity, vec![range.start, range.end])]);
        let mut writer = CacheWriter::new(&source, expected);
        // Rows of Oct 1, Oct 2 (not expected: dropped) and Oct 3, across a batch boundary.
        writer
            .write_dated(
                Category::Activity,
                &activity(vec![oct1 + 5, MICROS_PER_DAY + oct1, oct1 + 2 * MICROS_PER_DAY]),
            )
            .unwrap();
        writer.write_dated(Category::Activity, &activity(vec![oct1 + 2 * MICROS_PER_DAY - 1])).unwrap();
        assert!(source.missing_days(Category::Activity, &range).len() == 3, "nothing visible before commit");
        assert_eq!(writer.commit().unwrap(), 2);
        assert_eq!(rows(&source.day_path(Category::Activity, range.start)), 1);
        assert_eq!(rows(&source.day_path(Category::Activity, range.end)), 1);
        assert_eq!(source.missing_days(Category::Activity, &range), vec![parse_date("2025-10-02").unwrap()]);
    }

    #[test]
    fn a_day_is_written_sorted_by_type_then_time() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::locate(Some(dir.path().to_path_buf())).unwrap();
        let source = cache.source("t");
        let day = parse_date("2025-10-01").unwrap();
        let oct1 = 1_759_276_800_000_000i64;
        let mut writer = CacheWriter::new(&source, BTreeMap::from([(Category::Activity, vec![day])]));
        let batch = |types: Vec<&str>, ts: Vec<i64>| {
            let n = ts.len();
            RecordBatch::try_new(
                Category::Activity.schema(),
                vec![
                    Arc::new(StringArray::from(types)),
                    Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")),
                    Arc::new(StringArray::from(vec!["{}"; n])),
                ],
            )
            .unwrap()
        };
        writer
            .write_dated(Category::Activity, &batch(vec!["B", "A", "B"], vec![oct1 + 3, oct1 + 2, oct1 + 1]))
            .unwrap();
        writer.write_dated(Category::Activity, &batch(vec!["A"], vec![oct1])).unwrap();
        writer.commit().unwrap();
        let read: Vec<RecordBatch> =
            ParquetRecordBatchReaderBuilder::try_new(File::open(source.day_path(Category::Activity, day)).unwrap())
                .unwrap()
                .build()
                .unwrap()
                .collect::<std::result::Result<_, _>>()
                .unwrap();
        let rows = datafusion::arrow::compute::concat_batches(&read[0].schema(), &read).unwrap();
        let types: Vec<&str> = rows.column(0).as_string::<i32>().iter().flatten().collect();
        let ts: Vec<i64> = rows.column(1).as_primitive::<TimestampMicrosecondType>().values().to_vec();
        assert_eq!(types, ["A", "A", "B", "B"]);
        assert_eq!(ts, [oct1, oct1 + 2, oct1 + 1, oct1 + 3]);
    }

    #[test]
    fn an_abandoned_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::locate(Some(dir.path().to_path_buf())).unwrap();
        let source = cache.source("t");
        let day = parse_date("2025-10-01").unwrap();
        let mut writer = CacheWriter::new(&source, BTreeMap::from([(Category::Activity, vec![day])]));
        writer.write_dated(Category::Activity, &activity(vec![1_759_276_800_000_000])).unwrap();
        drop(writer);
        let left: Vec<_> = fs::read_dir(source.category_dir(Category::Activity)).unwrap().collect();
        assert!(left.is_empty(), "temporary files are removed: {left:?}");
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn timestamps_in_the_contracts_three_forms() {
        let expected = Some(1_759_306_502_311_000);
        assert_eq!(parse_timestamp("2025-10-01T08:15:02.311Z"), expected);
        assert_eq!(parse_timestamp("2025-10-01 08:15:02.311"), expected);
        assert_eq!(parse_timestamp("2025-10-01 08:15:02.311 UTC"), expected);
        assert_eq!(parse_timestamp("2025-10-01T08:15:02Z"), Some(1_759_306_502_000_000));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn gzipped_csv_with_quoted_newlines_and_lists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("userList.csv.gz");
        let mut gz = flate2::write::GzEncoder::new(File::create(&path).unwrap(), flate2::Compression::default());
        gz.write_all(b"email,user_id,role,created_at,group_ids\n\"a,\nb@x.io\",u1,Admin,2025-10-01 08:15:02.311 UTC,\"[\"\"g1\"\",\"\"g2\"\"]\"\nc@x.io,u2,Viewer,2025-10-01T00:00:00Z,\n").unwrap();
        gz.finish().unwrap();
        let batches: Vec<RecordBatch> =
            file_batches(&path, Category::UserList).unwrap().collect::<Result<_>>().unwrap();
        let batch = &batches[0];
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.column(1).as_string::<i32>().value(0), "a,\nb@x.io");
        assert_eq!(batch.column(4).as_list::<i32>().value(0).len(), 2);
        assert!(batch.column(4).is_null(1));
    }

    #[test]
    fn csv_with_wrong_columns_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("activity.csv");
        fs::write(&path, "kind,when\nx,y\n").unwrap();
        let err = file_batches(&path, Category::Activity).err().unwrap().to_string();
        assert!(err.contains("no column 'type'"), "{err}");
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Arbitrary bytes as a CSV (or gzip, or Parquet) file: rows or a clear error, never a panic.
        #[test]
        fn csv_ingest_of_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400), header in any::<bool>()) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("activity.csv");
            let mut content = if header { b"type,ts,data\n".to_vec() } else { vec![] };
            content.extend(bytes);
            fs::write(&path, content).unwrap();
            if let Ok(batches) = file_batches(&path, Category::Activity) {
                for batch in batches {
                    match batch {
                        Ok(b) => prop_assert_eq!(b.schema(), Category::Activity.schema()),
                        Err(e) => prop_assert!(!e.to_string().contains('\n')),
                    }
                }
            }
        }

        #[test]
        fn timestamps_parse_or_refuse(text in "\\PC{0,32}") {
            let _ = parse_timestamp(&text);
        }
    }
}
