//! Text a caller hands in as a file or on standard input (SQL, report specs, credentials): read
//! up to a bound, so that `/dev/zero` or a wrong file name ends in one line instead of filling
//! memory, and, from async code, on the blocking pool, so that a FIFO no one writes still lets
//! Ctrl-C and SIGTERM end the command.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// SQL or a report spec longer than this is refused: no one writes it.
pub(crate) const MAX_TEXT_BYTES: u64 = 16 * 1024 * 1024;

/// Reads `input` whole as UTF-8 text of at most `limit` bytes; `what` names it in messages.
pub(crate) fn read_limited(input: impl Read, what: &str, limit: u64) -> Result<String> {
    let mut bytes = Vec::new();
    input.take(limit + 1).read_to_end(&mut bytes).map_err(|source| Error::Read { what: what.to_string(), source })?;
    if bytes.len() as u64 > limit {
        return Err(Error::Usage(format!(
            "{what} is longer than {}: that is not what it should hold (check the file name)",
            shown_size(limit)
        )));
    }
    String::from_utf8(bytes).map_err(|_| Error::Usage(format!("{what} is not UTF-8 text")))
}

/// The file at `path`, as [`read_limited`] reads it.
pub(crate) fn read_file(path: &Path, what: &str, limit: u64) -> Result<String> {
    let what = format!("{what} {}", path.display());
    let file = std::fs::File::open(path).map_err(|source| Error::Read { what: what.clone(), source })?;
    read_limited(file, &what, limit)
}

/// [`read_file`] on the blocking pool.
pub(crate) async fn read_file_async(path: &Path, what: &'static str, limit: u64) -> Result<String> {
    let path: PathBuf = path.to_path_buf();
    tokio::task::spawn_blocking(move || read_file(&path, what, limit))
        .await
        .map_err(|e| Error::internal("reading a file")(e.to_string()))?
}

/// Standard input, as [`read_limited`] reads it, on the blocking pool.
pub(crate) async fn read_stdin(what: &'static str) -> Result<String> {
    tokio::task::spawn_blocking(move || read_limited(std::io::stdin(), what, MAX_TEXT_BYTES))
        .await
        .map_err(|e| Error::internal("reading standard input")(e.to_string()))?
}

fn shown_size(bytes: u64) -> String {
    if bytes >= 1 << 20 { format!("{} MiB", bytes >> 20) } else { format!("{} KiB", bytes >> 10) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_bounded() {
        let message = read_file(Path::new("/dev/zero"), "the SQL file", 1 << 20).unwrap_err().to_string();
        assert_eq!(
            message,
            "the SQL file /dev/zero is longer than 1 MiB: that is not what it should hold (check the file name)"
        );
        assert_eq!(read_limited(&b"SELECT 1"[..], "x", 8).unwrap(), "SELECT 1");
        assert!(read_limited(&b"\xff"[..], "x", 8).unwrap_err().to_string().contains("not UTF-8"));
    }
}
