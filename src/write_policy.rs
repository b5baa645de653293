//! Where a caller may write. Every path a caller names for output (a report, an export folder,
//! the shell's `.output`) is checked here before anything is written: symbolic links and special
//! files are never written through or replaced, an existing file is replaced only when it is
//! recognisably this tool's or the caller said so, the cache is never an output, and a confined
//! caller (the MCP server, whose arguments an agent chooses) writes only under its root and
//! reaches no object store unless the operator allowed it.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// What the caller of a command may write.
#[derive(Debug, Clone, Default)]
pub(crate) struct WritePolicy {
    /// Every local write resolves inside this folder (canonical); `None`: wherever the user may.
    root: Option<PathBuf>,
    /// Object stores (`s3://`, `gs://`, `az://`) may be written.
    remote: bool,
    /// Folders no output may be put in (the cache).
    protected: Vec<PathBuf>,
}

/// When an existing regular file may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replace<'a> {
    /// Only a file that starts with this text (what this tool writes first in such files).
    IfStartsWith(&'a str),
    /// Only a file this session wrote (checked by the caller), else never.
    IfWrittenHere(bool),
    /// The caller asked for it (`--overwrite`).
    Always,
}

impl WritePolicy {
    /// The command line's: anywhere the user may write, object stores included.
    pub(crate) fn unconfined() -> WritePolicy {
        WritePolicy { root: None, remote: true, protected: Vec::new() }
    }

    /// Writes only under `root` (which must be a folder), object stores only if `remote`.
    pub(crate) fn confined(root: &Path, remote: bool) -> Result<WritePolicy> {
        let canonical = fs::canonicalize(root).map_err(Error::io("cannot use the write root", root))?;
        if !canonical.is_dir() {
            return Err(Error::Usage(format!("--write-root {} is not a folder: give a folder", root.display())));
        }
        Ok(WritePolicy { root: Some(canonical), remote, protected: Vec::new() })
    }

    /// No output goes inside `dir` (the cache folder), whatever the policy.
    pub(crate) fn protect(mut self, dir: &Path) -> WritePolicy {
        self.protected.push(resolve_existing(dir).unwrap_or_else(|| dir.to_path_buf()));
        self
    }

    pub(crate) fn is_confined(&self) -> bool {
        self.root.is_some()
    }

    /// May an object store be written? `what` names the argument in the refusal.
    pub(crate) fn check_remote(&self, what: &str, url: &str) -> Result<()> {
        if self.remote {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "{what} {url}: this server writes only to local folders under {}; the operator can allow object stores with `mcp --allow-object-stores`",
            self.root_shown()
        )))
    }

    /// A file to write: the path to write it at (relative paths resolved against the root, when
    /// confined). `inputs` are files the output is made from, never replaced by it.
    pub(crate) fn file(&self, target: &Path, what: &str, inputs: &[&Path], replace: Replace) -> Result<PathBuf> {
        let path = self.place(target, what, false)?;
        let shown = target.display();
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(path),
            Err(e) => return Err(Error::io("cannot inspect", &path)(e)),
        };
        if meta.file_type().is_symlink() {
            return Err(Error::Usage(format!(
                "{what} {shown} is a symbolic link: give the path of a regular file (links are neither written through nor replaced)"
            )));
        }
        if !meta.is_file() {
            return Err(Error::Usage(format!(
                "{what} {shown} is not a regular file (a device, folder or pipe): give the path of a file to write"
            )));
        }
        use std::os::unix::fs::MetadataExt;
        for input in inputs {
            if fs::metadata(input).is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino()) {
                return Err(Error::Usage(format!(
                    "{what} {shown} is also the input {}: give another output path",
                    input.display()
                )));
            }
        }
        let replaceable = match replace {
            Replace::Always => true,
            Replace::IfWrittenHere(written) => written || meta.len() == 0,
            Replace::IfStartsWith(marker) => meta.len() == 0 || starts_with(&path, marker),
        };
        if !replaceable {
            let how = if self.is_confined() {
                "give a new file name (or pass `overwrite: true`)".to_string()
            } else if matches!(replace, Replace::IfWrittenHere(_)) {
                format!("give a new file name, or write `{what} --overwrite {shown}`")
            } else {
                "give a new file name, or pass --overwrite to replace it".to_string()
            };
            return Err(Error::Usage(format!(
                "{what} {shown} already exists and was not written by carto-activity: {how}"
            )));
        }
        Ok(path)
    }

    /// A local folder to write files in: the path to use (resolved when confined). It may not
    /// exist yet; an existing non-folder is refused.
    pub(crate) fn folder(&self, target: &Path, what: &str) -> Result<PathBuf> {
        let path = self.place(target, what, true)?;
        match fs::metadata(&path) {
            Ok(meta) if !meta.is_dir() => Err(Error::Usage(format!(
                "{what} {} is not a folder: give a folder to write the files in",
                target.display()
            ))),
            _ => Ok(path),
        }
    }

    /// Where `target` lands: checked against `~`, the root and the protected folders. A file's
    /// own name is not resolved (a link there is refused as such by the caller), a folder's is.
    fn place(&self, target: &Path, what: &str, follow_last: bool) -> Result<PathBuf> {
        let shown = target.display();
        if target.as_os_str().is_empty() {
            return Err(Error::Usage(format!("{what} is empty: give a path")));
        }
        if target.to_str().is_some_and(|t| t.starts_with('~')) {
            return Err(Error::Usage(format!(
                "{what} {shown}: `~` is not expanded here (it would name a folder called ~): give the full path"
            )));
        }
        let absolute = match &self.root {
            Some(root) if target.is_relative() => root.join(target),
            _ => std::path::absolute(target).map_err(Error::io("cannot resolve", target))?,
        };
        let up = || Error::Usage(format!("{what} {shown} goes up with `..` past what exists: give a plain path"));
        let resolved = match (follow_last, absolute.file_name(), absolute.parent()) {
            (false, Some(name), Some(parent)) => resolve(parent).ok_or_else(up)?.join(name),
            _ => resolve(&absolute).ok_or_else(up)?,
        };
        if let Some(root) = &self.root
            && !resolved.starts_with(root)
        {
            return Err(Error::Usage(format!(
                "{what} {shown} is outside the folder this server may write in ({}): give a path inside it",
                self.root_shown()
            )));
        }
        if let Some(cache) = self.protected.iter().find(|p| resolved.starts_with(p)) {
            return Err(Error::Usage(format!(
                "{what} {shown} is inside the cache folder {}: write outputs elsewhere",
                cache.display()
            )));
        }
        Ok(if self.root.is_some() { resolved } else { target.to_path_buf() })
    }

    fn root_shown(&self) -> String {
        self.root.as_ref().map_or_else(|| "any folder".to_string(), |r| r.display().to_string())
    }
}

/// `path` with every existing part resolved (links followed), and the parts that do not exist
/// yet appended; `None` when a part that does not exist is `..` (only the file system could say
/// where it leads, once the parts before it are created).
fn resolve(path: &Path) -> Option<PathBuf> {
    let mut base = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Some(mut resolved) = resolve_existing(&base) {
            resolved.extend(rest.iter().rev());
            return Some(resolved);
        }
        match base.components().next_back() {
            Some(Component::Normal(name)) => rest.push(name.to_os_string()),
            Some(Component::CurDir) => {}
            _ => return None,
        }
        base.pop();
    }
}

fn resolve_existing(path: &Path) -> Option<PathBuf> {
    fs::canonicalize(path).ok()
}

/// Does the file at `path` start with `marker`? (Reads no more than the marker's length.)
fn starts_with(path: &Path, marker: &str) -> bool {
    use std::io::Read;
    let mut head = vec![0; marker.len()];
    fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head == marker.as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_files_are_replaced_only_when_ours_or_asked() {
        let dir = tempfile::tempdir().unwrap();
        let policy = WritePolicy::unconfined();
        let page = dir.path().join("page.html");
        assert!(policy.file(&page, "--output", &[], Replace::IfStartsWith("<!-- ours -->")).is_ok(), "a new file");
        fs::write(&page, "<!-- ours --> the page").unwrap();
        assert!(policy.file(&page, "--output", &[], Replace::IfStartsWith("<!-- ours -->")).is_ok());
        fs::write(&page, "someone's notes").unwrap();
        let message =
            policy.file(&page, "--output", &[], Replace::IfStartsWith("<!-- ours -->")).unwrap_err().to_string();
        assert!(message.contains("already exists") && message.contains("--overwrite"), "{message}");
        assert!(policy.file(&page, "--output", &[], Replace::Always).is_ok());
        assert!(policy.file(&page, ".once", &[], Replace::IfWrittenHere(true)).is_ok());
        let message = policy.file(&page, ".once", &[], Replace::IfWrittenHere(false)).unwrap_err().to_string();
        assert!(message.contains(".once --overwrite"), "{message}");
    }

    #[test]
    fn links_devices_folders_inputs_tildes_and_the_cache_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        fs::create_dir(&cache).unwrap();
        let policy = WritePolicy::unconfined().protect(&cache);
        let file = dir.path().join("page.html");
        fs::write(&file, "x").unwrap();
        let link = dir.path().join("link.html");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let manifest = cache.join("v3/manifest.json");
        for (target, inputs, needle) in [
            (link.as_path(), vec![], "symbolic link"),
            (Path::new("/dev/null"), vec![], "not a regular file"),
            (dir.path(), vec![], "not a regular file"),
            (file.as_path(), vec![file.as_path()], "also the input"),
            (Path::new("~/x.html"), vec![], "`~` is not expanded"),
            (manifest.as_path(), vec![], "inside the cache folder"),
        ] {
            let message = policy.file(target, "--output", &inputs, Replace::Always).unwrap_err().to_string();
            assert!(message.contains(needle) && !message.contains('\n'), "{target:?}: {message}");
        }
    }

    #[test]
    fn a_confined_caller_stays_under_its_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir(&root).unwrap();
        let outside = dir.path().join("outside");
        fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("escape")).unwrap();
        let policy = WritePolicy::confined(&root, false).unwrap();
        let canonical = fs::canonicalize(&root).unwrap();
        assert_eq!(policy.folder(Path::new("exports/x"), "output_dir").unwrap(), canonical.join("exports/x"));
        assert_eq!(policy.folder(&root.join("y"), "output_dir").unwrap(), canonical.join("y"));
        for target in ["/etc/x", "../x", "escape/x", "escape", "new/../../x", "~/x"] {
            let message = policy.folder(Path::new(target), "output_dir").unwrap_err().to_string();
            assert!(message.starts_with(&format!("output_dir {target}")), "{target}: {message}");
        }
        assert!(
            policy
                .check_remote("output_dir", "s3://bucket/x")
                .unwrap_err()
                .to_string()
                .contains("--allow-object-stores")
        );
        assert!(WritePolicy::unconfined().check_remote("--output-dir", "s3://bucket/x").is_ok());
    }
}
