//! The per-day cache on the demo source: only missing days are fetched, a day is the same
//! whatever range produced it, processes share it, it can be listed, verified and cleared, a
//! damaged day is fetched again, warm queries read the manifest instead of the files, and a
//! complete month compacted into one file answers as its days did.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::common::{Env, assert_clean_failure, assert_success};
use serde_json::Value;

fn cached_days(env: &Env) -> Vec<String> {
    let out = env.cmd().args(["cache", "list"]).output().unwrap();
    assert_success(&out);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.contains(crate::common::DEMO_ID))
        .map(str::to_string)
        .collect()
}

fn inode(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().ino()
}

#[test]
fn the_cache_fetches_only_missing_days() {
    let env = Env::new();
    env.query_json("2025-10-01", "2025-10-07", "SELECT count(*) AS n FROM activity");
    let first_week = env.day_files("activity", "2025-10-01", "2025-10-07");
    assert_eq!(first_week.len(), 7);
    let inodes: Vec<u64> = first_week.iter().map(|p| inode(p)).collect();
    assert!(cached_days(&env).iter().any(|l| l.contains("activity") && l.contains(" 7 ")), "{:?}", cached_days(&env));

    let out = env
        .demo()
        .args([
            "-v",
            "query",
            "--start-date",
            "2025-10-01",
            "--end-date",
            "2025-10-14",
            "--sql",
            "SELECT count(*) FROM activity",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("fetched 7 day(s)"), "only Oct 8-14 are produced: {stderr}");
    assert_eq!(env.day_files("activity", "2025-10-01", "2025-10-14").len(), 14);
    let after: Vec<u64> = first_week.iter().map(|p| inode(p)).collect();
    assert_eq!(inodes, after, "cached days are not written again");
    assert!(cached_days(&env).iter().any(|l| l.contains("activity") && l.contains(" 14 ")));

    // A third, fully cached query fetches nothing.
    let out = env
        .demo()
        .args([
            "-v",
            "query",
            "--start-date",
            "2025-10-03",
            "--end-date",
            "2025-10-09",
            "--sql",
            "SELECT count(*) FROM activity",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("are cached"));

    // --no-cache replaces the days of its range, and only those.
    let out = env
        .demo()
        .args([
            "query",
            "--no-cache",
            "--start-date",
            "2025-10-01",
            "--end-date",
            "2025-10-02",
            "--sql",
            "SELECT 1 FROM activity LIMIT 1",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let replaced: Vec<u64> = first_week.iter().map(|p| inode(p)).collect();
    assert_ne!(replaced[0], inodes[0]);
    assert_ne!(replaced[1], inodes[1]);
    assert_eq!(replaced[2..], inodes[2..]);
}

#[test]
fn results_do_not_depend_on_the_range_that_produced_a_day() {
    let (a, b) = (Env::new(), Env::new());
    let sql = "SELECT type, count(*) AS n, min(ts) AS first FROM activity WHERE CAST(ts AS DATE) = DATE '2025-10-05' GROUP BY type ORDER BY type";
    let one = a.query_json("2025-10-05", "2025-10-05", sql);
    let wide = b.query_json("2025-09-20", "2025-10-10", sql);
    assert_eq!(one, wide);
}

#[test]
fn two_processes_at_once_share_the_cache() {
    let env = Env::new();
    let spawn = || {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("carto-activity"))
            .env("CARTO_ACTIVITY_CACHE_DIR", env.cache())
            .args(["--demo", "--demo-events-per-day", crate::common::EVENTS_PER_DAY, "query", "--json"])
            .args(["--start-date", "2025-09-01", "--end-date", "2025-09-20"])
            .args(["--sql", "SELECT type, count(*) AS n FROM activity GROUP BY type ORDER BY n DESC, type"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (p1, p2) = (spawn(), spawn());
    let (o1, o2) = (p1.wait_with_output().unwrap(), p2.wait_with_output().unwrap());
    assert_success(&o1);
    assert_success(&o2);
    assert_eq!(o1.stdout, o2.stdout);
    assert_eq!(env.day_files("activity", "2025-09-01", "2025-09-20").len(), 20);
    let leftovers: Vec<_> =
        std::fs::read_dir(env.cache().join(crate::common::LAYOUT).join(crate::common::DEMO_ID).join("activity"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().starts_with('.'))
            .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn cache_path_list_and_clear() {
    let env = Env::new();
    let out = env.cmd().args(["cache", "path"]).output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), env.cache().to_string_lossy());
    env.query_json("2025-10-01", "2025-10-02", "SELECT count(*) FROM activity");
    assert!(!cached_days(&env).is_empty());
    let out = env.cmd().args(["cache", "clear", "no-such-source"]).output().unwrap();
    assert_clean_failure(&out, 2, "no cached source");
    let out = env.cmd().args(["cache", "clear", crate::common::DEMO_ID]).output().unwrap();
    assert_success(&out);
    assert!(cached_days(&env).is_empty());
    env.query_json("2025-10-01", "2025-10-01", "SELECT count(*) FROM activity");
    let out = env.cmd().args(["cache", "clear"]).output().unwrap();
    assert_success(&out);
    assert!(cached_days(&env).is_empty());
}

#[test]
fn a_damaged_or_missing_cached_day_is_fetched_again() {
    let env = Env::new();
    let sql = "SELECT CAST(ts AS DATE) AS day, count(*) AS n FROM activity GROUP BY 1 ORDER BY 1";
    let expected = env.query_json("2025-10-01", "2025-10-04", sql);
    let files = env.day_files("activity", "2025-10-01", "2025-10-04");
    // Truncated, footer bytes flipped, deleted.
    let bytes = std::fs::read(&files[0]).unwrap();
    std::fs::write(&files[0], &bytes[..bytes.len() / 2]).unwrap();
    let mut flipped = std::fs::read(&files[1]).unwrap();
    let n = flipped.len();
    for b in &mut flipped[n - 20..n - 5] {
        *b = !*b;
    }
    std::fs::write(&files[1], flipped).unwrap();
    std::fs::remove_file(&files[2]).unwrap();
    let out = env
        .demo()
        .args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-04", "--json", "--sql", sql])
        .output()
        .unwrap();
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("damaged") && stderr.contains("2025-10-01") && stderr.contains("2025-10-02"), "{stderr}");
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), expected);
}

/// Sets a file's modification time back to `to` (as a copy that keeps times would).
fn set_mtime(path: &Path, to: std::time::SystemTime) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_times(std::fs::FileTimes::new().set_modified(to)).unwrap();
}

/// Flips one byte in the middle of a file (its data pages, not its footer).
fn flip_middle_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] = !bytes[middle];
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn the_manifest_answers_warm_queries_and_verify_finds_what_it_cannot_see() {
    let env = Env::new();
    let sql = "SELECT CAST(ts AS DATE) AS day, count(*) AS n FROM activity GROUP BY 1 ORDER BY 1";
    let expected = env.query_json("2025-10-01", "2025-10-04", sql);
    let files = env.day_files("activity", "2025-10-01", "2025-10-04");
    let manifest = files[0].parent().unwrap().parent().unwrap().join("manifest.json");
    let recorded: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let entry = &recorded["files"]["activity/2025-10-01.parquet"];
    assert_eq!(entry["bytes"].as_u64(), Some(std::fs::metadata(&files[0]).unwrap().len()), "{entry}");
    assert!(entry["rows"].as_u64().unwrap() > 0 && entry["crc32"].is_u64() && entry["min_ts"].is_i64(), "{entry}");

    // Warm: no file is checked, count(*) and the ts range come from the manifest's statistics.
    let run = |args: &[&str]| env.demo().args(args).output().unwrap();
    let range = ["--start-date", "2025-10-01", "--end-date", "2025-10-04"];
    let out = run(&[
        &["-v", "query", "--json", "--sql", "EXPLAIN SELECT count(*), min(ts), max(ts) FROM activity"][..],
        &range,
    ]
    .concat());
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("as its manifest describes them"), "{stderr}");
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(!plan.contains("DataSourceExec"), "answered from statistics: {plan}");
    let out = run(&[
        &[
            "query",
            "--json",
            "--sql",
            "EXPLAIN SELECT count(*) FROM activity WHERE ts >= TIMESTAMPTZ '2025-10-03 12:00:00+00'",
        ][..],
        &range,
    ]
    .concat());
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(plan.contains("2025-10-03.parquet") && plan.contains("2025-10-04.parquet"), "{plan}");
    assert!(!plan.contains("2025-10-01.parquet") && !plan.contains("2025-10-02.parquet"), "days pruned: {plan}");

    // A byte changed behind the cache's back, size and time kept: queries trust the manifest;
    // `cache verify` reads the bytes, removes the file, exits 4; the next query fetches the day.
    let before = std::fs::metadata(&files[1]).unwrap().modified().unwrap();
    flip_middle_byte(&files[1]);
    set_mtime(&files[1], before);
    let out = env.cmd().args(["cache", "verify"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("did not match the checksum") && stderr.contains("activity/2025-10-02.parquet"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("demo-"), "a line per source on stdout");
    assert!(!files[1].exists());
    assert_eq!(env.query_json("2025-10-01", "2025-10-04", sql), expected);
    assert_success(&env.cmd().args(["cache", "verify"]).output().unwrap());

    // A byte changed and the time with it: the query checks the file against its checksum.
    flip_middle_byte(&files[2]);
    let out = run(&[&["query", "--json", "--sql", sql][..], &range].concat());
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("changed since the cache wrote it") && stderr.contains("damaged"), "{stderr}");
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), expected);

    // Only touched: checked, kept (the same file), recorded again.
    let inode_before = inode(&files[3]);
    set_mtime(&files[3], std::time::SystemTime::now());
    let out = run(&[&["query", "--json", "--sql", sql][..], &range].concat());
    assert_success(&out);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("damaged"));
    assert_eq!(inode(&files[3]), inode_before, "not fetched again");
    let out = run(&[&["-v", "query", "--sql", "SELECT count(*) FROM activity"][..], &range].concat());
    assert!(String::from_utf8_lossy(&out.stderr).contains("as its manifest describes them"));

    // A manifest that cannot be read: a warning, every file checked, the answer unchanged.
    std::fs::write(&manifest, b"{ not json").unwrap();
    let out = run(&[&["query", "--json", "--sql", sql][..], &range].concat());
    assert_success(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("manifest"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), expected);
    let out = env.cmd().args(["cache", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("2025-10-04"), "listed from the manifest written again");
}

#[test]
fn a_compacted_month_is_one_file_that_answers_as_its_days() {
    let env = Env::new();
    let sql =
        "SELECT CAST(ts AS DATE) AS day, type, count(*) AS n, min(ts) AS first FROM activity GROUP BY ALL ORDER BY ALL";
    let rows = |value: Value| value.as_array().cloned().unwrap();
    let days_of = |all: &[Value], from: &str, to: &str| -> Vec<Value> {
        all.iter().filter(|r| (from..=to).contains(&r["day"].as_str().unwrap())).cloned().collect()
    };
    // All of September but its last day: day files, whose answers DuckDB confirms.
    let mut month = rows(env.query_json("2025-09-01", "2025-09-29", sql));
    crate::common::assert_same_rows(&Value::from(month.clone()), &env.duckdb("2025-09-01", "2025-09-29", sql), true);
    // Its last day completes it: the same fill rewrites it as one file, so `cache compact`
    // (for what earlier versions cached) finds nothing to do.
    month.extend(rows(env.query_json("2025-09-30", "2025-09-30", sql)));
    let compact = || {
        let out = env.cmd().args(["cache", "compact"]).output().unwrap();
        assert_success(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(compact().contains(" 0 "), "the month was compacted by the fill: {}", compact());
    let folder = env.cache().join(crate::common::LAYOUT).join(crate::common::DEMO_ID).join("activity");
    assert!(folder.join("2025-09.parquet").is_file());
    assert!(env.day_files("activity", "2025-09-01", "2025-09-30").is_empty(), "its day files are gone");
    assert!(cached_days(&env).iter().any(|l| l.contains("activity") && l.contains(" 30 ")), "{:?}", cached_days(&env));
    assert_eq!(rows(env.query_json("2025-09-01", "2025-09-30", sql)), month);
    // With global flags, then `query` with its own.
    let query_with = |global: &[&str], own: &[&str], start: &str, end: &str| {
        let range = ["--start-date", start, "--end-date", end, "--json", "--sql", sql];
        let out = env.demo().args(global).arg("query").args(own).args(range).output().unwrap();
        assert_success(&out);
        out
    };
    // Some of its days: only theirs, nothing fetched.
    let some = days_of(&month, "2025-09-03", "2025-09-05");
    let out = query_with(&["-v"], &[], "2025-09-03", "2025-09-05");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("fetched"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(rows(serde_json::from_slice(&out.stdout).unwrap()), some);
    let total: u64 = some.iter().map(|r| r["n"].as_u64().unwrap()).sum();
    let count = env.query_json("2025-09-03", "2025-09-05", "SELECT count(*) AS n FROM activity");
    assert_eq!(count[0]["n"].as_u64(), Some(total));
    // A day fetched again is merged into its month's file by the same fill.
    let out = query_with(&[], &["--no-cache"], "2025-09-04", "2025-09-04");
    assert_eq!(rows(serde_json::from_slice(&out.stdout).unwrap()), days_of(&month, "2025-09-04", "2025-09-04"));
    assert!(env.day_files("activity", "2025-09-01", "2025-09-30").is_empty());
    assert_eq!(rows(env.query_json("2025-09-01", "2025-09-30", sql)), month);
    // A damaged month file is fetched again, as a damaged day is.
    flip_middle_byte(&folder.join("2025-09.parquet"));
    let out = env.cmd().args(["cache", "verify"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("2025-09.parquet"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rows(env.query_json("2025-09-03", "2025-09-05", sql)), some);
    assert!(!folder.join("2025-09.parquet").exists(), "fetched again as days");
    assert_eq!(rows(env.query_json("2025-09-01", "2025-09-30", sql)), month);
    assert!(folder.join("2025-09.parquet").is_file(), "complete again: one file again");
    assert_eq!(rows(env.query_json("2025-09-01", "2025-09-30", sql)), month);
}
