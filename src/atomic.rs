//! Files that appear whole or not at all: written under a temporary name in their target's
//! folder, synced, then renamed into place. The one way this program creates a file that
//! others read (cache days, the token cache, reports).

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempPath;

use crate::error::{Error, Result};

/// The name prefix of files still being written; a visible name never has it.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// A file written under its temporary name, not yet in place. Dropped unpublished, it is removed.
#[derive(Debug)]
pub(crate) struct Staged {
    temp: TempPath,
    target: PathBuf,
}

/// Opens a temporary file beside `target` with `mode` (`suffix` keeps the kind of file visible
/// to readers that go by extension).
pub(crate) fn stage(target: &Path, mode: u32, suffix: &str) -> Result<(File, Staged)> {
    let dir = folder_of(target);
    fs::create_dir_all(&dir).map_err(Error::io("cannot create", &dir))?;
    let (file, temp) = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(suffix)
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(&dir)
        .map_err(Error::io("cannot create a file in", &dir))?
        .into_parts();
    Ok((file, Staged { temp, target: target.to_path_buf() }))
}

impl Staged {
    pub(crate) fn temp_path(&self) -> &Path {
        &self.temp
    }

    pub(crate) fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the (synced) file into place; the rename is durable once [`sync_dir`] ran on
    /// the target's folder.
    pub(crate) fn publish(self) -> Result<()> {
        let target = self.target;
        self.temp.persist(&target).map_err(|e| Error::io("cannot move into place", &target)(e.error))
    }
}

/// Writes `bytes` to `target` whole: a reader sees the old file or the new one, never a part.
pub(crate) fn write_whole(target: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let (mut file, staged) = stage(target, mode, "")?;
    file.write_all(bytes).and_then(|_| file.sync_all()).map_err(Error::io("cannot write", staged.temp_path()))?;
    drop(file);
    staged.publish()?;
    sync_dir(&folder_of(target))
}

/// Makes a rename in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(Error::io("cannot sync", dir))
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_file_replaces_the_old_one_with_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.txt");
        write_whole(&path, b"one", 0o600).unwrap();
        write_whole(&path, b"two", 0o644).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644);
        let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
    }

    #[test]
    fn an_unpublished_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (mut file, staged) = stage(&dir.path().join("x.parquet"), 0o600, ".parquet").unwrap();
        file.write_all(b"partial").unwrap();
        drop(staged);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
