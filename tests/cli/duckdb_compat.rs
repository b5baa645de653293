//! The DuckDB differential test: every statement of `fixtures/duckdb_corpus.sql` runs through
//! the CLI and through DuckDB over the same cached demo files, and the rows must be the same
//! (as multisets of value lists; floats within a tight relative tolerance), with the same column
//! names.

use std::path::Path;

use crate::common::{Env, assert_success, same_value};
use serde_json::{Value, json};

const RANGE: (&str, &str) = ("2025-10-01", "2025-10-14");

fn corpus() -> Vec<String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/duckdb_corpus.sql")).unwrap();
    text.split(";\n")
        .map(|s| s.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n"))
        .filter(|s| !s.trim().is_empty())
        .collect()
}

/// Column names as `--json` keys them: a repeated name suffixed `_1`, `_2`, ... (the README's rule).
fn json_keys(names: &[String]) -> Vec<String> {
    let mut taken: std::collections::HashSet<String> = names.iter().cloned().collect();
    let mut seen = std::collections::HashSet::new();
    names
        .iter()
        .map(|name| {
            if seen.insert(name.clone()) {
                return name.clone();
            }
            let mut n = 1;
            while taken.contains(&format!("{name}_{n}")) {
                n += 1;
            }
            taken.insert(format!("{name}_{n}"));
            format!("{name}_{n}")
        })
        .collect()
}

fn sorted_rows(rows: &[Value]) -> Vec<Value> {
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| r.to_string());
    rows
}

fn values_only(rows: &Value) -> Vec<Value> {
    rows.as_array().unwrap().iter().map(|r| Value::Array(r.as_object().unwrap().values().cloned().collect())).collect()
}

#[test]
fn the_corpus_gives_duckdbs_answers() {
    the_corpus_matches_duckdb(Shredding::On);
}

/// The same corpus parsing every payload at query time: shredding changes no answer.
#[test]
fn the_corpus_gives_duckdbs_answers_without_shredding() {
    the_corpus_matches_duckdb(Shredding::Off);
}

#[derive(Clone, Copy, PartialEq)]
enum Shredding {
    On,
    Off,
}

fn the_corpus_matches_duckdb(shredding: Shredding) {
    let env = Env::new();
    let statements = corpus();
    assert!(statements.len() >= 60, "the corpus holds {} queries", statements.len());
    // Fill the cache for the range, so that DuckDB reads the very same files.
    let out = env
        .demo()
        .args(["query", "--start-date", RANGE.0, "--end-date", RANGE.1, "--sql"])
        .arg("SELECT (SELECT count(*) FROM activity), (SELECT count(*) FROM apiUsage), (SELECT count(*) FROM userList), (SELECT count(*) FROM groupList)")
        .output()
        .unwrap();
    assert_success(&out);
    let tables = crate::common::demo_tables(&env.cache(), RANGE.0, RANGE.1);
    let theirs = crate::common::duckdb(&json!({"tables": tables, "sqls": statements}));
    let mut failures = Vec::new();
    for (sql, theirs) in statements.iter().zip(theirs.as_array().unwrap()) {
        let names: Vec<String> = serde_json::from_value(theirs["columns"].clone()).unwrap_or_default();
        let theirs = match theirs.get("rows") {
            Some(rows) => rows.as_array().unwrap().clone(),
            None => panic!("DuckDB rejects a corpus query ({}): {sql}", theirs["error"]),
        };
        let mut command = env.demo();
        if shredding == Shredding::Off {
            command.arg("--no-shredding");
        }
        let out = command
            .args(["query", "--start-date", RANGE.0, "--end-date", RANGE.1, "--json", "--sql", sql])
            .output()
            .unwrap();
        if !out.status.success() {
            failures.push(format!("{sql}\n  error: {}", String::from_utf8_lossy(&out.stderr).trim()));
            continue;
        }
        let ours: Value = serde_json::from_slice(&out.stdout).unwrap();
        // The keys are the column names, as DuckDB names them (a repeated name as `c_1`).
        if let Some(first) = ours.as_array().and_then(|rows| rows.first()).and_then(Value::as_object) {
            let keys: Vec<&String> = first.keys().collect();
            let expected = json_keys(&names);
            if keys.iter().map(|k| k.as_str()).ne(expected.iter().map(String::as_str)) {
                failures.push(format!("{sql}\n  names:  {keys:?}\n  duckdb: {expected:?}"));
            }
        }
        let (ours, theirs) = (sorted_rows(&values_only(&ours)), sorted_rows(&theirs));
        if theirs.is_empty() {
            failures.push(format!("{sql}\n  DuckDB gives no rows: the query tests nothing"));
        } else if !same_value(&Value::Array(ours.clone()), &Value::Array(theirs.clone())) {
            failures.push(format!(
                "{sql}\n  ours:   {}\n  duckdb: {}",
                Value::Array(ours.into_iter().take(5).collect()),
                Value::Array(theirs.into_iter().take(5).collect())
            ));
        }
    }
    if shredding == Shredding::On {
        failures.extend(shredded_reads_unused(&env, &statements));
    }
    assert!(
        failures.is_empty(),
        "{} of {} queries differ from DuckDB:\n\n{}",
        failures.len(),
        statements.len(),
        failures.join("\n\n")
    );
}

/// The corpus queries that extract `$.userId` from `data` must read the shredded column: a
/// rewrite that silently stopped applying would otherwise go unnoticed here.
fn shredded_reads_unused(env: &Env, statements: &[String]) -> Vec<String> {
    let reads_user_id = |sql: &str| {
        let flat: String = sql.split_whitespace().collect();
        flat.contains("data,'$.userId')") || flat.contains("data->>'userId'")
    };
    let candidates: Vec<&String> = statements.iter().filter(|s| reads_user_id(s)).collect();
    assert!(candidates.len() >= 15, "only {} corpus queries read $.userId", candidates.len());
    let mut failures = Vec::new();
    for sql in candidates {
        let out = env
            .demo()
            .args(["query", "--start-date", RANGE.0, "--end-date", RANGE.1, "--format", "csv", "--sql"])
            .arg(format!("EXPLAIN {sql}"))
            .output()
            .unwrap();
        let plan = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !plan.contains("__data_userId") {
            failures.push(format!("{sql}\n  does not read the shredded userId column: {}", plan.trim()));
        }
    }
    failures
}

/// DuckDB statements this layer does not support: DuckDB accepts each, and carto-activity
/// refuses it with exit status 1 and one line that names the construct and what to write instead.
#[test]
fn unsupported_constructs_are_named_with_their_equivalent() {
    let env = Env::new();
    let cases = [
        ("SELECT count(*) FROM activity USING SAMPLE 10%", "USING SAMPLE"),
        ("SUMMARIZE activity", "SUMMARIZE"),
        (
            "SELECT * FROM (SELECT metric, user_id, amount FROM apiUsage) PIVOT (sum(amount) FOR (metric, user_id) IN (('lds_routing', 'u')))",
            "PIVOT (",
        ),
        ("SELECT count(*) FROM activity a ASOF JOIN (SELECT created_at AS ts FROM userList) u USING (ts)", "ASOF JOIN"),
        (
            "WITH RECURSIVE t(k, v) USING KEY (k) AS (SELECT 'a' COLLATE NOCASE, 1 UNION SELECT k, v + 1 FROM t WHERE v < 3) SELECT * FROM t",
            "USING KEY",
        ),
        (
            "SELECT string_agg(type, ',' ORDER BY ts) OVER (ORDER BY ts ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW) FROM activity",
            "EXCLUDE",
        ),
    ];
    let out = env
        .demo()
        .args([
            "query",
            "--start-date",
            "2025-10-01",
            "--end-date",
            "2025-10-01",
            "--sql",
            "SELECT 1 FROM activity, apiUsage, userList, groupList LIMIT 1",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let tables = crate::common::demo_tables(&env.cache(), "2025-10-01", "2025-10-01");
    let sqls: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let theirs = crate::common::duckdb(&json!({"tables": tables, "sqls": sqls}));
    for ((sql, construct), theirs) in cases.iter().zip(theirs.as_array().unwrap()) {
        assert!(theirs.get("rows").is_some(), "DuckDB accepts {sql}: {theirs}");
        let out = env
            .demo()
            .args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-01", "--sql", sql])
            .output()
            .unwrap();
        crate::common::assert_clean_failure(&out, 1, construct);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("write") || stderr.contains("instead"), "names an equivalent: {stderr}");
    }
}

/// Issue 32's cases: unaliased columns named as DuckDB names them, aliases kept as written, and
/// a wall-clock TIMESTAMP written without a zone (an instant with `Z`), against DuckDB's names
/// and values over the same files.
#[test]
fn names_and_wall_clock_times_read_as_duckdbs() {
    let env = Env::new();
    let sql = "SELECT ts::DATE, data->>'userId', CAST(ts AS DATE), count(*) OVER () AS totalEvents, type AS eventType, \
               ts AT TIME ZONE 'Europe/Madrid' AS madrid, ts, lower(type), type LIKE 'Map%', date_trunc('day', ts) + INTERVAL 1 DAY \
               FROM activity ORDER BY ts, type LIMIT 3";
    let ours = env.query_json(RANGE.0, RANGE.0, sql);
    let tables = json!({"activity": crate::common::day_files(&env.cache(), "activity", RANGE.0, RANGE.0)});
    let theirs = crate::common::duckdb(&json!({"tables": tables, "sqls": [sql]}));
    let names: Vec<String> = serde_json::from_value(theirs[0]["columns"].clone()).unwrap();
    let keys: Vec<String> = ours[0].as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, json_keys(&names), "the --json keys are DuckDB's names");
    assert_eq!(keys[3], "totalEvents");
    assert!(
        !ours[0]["madrid"].as_str().unwrap().ends_with('Z'),
        "a wall-clock time has no zone: {}",
        ours[0]["madrid"]
    );
    assert!(ours[0]["ts"].as_str().unwrap().ends_with('Z'), "an instant is in UTC: {}", ours[0]["ts"]);
    assert!(same_value(&Value::Array(values_only(&ours)), &theirs[0]["rows"]), "{ours} vs {}", theirs[0]["rows"]);
    // CSV writes the same text.
    let out = env
        .demo()
        .args(["query", "--start-date", RANGE.0, "--end-date", RANGE.0, "--format", "csv", "--sql"])
        .arg(sql)
        .output()
        .unwrap();
    assert_success(&out);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.contains(ours[0]["madrid"].as_str().unwrap()), "{csv}");
}
