//! `cache clear`: removes what the cache wrote, and only that. A folder is taken for a cache
//! only with the CACHEDIR.TAG this program writes; inside it, only day and month files, snapshots and
//! temporaries in category folders are deleted. Anything else is kept and named.

use std::fs;
use std::path::Path;

use super::manifest::MANIFEST_FILE;
use super::{CACHEDIR_TAG, Cache, EARLIER_LAYOUTS, SNAPSHOT_FILE, SourceCache, Span};
use crate::atomic::TEMP_PREFIX;
use crate::category::Category;
use crate::error::{Error, Result};
use crate::printer::Printer;

/// What one clear removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Cleared {
    /// The sources (and earlier layouts) removed, by name.
    pub names: Vec<String>,
    pub files: u64,
    pub bytes: u64,
}

impl Cache {
    /// Empties the whole cache, or one source's part, waiting for processes that use it.
    pub(crate) fn clear(&self, only: Option<&str>, printer: &Printer) -> Result<Cleared> {
        let mut cleared = Cleared::default();
        if !self.root.exists() {
            return Ok(cleared);
        }
        let tag = self.root.join("CACHEDIR.TAG");
        if fs::read_to_string(&tag).map_or(true, |text| text != CACHEDIR_TAG) {
            return Err(Error::Usage(format!(
                "{} is not a carto-activity cache (it has no CACHEDIR.TAG written by carto-activity): nothing was deleted; check --cache-dir",
                self.root.display()
            )));
        }
        let ids = match only {
            Some(id) => {
                let known = self.sources()?;
                if !known.iter().any(|k| k == id) {
                    let hint = if known.is_empty() {
                        "the cache is empty".to_string()
                    } else {
                        format!("known sources: {}", known.join(", "))
                    };
                    return Err(Error::Usage(format!("no cached source named '{id}': {hint}")));
                }
                vec![id.to_string()]
            }
            None => self.sources()?,
        };
        for id in &ids {
            let source = self.source(id);
            let lock = source.lock()?;
            lock.exclusive(printer)?;
            source.remove_files(&mut cleared, printer)?;
            cleared.names.push(id.clone());
        }
        if only.is_none() {
            for layout in EARLIER_LAYOUTS {
                let dir = self.root.join(layout);
                if dir.is_dir() {
                    cleared.files += count_files(&dir);
                    fs::remove_dir_all(&dir).map_err(Error::io("cannot remove", &dir))?;
                    cleared.names.push(format!("the earlier layout {layout}"));
                }
            }
        }
        Ok(cleared)
    }
}

impl SourceCache {
    /// Deletes this source's day and month files, snapshots and temporaries, then the folders left empty.
    fn remove_files(&self, cleared: &mut Cleared, printer: &Printer) -> Result<()> {
        // The manifest first: files it no longer describes are checked before any is served.
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.file_type().is_ok_and(|t| t.is_file())
                    && (name == MANIFEST_FILE || name.starts_with(TEMP_PREFIX))
                {
                    let path = entry.path();
                    fs::remove_file(&path).map_err(Error::io("cannot remove", &path))?;
                }
            }
        }
        for category in Category::ALL {
            let dir = self.category_dir(category);
            let Ok(entries) = fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                let ours = entry.file_type().is_ok_and(|t| t.is_file()) && is_cache_file(&name);
                if !ours {
                    printer.warn(&format!("kept {}: carto-activity did not write it", path.display()));
                    continue;
                }
                let bytes = entry.metadata().map_or(0, |m| m.len());
                fs::remove_file(&path).map_err(Error::io("cannot remove", &path))?;
                cleared.files += 1;
                cleared.bytes += bytes;
            }
            remove_if_empty(&dir);
        }
        remove_if_empty(&self.dir);
        if self.dir.exists() {
            printer.warn(&format!("kept {}: it holds files carto-activity did not write", self.dir.display()));
        }
        Ok(())
    }
}

/// Day files, month files, snapshots and the temporaries they are written under.
fn is_cache_file(name: &str) -> bool {
    Span::of(name).is_some() || name == SNAPSHOT_FILE || name.starts_with(TEMP_PREFIX)
}

fn remove_if_empty(dir: &Path) {
    // `remove_dir` fails on a folder that is not empty, which is the point.
    let _ = fs::remove_dir(dir);
}

fn count_files(dir: &Path) -> u64 {
    fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| if e.file_type().is_ok_and(|t| t.is_dir()) { count_files(&e.path()) } else { 1 })
            .sum()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printer() -> Printer {
        Printer::new(true, 0)
    }

    #[test]
    fn a_folder_without_our_tag_is_not_touched() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("v2/photos")).unwrap();
        fs::write(dir.path().join("v2/photos/a.jpg"), b"x").unwrap();
        let cache = Cache { root: dir.path().to_path_buf() };
        let message = cache.clear(None, &printer()).unwrap_err().to_string();
        assert!(message.contains("not a carto-activity cache"), "{message}");
        assert!(dir.path().join("v2/photos/a.jpg").exists());
    }

    #[test]
    fn only_what_the_cache_wrote_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache { root: dir.path().to_path_buf() };
        cache.ensure_root().unwrap();
        let source = cache.source("demo");
        let activity = source.category_dir(Category::Activity);
        fs::create_dir_all(&activity).unwrap();
        fs::write(activity.join("2025-10-01.parquet"), b"1234").unwrap();
        fs::write(activity.join(".tmp-x.parquet"), b"12").unwrap();
        fs::write(activity.join("notes.txt"), b"mine").unwrap();
        fs::write(dir.path().join("v3/demo/manifest.json"), b"{}").unwrap();
        fs::create_dir_all(dir.path().join("v4/demo")).unwrap();
        fs::create_dir_all(dir.path().join("v1/demo")).unwrap();
        fs::write(dir.path().join("v1/demo/old.parquet"), b"1").unwrap();
        let cleared = cache.clear(None, &printer()).unwrap();
        assert_eq!(cleared.files, 3);
        assert_eq!(cleared.bytes, 6);
        assert!(activity.join("notes.txt").exists(), "an unknown file is kept");
        assert!(!activity.join("2025-10-01.parquet").exists());
        assert!(!dir.path().join("v3/demo/manifest.json").exists(), "the manifest goes with the files");
        assert!(dir.path().join("v4/demo").exists(), "a newer layout is never removed");
        assert!(!dir.path().join("v1").exists(), "an earlier layout is");
    }
}
