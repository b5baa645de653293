//! The cache's writer: a source's rows → split by UTC day → one Parquet file per day (sorted by
//! type then time for `activity`), each written under a temporary name and renamed into place
//! only once the whole fetch is complete.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::TimestampMicrosecondType;

use super::day_file::{FileKey, Finished, OpenFile, finish, open_file};
use crate::atomic::sync_dir;
use crate::cache::{KnownFile, SourceCache};
use crate::category::Category;
use crate::dates::{MICROS_PER_DAY, from_epoch_day};
use crate::error::{Error, Result};
use crate::shred;
use crate::source::RowSink;

/// Writes the days (and snapshots) one fetch produces; nothing is visible until `commit`.
pub struct CacheWriter {
    cache: SourceCache,
    /// The days each category expects; rows of other days are dropped (already cached).
    expected: BTreeMap<Category, Vec<NaiveDate>>,
    open: BTreeMap<(Category, Option<NaiveDate>), OpenFile>,
    /// Days known to be complete, written and synced under their temporary names.
    done: BTreeMap<(Category, Option<NaiveDate>), Finished>,
    rows: u64,
}

impl CacheWriter {
    pub fn new(cache: SourceCache, expected: BTreeMap<Category, Vec<NaiveDate>>) -> Self {
        CacheWriter { cache, expected, open: BTreeMap::new(), done: BTreeMap::new(), rows: 0 }
    }

    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    /// Rows of a dated category, in any order and spanning any days, each to its day's file.
    fn write_days(&mut self, category: Category, batch: &RecordBatch) -> Result<()> {
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

    fn append(&mut self, category: Category, day: Option<NaiveDate>, batch: &RecordBatch) -> Result<()> {
        let file = match self.open.entry((category, day)) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(open_file(&self.cache, category, day)?),
        };
        // Shredded by the encoding thread (see `OpenFile::write_pending`).
        let batch = if batch.schema() == shred::cached_schema(category) {
            batch.clone()
        } else {
            batch
                .clone()
                .with_schema(category.schema())
                .map_err(|e| Error::Source(format!("{category} rows do not match its schema: {e}")))?
        };
        self.rows += batch.num_rows() as u64;
        file.write(batch)?;
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
    /// and renames them into place. Until this returns, no new day is visible. Returns each file
    /// with its facts, for the manifest.
    pub fn commit(mut self) -> Result<Vec<(Category, KnownFile)>> {
        let expected: Vec<(Category, Option<NaiveDate>)> =
            self.expected.iter().flat_map(|(c, days)| days.iter().map(|d| (*c, Some(*d)))).collect();
        for key in expected {
            if !self.open.contains_key(&key) && !self.done.contains_key(&key) {
                let file = open_file(&self.cache, key.0, key.1)?;
                self.open.insert(key, file);
            }
        }
        // Finishing a file encodes and compresses its last row group: the files are finished on
        // every core at once.
        let files: Vec<(FileKey, OpenFile)> = std::mem::take(&mut self.open).into_iter().collect();
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
        let per_worker = files.len().div_ceil(workers).max(1);
        let mut groups: Vec<Vec<(FileKey, OpenFile)>> = Vec::new();
        let mut files = files.into_iter().peekable();
        while files.peek().is_some() {
            groups.push(files.by_ref().take(per_worker).collect());
        }
        let finished: Vec<Finished> = std::thread::scope(|scope| {
            let handles: Vec<_> = groups
                .into_iter()
                .map(|group| scope.spawn(move || group.into_iter().map(|(key, file)| finish(key, file)).collect()))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::internal("finishing the cache files")("a writer thread stopped".into()))
                    })
                })
                .collect::<Result<Vec<Vec<_>>>>()
        })?
        .into_iter()
        .flatten()
        .chain(std::mem::take(&mut self.done).into_values())
        .collect();
        let mut dirs = Vec::new();
        let mut published = Vec::with_capacity(finished.len());
        for Finished { staged, category, facts } in finished {
            let target = staged.target().to_path_buf();
            // A rename keeps the size and modification time the facts were read with.
            staged.publish()?;
            if let Some(parent) = target.parent()
                && !dirs.contains(&parent.to_path_buf())
            {
                dirs.push(parent.to_path_buf());
            }
            published.push((category, KnownFile::whole(target, facts)));
        }
        for dir in dirs {
            sync_dir(&dir)?;
        }
        Ok(published)
    }
}

impl RowSink for CacheWriter {
    /// Adds rows of a dated category, in any order and spanning any days.
    fn write_dated(&mut self, category: Category, batch: &RecordBatch) -> Result<()> {
        self.write_days(category, batch)
    }

    fn write_snapshot(&mut self, category: Category, batch: &RecordBatch) -> Result<()> {
        self.append(category, None, batch)
    }

    /// Finishes the day's file now rather than holding it open, with its rows in memory, until
    /// `commit`. It still becomes visible only at `commit`.
    fn day_complete(&mut self, category: Category, day: NaiveDate) -> Result<()> {
        let key = (category, Some(day));
        if let Some(file) = self.open.remove(&key) {
            self.done.insert(key, finish(key, file)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::{self, File};
    use std::path::PathBuf;
    use std::sync::Arc;

    use datafusion::arrow::array::{StringArray, TimestampMicrosecondArray};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

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

    /// A writer expecting `days` of activity, in a cache of its own.
    fn writer(days: Vec<NaiveDate>) -> (tempfile::TempDir, SourceCache, CacheWriter) {
        let dir = tempfile::tempdir().unwrap();
        let source = Cache::locate(Some(dir.path().to_path_buf())).unwrap().source("t");
        let writer = CacheWriter::new(source.clone(), BTreeMap::from([(Category::Activity, days)]));
        (dir, source, writer)
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
        let range = DateRange::new(parse_date("2025-10-01").unwrap(), parse_date("2025-10-03").unwrap()).unwrap();
        let days: Vec<NaiveDate> = range.days().collect();
        let oct1 = 1_759_276_800_000_000i64; // 2025-10-01T00:00:00Z
        let (_dir, source, mut writer) = writer(vec![range.start, range.end]);
        // Rows of Oct 1, Oct 2 (not expected: dropped) and Oct 3, across a batch boundary.
        writer
            .write_dated(
                Category::Activity,
                &activity(vec![oct1 + 5, MICROS_PER_DAY + oct1, oct1 + 2 * MICROS_PER_DAY]),
            )
            .unwrap();
        writer.write_dated(Category::Activity, &activity(vec![oct1 + 2 * MICROS_PER_DAY - 1])).unwrap();
        assert_eq!(
            source.missing_days(&source.recorded(), Category::Activity, &days).len(),
            3,
            "nothing visible before commit"
        );
        assert_eq!(writer.commit().unwrap().len(), 2);
        assert_eq!(rows(&source.day_path(Category::Activity, range.start)), 1);
        assert_eq!(rows(&source.day_path(Category::Activity, range.end)), 1);
        assert_eq!(
            source.missing_days(&source.recorded(), Category::Activity, &days),
            vec![parse_date("2025-10-02").unwrap()]
        );
    }

    #[test]
    fn a_day_is_written_sorted_by_type_then_time() {
        let day = parse_date("2025-10-01").unwrap();
        let oct1 = 1_759_276_800_000_000i64;
        let (_dir, source, mut writer) = writer(vec![day]);
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
        let (_dir, source, mut writer) = writer(vec![parse_date("2025-10-01").unwrap()]);
        writer.write_dated(Category::Activity, &activity(vec![1_759_276_800_000_000])).unwrap();
        drop(writer);
        let left: Vec<_> = fs::read_dir(source.category_dir(Category::Activity)).unwrap().collect();
        assert!(left.is_empty(), "temporary files are removed: {left:?}");
    }
}
