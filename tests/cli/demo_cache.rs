//! The per-day cache on the demo source: only missing days are fetched, a day is the same
//! whatever range produced it, processes share it, it can be listed and cleared, and a damaged
//! day is fetched again.

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
