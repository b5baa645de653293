//! What the engine is given of the cache: files with their facts and, for a month file read for
//! only some of its days, those days; and the spans (a day, a month) a dated file's name covers.

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

use super::manifest::{DayFacts, FileFacts, Manifest, union_of_types};
use crate::category::Category;
use crate::dates::{MICROS_PER_DAY, epoch_day};

/// The days a dated cache file holds: one UTC day (`2025-10-01.parquet`), or a whole calendar
/// month once compacted (`2025-10.parquet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Span {
    Day(NaiveDate),
    /// Named by its first day.
    Month(NaiveDate),
}

impl Span {
    /// The span a file name gives, if it names one.
    pub(crate) fn of(file_name: &str) -> Option<Span> {
        let stem = file_name.strip_suffix(".parquet")?;
        match stem.len() {
            10 => NaiveDate::parse_from_str(stem, "%Y-%m-%d").ok().map(Span::Day),
            7 => NaiveDate::parse_from_str(&format!("{stem}-01"), "%Y-%m-%d").ok().map(Span::Month),
            _ => None,
        }
    }

    pub(crate) fn month_of(day: NaiveDate) -> Span {
        Span::Month(day.with_day(1).unwrap_or(day))
    }

    pub(crate) fn file_name(self) -> String {
        match self {
            Span::Day(day) => format!("{day}.parquet"),
            Span::Month(first) => format!("{}.parquet", first.format("%Y-%m")),
        }
    }

    /// Its days, in order.
    pub(crate) fn days(self) -> Vec<NaiveDate> {
        match self {
            Span::Day(day) => vec![day],
            Span::Month(first) => first.iter_days().take_while(|d| d.month() == first.month()).collect(),
        }
    }

    /// Its `ts` range in µs since the epoch: from its first instant, up to (not including) the
    /// next span's.
    pub(crate) fn micros(self) -> (i64, i64) {
        let (first, count) = match self {
            Span::Day(day) => (day, 1),
            Span::Month(first) => (first, self.days().len() as i64),
        };
        let start = i64::from(epoch_day(first)) * MICROS_PER_DAY;
        (start, start + count * MICROS_PER_DAY)
    }
}

/// A cached file and what the manifest knows of it: what the engine registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownFile {
    pub path: PathBuf,
    pub facts: FileFacts,
    /// For a month file read for only some of its days: those days, in order.
    pub part: Option<Vec<DayFacts>>,
}

impl KnownFile {
    /// All of `path`.
    pub(crate) fn whole(path: PathBuf, facts: FileFacts) -> KnownFile {
        KnownFile { path, facts, part: None }
    }

    /// Of a month file, `days` only (all of it when they are all its days).
    pub(crate) fn days_of(path: PathBuf, facts: FileFacts, days: Vec<DayFacts>) -> KnownFile {
        let all = facts.days.as_ref().is_some_and(|listed| listed.len() == days.len());
        KnownFile { path, facts, part: (!all).then_some(days) }
    }

    /// The facts of what is read: the whole file's, or the chosen days' rows, `ts` range and
    /// event types (with the whole file's bytes).
    pub(crate) fn read_facts(&self) -> FileFacts {
        let Some(days) = &self.part else { return self.facts.clone() };
        FileFacts {
            rows: days.iter().map(|d| d.rows).sum(),
            min_ts: days.iter().filter_map(|d| d.min_ts).min(),
            max_ts: days.iter().filter_map(|d| d.max_ts).max(),
            event_types: union_of_types(days),
            ..self.facts.clone()
        }
    }

    /// The rows to read when only some days are: the file's rows from first to last in runs,
    /// each `(rows, read)`, from the days it lists in the order it holds them. `Err` with the
    /// rows the listing counts when they are not the file's.
    pub(crate) fn read_rows(&self) -> Option<Result<Vec<(u64, bool)>, u64>> {
        let chosen = self.part.as_ref()?;
        let listed = self.facts.days.as_deref().unwrap_or_default();
        let mut runs: Vec<(u64, bool)> = Vec::new();
        for day in listed {
            let read = chosen.iter().any(|d| d.day == day.day);
            match runs.last_mut() {
                Some(last) if last.1 == read => last.0 += day.rows,
                _ => runs.push((day.rows, read)),
            }
        }
        let counted: u64 = runs.iter().map(|(rows, _)| rows).sum();
        Some(if counted == self.facts.rows { Ok(runs) } else { Err(counted) })
    }

    /// Reads `other`'s days of the same file as well (the engine over several ranges).
    pub(crate) fn join(&mut self, other: KnownFile) {
        match (&mut self.part, other.part) {
            (Some(days), Some(more)) => {
                days.extend(more);
                days.sort_by_key(|d| d.day);
                days.dedup_by_key(|d| d.day);
                if self.facts.days.as_ref().is_some_and(|listed| listed.len() == days.len()) {
                    self.part = None;
                }
            }
            (part, _) => *part = None,
        }
    }
}

impl super::SourceCache {
    /// `path` with what `manifest` knows of it, if it still is the file described there.
    pub(crate) fn known(&self, manifest: &Manifest, category: Category, path: &Path) -> Option<KnownFile> {
        let facts = manifest.get(&self.key(category, path))?;
        facts.describes(path).then(|| KnownFile::whole(path.to_path_buf(), facts.clone()))
    }

    /// The files that hold `days` of a dated category, in day order: each day's own file, or
    /// else its month's file (read for those of its days that have no file of their own).
    /// `None` if a day is in neither, as the manifest describes them.
    pub(crate) fn known_days(
        &self,
        manifest: &Manifest,
        category: Category,
        days: &[NaiveDate],
    ) -> Option<Vec<KnownFile>> {
        enum Place {
            Day(NaiveDate, KnownFile),
            /// The month file at this index of `months`, where its first day read is.
            Month(usize),
        }
        let mut places: Vec<Place> = Vec::new();
        // Each month file read once, with the days chosen of it.
        let mut months: Vec<(Span, KnownFile, Vec<DayFacts>)> = Vec::new();
        for &day in days {
            if let Some(file) = self.known(manifest, category, &self.day_path(category, day)) {
                places.push(Place::Day(day, file));
                continue;
            }
            let month = Span::month_of(day);
            let at = match months.iter().position(|(m, ..)| *m == month) {
                Some(at) => at,
                None => {
                    let file = self.known(manifest, category, &self.span_path(category, month))?;
                    months.push((month, file, Vec::new()));
                    places.push(Place::Month(months.len() - 1));
                    months.len() - 1
                }
            };
            let (_, file, chosen) = &mut months[at];
            chosen.push(file.facts.days.iter().flatten().find(|d| d.day == day)?.clone());
        }
        // A day in its own file that its month's file lists too (fetched again since the month
        // was compacted) would be read twice: not served until the fill rewrites the month.
        let overlapping = places.iter().any(|place| match place {
            Place::Day(day, _) => months.iter().any(|(month, file, _)| {
                *month == Span::month_of(*day) && file.facts.days.iter().flatten().any(|d| d.day == *day)
            }),
            Place::Month(_) => false,
        });
        if overlapping {
            return None;
        }
        let mut months: Vec<Option<(Span, KnownFile, Vec<DayFacts>)>> = months.into_iter().map(Some).collect();
        let files = places
            .into_iter()
            .filter_map(|place| match place {
                Place::Day(_, file) => Some(file),
                Place::Month(at) => months
                    .get_mut(at)?
                    .take()
                    .map(|(_, file, chosen)| KnownFile::days_of(file.path, file.facts, chosen)),
            })
            .collect();
        Some(files)
    }

    /// Those of `days` that are neither in a day file nor in a month file the manifest lists
    /// them in.
    pub(crate) fn missing_days(&self, manifest: &Manifest, category: Category, days: &[NaiveDate]) -> Vec<NaiveDate> {
        let in_month = |day: NaiveDate| {
            let month = self.span_path(category, Span::month_of(day));
            month.is_file()
                && manifest
                    .get(&self.key(category, &month))
                    .is_some_and(|f| f.days.iter().flatten().any(|d| d.day == day))
        };
        days.iter().copied().filter(|d| !self.day_path(category, *d).is_file() && !in_month(*d)).collect()
    }

    /// The files `fill` checks before it fetches `days`: each day's, and their months'.
    pub(crate) fn files_to_check(&self, category: Category, days: &[NaiveDate]) -> Vec<PathBuf> {
        if category.is_snapshot() {
            return vec![self.snapshot_path(category)];
        }
        let mut files: Vec<PathBuf> = days.iter().map(|d| self.day_path(category, *d)).collect();
        let mut months: Vec<Span> = days.iter().map(|d| Span::month_of(*d)).collect();
        months.dedup();
        files.extend(months.into_iter().map(|m| self.span_path(category, m)));
        files
    }
}

#[cfg(test)]
impl KnownFile {
    /// A file's facts read from the file itself, as for a file no manifest describes.
    pub(crate) fn read(path: &Path, category: crate::category::Category) -> KnownFile {
        let span = path.file_name().and_then(|n| n.to_str()).and_then(Span::of);
        let facts = FileFacts::read(path, category, span).expect("a cache file");
        KnownFile::whole(path.to_path_buf(), facts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::parse_date;

    fn day(text: &str) -> NaiveDate {
        parse_date(text).unwrap()
    }

    #[test]
    fn file_names_give_a_day_or_a_month() {
        assert_eq!(Span::of("2025-10-01.parquet"), Some(Span::Day(day("2025-10-01"))));
        assert_eq!(Span::of("2025-02.parquet"), Some(Span::Month(day("2025-02-01"))));
        assert_eq!(Span::of("snapshot.parquet"), None);
        assert_eq!(Span::of("2025-13.parquet"), None);
        assert_eq!(Span::Month(day("2024-02-01")).days().len(), 29);
        assert_eq!(Span::month_of(day("2024-02-17")).file_name(), "2024-02.parquet");
        let second = NaiveDate::from_ymd_opt(1970, 1, 2).unwrap();
        assert_eq!(Span::Day(second).micros(), (MICROS_PER_DAY, 2 * MICROS_PER_DAY));
        let (start, end) = Span::Month(day("2025-10-01")).micros();
        assert_eq!((end - start) / MICROS_PER_DAY, 31);
        assert_eq!(start, Span::Day(day("2025-10-01")).micros().0);
    }

    #[test]
    fn some_days_of_a_month_file_are_read_as_runs_of_rows() {
        let facts_of = |d: &str, rows| DayFacts { day: day(d), rows, min_ts: None, max_ts: None, event_types: None };
        let listed = vec![facts_of("2025-10-01", 1), facts_of("2025-10-02", 2), facts_of("2025-10-04", 4)];
        let facts = FileFacts { days: Some(listed.clone()), ..FileFacts::example(7, 100) };
        let mut file = KnownFile::days_of("m".into(), facts.clone(), listed[..2].to_vec());
        assert_eq!(file.read_facts().rows, 3);
        assert_eq!(file.read_rows(), Some(Ok(vec![(3, true), (4, false)])), "consecutive days are one run");
        let last = KnownFile::days_of("m".into(), facts.clone(), listed[2..].to_vec());
        assert_eq!(last.read_rows(), Some(Ok(vec![(3, false), (4, true)])));
        let miscounted = FileFacts { rows: 8, ..facts.clone() };
        assert_eq!(KnownFile::days_of("m".into(), miscounted, listed[..1].to_vec()).read_rows(), Some(Err(7)));
        file.join(KnownFile::days_of("m".into(), facts.clone(), listed[2..].to_vec()));
        assert_eq!(file.part, None, "all its days: the whole file");
        assert_eq!(file.read_facts().rows, 7);
        assert!(KnownFile::days_of("m".into(), facts, listed).part.is_none());
    }

    #[test]
    fn a_day_in_its_own_file_and_in_its_month_is_not_served() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let source = super::super::Cache::locate(Some(dir.path().to_path_buf())).unwrap().source("x");
        std::fs::create_dir_all(source.category_dir(Category::Activity)).unwrap();
        let mut manifest = source.recorded();
        let record = |manifest: &mut Manifest, path: PathBuf, days: Option<Vec<DayFacts>>| {
            std::fs::write(&path, b"bytes").unwrap();
            let meta = std::fs::metadata(&path).unwrap();
            let mtime_ns = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
            let facts = FileFacts { mtime_ns, days, ..FileFacts::example(1, meta.len()) };
            manifest.record(source.key(Category::Activity, &path), facts);
        };
        let listed = |d: &str| DayFacts { day: day(d), rows: 1, min_ts: None, max_ts: None, event_types: None };
        record(
            &mut manifest,
            source.span_path(Category::Activity, Span::month_of(day("2025-10-01"))),
            Some(vec![listed("2025-10-01"), listed("2025-10-02")]),
        );
        let both = [day("2025-10-01"), day("2025-10-02")];
        let month_only = source.known_days(&manifest, Category::Activity, &both).unwrap();
        assert_eq!(month_only.len(), 1);
        assert!(month_only[0].part.is_none(), "all the month's days: read whole");
        record(&mut manifest, source.day_path(Category::Activity, day("2025-10-02")), None);
        assert_eq!(source.known_days(&manifest, Category::Activity, &both), None, "2025-10-02 would be read twice");
        assert_eq!(source.known_days(&manifest, Category::Activity, &both[1..]).map(|f| f.len()), Some(1));
    }
}
