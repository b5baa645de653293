//! A folder of files exported earlier (from CARTO's UI or by `export`): CSV, CSV.gz or Parquet,
//! recognised by the category their name (or the folder they are in) starts with.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use crate::category::Category;
use crate::error::{Error, Result};
use crate::printer::Printer;
use crate::source::files::ingest_file;
use crate::source::overlap::OneFilePerDay;
use crate::source::{FetchPlan, RowSink};

pub struct FolderSource {
    dir: PathBuf,
    files: Vec<(Category, PathBuf)>,
    /// Files that look like data (by extension) but name no category.
    unrecognised: Vec<PathBuf>,
    /// Names the folder; the part after it names its files' state.
    folder_key: String,
    fingerprint: String,
}

/// The category a file holds, from the first part of its path (below the folder) whose name
/// starts with a category's name: `activity_2025-10-01_2025-10-07.csv`, `apiUsage/date=.../x.parquet`.
fn category_of(relative: &Path) -> Option<Category> {
    if !is_data_file(relative) {
        return None;
    }
    relative.components().find_map(|part| {
        let part = part.as_os_str().to_str()?.to_lowercase();
        // The longest name first, so that no category is taken for another's prefix.
        let mut all = Category::ALL;
        all.sort_by_key(|c| std::cmp::Reverse(c.name().len()));
        all.into_iter().find(|c| part.starts_with(&c.name().to_lowercase()))
    })
}

/// A readable file that is no one's temporary or bookkeeping: names (or folders) starting with
/// `.` or `_` are what writers stage under (`_tmp/`, `.tmp-*`), as Spark and Hive skip them.
fn is_data_file(relative: &Path) -> bool {
    let Some(name) = relative.file_name().and_then(|n| n.to_str()).map(str::to_lowercase) else { return false };
    let readable = [".csv", ".csv.gz", ".parquet"].iter().any(|ext| name.ends_with(ext));
    let hidden = relative.components().any(|part| part.as_os_str().to_str().is_some_and(|p| p.starts_with(['.', '_'])));
    readable && !hidden
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(Error::io("cannot read the folder", dir))? {
        let entry = entry.map_err(Error::io("cannot read the folder", dir))?;
        let path = entry.path();
        if path.is_dir() {
            walk(&path, found)?;
        } else {
            found.push(path);
        }
    }
    Ok(())
}

impl FolderSource {
    pub(crate) fn open(dir: &Path) -> Result<FolderSource> {
        let dir = dir.canonicalize().map_err(Error::io("cannot open the --source folder", dir))?;
        let mut paths = Vec::new();
        walk(&dir, &mut paths)?;
        paths.sort();
        let mut files = Vec::new();
        let mut unrecognised = Vec::new();
        let mut state = Sha256::new();
        for path in paths {
            let relative = path.strip_prefix(&dir).unwrap_or(&path).to_path_buf();
            let Some(category) = category_of(&relative) else {
                if is_data_file(&relative) {
                    unrecognised.push(path);
                }
                continue;
            };
            let meta = fs::metadata(&path).map_err(Error::io("cannot read", &path))?;
            let modified =
                meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
            state.update(format!("{}|{}|{modified}\n", relative.display(), meta.len()).as_bytes());
            files.push((category, path));
        }
        if files.is_empty() {
            return Err(Error::Usage(format!(
                "{} holds no Activity Data files: expected names starting with activity, apiUsage, userList or groupList, ending in .csv, .csv.gz or .parquet",
                dir.display()
            )));
        }
        let folder_key = hex::encode(Sha256::digest(dir.to_string_lossy().as_bytes()))[..12].to_string();
        let fingerprint = hex::encode(state.finalize())[..12].to_string();
        Ok(FolderSource { dir, files, unrecognised, folder_key, fingerprint })
    }

    /// The folder's cache identity covers its files (names, sizes, modification times): any
    /// change gives a new identity, so every day is ingested again from the files as they are.
    pub(crate) fn cache_id(&self) -> String {
        format!("dir-{}-{}", self.folder_key, self.fingerprint)
    }

    /// The folder, whatever state its files are in (what a warehouse table synced from it names).
    pub(crate) fn identity(&self) -> String {
        format!("dir-{}", self.folder_key)
    }

    /// Whether `cache_id` names this folder as its files were before they changed.
    pub(crate) fn is_earlier_state(&self, cache_id: &str) -> bool {
        cache_id.starts_with(&format!("dir-{}-", self.folder_key)) && cache_id != self.cache_id()
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) async fn fetch<S: RowSink>(&self, plan: &FetchPlan, sink: S, printer: &Printer) -> Result<S> {
        for path in &self.unrecognised {
            printer.warn(&format!(
                "ignored {}: its name does not start with activity, apiUsage, userList or groupList",
                path.display()
            ));
        }
        let of = |category: Category| self.files.iter().filter(move |(c, _)| *c == category).map(|(_, p)| p);
        let mut chosen: Vec<(Category, &PathBuf)> = Vec::new();
        for &snapshot in &plan.snapshots {
            // A list is a snapshot: of several files, the last by name (names carry their date) wins.
            let files: Vec<&PathBuf> = of(snapshot).collect();
            let Some(last) = files.last() else {
                return Err(Error::Source(format!("{} has no {snapshot} file", self.dir.display())));
            };
            if files.len() > 1 {
                printer.warn(&format!(
                    "{} {snapshot} files in {}: reading only the last by name, {}",
                    files.len(),
                    self.dir.display(),
                    last.display()
                ));
            }
            chosen.push((snapshot, last));
        }
        for (&category, days) in &plan.days {
            let files: Vec<&PathBuf> = of(category).collect();
            if files.is_empty() && !days.is_empty() {
                printer.warn(&format!(
                    "{} has no {category} files (names starting with {category}): the table is empty",
                    self.dir.display()
                ));
            }
            chosen.extend(files.into_iter().map(|p| (category, p)));
        }
        let bar = printer.progress(chosen.len() as u64, "files");
        let mut sink = OneFilePerDay::new(sink, plan.days.clone());
        for (category, path) in chosen {
            sink.start_file(path);
            sink = ingest_file(path.clone(), category, sink).await?;
            bar.inc(1);
        }
        bar.finish_and_clear();
        for overlap in sink.overlaps()? {
            printer.warn(&overlap);
        }
        Ok(sink.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_come_from_names_or_folders() {
        assert_eq!(category_of(Path::new("activity_2025-10-01_2025-10-07.csv")), Some(Category::Activity));
        assert_eq!(category_of(Path::new("apiUsage_x.csv.gz")), Some(Category::ApiUsage));
        assert_eq!(category_of(Path::new("userlist.parquet")), Some(Category::UserList));
        assert_eq!(category_of(Path::new("activity/date=2025-10-01/part-00000.parquet")), Some(Category::Activity));
        assert_eq!(category_of(Path::new("notes.txt")), None);
        assert_eq!(category_of(Path::new(".tmp-activity.csv")), None);
        assert_eq!(category_of(Path::new("other.csv")), None);
        assert_eq!(category_of(Path::new("_tmp/1/activity.parquet")), None);
        assert_eq!(category_of(Path::new("activity/date=2025-10-01/_part.parquet")), None);
    }
}
