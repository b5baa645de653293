//! What keeps exports from damaging each other or leaving half-written data: one export per
//! destination at a time (a lock file beside local outputs, a marker object created only if
//! absent on object stores), and every file written first under `_tmp/<run>/`, which readers
//! of `part-*` files skip (Spark, Hive and DuckDB ignore `_`-names), then renamed into place.

use std::fs::{File, TryLockError};
use std::path::PathBuf;

use datafusion::object_store::path::Path as StorePath;
use datafusion::object_store::{ObjectStoreExt, PutMode, PutOptions};

use super::destination::Destination;
use crate::error::{Error, Result};

/// The folder (below the destination's prefix) that files are written in before they are whole.
pub(super) const STAGING_DIR: &str = "_tmp";
/// The lock beside local outputs, and the marker object on stores.
const LOCAL_LOCK: &str = ".carto-activity-export.lock";
const STORE_MARKER: &str = "_carto-activity-export.lock";

/// Held while an export writes to its destination; checks of what exists happen under it.
pub(crate) struct TargetLock {
    /// The local lock file, removed (while still held) when the export ends.
    file: Option<(File, PathBuf)>,
    marker: Option<StorePath>,
}

/// This run's staging folder. Dropped (an error, Ctrl-C, SIGTERM), a local one is removed at
/// once; on a store, what is left sits under `_tmp/` until the next export removes it.
pub(super) struct Run {
    pub(super) id: String,
    local_dir: Option<PathBuf>,
}

impl Drop for TargetLock {
    fn drop(&mut self) {
        // Removed while still held (the lock goes with the open file, after this).
        if let Some((_file, path)) = &self.file {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(dir) = &self.local_dir {
            remove_staging(dir);
        }
    }
}

/// The local staging folders of this process's runs. An interrupted run's uploads may still be
/// finishing on the blocking pool after its [`Run`] is dropped, and would create files again;
/// [`remove_abandoned_staging`] removes the folders once more after the runtime stopped.
static LOCAL_STAGING: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn remove_staging(dir: &std::path::Path) {
    let _ = std::fs::remove_dir_all(dir);
    // The `_tmp` folder itself, when no other run's folder is left in it.
    if let Some(parent) = dir.parent() {
        let _ = std::fs::remove_dir(parent);
    }
}

/// Removes the staging folders of runs that did not finish; call after the runtime stopped.
pub fn remove_abandoned_staging() {
    let dirs = LOCAL_STAGING.lock().map(|mut dirs| std::mem::take(&mut *dirs)).unwrap_or_default();
    for dir in dirs {
        remove_staging(&dir);
    }
}

fn same_file(file: &File, path: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

impl Destination {
    /// Takes the destination for this export, or says who has it.
    pub(crate) async fn lock(&self) -> Result<TargetLock> {
        let busy = || Error::Write {
            context: format!("cannot write to {}", self.display),
            message: "another carto-activity export or sync is writing there: wait for it to finish".into(),
        };
        if let Some(dir) = &self.local {
            let path = dir.join(LOCAL_LOCK);
            // The holder removes the file when it ends; a lock taken on a file that was removed
            // meanwhile guards nothing, so it is taken again on the file now at the path.
            loop {
                let file = File::options()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .map_err(Error::io("cannot open the export lock", &path))?;
                match file.try_lock() {
                    Ok(()) => {}
                    Err(TryLockError::WouldBlock) => return Err(busy()),
                    Err(TryLockError::Error(e)) => return Err(Error::io("cannot lock", &path)(e)),
                }
                if same_file(&file, &path) {
                    return Ok(TargetLock { file: Some((file, path)), marker: None });
                }
            }
        }
        let marker = self.child(STORE_MARKER);
        let body = format!("pid {} since {}\n", std::process::id(), chrono::Utc::now().to_rfc3339());
        let create = PutOptions { mode: PutMode::Create, ..Default::default() };
        match self.store.put_opts(&marker, body.into(), create).await {
            Ok(_) => Ok(TargetLock { file: None, marker: Some(marker) }),
            Err(datafusion::object_store::Error::AlreadyExists { .. }) => Err(Error::Write {
                context: format!("cannot write to {}", self.display),
                message: format!(
                    "another carto-activity export or sync is writing there ({} exists; if none is running, a killed one left it: delete it)",
                    self.shown(&marker)
                ),
            }),
            // A store without conditional writes: exports to it are not serialised.
            Err(datafusion::object_store::Error::NotImplemented { .. }) => Ok(TargetLock { file: None, marker: None }),
            Err(e) => Err(self.failed("write", &marker, e)),
        }
    }

    pub(crate) async fn unlock(&self, lock: TargetLock) {
        if let Some(marker) = &lock.marker {
            let _ = self.store.delete(marker).await;
        }
        drop(lock);
        self.remove_if_unused();
    }

    /// A new staging folder, after removing what earlier runs left (none can be running:
    /// the caller holds the lock).
    pub(super) async fn start_run(&self) -> Result<Run> {
        self.remove_all(&self.child(STAGING_DIR)).await?;
        let id = format!("{}-{}", std::process::id(), chrono::Utc::now().timestamp_micros());
        let local_dir = self.local.as_ref().map(|dir| dir.join(STAGING_DIR).join(&id));
        if let (Some(dir), Ok(mut all)) = (&local_dir, LOCAL_STAGING.lock()) {
            all.push(dir.clone());
        }
        Ok(Run { id, local_dir })
    }

    /// Where `target` is written during `run`.
    pub(super) fn staged(&self, run: &Run, target: &StorePath) -> StorePath {
        self.child(&format!("{STAGING_DIR}/{}/{}", run.id, self.relative(target)))
    }

    /// For a local destination whose `target` folder does not exist yet: the staged folder, with
    /// the manifest written into it, renamed into place at once, so that a reader (or a kill)
    /// sees all of the export or none of it. `false` where this does not apply.
    pub(super) fn publish_folder(&self, staged: &StorePath, target: &StorePath, manifest: &[u8]) -> Result<bool> {
        let Some(dir) = &self.local else { return Ok(false) };
        let (from, to) = (dir.join(self.relative(staged)), dir.join(self.relative(target)));
        if !from.is_dir() || std::fs::symlink_metadata(&to).is_ok() {
            return Ok(false);
        }
        let success = from.join(super::SUCCESS_FILE);
        std::fs::write(&success, manifest).map_err(Error::io("cannot write", &success))?;
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io("cannot create", parent))?;
        }
        std::fs::rename(&from, &to).map_err(Error::io("cannot move into place", &to))?;
        Ok(true)
    }

    /// Moves a finished file from its staging place to `target`.
    pub(super) async fn publish(&self, staged: &StorePath, target: &StorePath) -> Result<()> {
        self.store.rename(staged, target).await.map_err(|e| self.failed("move into place", target, e))
    }
}
