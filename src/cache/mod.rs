//! The local cache: one Parquet file per (source, category, UTC day), plus snapshots of the
//! user and group lists.
//!
//! ```text
//! <root>/CACHEDIR.TAG
//! <root>/locks/<source>.lock                    kept apart so that `cache clear` never deletes a held lock
//! <root>/v2/<source>/<category>/<YYYY-MM-DD>.parquet
//! <root>/v2/<source>/<category>/snapshot.parquet
//! ```
//!
//! A file is only ever created by renaming a finished, synced temporary file (`.tmp-*`) in the
//! same folder, so a visible file is a complete day. The `v2` level is the layout version (v2
//! added the shredded JSON columns of [`crate::shred`]): a layout never reads another's entries,
//! and `cache clear` removes earlier ones.

use std::fs::{self, File};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::NaiveDate;

mod clear;
pub(crate) mod fill;
mod lock;
pub mod writer;

pub(crate) use lock::SourceLock;

use crate::atomic::TEMP_PREFIX;
use crate::category::Category;
use crate::dates::DateRange;
use crate::error::{Error, Result};

pub const LAYOUT_VERSION: &str = "v2";
/// Layouts this program wrote before `v2`; `cache clear` removes them (never a newer one).
const EARLIER_LAYOUTS: [&str; 1] = ["v1"];
/// The CACHEDIR.TAG this program writes: its first line is the standard's, the second names us.
const CACHEDIR_TAG: &str =
    "Signature: 8a477f597d28d172789f06886806bc55\n# This folder is a cache made by carto-activity.\n";
const SNAPSHOT_FILE: &str = "snapshot.parquet";
/// Snapshots older than this are fetched again.
pub const SNAPSHOT_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// One source's part of the cache.
#[derive(Debug, Clone)]
pub struct SourceCache {
    id: String,
    dir: PathBuf,
    lock_path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub source: String,
    pub category: Category,
    pub days: Vec<NaiveDate>,
    pub has_snapshot: bool,
    pub bytes: u64,
}

impl Cache {
    /// The cache at `dir`, or in the user's cache folder.
    pub fn locate(dir: Option<PathBuf>) -> Result<Cache> {
        let root = match dir {
            Some(dir) => dir,
            None => dirs::cache_dir().map(|d| d.join("carto-activity")).ok_or_else(|| {
                Error::Usage(
                    "no cache folder is known for this user: pass --cache-dir DIR or set CARTO_ACTIVITY_CACHE_DIR"
                        .into(),
                )
            })?,
        };
        Ok(Cache { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A folder of the cache that only this user may enter (token cache, downloads).
    pub fn private_dir(&self, name: &str) -> Result<PathBuf> {
        self.ensure_root()?;
        let dir = self.root.join(name);
        if !dir.exists() {
            fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(Error::io("cannot create", &dir))?;
        }
        Ok(dir)
    }

    fn versioned(&self) -> PathBuf {
        self.root.join(LAYOUT_VERSION)
    }

    pub fn source(&self, id: &str) -> SourceCache {
        SourceCache {
            id: id.to_string(),
            dir: self.versioned().join(id),
            lock_path: self.root.join("locks").join(format!("{id}.lock")),
        }
    }

    /// Creates the root with a CACHEDIR.TAG, so that backup tools skip it.
    pub fn ensure_root(&self) -> Result<()> {
        // Mode 0700: the cache holds an organisation's audit trail and the token cache.
        if !self.root.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.root)
                .map_err(Error::io("cannot create the cache folder", &self.root))?;
        }
        fs::create_dir_all(self.root.join("locks")).map_err(Error::io("cannot create the cache folder", &self.root))?;
        let tag = self.root.join("CACHEDIR.TAG");
        if !tag.exists() {
            fs::write(&tag, CACHEDIR_TAG).map_err(Error::io("cannot write", &tag))?;
        }
        Ok(())
    }

    /// The sources that have entries, sorted.
    pub fn sources(&self) -> Result<Vec<String>> {
        let dir = self.versioned();
        let mut ids = Vec::new();
        match fs::read_dir(&dir) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(Error::io("cannot read", &dir))?;
                    if entry.path().is_dir() {
                        ids.push(entry.file_name().to_string_lossy().into_owned());
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("cannot read", &dir)(e)),
        }
        ids.sort();
        Ok(ids)
    }

    pub fn list(&self) -> Result<Vec<Entry>> {
        let mut entries = Vec::new();
        for id in self.sources()? {
            let source = self.source(&id);
            for category in Category::ALL {
                if let Some(entry) = source.entry(category)? {
                    entries.push(entry);
                }
            }
        }
        Ok(entries)
    }
}

impl SourceCache {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn category_dir(&self, category: Category) -> PathBuf {
        self.dir.join(category.name())
    }

    pub fn day_path(&self, category: Category, day: NaiveDate) -> PathBuf {
        self.category_dir(category).join(format!("{day}.parquet"))
    }

    pub fn snapshot_path(&self, category: Category) -> PathBuf {
        self.category_dir(category).join(SNAPSHOT_FILE)
    }

    /// This source's lock file; see [`SourceLock`].
    pub(crate) fn lock(&self) -> Result<SourceLock> {
        SourceLock::open(&self.lock_path, &self.id)
    }

    /// Removes temporary files that a killed process left behind. Call with the exclusive lock.
    pub fn remove_stale_temporaries(&self) -> Result<()> {
        for category in Category::ALL {
            let dir = self.category_dir(category);
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                    fs::remove_file(entry.path()).map_err(Error::io("cannot remove", entry.path()))?;
                }
            }
        }
        Ok(())
    }

    /// Removes those of `category`'s `files` that are not what they claim to be, and names
    /// them: a footer that does not parse, another category's columns, or (for a day file) rows
    /// outside its day by the row groups' statistics. Such a file is fetched again, never served.
    pub fn remove_damaged(&self, category: Category, files: Vec<PathBuf>) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for file in files {
            let Ok(meta) = fs::symlink_metadata(&file) else { continue };
            if !meta.is_file() {
                return Err(Error::Usage(format!(
                    "{} is not a file, where the cache keeps one: remove it (or run `cache clear`)",
                    file.display()
                )));
            }
            let day =
                file.file_stem().and_then(|s| s.to_str()).and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
            if !holds(&file, category, day) {
                fs::remove_file(&file).map_err(Error::io("cannot remove", &file))?;
                removed.push(file.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned()));
            }
        }
        Ok(removed)
    }

    /// Those of `days` that have no cached file.
    pub fn missing_days(&self, category: Category, days: &[NaiveDate]) -> Vec<NaiveDate> {
        days.iter().copied().filter(|d| !self.day_path(category, *d).is_file()).collect()
    }

    /// Whether the snapshot exists and is younger than [`SNAPSHOT_MAX_AGE`].
    pub fn snapshot_is_fresh(&self, category: Category) -> bool {
        fs::metadata(self.snapshot_path(category))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age < SNAPSHOT_MAX_AGE)
    }

    /// The cached files that hold `category` over `range` (all of them must exist).
    pub fn files(&self, category: Category, range: &DateRange) -> Vec<PathBuf> {
        if category.is_snapshot() {
            vec![self.snapshot_path(category)]
        } else {
            range.days().map(|d| self.day_path(category, d)).collect()
        }
    }

    fn entry(&self, category: Category) -> Result<Option<Entry>> {
        let dir = self.category_dir(category);
        let Ok(read) = fs::read_dir(&dir) else {
            return Ok(None);
        };
        let mut days = Vec::new();
        let mut has_snapshot = false;
        let mut bytes = 0;
        for file in read {
            let file = file.map_err(Error::io("cannot read", &dir))?;
            let name = file.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".parquet") else {
                continue;
            };
            if stem.starts_with(TEMP_PREFIX) {
                continue;
            }
            if name == SNAPSHOT_FILE {
                has_snapshot = true;
            } else if let Ok(day) = NaiveDate::parse_from_str(stem, "%Y-%m-%d") {
                days.push(day);
            } else {
                continue;
            }
            bytes += file.metadata().map_err(Error::io("cannot read", file.path()))?.len();
        }
        days.sort();
        Ok((has_snapshot || !days.is_empty()).then(|| Entry {
            source: self.id.clone(),
            category,
            days,
            has_snapshot,
            bytes,
        }))
    }
}

/// Whether a Parquet file's footer parses, has `category`'s columns and, for a `day`, row
/// groups whose `ts` statistics lie within that day.
fn holds(path: &Path, category: Category, day: Option<NaiveDate>) -> bool {
    use datafusion::parquet::file::statistics::Statistics;
    let Ok(file) = File::open(path) else { return false };
    let Ok(metadata) = datafusion::parquet::file::metadata::ParquetMetaDataReader::new().parse_and_finish(&file) else {
        return false;
    };
    let columns = metadata.file_metadata().schema_descr();
    let names: Vec<&str> = columns.columns().iter().map(|c| c.path().parts()[0].as_str()).collect();
    if !category.schema().fields().iter().all(|f| names.contains(&f.name().as_str())) {
        return false;
    }
    let (Some(day), Some(ts)) = (day, names.iter().position(|n| *n == "ts")) else { return true };
    let start = day.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_micros()).unwrap_or(i64::MIN);
    let end = start.saturating_add(86_400_000_000);
    metadata.row_groups().iter().all(|group| match group.column(ts).statistics() {
        Some(Statistics::Int64(stats)) => {
            stats.min_opt().is_none_or(|min| *min >= start) && stats.max_opt().is_none_or(|max| *max < end)
        }
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::parse_date;

    #[test]
    fn layout_is_versioned_per_source_and_category() {
        let cache = Cache { root: PathBuf::from("/c") };
        let s = cache.source("demo-s42-e100");
        assert_eq!(
            s.day_path(Category::ApiUsage, parse_date("2025-10-01").unwrap()),
            PathBuf::from("/c/v2/demo-s42-e100/apiUsage/2025-10-01.parquet")
        );
        assert_eq!(s.lock_path, PathBuf::from("/c/locks/demo-s42-e100.lock"));
    }

    #[test]
    fn lists_only_complete_files() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache { root: dir.path().to_path_buf() };
        let s = cache.source("x");
        fs::create_dir_all(s.category_dir(Category::Activity)).unwrap();
        fs::write(s.day_path(Category::Activity, parse_date("2025-10-02").unwrap()), b"12345").unwrap();
        fs::write(s.category_dir(Category::Activity).join(".tmp-abc.parquet"), b"partial").unwrap();
        let entries = cache.list().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].days, vec![parse_date("2025-10-02").unwrap()]);
        assert_eq!(entries[0].bytes, 5);
        let range = DateRange::new(parse_date("2025-10-01").unwrap(), parse_date("2025-10-03").unwrap()).unwrap();
        assert_eq!(s.missing_days(Category::Activity, &range.days().collect::<Vec<_>>()).len(), 2);
        s.remove_stale_temporaries().unwrap();
        assert!(!s.category_dir(Category::Activity).join(".tmp-abc.parquet").exists());
    }
}
