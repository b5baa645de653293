//! Typed errors, and the exit status each kind of failure maps to.

use std::path::PathBuf;

use datafusion::error::DataFusionError;

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

    /// A SQL failure: DataFusion's message on one line, without its internal prefixes, and
    /// naming the DuckDB construct to avoid where DataFusion's own words would not.
    pub fn query(err: DataFusionError) -> Error {
        if let DataFusionError::ResourcesExhausted(detail) = err.find_root() {
            // DataFusion lists the top memory consumers; the size that failed is what helps.
            let wanted = detail
                .rsplit("Failed to allocate additional ")
                .next()
                .and_then(|rest| rest.split(" for ").next())
                .filter(|size| size.len() < 20)
                .map_or_else(String::new, |size| format!(" (another {size} was needed)"));
            return Error::Query(format!(
                "the query needs more memory than the engine may use{wanted}: pass a larger --memory-limit, or narrow the query (a shorter range, fewer columns)"
            ));
        }
        let message = one_line(&strip_datafusion_prefixes(&err));
        // The decorrelating rules fail on subqueries they cannot rewrite, naming columns of
        // their own making (`s.column1`): the user's subquery is what to name.
        let text = err.to_string();
        let decorrelating =
            text.contains("Optimizer rule 'decorrelate_") || text.contains("Optimizer rule 'scalar_subquery_to_join'");
        if decorrelating
            || message.starts_with("Physical plan does not support logical expression")
            || message.starts_with("Correlated scalar subquery can only be used in")
        {
            return Error::Query(
                "this subquery cannot be computed where it stands: a subquery that reads the outer query's columns is computed in a WHERE filter or the select list when it compares them by equality (t.a = u.a), or when it is one aggregate over one SELECT that reads them by qualified name (t.ts < u.ts), not when it reads an alias of the outer select list, nests another subquery, or stands inside an aggregate's argument or FILTER or a join condition: join the subquery's table and aggregate instead (LEFT JOIN t ON ... GROUP BY ...)".into(),
            );
        }
        // A panic inside the engine's tasks comes back as an error naming the task.
        if let Some((_, detail)) = message.split_once("panicked with message ") {
            let detail = detail.trim_matches('"');
            if detail.contains("overflow") && detail.contains("offset") {
                return Error::Query(
                    "a result column would hold more than 2 GiB of text or list items in one batch, more than the engine can hold: aggregate less (e.g. sum(length(s)) instead of length(string_agg(s, '')))".into(),
                );
            }
            return Error::Panicked(detail.to_string());
        }
        if let Some(unknown) = unknown_column(&message) {
            return Error::Query(unknown);
        }
        if let Some(name) = message.strip_prefix("table function '").and_then(|m| m.split('\'').next())
            && name != "unnest"
        {
            return Error::Query(format!(
                "the table function {name}() is not supported: carto-activity reads only its tables activity, apiUsage, userList and groupList (to query a folder of exported files, pass --source DIR)"
            ));
        }
        if message.contains("table function 'unnest' not found") {
            return Error::Query(
                "this unnest() in FROM is not supported (FROM t, unnest(t.list) AS u(x) and CROSS JOIN unnest(...) are): unnest in a subquery instead, e.g. FROM (SELECT unnest(group_ids) AS group_id FROM userList)".into(),
            );
        }
        if let Some(text) = message.strip_prefix("Cast error: Cannot cast string '")
            && let Some((value, target)) = text.rsplit_once("' to value of ")
        {
            let what = match target.trim_end_matches(" type") {
                "Date32" | "Date64" => "a date",
                t if t.starts_with("Timestamp") => "a timestamp",
                "Boolean" => "a boolean",
                t if t.starts_with("Time") => "a time",
                _ => "a number",
            };
            return Error::Query(format!(
                "could not convert string '{value}' to {what}: fix the text, or write TRY_CAST(... AS type) to get NULL for what does not convert"
            ));
        }
        Error::Query(in_our_words(&message))
    }
}

/// A message with the engine's nested prefixes and bug-tracker advice left out, and its types
/// named as DuckDB names them.
fn in_our_words(message: &str) -> String {
    const PREFIXES: [&str; 6] = [
        "Execution error: ",
        "Error during planning: ",
        "Internal error: ",
        "This feature is not implemented: ",
        "Arrow error: ",
        "Invalid argument error: ",
    ];
    let mut text = message.to_string();
    for prefix in PREFIXES {
        text = text.replace(prefix, "");
    }
    if let Some(at) = text.find(" This issue was likely caused by a bug in DataFusion") {
        let rest = &text[at..];
        let end = rest.find("/issues").map_or(rest.len(), |i| i + "/issues".len());
        text = format!("{}{}", &text[..at], rest[end..].trim_start_matches('.'));
    }
    crate::type_words::duckdb_type_words(&text)
}

/// DataFusion wraps messages as "Error during planning: ..." inside "Context(...)" layers;
/// users want the innermost message, which names the construct that failed.
fn strip_datafusion_prefixes(err: &DataFusionError) -> String {
    match err.find_root() {
        DataFusionError::Plan(msg) | DataFusionError::NotImplemented(msg) => msg.clone(),
        DataFusionError::SQL(e, _) => e.to_string(),
        DataFusionError::SchemaError(e, _) => e.to_string(),
        DataFusionError::Execution(msg) => msg.clone(),
        // Arrow's own words without DataFusion's "Arrow error: " before them.
        DataFusionError::ArrowError(e, _) => e.to_string(),
        // DataFusion asks for bug reports on its own tracker; ours is the one to write to.
        DataFusionError::Internal(msg) => {
            format!("internal error of the engine: {msg} (please report it to carto-activity with the SQL)")
        }
        other => other.to_string(),
    }
}

/// DataFusion's "No field named x. Did you mean 'y'? ... Valid fields are a, b." as one line that
/// names the column, the closest one and the columns there are (no advice about its settings).
fn unknown_column(message: &str) -> Option<String> {
    let rest = message.strip_prefix("No field named ")?;
    let name_end = [". Did you mean", ". Valid fields are", ". Column names"]
        .iter()
        .filter_map(|marker| rest.find(marker))
        .min()
        .unwrap_or(rest.len());
    let name = rest[..name_end].trim_end_matches('.');
    let suggestion = rest.split_once("Did you mean '").and_then(|(_, s)| s.split_once("'?")).map(|(s, _)| s);
    let columns = rest.split_once("Valid fields are ").map(|(_, list)| list.trim_end_matches('.'));
    let mut text = format!("column {name} not found");
    if let Some(columns) = columns.filter(|c| !c.is_empty()) {
        const SHOWN: usize = 20;
        let listed: Vec<&str> = columns.split(", ").collect();
        let more = listed.len().saturating_sub(SHOWN);
        let shown = listed[..listed.len().min(SHOWN)].join(", ");
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        text.push_str(&format!(": the columns there are {shown}{more}"));
    }
    if let Some(suggestion) = suggestion {
        text.push_str(&format!(" (did you mean {suggestion}?)"));
    }
    Some(text)
}

/// Collapses a multi-line message into one line, so that every error is a single line on stderr.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_duckdb_types_without_the_engines_prefixes() {
        let message = "Execution error: Function 'make_array' user-defined coercion failed with: Error during planning: Failed to unify argument types of make_array: [Struct(\"c0\": Utf8), Utf8].";
        assert_eq!(
            in_our_words(message),
            "Function 'make_array' user-defined coercion failed with: Failed to unify argument types of make_array: [STRUCT(c0 VARCHAR), VARCHAR]."
        );
        let internal = "Internal error: f failed. This issue was likely caused by a bug in DataFusion's code. Please help us to resolve this by filing a bug report in our issue tracker: https://github.com/apache/datafusion/issues. No function matches";
        assert_eq!(in_our_words(internal), "f failed. No function matches");
    }

    #[test]
    fn an_unknown_column_names_the_columns_there_are() {
        let message = "No field named integers.\"J\". Did you mean 'integers.j'? Column names are case sensitive. You can use double quotes to refer to the integers.j column or disable the datafusion.sql_parser.enable_ident_normalization configuration. Valid fields are integers.i, integers.j.";
        assert_eq!(
            unknown_column(message).unwrap(),
            "column integers.\"J\" not found: the columns there are integers.i, integers.j (did you mean integers.j?)"
        );
        assert_eq!(
            unknown_column("No field named nope. Valid fields are t.a.").unwrap(),
            "column nope not found: the columns there are t.a"
        );
    }

    #[test]
    fn casts_of_text_that_does_not_convert_say_so() {
        use datafusion::arrow::error::ArrowError;
        let cast = ArrowError::CastError("Cannot cast string 'abc' to value of Float64 type".into());
        let err = Error::query(DataFusionError::ArrowError(Box::new(cast), None)).to_string();
        assert!(err.starts_with("could not convert string 'abc' to a number: "), "{err}");
        let decorrelate = DataFusionError::Context(
            "Optimizer rule 'decorrelate_predicate_subquery' failed".into(),
            Box::new(DataFusionError::Plan("No field named s.column1".into())),
        );
        assert!(Error::query(decorrelate).to_string().starts_with("this subquery cannot be computed where it stands"));
        let scalar = DataFusionError::Context(
            "Optimizer rule 'scalar_subquery_to_join' failed".into(),
            Box::new(DataFusionError::Plan("No field named t.column1".into())),
        );
        assert!(Error::query(scalar).to_string().starts_with("this subquery cannot be computed where it stands"));
    }

    #[test]
    fn engine_panics_and_unplannable_subqueries_read_as_ours() {
        let plan =
            DataFusionError::NotImplemented("Physical plan does not support logical expression Exists(..)".into());
        assert!(Error::query(plan).to_string().starts_with("this subquery cannot be computed where it stands"));
        let panic = DataFusionError::External("task 6 panicked with message \"offset overflow\"".into());
        let message = Error::query(panic).to_string();
        assert!(message.contains("more than 2 GiB") && !message.contains("task"), "{message}");
        let other = DataFusionError::External("task 2 panicked with message \"assertion failed\"".into());
        assert!(matches!(Error::query(other), Error::Panicked(detail) if detail == "assertion failed"));
    }

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

    #[test]
    fn planning_errors_lose_their_prefix() {
        let err = DataFusionError::Plan("table 'x' not found".into());
        assert_eq!(Error::query(err).to_string(), "table 'x' not found");
    }
}
