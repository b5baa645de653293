//! CARTO's published Activity Data queries (`fixtures/carto_published.sql`: every revision of the
//! agent-skills references and the docs page), run as users run them — no dates given, the range
//! read from each query's filter on `ts`, relative to today — and compared with DuckDB over the
//! very days the CLI read: values, column names and, where the query orders, the order.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::{Env, assert_success, same_value};

/// The statements of the fixture, each with the source comment above it.
fn published() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/carto_published.sql"))
        .expect("the fixture reads");
    let mut found = Vec::new();
    let mut source = String::new();
    for chunk in text.split(";\n") {
        let mut sql = Vec::new();
        for line in chunk.lines() {
            match line.trim_start().strip_prefix("-- ") {
                Some(comment) => source = comment.to_string(),
                None => sql.push(line),
            }
        }
        let sql = sql.join("\n").trim().to_string();
        if !sql.is_empty() {
            found.push((source.clone(), sql));
        }
    }
    found
}

/// The days the CLI said it read (`... 2025-10-01 to 2025-10-07 ...` or `reading 2025-10-01 (1
/// day)`), if any.
fn days_read(stderr: &str) -> Option<(String, String)> {
    let dates: Vec<&str> = stderr
        .split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .filter(|w| w.len() == 10 && w.as_bytes()[4] == b'-' && w.as_bytes()[7] == b'-')
        .collect();
    match dates.as_slice() {
        [day] => Some((day.to_string(), day.to_string())),
        [first, last, ..] if stderr.contains(" to ") => Some((first.to_string(), last.to_string())),
        _ => None,
    }
}

/// The output columns the statement's last `ORDER BY` sorts on (by name, alias or position);
/// `None` when one of its keys is not an output column.
fn order_keys(sql: &str, columns: &[String]) -> Option<Vec<String>> {
    let upper = sql.to_ascii_uppercase();
    let at = upper.rfind("ORDER BY")?;
    // The last ORDER BY of the statement, not one inside a window's parentheses.
    if sql[at..].matches(')').count() > sql[at..].matches('(').count() {
        return None;
    }
    let clause = &sql[at + "ORDER BY".len()..];
    let clause = clause.replace('\n', " ");
    let clause = match clause.to_ascii_uppercase().find(" LIMIT ") {
        Some(limit) => clause[..limit].to_string(),
        None => clause,
    };
    let mut keys = Vec::new();
    for item in clause.split(',') {
        let item = item.trim();
        let item = item.trim_end_matches(|c: char| c.is_ascii_alphabetic()).trim();
        let item = if item.is_empty() { continue } else { item };
        let item = item.rsplit('.').next().unwrap_or(item);
        let name = if item.eq_ignore_ascii_case("count(*)") { "count_star()".to_string() } else { item.to_string() };
        let key = match name.parse::<usize>() {
            Ok(position) => columns.get(position.checked_sub(1)?)?.clone(),
            Err(_) => columns.iter().find(|c| c.eq_ignore_ascii_case(&name))?.clone(),
        };
        keys.push(key);
    }
    Some(keys)
}

fn row_key(row: &Value, keys: &[String]) -> Vec<Value> {
    keys.iter().map(|k| row[k].clone()).collect()
}

fn sorted(rows: &[Value]) -> Vec<Value> {
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| r.to_string());
    rows
}

/// Ours and DuckDB's rows agree: the same column names; the same rows (all of them, unless a
/// LIMIT cuts through ties); in the order's keys, the same sequence.
fn check(sql: &str, ours: &[Value], theirs: &[Value]) -> Result<(), String> {
    let names = |rows: &[Value]| rows.first().and_then(Value::as_object).map(|o| o.keys().cloned().collect::<Vec<_>>());
    if names(ours) != names(theirs) {
        return Err(format!("column names differ: {:?} vs DuckDB's {:?}", names(ours), names(theirs)));
    }
    if ours.len() != theirs.len() {
        return Err(format!("{} rows against DuckDB's {}", ours.len(), theirs.len()));
    }
    let limited = sql.to_ascii_uppercase().contains("LIMIT ");
    if !limited && !same_value(&Value::Array(sorted(ours)), &Value::Array(sorted(theirs))) {
        return Err("the rows differ".into());
    }
    let columns = names(ours).unwrap_or_default();
    // Without an ORDER BY on output columns, which rows a LIMIT keeps, and in which order, is
    // the engine's choice (DuckDB's too): only their number and names are fixed.
    let Some(keys) = order_keys(sql, &columns) else { return Ok(()) };
    let ours_keys: Vec<Value> = ours.iter().map(|r| Value::Array(row_key(r, &keys))).collect();
    let theirs_keys: Vec<Value> = theirs.iter().map(|r| Value::Array(row_key(r, &keys))).collect();
    if !same_value(&Value::Array(ours_keys), &Value::Array(theirs_keys)) {
        return Err(format!("the order on {keys:?} differs"));
    }
    Ok(())
}

#[test]
fn carto_published_queries_give_duckdbs_answers() {
    let env = Env::new();
    let mut failures = Vec::new();
    let queries = published();
    assert!(queries.len() >= 30, "the fixture holds CARTO's queries");
    for (source, sql) in &queries {
        let out = env.demo().args(["query", "--json", "--sql", sql]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        if !out.status.success() {
            failures.push(format!("{source}: {}\n{sql}", stderr.trim()));
            continue;
        }
        assert_success(&out);
        let ours: Value = serde_json::from_slice(&out.stdout).unwrap();
        let ours = ours.as_array().unwrap();
        if stderr.contains("selects no complete day") {
            // A filter on today's events only: the answer is empty, as DuckDB's over the API's
            // files, which leave today out.
            assert!(ours.is_empty(), "{sql}: {stderr}");
            continue;
        }
        let lower = sql.to_ascii_lowercase();
        let (theirs, days) = match days_read(&stderr) {
            Some((start, end)) => (env.duckdb(&start, &end, sql), format!("{start} to {end}")),
            // No table with days: DuckDB needs none either.
            None if !lower.contains("activity") && !lower.contains("apiusage") => {
                (crate::common::duckdb(&json!({"tables": {}, "sql": sql})), "no days".into())
            }
            None => {
                failures.push(format!("{source}: the CLI did not say which days it read: {stderr}"));
                continue;
            }
        };
        if let Err(why) = check(sql, ours, theirs.as_array().unwrap()) {
            failures.push(format!("{source} ({days}): {why}\n{sql}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ from DuckDB:\n\n{}",
        failures.len(),
        queries.len(),
        failures.join("\n\n")
    );
}
