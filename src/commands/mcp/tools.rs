//! The MCP tools: each one's schema, and its work. Arguments are turned into the CLI's own
//! command line and parsed by it, so dates, formats and categories are checked (and refused)
//! exactly as on the command line.

use clap::Parser;
use futures::StreamExt;
use serde_json::{Map, Value, json};

use super::super::days::days_to_read;
use super::Answer;
use crate::category::Category;
use crate::cli::{Cli, Command};
use crate::context::{Context, Parallelism};
use crate::dates::DateRange;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;

use crate::encode::{json_value, object_keys, write_csv_header, write_csv_rows};
use crate::engine::explore::{EVENT_TYPES_SQL, PayloadKeys, payload_keys};
use crate::engine::{Prepared, sql_type_name};
use crate::error::{Error, Result};

const DEFAULT_MAX_ROWS: u64 = 500;

pub(super) fn definitions() -> Value {
    let range = json!({
        "start_date": { "type": "string", "description": "First UTC day, YYYY-MM-DD (inclusive)" },
        "end_date": { "type": "string", "description": "Last UTC day, YYYY-MM-DD (inclusive); at most the last complete day" },
    });
    let optional = json!({
        "start_date": { "type": "string", "description": "First UTC day, YYYY-MM-DD (inclusive), with end_date; leave both out to read the days the SQL's filter on ts selects (else the last 7 complete days)" },
        "end_date": { "type": "string", "description": "Last UTC day, YYYY-MM-DD (inclusive), with start_date; at most the last complete day" },
    });
    // The range's two arguments, required or not, and the tool's own.
    let with_range = |range: &Value, range_required: bool, extra: Value, required: &[&str]| {
        let mut properties = range.as_object().cloned().unwrap_or_default();
        properties.extend(extra.as_object().cloned().unwrap_or_default());
        let mut all = if range_required { vec!["start_date", "end_date"] } else { vec![] };
        all.extend_from_slice(required);
        json!({ "type": "object", "properties": properties, "required": all })
    };
    json!([
        {
            "name": "query",
            "description": "Run DuckDB-flavoured SQL (read-only) over the tables activity(type, ts, data JSON text), apiUsage, userList and groupList for a date range. Several statements separated by ';' give one result each. Rows are objects keyed by column name; `truncated` says whether rows were left out by max_rows.",
            "inputSchema": with_range(&optional, false, json!({
                "sql": { "type": "string", "description": "The SQL, as for DuckDB: e.g. SELECT type, count(*) FROM activity GROUP BY ALL ORDER BY 2 DESC" },
                "max_rows": { "type": "integer", "minimum": 0, "description": "Rows returned per statement (default 500)" },
            }), &["sql"]),
        },
        {
            "name": "tables",
            "description": "The four tables with their columns, DuckDB types and what a row means.",
            "inputSchema": { "type": "object", "properties": {} },
        },
        {
            "name": "event_types",
            "description": "The event types in activity over a date range (default: the last 7 complete days), with how many events of each: the values `type` takes.",
            "inputSchema": with_range(&optional, false, json!({}), &[]),
        },
        {
            "name": "json_keys",
            "description": "The keys and nested paths (e.g. map.id) of the JSON payloads (activity.data) of one event type over a date range, with how many payloads have each and an example value. Read a path in SQL as data->>'$.map.id' or json_extract_string(data, '$.map.id').",
            "inputSchema": with_range(&optional, false, json!({
                "event_type": { "type": "string", "description": "An activity type, as event_types lists them" },
            }), &["event_type"]),
        },
        {
            "name": "export",
            "description": "Write whole categories of a date range to files (as the export command does); refuses an existing target. Returns what was written.",
            "inputSchema": with_range(&range, true, json!({
                "categories": { "type": "array", "items": { "type": "string", "enum": ["activity", "apiUsage", "userList", "groupList"] }, "description": "Default: all four" },
                "format": { "type": "string", "enum": ["parquet", "csv", "ndjson"], "description": "Default: parquet" },
                "output_dir": { "type": "string", "description": "A folder inside the server's write root (its working folder unless started with --write-root), relative to it; default activity-data. s3://, gs://, az:// only when the server was started with --allow-object-stores" },
            }), &[]),
        },
        {
            "name": "report",
            "description": "Write the HTML report of adoption and quota for a date range; returns its path.",
            "inputSchema": with_range(&range, true, json!({
                "output": { "type": "string", "description": "The HTML file to write, inside the server's write root and relative to it (default: carto-activity-report_START_END.html); an existing file is replaced only if it is a carto-activity report" },
            }), &[]),
        },
    ])
}

/// Runs tool `name`; `notify(step, message)` reports progress (0: started, 1: data ready).
pub(super) async fn call<F, Fut>(context: &Context, name: &str, args: &Value, notify: &F) -> Result<Answer>
where
    F: Fn(f64, &str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if !(args.is_object() || args.is_null()) {
        return Err(Error::Usage(format!("the arguments of {name} are an object of named arguments")));
    }
    // A text argument: absent (or null), or text; another type is named as such, not as missing.
    let text = |key: &str| -> Result<Option<String>> {
        match args.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => {
                Err(Error::Usage(format!("the argument `{key}` of {name} is text, not {}", json_kind(other))))
            }
        }
    };
    let required = |key: &str| text(key)?.ok_or_else(|| Error::Usage(format!("{name} needs the argument `{key}`")));
    let range_flags = || -> Result<Vec<String>> {
        Ok(vec!["--start-date".into(), required("start_date")?, "--end-date".into(), required("end_date")?])
    };
    // A range given whole, or not at all.
    let given = || -> Result<Option<DateRange>> {
        match (text("start_date")?, text("end_date")?) {
            (None, None) => Ok(None),
            (Some(_), Some(_)) => resolve(range_flags()?).map(Some),
            _ => Err(Error::Usage(format!("{name} takes start_date and end_date together, or neither"))),
        }
    };
    match name {
        "tables" => {
            let structured = tables();
            Ok(Answer { text: serde_json::to_string_pretty(&structured).unwrap_or_default(), structured })
        }
        "query" => {
            let max_rows = match args.get("max_rows") {
                None | Some(Value::Null) => DEFAULT_MAX_ROWS,
                Some(v) => v.as_u64().ok_or_else(|| Error::Usage("max_rows must be a whole number ≥ 0".into()))?,
            };
            let range = given()?;
            notify(0.0, "fetching missing days").await;
            query(context, range, &required("sql")?, max_rows as usize, notify).await
        }
        "event_types" => {
            let range = given()?;
            let mut answer = query(context, range, EVENT_TYPES_SQL, usize::MAX, notify).await?;
            answer.structured = json!({ "event_types": answer.structured["rows"].take() });
            Ok(answer)
        }
        "json_keys" => {
            let range = given()?;
            json_keys(context, range, &required("event_type")?, notify).await
        }
        "export" => {
            let mut argv = vec!["export".to_string()];
            argv.extend(range_flags()?);
            for (key, flag) in [("format", "--format"), ("output_dir", "--output-dir")] {
                if let Some(value) = text(key)? {
                    argv.extend([flag.to_string(), value]);
                }
            }
            match args.get("categories") {
                None | Some(Value::Null) => {}
                Some(Value::Array(list)) if list.is_empty() => {
                    return Err(Error::Usage(
                        "`categories` is empty: name at least one (activity, apiUsage, userList, groupList), or leave it out for all four".into(),
                    ));
                }
                Some(Value::Array(list)) => {
                    for category in list {
                        let category = category.as_str().ok_or_else(|| {
                            Error::Usage(format!("`categories` lists table names as text, not {}", json_kind(category)))
                        })?;
                        argv.extend(["--category".to_string(), category.to_string()]);
                    }
                }
                Some(other) => {
                    return Err(Error::Usage(format!(
                        "`categories` is a list of table names, not {}",
                        json_kind(other)
                    )));
                }
            }
            let Command::Export(export) = parse(argv)? else { unreachable!("parsed as export") };
            notify(0.0, "fetching missing days").await;
            let written = super::super::export::run(context, export).await?;
            let text = written
                .iter()
                .map(|w| format!("wrote {} ({} rows, {} bytes, {} file(s))", w.location, w.rows, w.bytes, w.files))
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Answer { structured: json!({ "written": written }), text })
        }
        "report" => {
            let mut argv = vec!["report".to_string()];
            argv.extend(range_flags()?);
            if let Some(output) = text("output")? {
                // `-` would be standard output: the protocol's channel.
                if output == "-" {
                    return Err(Error::Usage(
                        "report output `-` (standard output) is the MCP channel: give a file".into(),
                    ));
                }
                argv.extend(["--output".to_string(), output]);
            }
            let Command::Report(report) = parse(argv)? else { unreachable!("parsed as report") };
            notify(0.0, "fetching missing days").await;
            let (path, panels) = super::super::report::run(context, report).await?;
            let path = path.map(|p| std::path::absolute(&p).unwrap_or(p).display().to_string()).unwrap_or_default();
            Ok(Answer {
                text: format!("wrote {path} ({panels} panels)"),
                structured: json!({ "path": path, "panels": panels }),
            })
        }
        other => Err(Error::Usage(format!(
            "no tool named '{other}': the tools are query, tables, event_types, json_keys, export and report"
        ))),
    }
}

/// A JSON value's kind, for messages about arguments of the wrong type.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The tool's arguments as the CLI's command line, parsed (and refused) as the CLI parses it.
fn parse(argv: Vec<String>) -> Result<Command> {
    Cli::try_parse_from(std::iter::once("carto-activity".to_string()).chain(argv)).map(|cli| cli.command).map_err(|e| {
        let line = crate::printer::usage_line(&e.render().to_string());
        Error::Usage(line.strip_prefix("error: ").map(str::to_string).unwrap_or(line))
    })
}

fn resolve(range_flags: Vec<String>) -> Result<DateRange> {
    let mut argv = vec!["query".to_string()];
    argv.extend(range_flags);
    argv.extend(["--sql".to_string(), "SELECT 1".to_string()]);
    let Command::Query(query) = parse(argv)? else { unreachable!("parsed as query") };
    query.range.resolve()?.ok_or_else(|| Error::Usage("give start_date and end_date".into()))
}

pub(super) fn tables() -> Value {
    let meaning = |category: Category| match category {
        Category::Activity => {
            "one row per event; `data` is a JSON object (text) with camelCase keys such as userId, mapId, workflowId, map.id"
        }
        Category::ApiUsage => "one row per (day, user, metric); quota used = SUM(amount * quota_usage_weight)",
        Category::UserList => "a snapshot of today's users; group_ids lists their groups",
        Category::GroupList => "a snapshot of today's groups",
    };
    let list: Vec<Value> = Category::ALL
        .iter()
        .map(|category| {
            let columns: Vec<Value> = category
                .schema()
                .fields()
                .iter()
                .map(|f| json!({ "name": f.name(), "type": sql_type_name(f.data_type()) }))
                .collect();
            json!({ "name": category.name(), "columns": columns, "row": meaning(*category) })
        })
        .collect();
    json!({ "tables": list })
}

/// Runs `sql` and answers each statement's columns (name and DuckDB type), first `max_rows`
/// rows, row count and whether rows were left out.
async fn query<F, Fut>(
    context: &Context,
    range: Option<DateRange>,
    sql: &str,
    max_rows: usize,
    notify: &F,
) -> Result<Answer>
where
    F: Fn(f64, &str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Prepared { statements, categories } = Prepared::new(sql)?;
    let ranges = days_to_read(context, range, &statements, &categories).await?;
    let engine = context.engine_over(&ranges, &categories, false, Parallelism::AllCores).await?;
    notify(1.0, "running the query").await;
    let mut frames = Vec::with_capacity(statements.len());
    let mut warnings = Vec::new();
    for statement in statements {
        warnings.extend(engine.names_not_held(&statement));
        frames.push(engine.plan(statement).await?);
    }
    let (mut results, mut texts) = (Vec::new(), Vec::new());
    for frame in frames {
        let mut stream = frame.execute_stream().await.map_err(Error::query)?;
        let schema = stream.schema();
        let keys = object_keys(&schema);
        let (mut rows, mut shown, mut count) = (Vec::new(), Vec::new(), 0usize);
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(Error::query)?;
            let take = batch.num_rows().min(max_rows.saturating_sub(count));
            for row in 0..take {
                let values = batch.columns().iter().map(|c| json_value(c.as_ref(), row));
                rows.push(Value::Object(keys.iter().cloned().zip(values).collect::<Map<_, _>>()));
            }
            if take > 0 {
                shown.push(batch.slice(0, take));
            }
            count += batch.num_rows();
        }
        let columns: Vec<Value> = schema
            .fields()
            .iter()
            .zip(&keys)
            .map(|(f, key)| json!({ "name": key, "type": sql_type_name(f.data_type()) }))
            .collect();
        let truncated = count > rows.len();
        let mut text = csv_with_types(&schema, &shown)?;
        if truncated {
            text.push_str(&format!("\n{count} rows ({} shown: raise max_rows for more)", rows.len()));
        }
        texts.push(text);
        results.push(json!({ "columns": columns, "rows": rows, "row_count": count, "truncated": truncated }));
    }
    let mut structured = if results.len() == 1 { results.remove(0) } else { json!({ "results": results }) };
    // What a typo in an event type or a key leaves empty, said to the agent as to a user.
    if !warnings.is_empty() {
        texts.extend(warnings.iter().map(|w| format!("warning: {w}")));
        structured["warnings"] = json!(warnings);
    }
    Ok(Answer { structured, text: texts.join("\n\n") })
}

/// A result as text an agent reads cheaply and whole: CSV whose first row names the columns
/// and second gives their DuckDB types (ClickHouse's CSVWithNamesAndTypes), values as
/// `--format csv` writes them, never cut.
fn csv_with_types(schema: &Schema, batches: &[RecordBatch]) -> Result<String> {
    let failed = |e: &dyn std::fmt::Display| Error::internal("writing a result as CSV")(e.to_string());
    let mut writer = csv::Writer::from_writer(Vec::new());
    write_csv_header(&mut writer, schema).map_err(|e| failed(&e))?;
    writer.write_record(schema.fields().iter().map(|f| sql_type_name(f.data_type()))).map_err(|e| failed(&e))?;
    for batch in batches {
        write_csv_rows(&mut writer, batch).map_err(|e| failed(&e))?;
    }
    let bytes = writer.into_inner().map_err(|e| failed(&e))?;
    Ok(String::from_utf8_lossy(&bytes).trim_end().to_string())
}

/// Every payload of `event_type` over the range, walked: each key path with the number of
/// payloads that have it and the first value seen.
async fn json_keys<F, Fut>(context: &Context, range: Option<DateRange>, event_type: &str, notify: &F) -> Result<Answer>
where
    F: Fn(f64, &str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let ranges = days_to_read(context, range, &[], &[Category::Activity]).await?;
    let engine = context.engine_over(&ranges, &[Category::Activity], false, Parallelism::AllCores).await?;
    notify(1.0, "reading the payloads").await;
    let PayloadKeys { payloads, keys } = payload_keys(&engine, Some(event_type), None).await?;
    let text = keys.iter().map(|k| format!("{}\t{}", k.path, k.count)).collect::<Vec<_>>().join("\n");
    let keys: Vec<Value> = keys
        .into_iter()
        .map(
            |k| json!({ "path": k.path, "json_path": format!("$.{}", k.path), "count": k.count, "example": k.example }),
        )
        .collect();
    Ok(Answer {
        text: format!("{payloads} payloads of {event_type}\n{text}"),
        structured: json!({ "event_type": event_type, "payloads": payloads, "keys": keys }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked_as_the_command_line_checks_them() {
        let message =
            resolve(vec!["--start-date".into(), "2025-13-01".into(), "--end-date".into(), "2025-10-02".into()])
                .unwrap_err()
                .to_string();
        assert!(message.contains("2025-13-01") && !message.contains('\n'), "{message}");
    }
}
