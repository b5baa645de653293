//! Typed errors, and the exit status each kind of failure maps to.

mod engine_limits;
mod engine_messages;

use std::path::PathBuf;

/// Exit statuses, as documented in the README.
pub mod exit {
    pub const OK: i32 = 0;
    pub const QUERY: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const SOURCE: i32 = 3;
    pub const LOCAL_IO: i32 = 4;
    /// A failure of carto-activity itself, not of the input (sysexits' EX_SOFTWARE).
    pub const INTERNAL: i32 = 70;
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag or argument that cannot be acted on (exit 2).
    #[error("{0}")]
    Usage(String),

    /// No data source could be used (exit 3).
    #[error("{0}")]
    NoSource(String),

    /// The data source failed while fetching (exit 3).
    #[error("{0}")]
    Source(String),

    /// CARTO refused the token (401): an M2M client renews it once before this is final (exit 3).
    #[error("{0}")]
    Unauthorized(String),

    /// SQL that the engine rejected or failed to run (exit 1).
    #[error("{0}")]
    Query(String),

    /// SQL that would write: refused before planning (exit 1).
    #[error("{0} statements are refused: carto-activity only reads (use `export` to write files)")]
    WriteRefused(String),

    /// A local file or folder could not be read or written (exit 4).
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file or stream handed in as input (SQL, a spec, credentials) could not be read (exit 4).
    #[error("cannot read {what}: {source}")]
    Read {
        what: String,
        #[source]
        source: std::io::Error,
    },

    /// An output file exists and `--overwrite` was not given (exit 4).
    #[error("{} already exists: pass --overwrite to replace it", .0.display())]
    OutputExists(PathBuf),

    /// Arrow or Parquet failed while writing the cache or an export (exit 4).
    #[error("{context}: {message}")]
    Write { context: String, message: String },

    /// Cached files whose bytes were not what the cache wrote; they have been removed (exit 4).
    #[error("{0}")]
    Damaged(String),

    /// The user pressed Ctrl-C (exit 130).
    #[error("interrupted")]
    Interrupted,

    /// The reader of standard output went away (`| head`): the command ends quietly (exit 0).
    #[error("standard output was closed")]
    OutputClosed,

    /// Code of ours or DataFusion's panicked while the command ran (exit 1: what reaches those
    /// paths is the SQL).
    #[error("internal error while running the command: {0} (please report it with the SQL)")]
    Panicked(String),

    /// carto-activity itself failed, whatever the input (exit 70): never the user's SQL.
    #[error("internal error: {0} (this is a bug of carto-activity: please report it)")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::NoSource(_) | Error::Source(_) | Error::Unauthorized(_) => exit::SOURCE,
            Error::Query(_) | Error::WriteRefused(_) | Error::Panicked(_) => exit::QUERY,
            Error::Io { .. }
            | Error::Read { .. }
            | Error::OutputExists(_)
            | Error::Write { .. }
            | Error::Damaged(_) => exit::LOCAL_IO,
            Error::Interrupted => exit::INTERRUPTED,
            Error::OutputClosed => exit::OK,
            Error::Internal(_) => exit::INTERNAL,
        }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { action, path, source }
    }

    /// A failure of this program's own making, named by what it was doing.
    pub fn internal(doing: &'static str) -> impl FnOnce(String) -> Error {
        move |message| Error::Internal(format!("{doing}: {message}"))
    }

    /// A failed write to standard output: a closed pipe ends the command quietly.
    pub fn stdout(source: std::io::Error) -> Error {
        if source.kind() == std::io::ErrorKind::BrokenPipe {
            return Error::OutputClosed;
        }
        Error::Io { action: "cannot write to", path: "standard output".into(), source }
    }

    pub fn write(context: impl Into<String>) -> impl FnOnce(String) -> Error {
        let context = context.into();
        move |message| Error::Write { context, message }
    }
}

/// Collapses a multi-line message into one line, so that every error is a single line on stderr.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_collapse_to_one_line() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
    }

    #[test]
    fn internal_failures_are_not_the_users_sql() {
        let err = Error::internal("listing the tables")("a column is missing".into());
        assert_eq!(err.exit_code(), exit::INTERNAL);
        assert_ne!(err.exit_code(), exit::QUERY);
        assert!(err.to_string().starts_with("internal error: listing the tables: a column is missing"), "{err}");
        assert_eq!(Error::stdout(std::io::ErrorKind::BrokenPipe.into()).exit_code(), exit::OK);
        assert_eq!(Error::stdout(std::io::ErrorKind::StorageFull.into()).exit_code(), exit::LOCAL_IO);
    }
}
