//! The local cache: one Parquet file per (source, category, UTC day), a complete month of days
//! rewritten as one file by `cache compact`, plus snapshots of the user and group lists.
//!
//! ```text
//! <root>/CACHEDIR.TAG
//! <root>/locks/<source>.lock                    kept apart so that `cache clear` never deletes a held lock
//! <root>/v3/<source>/manifest.json               what the cache knows of each file (see [`manifest`])
//! <root>/v3/<source>/<category>/<YYYY-MM-DD>.parquet
//! <root>/v3/<source>/<category>/<YYYY-MM>.parquet     a complete month, its days listed in the manifest
//! <root>/v3/<source>/<category>/snapshot.parquet
//! ```
//!
//! A file is only ever created by renaming a finished, synced temporary file (`.tmp-*`) in the
//! same folder, so a visible file is a complete day. The `v3` level is the layout version (v2
//! added the shredded JSON columns of [`crate::shred`], v3 the manifest): a layout never reads
//! another's entries, and `cache clear` removes earlier ones.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::NaiveDate;

mod clear;
mod compact;
mod day_file;
pub(crate) mod fill;
mod known;
mod lock;
pub(crate) mod manifest;
mod verify;
pub mod writer;

pub use known::KnownFile;
pub(crate) use known::Span;
pub(crate) use lock::SourceLock;
pub(crate) use manifest::{FileFacts, Manifest};

use crate::atomic::TEMP_PREFIX;
use crate::category::Category;
use crate::error::{Error, Result};

pub const LAYOUT_VERSION: &str = "v3";
/// Layouts this program wrote before `v3`; `cache clear` removes them (never a newer one).
const EARLIER_LAYOUTS: [&str; 2] = ["v1", "v2"];
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

    /// `f` on each source in turn, with its exclusive lock held (waiting for processes that use
    /// it), its temporaries removed and its manifest loaded, which is saved after.
    pub(crate) fn each_source_exclusive<T>(
        &self,
        printer: &crate::printer::Printer,
        mut f: impl FnMut(&SourceCache, &mut Manifest) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut results = Vec::new();
        for id in self.sources()? {
            let source = self.source(&id);
            let lock = source.lock()?;
            lock.exclusive(printer)?;
            source.remove_stale_temporaries()?;
            let mut manifest = source.manifest(printer);
            results.push(f(&source, &mut manifest)?);
            manifest.save()?;
        }
        Ok(results)
    }

    /// What each source holds, by category, from the manifests alone (no file is opened).
    pub fn list(&self) -> Result<Vec<Entry>> {
        let mut entries = Vec::new();
        for id in self.sources()? {
            let source = self.source(&id);
            let (manifest, _) = Manifest::load(&source.dir);
            for category in Category::ALL {
                let mut entry = Entry { source: id.clone(), category, days: Vec::new(), has_snapshot: false, bytes: 0 };
                for (key, facts) in manifest.entries() {
                    let Some(name) = key.strip_prefix(category.name()).and_then(|k| k.strip_prefix('/')) else {
                        continue;
                    };
                    match Span::of(name) {
                        Some(Span::Day(day)) => entry.days.push(day),
                        Some(Span::Month(_)) => entry.days.extend(facts.days.iter().flatten().map(|d| d.day)),
                        None if name == SNAPSHOT_FILE => entry.has_snapshot = true,
                        None => continue,
                    }
                    entry.bytes += facts.bytes;
                }
                if entry.has_snapshot || !entry.days.is_empty() {
                    entry.days.sort();
                    // A day fetched again after its month was compacted is in both files if the
                    // fill was stopped before it merged the day into the month.
                    entry.days.dedup();
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
        self.span_path(category, Span::Day(day))
    }

    pub(crate) fn span_path(&self, category: Category, span: Span) -> PathBuf {
        self.category_dir(category).join(span.file_name())
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
        for dir in std::iter::once(self.dir.clone()).chain(Category::ALL.into_iter().map(|c| self.category_dir(c))) {
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

    /// This source's manifest; one that cannot be read is empty, with a warning (its files are
    /// then checked as files of unknown origin).
    pub(crate) fn manifest(&self, printer: &crate::printer::Printer) -> Manifest {
        let (manifest, unreadable) = Manifest::load(&self.dir);
        if let Some(why) = unreadable {
            printer
                .warn(&format!("the cache manifest of '{}' cannot be read ({why}): checking its files again", self.id));
        }
        manifest
    }

    /// This source's manifest as a reader sees it: one that cannot be read describes nothing,
    /// and the fill that follows (under the writer's lock) says so and checks the files.
    pub(crate) fn recorded(&self) -> Manifest {
        Manifest::load(&self.dir).0
    }

    /// The manifest's key of a file of this source.
    pub(super) fn key(&self, category: Category, path: &Path) -> String {
        let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        format!("{}/{name}", category.name())
    }

    /// With the exclusive lock: checks those of `category`'s `files` that the manifest does not
    /// describe as they are (a crash before the manifest was written, a file changed since)
    /// and records the good ones. The others — a footer that does not parse, another
    /// category's columns, rows outside the file's day, bytes other than the recorded checksum
    /// — are removed (to be fetched again, never served) and named in the result.
    pub(crate) fn vouch_for(
        &self,
        manifest: &mut Manifest,
        category: Category,
        files: &[PathBuf],
        printer: &crate::printer::Printer,
    ) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for file in files {
            let key = self.key(category, file);
            let Ok(meta) = fs::symlink_metadata(file) else {
                manifest.forget(&key);
                continue;
            };
            if !meta.is_file() {
                return Err(Error::Usage(format!(
                    "{} is not a file, where the cache keeps one: remove it (or run `cache clear`)",
                    file.display()
                )));
            }
            if self.known(manifest, category, file).is_some() {
                continue;
            }
            let recorded = manifest.get(&key).map(|facts| facts.crc32);
            if recorded.is_some() {
                printer.warn(&format!(
                    "{} changed since the cache wrote it (its size or time differs from the manifest): checking it",
                    file.display()
                ));
            }
            let span = file.file_name().and_then(|n| n.to_str()).and_then(Span::of);
            match FileFacts::read(file, category, span) {
                // Touched or restored from a backup, the same bytes are still good; other bytes are not.
                Some(facts) if recorded.is_none_or(|crc| crc == facts.crc32) => manifest.record(key, facts),
                _ => {
                    fs::remove_file(file).map_err(Error::io("cannot remove", file))?;
                    manifest.forget(&key);
                    removed.push(file.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned()));
                }
            }
        }
        Ok(removed)
    }

    /// Records files this process has just written and put in place.
    pub(crate) fn record(&self, manifest: &mut Manifest, written: Vec<(Category, KnownFile)>) {
        for (category, file) in written {
            manifest.record(self.key(category, &file.path), file.facts);
        }
    }

    /// Whether the snapshot exists and is younger than [`SNAPSHOT_MAX_AGE`].
    pub fn snapshot_is_fresh(&self, category: Category) -> bool {
        fs::metadata(self.snapshot_path(category))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age < SNAPSHOT_MAX_AGE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::{DateRange, parse_date};

    #[test]
    fn layout_is_versioned_per_source_and_category() {
        let cache = Cache { root: PathBuf::from("/c") };
        let s = cache.source("demo-s42-e100");
        assert_eq!(
            s.day_path(Category::ApiUsage, parse_date("2025-10-01").unwrap()),
            PathBuf::from("/c/v3/demo-s42-e100/apiUsage/2025-10-01.parquet")
        );
        assert_eq!(s.lock_path, PathBuf::from("/c/locks/demo-s42-e100.lock"));
    }

    #[test]
    fn lists_what_the_manifest_records() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache { root: dir.path().to_path_buf() };
        let s = cache.source("x");
        fs::create_dir_all(s.category_dir(Category::Activity)).unwrap();
        let recorded = s.day_path(Category::Activity, parse_date("2025-10-02").unwrap());
        fs::write(&recorded, b"12345").unwrap();
        fs::write(s.day_path(Category::Activity, parse_date("2025-10-03").unwrap()), b"unrecorded").unwrap();
        fs::write(s.category_dir(Category::Activity).join(".tmp-abc.parquet"), b"partial").unwrap();
        fs::write(s.dir.join(".tmp-manifest"), b"partial").unwrap();
        let facts = FileFacts::example(1, 5);
        let mut manifest = s.manifest(&crate::printer::Printer::new(true, 0));
        s.record(&mut manifest, vec![(Category::Activity, KnownFile::whole(recorded.clone(), facts))]);
        manifest.save().unwrap();
        let entries = cache.list().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].days, vec![parse_date("2025-10-02").unwrap()]);
        assert_eq!(entries[0].bytes, 5);
        assert!(s.known(&manifest, Category::Activity, &recorded).is_none(), "its mtime is not the recorded one");
        let range = DateRange::new(parse_date("2025-10-01").unwrap(), parse_date("2025-10-03").unwrap()).unwrap();
        assert_eq!(s.missing_days(&manifest, Category::Activity, &range.days().collect::<Vec<_>>()).len(), 1);
        s.remove_stale_temporaries().unwrap();
        assert!(!s.category_dir(Category::Activity).join(".tmp-abc.parquet").exists());
        assert!(!s.dir.join(".tmp-manifest").exists());
    }
}
