//! The range from the SQL: `query` without `--start-date`/`--end-date` reads the days its filter
//! on `ts` selects — each shape checked by the days cached and by DuckDB's answer over exactly
//! those days' files — or the last 7 complete days without a lower bound; a given range that
//! the filter leaves empty or exceeds is said; timestamps, naive and zoned, read as DuckDB's in
//! every output format.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::common::{Env, assert_success, day_files};

fn days(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|d| d.to_string()).collect()
}

/// The days of a category in the cache.
fn cached(env: &Env, category: &str) -> BTreeSet<String> {
    let dir = env.cache().join(crate::common::LAYOUT).join(crate::common::DEMO_ID).join(category);
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().trim_end_matches(".parquet").to_string())
                .filter(|n| !n.starts_with('.') && n.starts_with("20"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_days_come_from_the_filter_on_ts() {
    let shapes: Vec<(&str, &[&str])> = vec![
        (
            "SELECT count(*) AS n FROM activity WHERE ts >= '2025-10-01' AND ts < '2025-10-04'",
            &["2025-10-01", "2025-10-02", "2025-10-03"],
        ),
        (
            "SELECT count(*) AS n FROM activity WHERE ts BETWEEN '2025-10-01' AND '2025-10-02 23:59:59'",
            &["2025-10-01", "2025-10-02"],
        ),
        ("SELECT count(*) AS n FROM activity WHERE ts::DATE = '2025-10-03'", &["2025-10-03"]),
        (
            "SELECT count(*) AS n FROM activity WHERE CAST(ts AS DATE) BETWEEN DATE '2025-10-01' AND DATE '2025-10-02'",
            &["2025-10-01", "2025-10-02"],
        ),
        ("SELECT count(*) AS n FROM activity WHERE date_trunc('day', ts) = TIMESTAMP '2025-10-05'", &["2025-10-05"]),
        (
            "SELECT count(*) AS n FROM activity WHERE ts >= TIMESTAMP '2025-10-01 12:00:00' AND ts <= TIMESTAMP '2025-10-02 06:00:00'",
            &["2025-10-01", "2025-10-02"],
        ),
        (
            "SELECT count(*) AS n FROM activity WHERE ts > '2025-10-01 23:59:59.999999' AND ts < '2025-10-03'",
            &["2025-10-02"],
        ),
        (
            "SELECT count(*) AS n FROM activity WHERE ts::DATE IN ('2025-10-01', '2025-10-05')",
            &["2025-10-01", "2025-10-05"],
        ),
        (
            "SELECT count(*) AS n FROM activity WHERE (ts >= '2025-10-01' AND ts < '2025-10-02') OR (ts >= '2025-10-04' AND ts < '2025-10-05')",
            &["2025-10-01", "2025-10-04"],
        ),
        (
            "WITH w AS (SELECT * FROM activity WHERE ts >= '2025-10-01' AND ts < '2025-10-03') SELECT type, count(*) AS n FROM w GROUP BY ALL ORDER BY n DESC, type",
            &["2025-10-01", "2025-10-02"],
        ),
        ("SELECT count(*) AS n FROM (SELECT type FROM activity WHERE ts::DATE = '2025-10-06') t", &["2025-10-06"]),
        (
            "SELECT count(*) AS n FROM activity WHERE ts >= DATE '2025-10-01' AND ts < DATE '2025-10-01' + INTERVAL 2 DAY",
            &["2025-10-01", "2025-10-02"],
        ),
        (
            "SELECT count(*) AS n FROM activity WHERE ts::DATE >= '2025-10-06' AND ts::DATE <= '2025-10-07'",
            &["2025-10-06", "2025-10-07"],
        ),
        (
            "SELECT count(*) AS n FROM activity WHERE date_trunc('day', ts) BETWEEN '2025-10-01' AND '2025-10-02'",
            &["2025-10-01", "2025-10-02"],
        ),
        (
            "SELECT count(*) AS n FROM activity WHERE ts >= '2025-10-01' AND ts < '2025-10-02' AND type = 'MapCreated'",
            &["2025-10-01"],
        ),
        (
            "SELECT count(*) AS n FROM (SELECT ts FROM activity WHERE ts::DATE = '2025-10-01' UNION ALL SELECT ts FROM activity WHERE ts::DATE = '2025-10-03') u",
            &["2025-10-01", "2025-10-03"],
        ),
        (
            "SELECT count(*) AS n FROM activity WHERE ts < '2025-10-03' AND ts >= '2025-10-01' AND data->>'userId' IS NOT NULL",
            &["2025-10-01", "2025-10-02"],
        ),
        (
            "SELECT count(*) AS n FROM activity a WHERE a.ts >= '2025-10-02' AND a.ts < '2025-10-03' AND a.data->>'mapId' IS NOT NULL",
            &["2025-10-02"],
        ),
        (
            "SELECT date_trunc('day', ts) AS d, count(*) AS n FROM activity WHERE ts >= '2025-10-08' AND ts < '2025-10-10' GROUP BY 1 ORDER BY 1",
            &["2025-10-08", "2025-10-09"],
        ),
        ("SELECT count(*) AS n FROM activity WHERE '2025-10-04' <= ts AND '2025-10-05' > ts", &["2025-10-04"]),
    ];
    assert!(shapes.len() >= 20);
    for (sql, expected) in shapes {
        let env = Env::new();
        let out = env.demo().args(["query", "--json", "--sql", sql]).output().unwrap();
        assert_success(&out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("as the SQL's filter on ts selects"), "{sql}: {stderr}");
        assert_eq!(cached(&env, "activity"), days(expected), "{sql}: the days fetched");
        let ours: Value = serde_json::from_slice(&out.stdout).unwrap();
        let files: Vec<_> = expected.iter().flat_map(|d| day_files(&env.cache(), "activity", d, d)).collect();
        let theirs = crate::common::duckdb(&json!({"tables": {"activity": files}, "sql": sql}));
        crate::common::assert_same_rows(&ours, &theirs, sql.contains("ORDER BY"));
    }
    // Two tables, each filtered on its own days: both read.
    let env = Env::new();
    let sql = "SELECT (SELECT count(*) FROM activity WHERE ts::DATE = '2025-10-01') AS a, (SELECT sum(amount) FROM apiUsage WHERE ts::DATE = '2025-10-02') AS u";
    assert_success(&env.demo().args(["query", "--json", "--sql", sql]).output().unwrap());
    assert_eq!(cached(&env, "activity"), days(&["2025-10-01", "2025-10-02"]));
    assert_eq!(cached(&env, "apiUsage"), days(&["2025-10-01", "2025-10-02"]));
}

#[test]
fn without_a_lower_bound_or_with_a_range_the_days_are_said() {
    let env = Env::new();
    // The demo keeps the API's rule: a day is complete at 05:00 UTC the next day.
    let now = chrono::Utc::now();
    let newest = now.date_naive() - chrono::Days::new(if chrono::Timelike::hour(&now) >= 5 { 1 } else { 2 });
    let out = env.demo().args(["query", "--format", "csv", "--sql", "SELECT count(*) FROM activity"]).output().unwrap();
    assert_success(&out);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!("reading the last 7 complete days, {} to {newest}", newest - chrono::Days::new(6))),
        "{said}"
    );
    assert_eq!(cached(&env, "activity").len(), 7);
    // -q says nothing; tables without days need none.
    let quiet = env.demo().args(["-q", "query", "--sql", "SELECT count(*) FROM userList"]).output().unwrap();
    assert_success(&quiet);
    assert!(quiet.stderr.is_empty(), "{}", String::from_utf8_lossy(&quiet.stderr));
    // A given range the filter leaves empty, or exceeds: a warning says so and what to pass.
    let given = |sql: &str| {
        let out = env
            .demo()
            .args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-07", "--format", "csv", "--sql", sql])
            .output()
            .unwrap();
        assert_success(&out);
        (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (rows, said) = given("SELECT count(*) AS n FROM activity WHERE ts >= now() - INTERVAL 7 DAY");
    assert_eq!(rows, "n\n0\n");
    assert!(said.contains("none of 2025-10-01 to 2025-10-07: the answer is empty"), "{said}");
    let (_, said) = given("SELECT count(*) AS n FROM activity WHERE ts >= '2025-09-30' AND ts < '2025-10-10'");
    assert!(
        said.contains("(2025-09-30, 2025-10-08 to 2025-10-09): pass --start-date 2025-09-30 --end-date 2025-10-09"),
        "{said}"
    );
    let (_, said) = given("SELECT count(*) AS n FROM activity WHERE ts >= '2025-10-02' AND ts < '2025-10-04'");
    assert!(!said.contains("warning"), "a filter inside the range is silent: {said}");
    // An --sql export takes its days from the SQL too; a category export needs them.
    let out = env
        .demo()
        .args([
            "export",
            "--format",
            "csv",
            "--output-dir",
            "x",
            "--sql",
            "SELECT type FROM activity WHERE ts::DATE = '2025-10-03'",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(env.dir.path().join("x/query_2025-10-03_2025-10-03.csv").exists());
    let out = env.demo().args(["export", "--category", "activity"]).output().unwrap();
    crate::common::assert_clean_failure(&out, 2, "needs --start-date and --end-date");
}

/// A TIMESTAMP (wall clock) carries no zone in JSON, NDJSON and CSV; a TIMESTAMPTZ (an instant)
/// is in UTC with `Z`: each the same time as DuckDB's.
#[test]
fn naive_and_zoned_timestamps_in_every_format() {
    let env = Env::new();
    let sql = "SELECT ts, ts AT TIME ZONE 'Europe/Madrid' AS madrid, [ts AT TIME ZONE 'America/New_York'] AS l FROM activity WHERE ts::DATE = '2025-10-01' ORDER BY ts LIMIT 2";
    let json = env.query_json("2025-10-01", "2025-10-01", sql);
    let files = day_files(&env.cache(), "activity", "2025-10-01", "2025-10-01");
    let theirs = crate::common::duckdb(&json!({"tables": {"activity": files}, "sql": sql}));
    assert_eq!(json, theirs, "the same times and zones as DuckDB's");
    let madrid = json[0]["madrid"].as_str().unwrap();
    assert!(json[0]["ts"].as_str().unwrap().ends_with('Z') && !madrid.ends_with('Z') && !madrid.contains('+'));
    for format in ["ndjson", "csv"] {
        let out = env
            .demo()
            .args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-01", "--format", format, "--sql", sql])
            .output()
            .unwrap();
        assert_success(&out);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(madrid) && !text.contains(&format!("{madrid}Z")), "{format}: {text}");
        assert!(text.contains(json[0]["ts"].as_str().unwrap()), "{format}: {text}");
    }
}
