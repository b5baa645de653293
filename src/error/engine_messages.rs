//! DataFusion's errors in this tool's words: one line, without the engine's prefixes and type
//! names, naming the DuckDB construct and what to write instead.

use datafusion::error::DataFusionError;

use super::{Error, one_line};

impl Error {
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
            || message.starts_with("Physical plan does not support")
            || message.starts_with("Correlated scalar subquery can only be used in")
        {
            return Error::Query(
                "this subquery cannot be computed where it stands: a subquery that reads the outer query's columns is computed in a WHERE filter or the select list when it compares them by equality (t.a = u.a), or when it is one aggregate over one SELECT that reads them by qualified name (t.ts < u.ts), not when it reads an alias of the outer select list, nests another subquery, or stands inside an aggregate's argument or FILTER or a join condition: join the subquery's table and aggregate instead (LEFT JOIN t ON ... GROUP BY ...)".into(),
            );
        }
        // A panic inside the engine's tasks comes back as an error naming the task.
        if let Some((_, detail)) = message.split_once("panicked with message ") {
            return Error::panicked(detail.trim_matches('"'), "");
        }
        if let Some((_, instead)) = super::engine_limits::ENGINE_LIMITS.iter().find(|(said, _)| message.contains(said))
        {
            return Error::Query((*instead).to_string());
        }
        if let Some(kind) = message.split("Cannot run range queries on datatype: ").nth(1) {
            let kind = crate::type_words::duckdb_type_words(kind.split_whitespace().next().unwrap_or_default());
            return Error::Query(format!(
                "a window's RANGE frame with an offset orders by a number, a date or a timestamp, not {kind}: write ROWS BETWEEN, or order by a number"
            ));
        }
        if let Some(call) = unmatched_call(&message) {
            return Error::Query(call);
        }
        if let Some(types) = message.split("Failed to unify argument types of make_array: ").nth(1) {
            return Error::Query(format!(
                "the values of a list must share one type, not {}: cast them to one type",
                crate::type_words::duckdb_type_words(types.trim_end_matches('.'))
            ));
        }
        if message.contains("Cannot convert arrow_array::types::Timestamp") {
            return Error::Query(
                "a timestamp is outside the years this tool can convert (262143 BC to 262142 AD): clamp it with least()/greatest() first".into(),
            );
        }
        if let Some(detail) = message.split("Regular expression did not compile: ").nth(1).or_else(|| {
            // (The regex crate's own words, as a function of this tool passes them on.)
            message.split_once("regex parse error:").map(|(_, detail)| detail)
        }) {
            // The regex crate draws the pattern and a caret between rules: its last line says why.
            let why = detail
                .rsplit("error: ")
                .next()
                .unwrap_or(detail)
                .trim_matches(|c: char| c == '~' || c == ')' || c.is_whitespace());
            return Error::Query(format!("the regular expression does not compile: {why}"));
        }
        if let Some(columns) = message.strip_prefix("Too many columns! The subquery should only return one column: ") {
            return Error::Query(format!(
                "a subquery used as a value selects one column, and this one selects {columns}: select one, or compare a row ((a, b) IN (SELECT x, y ...))"
            ));
        }
        if let Some(kind) = message.strip_prefix("Unsupported SQL type ") {
            return Error::Query(format!(
                "the type {kind} cannot be written here: carto-activity has no BIT, UNION, VARIANT, GEOMETRY, TIME WITH TIME ZONE or ENUM type, and makes maps with map(keys, values), not casts; use VARCHAR, a number, BOOLEAN, DATE, TIME, TIMESTAMP, INTERVAL, a list or a STRUCT"
            ));
        }
        if let Some((from, to)) =
            message.strip_prefix("Unsupported CAST from ").and_then(|m| m.split_once(" to ")).or_else(|| {
                let arrows = message.trim_start_matches("Cast error: ").strip_prefix("Casting from ")?;
                arrows.strip_suffix(" not supported")?.split_once(" to ")
            })
        {
            let (from, to) = (crate::type_words::duckdb_type_words(from), crate::type_words::duckdb_type_words(to));
            return Error::Query(format!(
                "{from} values cannot be cast to {to}: compute the {to} with a function of its parts instead (e.g. DATE d + TIME t for a TIMESTAMP)"
            ));
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
        if let Some(text) = message.split("Error parsing timestamp from '").nth(1)
            && let Some((value, _)) = text.split_once('\'')
        {
            return Error::Query(format!(
                "could not convert string '{value}' to a timestamp (write it as YYYY-MM-DD[ HH:MM:SS]): fix the text, or write TRY_CAST(... AS TIMESTAMP) to get NULL for what does not convert"
            ));
        }
        // `a // 0`: DuckDB's integer division by zero fails too, in its own words.
        if ["inf", "-inf", "NaN"].iter().any(|v| message.contains(&format!("Can't cast value {v} to type "))) {
            return Error::Query(
                "division by zero in an integer division (a // b, or an infinite value cast to an integer): write a // NULLIF(b, 0) for NULL instead".into(),
            );
        }
        if let Some(text) = message.split("Can't cast value ").nth(1)
            && let Some((value, target)) = text.split_once(" to type ")
        {
            let target = in_our_words(target.trim_end_matches('.'));
            return Error::Query(format!(
                "could not convert {value} to {target}: it is out of the type's range; cast to a wider type (BIGINT, HUGEINT or DOUBLE), or write TRY_CAST(... AS {target}) to get NULL for what does not fit"
            ));
        }
        if let Some((value, rest)) = message.split_once(" is too large to store in a Decimal")
            && let Some(precision) = rest.split(" of precision ").nth(1).and_then(|p| p.split('.').next())
        {
            let value = value.rsplit(": ").next().unwrap_or(value);
            return Error::Query(format!(
                "{value} does not fit a DECIMAL of {precision} digits: cast to DOUBLE for a wider range"
            ));
        }
        if message.contains("Encountered non UTF-8 data") {
            return Error::Query(
                "a BLOB whose bytes are not UTF-8 text cannot be read as VARCHAR: keep it a BLOB, or write hex(b) or base64(b) for its bytes as text".into(),
            );
        }
        if let Some(column) = ungrouped_column(&message) {
            return Error::Query(format!(
                "column {column} must be in the GROUP BY clause or inside an aggregate: add it to GROUP BY (or write GROUP BY ALL), or read it as any_value({column})"
            ));
        }
        // (Also where the Parquet scan casts while it filters, inside its own wording.)
        if let Some(text) = message.split("Cannot cast string '").nth(1)
            && let Some((value, target)) = text.split_once("' to value of ")
        {
            let target = target.split(['"', ')']).next().unwrap_or(target);
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

    /// A panic's message (and where it happened, for the report) as the command's error: the
    /// engine's panics that have a reason a user can act on, in this tool's words.
    pub(crate) fn panicked(detail: &str, place: &str) -> Error {
        if detail.contains("overflow") && detail.contains("offset") {
            return Error::Query(
                "a result column would hold more than 2 GiB of text or list items in one batch, more than the engine can hold: aggregate less (e.g. sum(length(s)) instead of length(string_agg(s, '')))".into(),
            );
        }
        Error::Panicked(one_line(&format!("{detail}{place}")))
    }
}

/// A message with the engine's nested prefixes and bug-tracker advice left out, and its types
/// named as DuckDB names them.
fn in_our_words(message: &str) -> String {
    const PREFIXES: [&str; 9] = [
        "Execution error: ",
        "Parser error: ",
        "Error during planning: ",
        "Internal error: ",
        "This feature is not implemented: ",
        "Arrow error: ",
        "Invalid argument error: ",
        "Compute error: ",
        "Cast error: ",
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

/// The column DataFusion says is neither grouped nor aggregated ("... column \"t.c\" must appear
/// in the GROUP BY clause ..."), by its name.
fn ungrouped_column(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("Column in SELECT must be in GROUP BY or an aggregate function")?;
    let quoted = rest.split("column \"").nth(1)?.split('"').next()?;
    Some(quoted.rsplit('.').next().unwrap_or(quoted))
}

/// DataFusion's "No function matches the given name and argument types 'f(A, B)'. You might
/// need ..." as one line naming the call and what to do.
fn unmatched_call(message: &str) -> Option<String> {
    let call = message.split("No function matches the given name and argument types '").nth(1)?;
    let call = call.split("'. ").next().unwrap_or(call).trim_end_matches(['\'', '.']);
    let (name, types) = call.split_once('(')?;
    let types = crate::type_words::duckdb_type_words(types.strip_suffix(')').unwrap_or(types));
    Some(if types.is_empty() {
        format!("{name}() needs arguments")
    } else {
        format!(
            "{name}() does not take arguments of types ({types}): cast them to types it takes (the README's DuckDB compatibility section lists them)"
        )
    })
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
        // (The engine's own columns, such as unnest's placeholders, are not the user's.)
        let listed: Vec<&str> = columns.split(", ").filter(|c| !c.trim_start_matches('"').starts_with("__")).collect();
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
    fn grouping_and_cast_failures_name_the_column_and_the_value() {
        let said = |e: DataFusionError| Error::query(e).to_string();
        let ungrouped = said(DataFusionError::Plan("Column in SELECT must be in GROUP BY or an aggregate function: While expanding wildcard, column \"userlist.email\" must appear in the GROUP BY clause or must be part of an aggregate function, currently only \"count(Int64(1))\" appears".into()));
        assert!(ungrouped.starts_with("column email must be in the GROUP BY clause"), "{ungrouped}");
        let scan = said(DataFusionError::Execution("Parquet error: External: Error evaluating filter predicate: ArrowError(CastError(\"Cannot cast string 'Admin' to value of Int64 type\"), Some(\"\"))".into()));
        assert_eq!(
            scan,
            "could not convert string 'Admin' to a number: fix the text, or write TRY_CAST(... AS type) to get NULL for what does not convert"
        );
        let regex = said(DataFusionError::External("regex parse error:\n    (\n    ^\nerror: unclosed group".into()));
        assert_eq!(regex, "the regular expression does not compile: unclosed group");
    }

    #[test]
    fn types_and_casts_the_engine_lacks_are_named_as_duckdb_names_them() {
        let said = |e: DataFusionError| Error::query(e).to_string();
        let kind = said(DataFusionError::NotImplemented("Unsupported SQL type BIT".into()));
        assert!(kind.starts_with("the type BIT cannot be written here"), "{kind}");
        let planned =
            said(DataFusionError::Plan("Unsupported CAST from Interval(MonthDayNano) to Timestamp(µs)".into()));
        let run = said(DataFusionError::ArrowError(
            Box::new(datafusion::arrow::error::ArrowError::CastError(
                "Casting from Time64(µs) to Timestamp(µs) not supported".into(),
            )),
            None,
        ));
        assert!(planned.starts_with("INTERVAL values cannot be cast to TIMESTAMP:"), "{planned}");
        assert!(run.starts_with("TIME values cannot be cast to TIMESTAMP:"), "{run}");
    }

    #[test]
    fn the_engines_limits_are_told_with_what_to_write() {
        let said = |e: DataFusionError| Error::query(e).to_string();
        let decimal = said(DataFusionError::Execution(
            "1000 is too large to store in a Decimal128 of precision 3. Max is 999".into(),
        ));
        assert_eq!(decimal, "1000 does not fit a DECIMAL of 3 digits: cast to DOUBLE for a wider range");
        let cast = said(DataFusionError::Execution("Can't cast value 1e30 to type Int64".into()));
        assert!(cast.starts_with("could not convert 1e30 to BIGINT: it is out of the type's range"), "{cast}");
        let literal = said(DataFusionError::NotImplemented(
            "Decimal precision 80 exceeds the maximum supported precision: 76".into(),
        ));
        assert!(literal.starts_with("a DECIMAL of more than 76 digits"), "{literal}");
        let text = said(DataFusionError::Execution("Encountered non UTF-8 data: invalid utf-8 sequence".into()));
        assert!(text.starts_with("a BLOB whose bytes are not UTF-8 text"), "{text}");
        let window =
            said(DataFusionError::NotImplemented("Aggregate ORDER BY is not implemented for window functions".into()));
        assert!(window.starts_with("an aggregate's own ORDER BY"), "{window}");
        let range =
            said(DataFusionError::Internal("Cannot run range queries on datatype: Interval(MonthDayNano)".into()));
        assert!(range.contains("not INTERVAL: write ROWS BETWEEN"), "{range}");
        let unnest = said(DataFusionError::Plan(
            "No field named \"unnest(s)\". Valid fields are \"t.s.a\", \"__unnest_placeholder(t.s).a\".".into(),
        ));
        assert_eq!(unnest, "column \"unnest(s)\" not found: the columns there are \"t.s.a\"");
        let regex = said(DataFusionError::ArrowError(
            Box::new(datafusion::arrow::error::ArrowError::ComputeError(
                "Regular expression did not compile: Syntax(\n~~~\nregex parse error:\n    (?i ).*\n       ^\nerror: unrecognized flag\n~~~\n)".into(),
            )),
            None,
        ));
        assert_eq!(regex, "the regular expression does not compile: unrecognized flag");
        let call = said(DataFusionError::Plan("Failed to coerce arguments to satisfy a call to 'map_keys' function: coercion from Null to the signature ArraySignature(map_array) failed. No function matches the given name and argument types 'map_keys(Null)'. You might need to add explicit type casts. Candidate functions: map_keys(map_array)".into()));
        assert!(call.starts_with("map_keys() does not take arguments of types (NULL): cast them"), "{call}");
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
    fn planning_errors_lose_their_prefix() {
        let err = DataFusionError::Plan("table 'x' not found".into());
        assert_eq!(Error::query(err).to_string(), "table 'x' not found");
    }
}
