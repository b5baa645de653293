//! Bad input, as a table: each case exits non-zero with one clear line on stderr, no panic or
//! backtrace, nothing on stdout, and the cache exactly as it was.

use std::path::Path;

use crate::common::{Env, assert_clean_failure};

fn snapshot(dir: &Path) -> Vec<(String, u64)> {
    let mut files: Vec<(String, u64)> = crate::common::all_files(dir)
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("/locks/"))
        .map(|p| (p.display().to_string(), std::fs::metadata(&p).map_or(0, |m| m.len())))
        .collect();
    files.sort();
    files
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn sixty_five_bad_inputs_fail_cleanly_and_leave_the_cache_alone() {
    let env = Env::new();
    // A warm cache to protect.
    env.query_json(
        "2025-10-01",
        "2025-10-02",
        "SELECT (SELECT count(*) FROM activity) AS a, (SELECT count(*) FROM apiUsage) AS b, (SELECT count(*) FROM userList) AS c, (SELECT count(*) FROM groupList) AS d",
    );
    let before = snapshot(&env.cache());
    let dir = env.dir.path().to_path_buf();
    std::fs::write(dir.join("invalid.sql"), b"SELECT '\xff\xfe' FROM activity").unwrap();
    std::fs::write(dir.join("empty.sql"), b"").unwrap();
    std::fs::write(dir.join("notes.txt"), b"my notes").unwrap();
    std::fs::write(dir.join("huge.sql"), format!("SELECT {} FROM activity", vec!["1"; 200_000].join(" + "))).unwrap();
    // 2,500 SELECTs in one UNION ALL: the planner's recursion must not overflow the stack.
    std::fs::write(dir.join("unions.sql"), vec!["SELECT 1 AS x"; 2_500].join(" UNION ALL ")).unwrap();
    let q = |sql: &str| args(&["query", "--start-date", "2025-10-01", "--end-date", "2025-10-02", "--sql", sql]);
    let dates = |start: &str, end: &str| {
        args(&["query", "--start-date", start, "--end-date", end, "--sql", "SELECT 1 FROM activity"])
    };
    // Global flags before a query that reads a table.
    let global = |flags: &[&str]| [args(flags), dates("2025-10-01", "2025-10-02")].concat();
    let export = |extra: &[&str]| {
        [args(&["export", "--start-date", "2025-10-01", "--end-date", "2025-10-02"]), args(extra)].concat()
    };
    let report = |extra: &[&str]| {
        [args(&["report", "--start-date", "2025-10-01", "--end-date", "2025-10-02"]), args(extra)].concat()
    };
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (dates("2025-13-01", "2025-10-02"), 2, "not a date"),
        (dates("2025-02-30", "2025-10-02"), 2, "not a date"),
        (dates("25-10-01", "2025-10-02"), 2, "not a date"),
        (dates("2025-10-01T00:00", "2025-10-02"), 2, "not a date"),
        (dates("", "2025-10-02"), 2, "not a date"),
        (dates("2014-12-31", "2025-10-02"), 2, "before 2015"),
        (dates("2025-10-01", "2999-12-31"), 2, "future"),
        (dates("2025-10-05", "2025-10-01"), 2, "after --end-date"),
        (args(&["query", "--end-date", "2025-10-02", "--sql", "SELECT 1"]), 2, "--start-date"),
        (
            args(&[
                "query",
                "--start-date",
                "2025-10-01",
                "--end-date",
                "2025-10-02",
                "--format",
                "xml",
                "--sql",
                "SELECT 1",
            ]),
            2,
            "xml",
        ),
        (
            args(&[
                "query",
                "--start-date",
                "2025-10-01",
                "--end-date",
                "2025-10-02",
                "--max-rows",
                "-3",
                "--sql",
                "SELECT 1",
            ]),
            2,
            "-3",
        ),
        (
            args(&[
                "query",
                "--start-date",
                "2025-10-01",
                "--end-date",
                "2025-10-02",
                "--json",
                "--format",
                "csv",
                "--sql",
                "SELECT 1",
            ]),
            2,
            "cannot be used",
        ),
        (args(&["query", "--start-date", "2025-10-01", "--end-date", "2025-10-02", "-f", "invalid.sql"]), 2, "UTF-8"),
        (
            args(&["query", "--start-date", "2025-10-01", "--end-date", "2025-10-02", "-f", "empty.sql"]),
            1,
            "no SQL statement",
        ),
        (
            args(&["query", "--start-date", "2025-10-01", "--end-date", "2025-10-02", "-f", "missing.sql"]),
            4,
            "missing.sql",
        ),
        (args(&["frobnicate"]), 2, "frobnicate"),
        (args(&["query", "--bogus"]), 2, "--bogus"),
        (args(&["--demo-events-per-day", "0", "tables"]), 2, "demo-events-per-day"),
        (q(""), 1, "no SQL statement"),
        (q(";;"), 1, "no SQL statement"),
        (q("SELEC 1"), 1, "syntax error"),
        (q("SELECT * FROM nowhere"), 1, "nowhere"),
        (q("SELECT nothing FROM activity"), 1, "nothing"),
        (q("SELECT 1; SELECT * FROM nowhere; SELECT 2"), 1, "nowhere"),
        (q("INSERT INTO activity VALUES ('a', now(), '{}')"), 1, "refused"),
        (q("UPDATE activity SET type = 'x'"), 1, "refused"),
        (q("DELETE FROM activity"), 1, "refused"),
        (q("CREATE TABLE t (x INT)"), 1, "refused"),
        (q("DROP TABLE activity"), 1, "refused"),
        (q("COPY activity TO 'x.csv'"), 1, "refused"),
        (q("SELECT json_extract_string(data, '$.a[') FROM activity"), 1, "malformed JSON path"),
        (q("SELECT json_extract_string(data) FROM activity"), 1, "json_extract_string"),
        (q("SELECT abs('text') FROM activity"), 1, "abs"),
        (q("SELECT date_diff('fortnight', ts, ts) FROM activity"), 1, "unknown date part"),
        (q("SELECT quantile_disc(amount, 2) FROM apiUsage"), 1, "quantile"),
        (q("SELECT count(*) FROM activity USING SAMPLE 5"), 1, "USING SAMPLE"),
        (q("SUMMARIZE activity"), 1, "SUMMARIZE"),
        (args(&["query", "--start-date", "2025-10-01", "--end-date", "2025-10-02", "-f", "huge.sql"]), 1, "operators"),
        (
            args(&["query", "--start-date", "2025-10-01", "--end-date", "2025-10-02", "-f", "unions.sql"]),
            1,
            "operators",
        ),
        (args(&["query", "--start-date", "2025-10-01", "--end-date", "2025-10-02", "-f", "/dev/zero"]), 2, "16 MiB"),
        (q("SELECT 9223372036854775807 + 1"), 1, "overflow"),
        (q("SELECT CAST(2147483647 AS INTEGER) * CAST(2 AS INTEGER)"), 1, "overflow"),
        (q("SELECT count(*) * 9223372036854775807 FROM activity"), 1, "overflow"),
        (q("PRAGMA version"), 1, "not supported: carto-activity runs queries"),
        (q("BEGIN TRANSACTION"), 1, "not supported: carto-activity runs queries"),
        (q("SHOW ALL"), 1, "not supported"),
        (q("SELECT * FROM read_csv('x.csv')"), 1, "read_csv() is not supported"),
        (q("SELECT * FROM read_parquet('x.parquet')"), 1, "--source DIR"),
        (args(&["--wait-timeout", "0", "tables"]), 2, "wait-timeout"),
        (args(&["--memory-limit", "12", "tables"]), 2, "memory-limit"),
        (args(&["--memory-limit", "4 parsecs", "tables"]), 2, "memory-limit"),
        (global(&["--cache-dir", "tab\there"]), 2, "choose another --cache-dir"),
        (export(&["--category", "events"]), 2, "events"),
        (export(&["--format", "xlsx"]), 2, "xlsx"),
        (export(&["--format", "csv", "--compression", "snappy"]), 2, "gzip or none"),
        (export(&["--partition-by", "week"]), 2, "week"),
        (export(&["--output-dir", "ftp://host/x"]), 2, "unknown scheme"),
        (export(&["--sql", "SELECT 1; SELECT 2"]), 2, "one query"),
        (export(&["--max-rows-per-file", "0"]), 2, "max-rows-per-file"),
        (args(&["cache", "clear", "no-such-source"]), 2, "no cached source"),
        (global(&["--source", "/no/such/folder"]), 2, "--source"),
        (report(&["--spec", "/dev/zero"]), 2, "longer than 16 MiB"),
        (report(&["--output", "notes.txt"]), 2, "was not written by carto-activity"),
        (report(&["--output", "~/r.html"]), 2, "`~` is not expanded"),
        (export(&["--output-dir", "~/exports"]), 2, "`~` is not expanded"),
        (args(&["sync", "--to", "~/warehouse", "--from", "2025-10-01"]), 2, "`~` is not expanded"),
    ];
    assert!(cases.len() >= 65, "{} cases", cases.len());
    for (args, code, needle) in &cases {
        let out = env.demo().args(args).output().unwrap();
        if out.status.code() == Some(2) && needle.is_empty() {
            continue;
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(0), "{args:?} succeeded");
        if *code == 2 && stderr.lines().count() > 1 {
            // clap's usage errors: a first line naming the problem, then a usage hint.
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.lines().next().unwrap_or("").contains("error:"), "{args:?}: {stderr}");
            assert!(stderr.contains(needle), "{args:?} lacks '{needle}': {stderr}");
        } else if needle.is_empty() {
            assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        } else {
            assert_clean_failure(&out, *code, needle);
        }
        assert_eq!(snapshot(&env.cache()), before, "{args:?} changed the cache");
    }
}
