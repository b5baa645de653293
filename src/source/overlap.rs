//! A folder's files may overlap (two weekly exports of overlapping ranges): each day of a dated
//! category is taken from the first file that holds it, and what the others held of that day is
//! left out, with a warning naming the files; files that disagree on a shared day are refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate};
use datafusion::arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};

use crate::category::Category;
use crate::error::{Error, Result};
use crate::source::RowSink;

/// Passes rows on to `inner`, each (category, day) from one file only.
pub(super) struct OneFilePerDay<S> {
    pub(super) inner: S,
    /// The days being fetched; rows of other days are passed on untouched (the sink drops them).
    wanted: BTreeMap<Category, Vec<NaiveDate>>,
    files: Vec<PathBuf>,
    current: usize,
    /// Which file a day was taken from, and the rows each file held of each day.
    owner: BTreeMap<(Category, NaiveDate), usize>,
    rows: BTreeMap<(Category, NaiveDate, usize), u64>,
}

impl<S: RowSink> OneFilePerDay<S> {
    pub(super) fn new(inner: S, wanted: BTreeMap<Category, Vec<NaiveDate>>) -> Self {
        OneFilePerDay { inner, wanted, files: Vec::new(), current: 0, owner: BTreeMap::new(), rows: BTreeMap::new() }
    }

    /// The rows that follow come from `path`.
    pub(super) fn start_file(&mut self, path: &Path) {
        self.files.push(path.to_path_buf());
        self.current = self.files.len() - 1;
    }

    /// After every file: the shared days, as warnings (the files agree) or an error (they do not).
    pub(super) fn overlaps(&self) -> Result<Vec<String>> {
        let mut shared: BTreeMap<(Category, usize, usize), Vec<NaiveDate>> = BTreeMap::new();
        for (&(category, day, file), &count) in &self.rows {
            let owner = self.owner[&(category, day)];
            if owner == file {
                continue;
            }
            let kept = self.rows.get(&(category, day, owner)).copied().unwrap_or(0);
            if kept != count {
                return Err(Error::Source(format!(
                    "{} and {} both hold {category} of {day} but disagree ({kept} and {count} rows): remove the one that is out of date",
                    self.files[owner].display(),
                    self.files[file].display()
                )));
            }
            shared.entry((category, owner, file)).or_default().push(day);
        }
        Ok(shared
            .into_iter()
            .map(|((category, owner, file), days)| {
                let span = match (days.first(), days.last()) {
                    (Some(a), Some(b)) if a != b => format!("{a} to {b} ({} days)", days.len()),
                    (Some(a), _) => a.to_string(),
                    _ => String::new(),
                };
                format!(
                    "{} and {} both hold {category} of {span}: counted once, from the first",
                    self.files[owner].display(),
                    self.files[file].display()
                )
            })
            .collect())
    }

    fn days_of(batch: &RecordBatch) -> Result<Vec<Option<NaiveDate>>> {
        let index = batch.schema().index_of("ts").map_err(|e| Error::Source(e.to_string()))?;
        let micros = cast(batch.column(index), &DataType::Timestamp(TimeUnit::Microsecond, None))
            .map_err(|e| Error::Source(e.to_string()))?;
        let micros = micros.as_primitive::<TimestampMicrosecondType>();
        Ok((0..micros.len())
            .map(|i| {
                (!micros.is_null(i))
                    .then(|| DateTime::from_timestamp_micros(micros.value(i)).map(|t| t.date_naive()))
                    .flatten()
            })
            .collect())
    }
}

impl<S: RowSink> RowSink for OneFilePerDay<S> {
    fn write_dated(&mut self, category: Category, batch: &RecordBatch) -> Result<()> {
        let days = Self::days_of(batch)?;
        let current = self.current;
        let wanted = self.wanted.get(&category).map_or(&[][..], Vec::as_slice);
        let keep: BooleanArray = days
            .iter()
            .map(|day| {
                let Some(day) = day.filter(|d| wanted.binary_search(d).is_ok()) else { return Some(true) };
                *self.rows.entry((category, day, current)).or_insert(0) += 1;
                Some(*self.owner.entry((category, day)).or_insert(current) == current)
            })
            .collect();
        if keep.true_count() == batch.num_rows() {
            return self.inner.write_dated(category, batch);
        }
        let kept = filter_record_batch(batch, &keep).map_err(|e| Error::Source(e.to_string()))?;
        self.inner.write_dated(category, &kept)
    }

    fn write_snapshot(&mut self, category: Category, batch: &RecordBatch) -> Result<()> {
        self.inner.write_snapshot(category, batch)
    }

    fn day_complete(&mut self, category: Category, day: NaiveDate) -> Result<()> {
        self.inner.day_complete(category, day)
    }
}
