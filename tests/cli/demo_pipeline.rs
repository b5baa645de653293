//! The pipeline end to end on the demo source: queries checked against DuckDB over the same
//! cached files, the per-day cache, and every way a command can be used wrongly.

use std::path::Path;

use crate::common::{Env, assert_clean_failure, assert_same_rows, assert_success};
use serde_json::{Value, json};

const WEEK: (&str, &str) = ("2025-10-01", "2025-10-07");

/// The statements of a SQL file, split where DuckDB would split them.
fn statements(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    text.split(";\n")
        .map(|s| s.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n"))
        .filter(|s| !s.trim().is_empty())
        .collect()
}

#[test]
fn docs_examples_match_duckdb() {
    let env = Env::new();
    let (start, end) = WEEK;
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/docs_examples.sql");
    let out = env
        .demo()
        .args(["query", "--start-date", start, "--end-date", end, "--json", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_success(&out);
    let ours: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sqls = statements("fixtures/docs_examples.sql");
    assert_eq!(ours.as_array().unwrap().len(), sqls.len());
    for (sql, ours) in sqls.iter().zip(ours.as_array().unwrap()) {
        let theirs = env.duckdb(start, end, sql);
        assert!(!ours.as_array().unwrap().is_empty(), "{sql} gave no rows");
        assert_same_rows(ours, &theirs, true);
    }
}

#[test]
fn the_readme_query_prints_a_table() {
    let env = Env::new();
    let out = env
        .demo()
        .args(["query", "--start-date", WEEK.0, "--end-date", WEEK.1])
        .args(["--sql", "SELECT type, COUNT(*) FROM activity GROUP BY type ORDER BY 2 DESC LIMIT 5"])
        .output()
        .unwrap();
    assert_success(&out);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.starts_with('┌'), "{table}");
    assert!(table.contains("MapLoadedEvent"));
    assert!(table.contains("varchar") && table.contains("int64"));
    assert_eq!(table.lines().count(), 5 + 5, "5 rows, 2 header lines, 3 rules: {table}");
}

#[test]
fn json_output_has_the_promised_shape() {
    let env = Env::new();
    let rows = env.query_json(
        "2025-10-01",
        "2025-10-01",
        "SELECT ts, CAST(ts AS DATE) AS day, 7 AS n, 7 / 2 AS half, NULL AS nothing, 'x' AS s, [1, 2] AS l \
         FROM activity ORDER BY ts LIMIT 1",
    );
    let row = &rows[0];
    let ts = row["ts"].as_str().unwrap();
    assert!(ts.starts_with("2025-10-01T") && ts.ends_with('Z'), "{ts}");
    assert_eq!(row["day"], json!("2025-10-01"));
    assert_eq!(row["n"], json!(7));
    assert!(row["nothing"].is_null());
    assert_eq!(row["s"], json!("x"));
    assert_eq!(row["l"], json!([1, 2]));

    let several =
        env.query_json("2025-10-01", "2025-10-01", "SELECT 1 AS a; SELECT 'b' AS b UNION ALL SELECT 'c' ORDER BY b");
    assert_eq!(several, json!([[{"a": 1}], [{"b": "b"}, {"b": "c"}]]));
}

#[test]
fn other_formats() {
    let env = Env::new();
    let run = |format: &str| {
        let out = env
            .demo()
            .args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-01", "--format", format])
            .args(["--sql", "SELECT 'a,\"b\"' AS s, 1 AS n UNION ALL SELECT NULL, 2 ORDER BY n"])
            .output()
            .unwrap();
        assert_success(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(run("csv"), "s,n\n\"a,\"\"b\"\"\",1\n,2\n");
    assert_eq!(run("ndjson"), "{\"s\":\"a,\\\"b\\\"\",\"n\":1}\n{\"s\":null,\"n\":2}\n");
    assert_eq!(run("markdown"), "| s | n |\n|---|---:|\n| a,\"b\" | 1 |\n| NULL | 2 |\n");
}

#[test]
fn max_rows_says_what_was_left_out() {
    let env = Env::new();
    let out = env
        .demo()
        .args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-01", "--max-rows", "3"])
        .args(["--sql", "SELECT type FROM activity"])
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("(3 shown"), "{text}");
    let shown = text.lines().filter(|l| l.starts_with('│') && !l.contains("type") && !l.contains("varchar")).count();
    assert_eq!(shown, 3, "{text}");

    let out = env
        .demo()
        .args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-01", "--json", "--max-rows", "2"])
        .args(["--sql", "SELECT type FROM activity"])
        .output()
        .unwrap();
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("left out"));
}

#[test]
fn bad_dates_are_usage_errors() {
    let env = Env::new();
    let cases = [
        ("2025-13-01", "2025-10-07", "not a date"),
        ("2025-10-1", "2025-10-07", "not a date"),
        ("yesterday", "2025-10-07", "not a date"),
        ("2014-12-31", "2025-10-07", "before 2015"),
        ("2025-10-01", "2999-01-01", "future"),
        ("2025-10-07", "2025-10-01", "after --end-date"),
    ];
    for (start, end, needle) in cases {
        let out =
            env.demo().args(["query", "--start-date", start, "--end-date", end, "--sql", "SELECT 1"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{start}..{end}: {stderr}");
        assert!(stderr.contains(needle), "{start}..{end}: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
    assert!(!env.cache().join(crate::common::LAYOUT).exists(), "nothing was fetched");
}

#[test]
fn bad_sql_fails_in_one_line_with_status_1() {
    let env = Env::new();
    let cases = [
        ("SELEC 1", "syntax error"),
        ("SELECT * FROM nowhere", "nowhere"),
        ("SELECT no_such_column FROM activity", "no_such_column"),
        ("SELECT 1; SELECT * FROM nowhere", "nowhere"),
        ("   ", "no SQL statement"),
        ("SELECT json_extract_string(data, '$.a[') FROM activity", "malformed JSON path"),
    ];
    for (sql, needle) in cases {
        let out = env
            .demo()
            .args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-01", "--format", "csv", "--sql", sql])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{sql}: {stderr}");
        assert!(stderr.contains(needle), "{sql}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{sql}: {stderr}");
    }
}

#[test]
fn sql_that_writes_is_refused() {
    let env = Env::new();
    for sql in [
        "INSERT INTO activity VALUES ('x', now(), '{}')",
        "CREATE TABLE t AS SELECT 1",
        "DROP TABLE activity",
        "COPY activity TO 'out.csv'",
        "SELECT 1; DELETE FROM activity",
    ] {
        let out = env
            .demo()
            .args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-01", "--sql", sql])
            .output()
            .unwrap();
        assert_clean_failure(&out, 1, "refused");
    }
    assert!(!env.dir.path().join("out.csv").exists());
}

#[test]
fn sql_comes_from_a_file_or_stdin() {
    let env = Env::new();
    let file = env.dir.path().join("q.sql");
    std::fs::write(&file, "SELECT 40 + 2 AS answer").unwrap();
    let out = env
        .demo()
        .args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-01", "--json", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), json!([{"answer": 42}]));
    let out = env
        .demo()
        .args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-01", "--json"])
        .write_stdin("SELECT 'piped' AS s")
        .output()
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), json!([{"s": "piped"}]));
    let out = env
        .demo()
        .args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-01", "-f", "missing.sql"])
        .output()
        .unwrap();
    assert_clean_failure(&out, 4, "missing.sql");
}

#[test]
fn without_demo_no_source_is_configured() {
    let env = Env::new();
    let out = env
        .cmd()
        .args([
            "query",
            "--start-date",
            "2025-10-01",
            "--end-date",
            "2025-10-01",
            "--sql",
            "SELECT count(*) FROM activity",
        ])
        .output()
        .unwrap();
    assert_clean_failure(&out, 3, "--demo");
    let out = env
        .cmd()
        .args([
            "--source",
            "nowhere",
            "query",
            "--start-date",
            "2025-10-01",
            "--end-date",
            "2025-10-01",
            "--sql",
            "SELECT count(*) FROM activity",
        ])
        .output()
        .unwrap();
    assert_clean_failure(&out, 2, "unknown --source");
}

#[test]
fn tables_lists_columns_and_types() {
    let env = Env::new();
    let out = env.cmd().arg("tables").output().unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in
        ["activity", "apiUsage", "userList", "groupList", "quota_usage_weight", "varchar[]", "timestamp with time zone"]
    {
        assert!(text.contains(needle), "{needle}: {text}");
    }
}

#[test]
fn describe_and_case_insensitive_table_names() {
    let env = Env::new();
    let rows = env.query_json(
        "2025-10-01",
        "2025-10-01",
        "SELECT count(*) AS n FROM \"userList\" JOIN USERLIST u2 USING (user_id)",
    );
    let members = env.query_json("2025-10-01", "2025-10-01", "SELECT count(*) AS n FROM userlist");
    assert!(members[0]["n"].as_i64().unwrap() > 200);
    assert_eq!(rows, members, "a table in any case, quoted or not");
    let rows = env.query_json("2025-10-01", "2025-10-01", "SELECT count(*) AS n FROM APIUSAGE WHERE amount > 0");
    assert!(rows[0]["n"].as_i64().unwrap() > 0);
}

#[test]
fn help_and_version_succeed_and_bad_flags_do_not() {
    let env = Env::new();
    assert_success(&env.cmd().arg("--help").output().unwrap());
    assert_success(&env.cmd().arg("--version").output().unwrap());
    let out = env.cmd().args(["query", "--frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // No command: the help as help (a line per command), on stderr, and a usage status.
    let out = env.cmd().output().unwrap();
    let help = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty() && help.lines().any(|l| l.trim_start().starts_with("query")), "{help}");
    assert!(help.lines().count() > 10, "{help}");
    let out = env
        .demo()
        .args(["export", "--start-date", "2025-10-01", "--end-date", "2025-10-01", "--category", "events"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = env.demo().args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-01"]).output().unwrap();
    // stdin of assert_cmd is empty, not a terminal: an empty script.
    assert_eq!(out.status.code(), Some(1));
}

/// SQL is text wherever it comes from: a leading comment in `--sql` (which starts with `--`), a
/// file with a byte-order mark, a last statement with or without `;` and a trailing comment.
#[test]
fn sql_is_text_wherever_it_comes_from() {
    let env = Env::new();
    let run = |extra: &[&str]| {
        let out = env
            .demo()
            .args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-01", "--json"])
            .args(extra)
            .output()
            .unwrap();
        assert_success(&out);
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    assert_eq!(run(&["--sql", "-- users per day\nSELECT 1 AS n"]), json!([{"n": 1}]));
    assert_eq!(run(&["--sql", "SELECT 2 AS n; -- done"]), json!([{"n": 2}]));
    let file = env.dir.path().join("bom.sql");
    std::fs::write(&file, "\u{feff}-- header\nSELECT 3 AS n;\n-- trailing\n").unwrap();
    assert_eq!(run(&["-f", file.to_str().unwrap()]), json!([{"n": 3}]));
}

/// The demo keeps the API's rule: a day is served once complete (05:00 UTC the next day), so no
/// event is later than the last complete day.
#[test]
fn the_demo_serves_no_day_before_it_is_complete() {
    let env = Env::new();
    let now = chrono::Utc::now();
    let today = now.date_naive();
    let newest = today - chrono::Days::new(if chrono::Timelike::hour(&now) >= 5 { 1 } else { 2 });
    let start = (today - chrono::Days::new(3)).to_string();
    let sql = "SELECT CAST(max(ts) AS DATE) AS last FROM activity";
    let out = env
        .demo()
        .args(["query", "--start-date", &start, "--end-date", &today.to_string(), "--format", "csv", "--sql", sql])
        .output()
        .unwrap();
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not complete yet") && stderr.contains(&today.to_string()), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().last(), Some(newest.to_string().as_str()));
}
