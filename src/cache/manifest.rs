//! The manifest of one source's cache: what the cache knows of every file it wrote — rows,
//! bytes, modification time, the `ts` range, row groups, footer size and a checksum — so that a
//! query opens no file to learn what is in it, and `cache verify` can tell a damaged file.
//!
//! It is rewritten whole (see [`crate::atomic`]) under the source's exclusive lock, after the
//! files it describes are in place: a file without an entry (a crash in between) is checked as
//! a file of unknown origin and then recorded.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use datafusion::parquet::file::metadata::ParquetMetaDataReader;
use datafusion::parquet::file::statistics::Statistics;
use serde::{Deserialize, Serialize};

use super::Span;
use crate::atomic::write_whole;
use crate::category::Category;
use crate::error::{Error, Result};

pub(crate) const MANIFEST_FILE: &str = "manifest.json";
/// Bumped when an entry's fields change meaning; another version is read as no manifest.
const MANIFEST_VERSION: u32 = 1;

/// What the cache knows of one of its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFacts {
    pub rows: u64,
    pub bytes: u64,
    /// Modification time, nanoseconds since the epoch: with `bytes`, what says the file is
    /// still the one described.
    pub mtime_ns: i128,
    /// The smallest and largest `ts` (µs since the epoch, UTC); none for the lists or no rows.
    pub min_ts: Option<i64>,
    pub max_ts: Option<i64>,
    pub row_groups: usize,
    /// The Parquet footer with its 8-byte trailer, so that a reader fetches it in one read.
    pub footer_bytes: u64,
    /// CRC-32 of the whole file.
    pub crc32: u32,
    /// The event types of an `activity` file, sorted; none for other files and for files
    /// written before the cache recorded them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_types: Option<Vec<String>>,
    /// A month file's days, in order: what each holds, so that a query of some of them reads
    /// and describes only those. None for a day file or a snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<Vec<DayFacts>>,
}

/// What a month file holds of one of its days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFacts {
    pub day: NaiveDate,
    pub rows: u64,
    pub min_ts: Option<i64>,
    pub max_ts: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_types: Option<Vec<String>>,
}

/// The Parquet metadata key under which a month file lists its days' facts (see [`DayFacts`]),
/// so that its manifest entry can be rebuilt from the file alone.
pub(crate) const DAYS_KEY: &str = "carto-activity.days";

/// A month file's days as its footer lists them (see [`DAYS_KEY`]), if they add up to its rows
/// and each lies in its own day of `span`.
fn listed_days(metadata: &datafusion::parquet::file::metadata::ParquetMetaData, span: Span) -> Option<Vec<DayFacts>> {
    let text = metadata.file_metadata().key_value_metadata()?.iter().find(|kv| kv.key == DAYS_KEY)?.value.as_ref()?;
    let days: Vec<DayFacts> = serde_json::from_str(text).ok()?;
    let total: u64 = days.iter().map(|d| d.rows).sum();
    let in_order = days.windows(2).all(|w| w[0].day < w[1].day);
    let (start, end) = span.micros();
    let fits = days.iter().all(|d| {
        let (day_start, day_end) = Span::Day(d.day).micros();
        day_start >= start
            && day_end <= end
            && [d.min_ts, d.max_ts].iter().flatten().all(|t| (day_start..day_end).contains(t))
    });
    (in_order && fits && total == u64::try_from(metadata.file_metadata().num_rows()).ok()?).then_some(days)
}

/// The Parquet metadata key under which each row group of an `activity` file lists its event
/// types: the manifest keeps them, so a query can say which types a range never holds.
pub(crate) const EVENT_TYPES_KEY: &str = "carto-activity.event_types";

/// The event types a file's row groups list (see [`EVENT_TYPES_KEY`]), or
/// `None` when it lists none (a file with no rows lists an empty set).
fn event_types(metadata: &datafusion::parquet::file::metadata::ParquetMetaData) -> Option<Vec<String>> {
    let listed: Vec<&String> = metadata
        .file_metadata()
        .key_value_metadata()
        .into_iter()
        .flatten()
        .filter(|kv| kv.key == EVENT_TYPES_KEY)
        .filter_map(|kv| kv.value.as_ref())
        .collect();
    if listed.is_empty() && metadata.file_metadata().num_rows() > 0 {
        return None;
    }
    let mut types = std::collections::BTreeSet::new();
    for list in listed {
        types.extend(serde_json::from_str::<Vec<String>>(list).ok()?);
    }
    Some(types.into_iter().collect())
}

/// The event types of `days` together, when each lists its own.
pub(crate) fn union_of_types(days: &[DayFacts]) -> Option<Vec<String>> {
    let mut types = std::collections::BTreeSet::new();
    for day in days {
        types.extend(day.event_types.clone()?);
    }
    Some(types.into_iter().collect())
}

/// Size and modification time of a file as the file system has them now.
fn stat(path: &Path) -> std::io::Result<(u64, i128)> {
    let meta = std::fs::metadata(path)?;
    Ok((meta.len(), i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec())))
}

impl FileFacts {
    /// Reads `path` whole: its footer must parse and hold `category`'s columns and, for a day
    /// or a month `span`, every row group's `ts` within it (a month file also lists its days).
    /// `None` when it does not: the file is not what the cache would have written.
    pub(crate) fn read(path: &Path, category: Category, span: Option<Span>) -> Option<FileFacts> {
        let mut file = File::open(path).ok()?;
        let (bytes, mtime_ns) = stat(path).ok()?;
        let metadata = ParquetMetaDataReader::new().parse_and_finish(&file).ok()?;
        let columns = metadata.file_metadata().schema_descr();
        let names: Vec<&str> = columns.columns().iter().map(|c| c.path().parts()[0].as_str()).collect();
        if !category.schema().fields().iter().all(|f| names.contains(&f.name().as_str())) {
            return None;
        }
        let (mut min_ts, mut max_ts) = (None::<i64>, None::<i64>);
        if let Some(ts) = category.day_column().and_then(|name| names.iter().position(|n| *n == name)) {
            for group in metadata.row_groups().iter().filter(|g| g.num_rows() > 0) {
                let Some(Statistics::Int64(stats)) = group.column(ts).statistics() else { return None };
                let (Some(min), Some(max)) = (stats.min_opt(), stats.max_opt()) else { return None };
                min_ts = Some(min_ts.map_or(*min, |m| m.min(*min)));
                max_ts = Some(max_ts.map_or(*max, |m| m.max(*max)));
            }
        }
        if let (Some(span), Some(min), Some(max)) = (span, min_ts, max_ts) {
            let (start, end) = span.micros();
            if min < start || max >= end {
                return None;
            }
        }
        let days = match span {
            Some(span @ Span::Month(_)) => Some(listed_days(&metadata, span)?),
            _ => None,
        };
        let footer_bytes = footer_length(&mut file, bytes)?;
        let event_types = match &days {
            Some(days) => union_of_types(days),
            None => (category == Category::Activity).then(|| event_types(&metadata)).flatten(),
        };
        Some(FileFacts {
            rows: u64::try_from(metadata.file_metadata().num_rows()).ok()?,
            bytes,
            mtime_ns,
            min_ts,
            max_ts,
            row_groups: metadata.num_row_groups(),
            footer_bytes,
            crc32: checksum(path).ok()?,
            event_types,
            days,
        })
    }

    /// Facts of a file that is not read, for tests of what uses them.
    #[cfg(test)]
    pub(crate) fn example(rows: u64, bytes: u64) -> FileFacts {
        let (mtime_ns, min_ts, max_ts, row_groups, footer_bytes, crc32) = (0, None, None, 1, 8, 0);
        FileFacts {
            rows,
            bytes,
            mtime_ns,
            min_ts,
            max_ts,
            row_groups,
            footer_bytes,
            crc32,
            event_types: None,
            days: None,
        }
    }

    /// Whether `path` still has the size and modification time recorded here.
    pub(crate) fn describes(&self, path: &Path) -> bool {
        stat(path).is_ok_and(|(bytes, mtime)| bytes == self.bytes && mtime == self.mtime_ns)
    }
}

/// The footer's length from the file's last 8 bytes (4 of length, then `PAR1`).
fn footer_length(file: &mut File, bytes: u64) -> Option<u64> {
    use std::io::{Seek, SeekFrom};
    let mut trailer = [0u8; 8];
    file.seek(SeekFrom::Start(bytes.checked_sub(8)?)).ok()?;
    file.read_exact(&mut trailer).ok()?;
    let length = u32::from_le_bytes(trailer[..4].try_into().ok()?);
    Some(u64::from(length) + 8)
}

/// CRC-32 of the file's bytes.
pub(crate) fn checksum(path: &Path) -> std::io::Result<u32> {
    let mut file = File::open(path)?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(hasher.finalize());
        }
        hasher.update(&buffer[..n]);
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    /// Keyed by the path under the source's folder, `<category>/<file name>`.
    files: BTreeMap<String, FileFacts>,
}

/// One source's manifest, as loaded; changes are kept until [`Manifest::save`].
#[derive(Debug)]
pub(crate) struct Manifest {
    path: PathBuf,
    files: BTreeMap<String, FileFacts>,
    changed: bool,
}

impl Manifest {
    /// The manifest in `source_dir`; a missing one is empty. One that cannot be read is empty
    /// too, and `Err` says why (the caller warns: every file is then checked as unknown).
    pub(crate) fn load(source_dir: &Path) -> (Manifest, Option<String>) {
        let path = source_dir.join(MANIFEST_FILE);
        let mut manifest = Manifest { path, files: BTreeMap::new(), changed: false };
        let text = match std::fs::read(&manifest.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (manifest, None),
            Err(e) => return (manifest, Some(e.to_string())),
        };
        match serde_json::from_slice::<Stored>(&text) {
            Ok(stored) if stored.version == MANIFEST_VERSION => {
                manifest.files = stored.files;
                (manifest, None)
            }
            Ok(stored) => (manifest, Some(format!("it has version {}", stored.version))),
            Err(e) => (manifest, Some(e.to_string())),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&FileFacts> {
        self.files.get(key)
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = (&String, &FileFacts)> {
        self.files.iter()
    }

    pub(crate) fn record(&mut self, key: String, facts: FileFacts) {
        if self.files.get(&key) != Some(&facts) {
            self.files.insert(key, facts);
            self.changed = true;
        }
    }

    pub(crate) fn forget(&mut self, key: &str) {
        self.changed |= self.files.remove(key).is_some();
    }

    /// Writes the manifest whole if anything changed. Call with the exclusive lock.
    pub(crate) fn save(&mut self) -> Result<()> {
        if !self.changed {
            return Ok(());
        }
        let stored = Stored { version: MANIFEST_VERSION, files: std::mem::take(&mut self.files) };
        let text =
            serde_json::to_vec(&stored).map_err(|e| Error::internal("writing the cache manifest")(e.to_string()));
        self.files = stored.files;
        write_whole(&self.path, &text?, 0o600)?;
        self.changed = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_manifest_is_empty_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), b"{not json").unwrap();
        let (manifest, why) = Manifest::load(dir.path());
        assert_eq!(manifest.entries().count(), 0);
        assert!(why.is_some());
        std::fs::write(dir.path().join(MANIFEST_FILE), br#"{"version":99,"files":{}}"#).unwrap();
        assert_eq!(Manifest::load(dir.path()).1.as_deref(), Some("it has version 99"));
    }

    #[test]
    fn a_saved_manifest_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let (mut manifest, _) = Manifest::load(dir.path());
        let facts =
            FileFacts { mtime_ns: 1_700_000_000_123_456_789, min_ts: Some(1), crc32: 7, ..FileFacts::example(3, 10) };
        manifest.record("activity/2025-10-01.parquet".into(), facts.clone());
        manifest.save().unwrap();
        let (loaded, why) = Manifest::load(dir.path());
        assert!(why.is_none());
        assert_eq!(loaded.get("activity/2025-10-01.parquet"), Some(&facts));
    }
}
