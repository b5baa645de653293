//! The lock of one source's part of the cache: readers share it, a writer (a fill, `cache
//! clear`) holds it alone.
//!
//! A process opens one lock file per source and changes its mode (`flock` converts the lock of
//! an open file in place), so that a process reading a range and then filling another never
//! waits on a lock it holds itself.

use std::fs::{self, File, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::printer::Printer;

#[derive(Debug)]
pub(crate) struct SourceLock {
    file: File,
    path: PathBuf,
    id: String,
    /// The file lock's mode belongs to the open file, shared by every task of this process
    /// that holds this lease: fills inside the process take turns here, as processes take
    /// turns on the file.
    turn: tokio::sync::Mutex<()>,
}

impl SourceLock {
    pub(super) fn open(path: &Path, id: &str) -> Result<SourceLock> {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(Error::io("cannot create", parent))?;
        }
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(Error::io("cannot open the cache lock", path))?;
        Ok(SourceLock { file, path: path.to_path_buf(), id: id.to_string(), turn: tokio::sync::Mutex::new(()) })
    }

    /// This process's turn to check and fill the cache (held from the first look at the
    /// manifest to the return to the readers' mode).
    pub(crate) async fn turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.turn.lock().await
    }

    /// The writer's mode; says on stderr when another process holds the lock.
    pub(crate) fn exclusive(&self, printer: &Printer) -> Result<()> {
        self.take(printer, File::try_lock, File::lock)
    }

    /// The readers' mode: many processes at once, none while a writer replaces or removes files.
    pub(crate) fn shared(&self, printer: &Printer) -> Result<()> {
        self.take(printer, File::try_lock_shared, File::lock_shared)
    }

    fn take(
        &self,
        printer: &Printer,
        try_lock: fn(&File) -> std::result::Result<(), TryLockError>,
        lock: fn(&File) -> std::io::Result<()>,
    ) -> Result<()> {
        match try_lock(&self.file) {
            Ok(()) => Ok(()),
            Err(TryLockError::WouldBlock) => {
                printer.warn(&format!("waiting for another carto-activity process using the cache of '{}'", self.id));
                lock(&self.file).map_err(Error::io("cannot lock", &self.path))
            }
            Err(TryLockError::Error(e)) => Err(Error::io("cannot lock", &self.path)(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_process_moves_between_modes_without_waiting_on_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks/x.lock");
        let printer = Printer::new(true, 0);
        let lock = SourceLock::open(&path, "x").unwrap();
        lock.shared(&printer).unwrap();
        lock.exclusive(&printer).unwrap();
        let other = File::options().write(true).open(&path).unwrap();
        assert!(matches!(other.try_lock_shared(), Err(TryLockError::WouldBlock)), "exclusive keeps readers out");
        lock.shared(&printer).unwrap();
        other.try_lock_shared().unwrap();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)), "a reader keeps writers out");
    }
}
