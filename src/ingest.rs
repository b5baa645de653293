//! Ingest: Arrow batches from a source → split by UTC day → one Parquet file per day in the
//! cache, written under a temporary name and renamed into place only once complete.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::PathBuf;

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use tempfile::TempPath;

use crate::cache::{SourceCache, TEMP_PREFIX, sync_dir};
use crate::category::Category;
use crate::dates::from_epoch_day;
use crate::error::{Error, Result};

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// Small row groups bound the memory of each open day and let statistics prune well.
const ROW_GROUP_ROWS: usize = 128 * 1024;

pub fn cache_writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build()
}

struct OpenFile {
    writer: ArrowWriter<File>,
    temp: TempPath,
    target: PathBuf,
}

/// Writes the days (and snapshots) one fetch produces; nothing is visible until `commit`.
pub struct CacheWriter<'a> {
    cache: &'a SourceCache,
    /// The days each category expects; rows of other days are dropped (already cached).
    expected: BTreeMap<Category, Vec<NaiveDate>>,
    open: BTreeMap<(Category, Option<NaiveDate>), OpenFile>,
    rows: u64,
}

impl<'a> CacheWriter<'a> {
    pub fn new(cache: &'a SourceCache, expected: BTreeMap<Category, Vec<NaiveDate>>) -> Self {
        CacheWriter {
            cache,
            expected,
            open: BTreeMap::new(),
            rows: 0,
        }
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
        let ts = column
            .as_primitive_opt::<TimestampMicrosecondType>()
            .ok_or_else(|| {
                Error::Source(format!(
                    "{category}.ts is {} where microsecond timestamps were expected",
                    column.data_type()
                ))
            })?;
        if ts.null_count() > 0 {
            return Err(Error::Source(format!(
                "{category} has rows without a timestamp"
            )));
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
            return Err(Error::Source(format!(
                "{category} has a timestamp out of range"
            )));
        };
        if !self
            .expected
            .get(&category)
            .is_some_and(|days| days.contains(&day))
        {
            return Ok(());
        }
        self.append(category, Some(day), &batch)
    }

    /// Adds rows of a snapshot category (user or group list).
    pub fn write_snapshot(&mut self, category: Category, batch: &RecordBatch) -> Result<()> {
        self.append(category, None, batch)
    }

    fn append(
        &mut self,
        category: Category,
        day: Option<NaiveDate>,
        batch: &RecordBatch,
    ) -> Result<()> {
        let file = match self.open.entry((category, day)) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(open_file(self.cache, category, day)?)
            }
        };
        let batch = batch
            .clone()
            .with_schema(category.schema())
            .map_err(|e| Error::Source(format!("{category} rows do not match its schema: {e}")))?;
        file.writer.write(&batch).map_err(|e| {
            Error::write(format!("cannot write {}", file.temp.display()))(e.to_string())
        })?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Finishes every file (days without rows get an empty file: they are known to be empty)
    /// and renames them into place. Until this returns, no new day is visible.
    pub fn commit(mut self) -> Result<usize> {
        let expected: Vec<(Category, Option<NaiveDate>)> = self
            .expected
            .iter()
            .flat_map(|(c, days)| days.iter().map(|d| (*c, Some(*d))))
            .collect();
        for key in expected {
            if !self.open.contains_key(&key) {
                let file = open_file(self.cache, key.0, key.1)?;
                self.open.insert(key, file);
            }
        }
        let mut finished = Vec::with_capacity(self.open.len());
        for (_, file) in std::mem::take(&mut self.open) {
            let OpenFile {
                writer,
                temp,
                target,
            } = file;
            let written = writer.into_inner().map_err(|e| {
                Error::write(format!("cannot finish {}", temp.display()))(e.to_string())
            })?;
            written
                .sync_all()
                .map_err(Error::io("cannot sync", temp.to_path_buf()))?;
            finished.push((temp, target));
        }
        let count = finished.len();
        let mut dirs = Vec::new();
        for (temp, target) in finished {
            temp.persist(&target)
                .map_err(|e| Error::io("cannot move into place", &target)(e.error))?;
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
    let writer = ArrowWriter::try_new(file, category.schema(), Some(cache_writer_properties()))
        .map_err(|e| Error::write(format!("cannot start {}", temp.display()))(e.to_string()))?;
    Ok(OpenFile {
        writer,
        temp,
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::dates::{DateRange, parse_date};
    use datafusion::arrow::array::{StringArray, TimestampMicrosecondArray};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use std::sync::Arc;

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
        let range = DateRange::new(
            parse_date("2025-10-01").unwrap(),
            parse_date("2025-10-03").unwrap(),
        )
        .unwrap();
        let oct1 = 1_759_276_800_000_000i64; // 2025-10-01T00:00:00Z
        let expected = BTreeMap::from([(Category::Activity, vec![range.start, range.end])]);
        let mut writer = CacheWriter::new(&source, expected);
        // Rows of Oct 1, Oct 2 (not expected: dropped) and Oct 3, across a batch boundary.
        writer
            .write_dated(
                Category::Activity,
                &activity(vec![
                    oct1 + 5,
                    MICROS_PER_DAY + oct1,
                    oct1 + 2 * MICROS_PER_DAY,
                ]),
            )
            .unwrap();
        writer
            .write_dated(
                Category::Activity,
                &activity(vec![oct1 + 2 * MICROS_PER_DAY - 1]),
            )
            .unwrap();
        assert!(
            source.missing_days(Category::Activity, &range).len() == 3,
            "nothing visible before commit"
        );
        assert_eq!(writer.commit().unwrap(), 2);
        assert_eq!(rows(&source.day_path(Category::Activity, range.start)), 1);
        assert_eq!(rows(&source.day_path(Category::Activity, range.end)), 1);
        assert_eq!(
            source.missing_days(Category::Activity, &range),
            vec![parse_date("2025-10-02").unwrap()]
        );
    }

    #[test]
    fn an_abandoned_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::locate(Some(dir.path().to_path_buf())).unwrap();
        let source = cache.source("t");
        let day = parse_date("2025-10-01").unwrap();
        let mut writer =
            CacheWriter::new(&source, BTreeMap::from([(Category::Activity, vec![day])]));
        writer
            .write_dated(Category::Activity, &activity(vec![1_759_276_800_000_000]))
            .unwrap();
        drop(writer);
        let left: Vec<_> = fs::read_dir(source.category_dir(Category::Activity))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "temporary files are removed: {left:?}");
    }
}
