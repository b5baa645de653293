//! Compaction: a complete month of day files rewritten as one file (`2025-10.parquet`), the days
//! one after the other, packed whole into row groups, so that a year is 12 files to open rather
//! than 365. The fill that caches a month's last day does it ([`SourceCache::compact_filled_months`]);
//! `cache compact` does it for what was cached before. The manifest keeps each day's facts (see
//! [`super::manifest::DayFacts`]), so that a query of some of its days reads only their rows and
//! still learns their rows and event types. A day fetched again later is merged into its month
//! by the same fill.

use std::fs::{self, File};

use chrono::NaiveDate;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use datafusion::parquet::file::metadata::KeyValue;

use super::day_file::{ROW_GROUP_ROWS, cache_writer_properties};
use super::manifest::{DAYS_KEY, DayFacts, FileFacts, Manifest};
use super::{KnownFile, SourceCache, Span};
use crate::atomic::{stage, sync_dir};
use crate::category::Category;
use crate::dates::{MICROS_PER_DAY, epoch_day};
use crate::error::{Error, Result};
use crate::shred::cached_schema;

/// Rows read at a time from the files being merged.
const BATCH_ROWS: usize = 8192;

/// Where one day of the month is read from: its own file, or the month's current file.
enum Part {
    DayFile(KnownFile),
    MonthFile,
}

impl super::Cache {
    /// `cache compact`: every complete month of every source's day files rewritten as one file,
    /// waiting for processes that use the source. Returns each source with its months rewritten.
    pub(crate) fn compact(&self, printer: &crate::printer::Printer) -> Result<Vec<(String, u64)>> {
        self.each_source_exclusive(printer, |source, manifest| {
            let mut rewritten = 0;
            for category in Category::ALL.into_iter().filter(|c| !c.is_snapshot()) {
                let mut months: Vec<Span> = manifest
                    .entries()
                    .filter_map(|(key, _)| key.strip_prefix(category.name())?.strip_prefix('/'))
                    .filter_map(|name| match Span::of(name)? {
                        Span::Day(day) => Some(Span::month_of(day)),
                        Span::Month(_) => None,
                    })
                    .collect();
                months.dedup();
                for month in months {
                    rewritten += u64::from(source.compact_month(manifest, category, month)?);
                }
            }
            Ok((source.id().to_string(), rewritten))
        })
    }
}

impl SourceCache {
    /// With the exclusive lock, after a fill: each month of `days` whose days are now all cached
    /// becomes one file, and a compacted month that a day fetched again overrides is rewritten
    /// with it, so that no day is in two files a query reads. A month that cannot be rewritten
    /// is removed (its days are fetched again); one that cannot be compacted stays day files.
    /// Both with a warning.
    pub(crate) fn compact_filled_months(
        &self,
        manifest: &mut Manifest,
        categories: &[Category],
        days: &[NaiveDate],
        printer: &crate::printer::Printer,
    ) -> Result<()> {
        let mut months: Vec<Span> = days.iter().map(|d| Span::month_of(*d)).collect();
        months.dedup();
        for &category in categories.iter().filter(|c| !c.is_snapshot()) {
            for &month in &months {
                let path = self.span_path(category, month);
                let compacted = self.known(manifest, category, &path).is_some();
                let Err(e) = self.compact_month(manifest, category, month) else { continue };
                if compacted {
                    printer.warn(&format!("{e}: removing it, its days will be fetched again"));
                    manifest.forget(&self.key(category, &path));
                    manifest.save()?;
                    fs::remove_file(&path).map_err(Error::io("cannot remove", &path))?;
                } else {
                    printer.warn(&format!("{e}: its days stay in day files"));
                }
            }
        }
        Ok(())
    }

    /// Rewrites `category`'s `month` as one file when every day of it is cached and some are in
    /// day files; then removes those day files. Returns whether it did. Call with the exclusive
    /// lock: until the manifest is saved, the day files are what a reader sees.
    fn compact_month(&self, manifest: &mut Manifest, category: Category, month: Span) -> Result<bool> {
        let month_path = self.span_path(category, month);
        let current = self.known(manifest, category, &month_path);
        let listed = current.as_ref().and_then(|f| f.facts.days.clone()).unwrap_or_default();
        let mut parts = Vec::new();
        for day in month.days() {
            match self.known(manifest, category, &self.day_path(category, day)) {
                Some(file) => {
                    let facts = &file.facts;
                    let (rows, min_ts, max_ts, event_types) =
                        (facts.rows, facts.min_ts, facts.max_ts, facts.event_types.clone());
                    parts.push((DayFacts { day, rows, min_ts, max_ts, event_types }, Part::DayFile(file)));
                }
                None => match listed.iter().find(|d| d.day == day) {
                    Some(facts) => parts.push((facts.clone(), Part::MonthFile)),
                    None => return Ok(false),
                },
            }
        }
        if !parts.iter().any(|(_, p)| matches!(p, Part::DayFile(_))) {
            return Ok(false);
        }
        let name = month.file_name();
        let failed = |e: &dyn std::fmt::Display| {
            Error::write(format!(
                "cannot rewrite the cached {category} of {} as one file",
                name.trim_end_matches(".parquet")
            ))(e.to_string())
        };
        let (file, staged) = stage(&month_path, 0o600, ".parquet")?;
        let schema = cached_schema(category);
        let mut writer =
            ArrowWriter::try_new(file, schema.clone(), Some(cache_writer_properties())).map_err(|e| failed(&e))?;
        let replaced: Vec<std::path::PathBuf> = parts
            .iter()
            .filter_map(|(_, part)| if let Part::DayFile(file) = part { Some(file.path.clone()) } else { None })
            .collect();
        let (days, sources): (Vec<DayFacts>, Vec<(NaiveDate, Part)>) =
            parts.into_iter().map(|(facts, part)| (facts.clone(), (facts.day, part))).unzip();
        let month_file = current.as_ref().map(|file| file.path.clone());
        // Reading (decompressing, decoding) on one thread, encoding on this one.
        std::thread::scope(|scope| {
            let (rows, received) = std::sync::mpsc::sync_channel::<std::result::Result<Read, String>>(4);
            scope.spawn(move || read_days(month_file, sources, &rows));
            for facts in &days {
                // Days are kept whole in a row group, so that its `ts` statistics prune by day.
                let buffered = writer.in_progress_rows();
                if buffered > 0 && buffered as u64 + facts.rows > ROW_GROUP_ROWS as u64 {
                    writer.flush().map_err(|e| failed(&e))?;
                }
                let mut written = 0u64;
                loop {
                    match received.recv() {
                        Ok(Ok(Read::Rows(batch))) => {
                            let batch = RecordBatch::try_new(schema.clone(), batch.columns().to_vec())
                                .map_err(|e| failed(&e))?;
                            written += batch.num_rows() as u64;
                            writer.write(&batch).map_err(|e| failed(&e))?;
                        }
                        Ok(Ok(Read::DayEnd)) => break,
                        Ok(Err(e)) => return Err(failed(&e)),
                        Err(_) => return Err(failed(&"the reading thread stopped")),
                    }
                }
                if written != facts.rows {
                    return Err(failed(&format!(
                        "{} holds {written} rows where {} were recorded",
                        facts.day, facts.rows
                    )));
                }
            }
            Ok(())
        })?;
        let listing = serde_json::to_string(&days).map_err(|e| failed(&e))?;
        writer.append_key_value_metadata(KeyValue::new(DAYS_KEY.to_string(), listing));
        let file = writer.into_inner().map_err(|e| failed(&e))?;
        file.sync_all().map_err(Error::io("cannot sync", staged.temp_path()))?;
        drop(file);
        let facts = FileFacts::read(staged.temp_path(), category, Some(month))
            .ok_or_else(|| failed(&"the file just written does not read back"))?;
        staged.publish()?;
        manifest.record(self.key(category, &month_path), facts);
        for path in &replaced {
            manifest.forget(&self.key(category, path));
        }
        manifest.save()?;
        for path in &replaced {
            if let Err(e) = fs::remove_file(path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                return Err(Error::io("cannot remove", path)(e));
            }
        }
        sync_dir(&self.category_dir(category))?;
        Ok(true)
    }
}

/// What the reading thread hands the writer: a day's rows, batch by batch, then its end.
enum Read {
    Rows(RecordBatch),
    DayEnd,
}

/// Reads each day in turn, from its file or from the month's current file, into `rows`; stops
/// at the first failure (sent) or when the writer has stopped.
fn read_days(
    month_file: Option<std::path::PathBuf>,
    sources: Vec<(NaiveDate, Part)>,
    rows: &std::sync::mpsc::SyncSender<std::result::Result<Read, String>>,
) {
    let stopped = || "the writer stopped".to_string();
    let read = || -> std::result::Result<(), String> {
        let mut month_rows = month_file.map(|path| MonthRows::open(&path)).transpose().map_err(|e| e.to_string())?;
        for (day, part) in sources {
            match part {
                Part::DayFile(file) => {
                    for batch in reader(&file.path).map_err(|e| e.to_string())? {
                        rows.send(Ok(Read::Rows(batch.map_err(|e| e.to_string())?))).map_err(|_| stopped())?;
                    }
                }
                Part::MonthFile => match month_rows.as_mut() {
                    Some(month) => {
                        month.copy_day(day, &mut |batch| rows.send(Ok(Read::Rows(batch))).map_err(|_| stopped()))?
                    }
                    None => return Err("the month's file is gone".into()),
                },
            }
            rows.send(Ok(Read::DayEnd)).map_err(|_| stopped())?;
        }
        Ok(())
    };
    if let Err(e) = read() {
        let _ = rows.send(Err(e));
    }
}

fn reader(path: &std::path::Path) -> Result<ParquetRecordBatchReader> {
    let file = File::open(path).map_err(Error::io("cannot open", path))?;
    ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|builder| builder.with_batch_size(BATCH_ROWS).build())
        .map_err(|e| Error::write(format!("cannot read {}", path.display()))(e.to_string()))
}

/// A month file's rows, read once from front to back and handed out day by day (the file holds
/// its days one after the other).
struct MonthRows {
    reader: ParquetRecordBatchReader,
    /// Rows read but of a later day than the last one asked for.
    held: Option<RecordBatch>,
    last_day: i64,
}

impl MonthRows {
    fn open(path: &std::path::Path) -> Result<MonthRows> {
        Ok(MonthRows { reader: reader(path)?, held: None, last_day: i64::MIN })
    }

    /// Hands `day`'s rows to `write`, skipping those of earlier days (which a day file replaces).
    fn copy_day(
        &mut self,
        day: NaiveDate,
        write: &mut impl FnMut(RecordBatch) -> std::result::Result<(), String>,
    ) -> std::result::Result<(), String> {
        let wanted = i64::from(epoch_day(day));
        loop {
            let batch = match self.held.take() {
                Some(batch) => batch,
                None => match self.reader.next() {
                    Some(batch) => batch.map_err(|e| e.to_string())?,
                    None => return Ok(()),
                },
            };
            let ts = batch.column_by_name("ts").and_then(|c| c.as_primitive_opt::<TimestampMicrosecondType>());
            let Some(ts) = ts else { return Err("the month's file has no `ts` column".into()) };
            let days: Vec<i64> = ts.values().iter().map(|t| t.div_euclid(MICROS_PER_DAY)).collect();
            let in_order = days.first().is_none_or(|first| *first >= self.last_day)
                && days.windows(2).all(|pair| pair[0] <= pair[1]);
            if !in_order {
                return Err("the month's file does not hold its days in order".into());
            }
            let from = days.partition_point(|d| *d < wanted);
            let to = days.partition_point(|d| *d <= wanted);
            self.last_day = days[..to].last().copied().unwrap_or(self.last_day);
            if to > from {
                write(batch.slice(from, to - from))?;
            }
            if to < batch.num_rows() {
                self.held = Some(batch.slice(to, batch.num_rows() - to));
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use datafusion::arrow::array::{StringArray, TimestampMicrosecondArray};

    use super::*;
    use crate::cache::Cache;
    use crate::cache::writer::CacheWriter;
    use crate::dates::{DateRange, parse_date};
    use crate::printer::Printer;
    use crate::source::RowSink;

    /// `rows` events on each of `days`, cached as day files and recorded.
    fn cached_days(source: &SourceCache, days: &[NaiveDate], rows: i64) {
        let mut writer = CacheWriter::new(source.clone(), BTreeMap::from([(Category::Activity, days.to_vec())]));
        for day in days {
            let start = i64::from(epoch_day(*day)) * MICROS_PER_DAY;
            let ts: Vec<i64> = (0..rows).map(|r| start + r * 1_000_000).collect();
            let n = ts.len();
            let batch = RecordBatch::try_new(
                Category::Activity.schema(),
                vec![
                    Arc::new(StringArray::from(vec!["E"; n])),
                    Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")),
                    Arc::new(StringArray::from(vec!["{}"; n])),
                ],
            )
            .unwrap();
            writer.write_dated(Category::Activity, &batch).unwrap();
        }
        let mut manifest = source.recorded();
        source.record(&mut manifest, writer.commit().unwrap());
        manifest.save().unwrap();
    }

    #[test]
    fn the_fill_that_completes_a_month_makes_it_one_file_read_by_days() {
        let dir = tempfile::tempdir().unwrap();
        let source = Cache::locate(Some(dir.path().to_path_buf())).unwrap().source("t");
        let printer = Printer::new(true, 0);
        let february: Vec<NaiveDate> =
            DateRange::new(parse_date("2025-02-01").unwrap(), parse_date("2025-02-28").unwrap())
                .unwrap()
                .days()
                .collect();
        let (first, rest) = february.split_at(20);
        cached_days(&source, first, 3);
        let mut manifest = source.recorded();
        source.compact_filled_months(&mut manifest, &[Category::Activity], first, &printer).unwrap();
        assert!(source.day_path(Category::Activity, february[0]).is_file(), "an incomplete month stays day files");
        cached_days(&source, rest, 3);
        let mut manifest = source.recorded();
        source.compact_filled_months(&mut manifest, &[Category::Activity], rest, &printer).unwrap();
        assert!(february.iter().all(|d| !source.day_path(Category::Activity, *d).exists()), "day files removed");
        let month = source.known(
            &source.recorded(),
            Category::Activity,
            &source.span_path(Category::Activity, Span::month_of(february[0])),
        );
        let month = month.expect("the month is one recorded file");
        assert_eq!(month.facts.rows, 28 * 3);
        // Some of its days: the runs of rows a scan selects, as the file holds them.
        let known = source.known_days(&source.recorded(), Category::Activity, &february[1..3]).unwrap();
        assert_eq!(known.len(), 1);
        assert_eq!(known[0].read_rows(), Some(Ok(vec![(3, false), (6, true), (75, false)])));
        let whole = source.known_days(&source.recorded(), Category::Activity, &february).unwrap();
        assert_eq!(whole[0].read_rows(), None, "every day: the whole file");
    }
}
