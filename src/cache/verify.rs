//! `cache verify`: every cached file read whole and checked against its manifest entry.
//! Queries trust a file whose size and modification time match the manifest; this is the
//! check of the bytes themselves, on demand.

use std::fs;
use std::path::PathBuf;

use super::manifest::checksum;
use super::{Cache, SNAPSHOT_FILE, Span};
use crate::category::Category;
use crate::error::{Error, Result};
use crate::printer::Printer;

/// What `cache verify` found in one source.
#[derive(Debug, Default)]
pub(crate) struct Verified {
    pub source: String,
    /// Files whose bytes are what the cache wrote.
    pub files: u64,
    pub bytes: u64,
    /// Of those, files the manifest did not describe as they are (checked as a query would).
    pub recorded: u64,
    /// `<category>/<file>` of the files removed (to be fetched again).
    pub damaged: Vec<String>,
}

impl Cache {
    /// Checks every file of every source, waiting for processes that use it. Damaged files are
    /// removed, so that no query serves them.
    pub(crate) fn verify(&self, printer: &Printer) -> Result<Vec<Verified>> {
        self.each_source_exclusive(printer, |source, manifest| {
            let mut verified = Verified { source: source.id().to_string(), ..Verified::default() };
            for category in Category::ALL {
                // Files the manifest describes as they are: their bytes against the checksum.
                // The others (changed, unrecorded) are checked as a query would check them.
                let mut unsure = Vec::new();
                for path in source.cache_files(category) {
                    let key = source.key(category, &path);
                    match source.known(manifest, category, &path) {
                        Some(known) if checksum(&path).is_ok_and(|crc| crc == known.facts.crc32) => {
                            verified.files += 1;
                            verified.bytes += known.facts.bytes;
                        }
                        Some(_) => {
                            fs::remove_file(&path).map_err(Error::io("cannot remove", &path))?;
                            manifest.forget(&key);
                            verified.damaged.push(key);
                        }
                        None => unsure.push(path),
                    }
                }
                let removed = source.vouch_for(manifest, category, &unsure, printer)?;
                for path in unsure.iter().filter(|p| p.exists()) {
                    verified.files += 1;
                    verified.recorded += 1;
                    verified.bytes += fs::metadata(path).map_or(0, |m| m.len());
                }
                verified.damaged.extend(removed.into_iter().map(|stem| format!("{category}/{stem}.parquet")));
            }
            // Entries of files that are gone are dropped: those days are fetched again.
            let gone: Vec<String> =
                manifest.entries().map(|(key, _)| key.clone()).filter(|key| !source.dir.join(key).exists()).collect();
            for key in gone {
                manifest.forget(&key);
            }
            Ok(verified)
        })
    }
}

impl super::SourceCache {
    /// The day files, month files and snapshot in `category`'s folder (not temporaries).
    fn cache_files(&self, category: Category) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(self.category_dir(category)) else { return Vec::new() };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_name().to_str().is_some_and(|n| n == SNAPSHOT_FILE || Span::of(n).is_some()))
            .map(|e| e.path())
            .collect();
        files.sort();
        files
    }
}
