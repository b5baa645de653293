//! Defects found by trying the tool as a new user would, each reproduced as it was reported.

use std::fs::{File, TryLockError};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{Env, assert_success};
use crate::report::page_panels;

/// Days before the demo organisation's first account are empty, not a panic.
#[test]
fn early_demo_days_answer_empty() {
    let env = Env::new();
    let out = env
        .demo()
        .args(["query", "--start-date", "2015-01-05", "--end-date", "2015-01-05", "--json"])
        .args(["--sql", "SELECT count(*) AS events, (SELECT count(*) FROM apiUsage) AS usage FROM activity"])
        .output()
        .unwrap();
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows, json!([{"events": 0, "usage": 0}]));
}

/// A reader that goes away (`| head -1`) ends the command quietly, with success, as ripgrep
/// and DuckDB do.
#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let env = Env::new();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("carto-activity"))
        .env("CARTO_ACTIVITY_CACHE_DIR", env.cache())
        .args(["--demo", "--demo-events-per-day", "2000", "query", "--start-date", "2025-10-01"])
        .args(["--end-date", "2025-10-07", "--format", "csv", "--sql", "SELECT * FROM activity"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert_eq!(first.trim(), "type,ts,data");
    // The reader is gone: megabytes of rows are still to be written.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "nothing to say about a closed pipe: {stderr}");
}

/// Hidden (shredded) columns are known by their exact names, not by a prefix: a user's column
/// that looks like one is shown.
#[test]
fn a_column_named_like_a_hidden_one_is_shown() {
    let env = Env::new();
    let rows = env.query_json(
        "2025-10-01",
        "2025-10-01",
        "SELECT type AS __data_userId, 1 AS x, type AS __data_thing FROM activity ORDER BY 1 LIMIT 1",
    );
    let row = rows[0].as_object().unwrap();
    // Unquoted aliases are folded to lower case.
    assert_eq!(row.keys().collect::<Vec<_>>(), ["__data_userid", "x", "__data_thing"]);
}

/// `report` holds its cache lease until the page is written: a `cache clear` started while
/// the report runs waits for it, and the report's numbers are whole.
#[test]
fn a_cache_clear_waits_for_a_running_report() {
    let env = Env::new();
    let (start, end) = ("2025-10-01", "2025-10-14");
    let scale = ["--demo", "--demo-events-per-day", "20000"];
    // A warm cache: the report only reads, and the clear would delete what it reads.
    let warm = env
        .cmd()
        .args(scale)
        .args(["query", "--start-date", "2025-09-17", "--end-date", end, "--sql"])
        .arg("SELECT (SELECT count(*) FROM activity), (SELECT count(*) FROM apiUsage), (SELECT count(*) FROM userList), (SELECT count(*) FROM groupList)")
        .output()
        .unwrap();
    assert_success(&warm);
    let page_path = env.dir.path().join("report.html");
    let lock_path = env.cache().join("locks").join("demo-s42-e20000.lock");
    let report = std::process::Command::new(assert_cmd::cargo::cargo_bin("carto-activity"))
        .env("CARTO_ACTIVITY_CACHE_DIR", env.cache())
        .args(scale)
        .args(["report", "--start-date", start, "--end-date", end, "--output"])
        .arg(&page_path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the report holds the lock, then clear the cache under it.
    let probe = File::options().write(true).open(&lock_path).unwrap();
    let started = Instant::now();
    loop {
        match probe.try_lock() {
            Err(TryLockError::WouldBlock) => break,
            Ok(()) => probe.unlock().unwrap(),
            Err(TryLockError::Error(e)) => panic!("{e}"),
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the report never took the cache lock");
        std::thread::sleep(Duration::from_millis(5));
    }
    let clear = env.cmd().args(["cache", "clear"]).output().unwrap();
    assert_success(&clear);
    let report = report.wait_with_output().unwrap();
    assert!(report.status.success(), "the report failed: {}", String::from_utf8_lossy(&report.stderr));
    assert!(
        String::from_utf8_lossy(&clear.stderr).contains("waiting for another carto-activity process"),
        "the clear waited for the report: {}",
        String::from_utf8_lossy(&clear.stderr)
    );
    // The page's numbers are those of the whole range, computed again now from scratch.
    let page = std::fs::read_to_string(&page_path).unwrap();
    let panels = page_panels(&page);
    let headline = &panels[0].2[0];
    let recount = env
        .cmd()
        .args(scale)
        .args(["query", "--start-date", start, "--end-date", end, "--json", "--sql"])
        .arg("SELECT count(*) AS events FROM activity")
        .output()
        .unwrap();
    assert_success(&recount);
    let recount: serde_json::Value = serde_json::from_slice(&recount.stdout).unwrap();
    assert_eq!(headline["events"], recount[0]["events"], "the headline counts every event of the range");
    assert!(panels.iter().all(|(_, _, rows)| rows.as_array().is_some()), "every panel has its rows");
}

/// Two result columns with one name stay two values in JSON (the second named as DuckDB names
/// the columns of a table made from such a result).
#[test]
fn repeated_column_names_keep_every_value_in_json() {
    let env = Env::new();
    let sql = "SELECT * FROM (SELECT 1 AS n) a, (SELECT 2 AS n) b, (SELECT 'x' AS n) c";
    let rows = env.query_json("2025-10-01", "2025-10-01", sql);
    assert_eq!(rows, json!([{"n": 1, "n_1": 2, "n_2": "x"}]));
}
