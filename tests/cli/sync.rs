//! `sync`: tables read back by readers we did not write (delta-rs's Python package through
//! pyarrow, DuckDB over the Parquet files), incremental and no-op runs, kills at several points,
//! two runs at once, destinations that are not ours, and S3 on moto.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::{DEMO_ID, Env, assert_clean_failure, assert_success};

const FIRST: &str = "2025-10-01";
const THIRD: &str = "2025-10-03";
const FIFTH: &str = "2025-10-05";

fn sync(env: &Env, dest: &str, args: &[&str]) -> std::process::Output {
    env.demo().args(["sync", "--to", dest, "--json"]).args(args).output().unwrap()
}

fn summary(out: &std::process::Output) -> Value {
    assert_success(out);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn read(args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sync_reader.py");
    let out = Command::new("python3").arg(script).args(args).output().unwrap();
    assert!(out.status.success(), "the reader failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn read_delta(table: &Path) -> Value {
    read(&["delta", table.to_str().unwrap(), DEMO_ID])
}

/// The binary with the environment's cache on the demo at `events` a day, as a plain process.
fn process(env: &Env, events: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carto-activity"));
    cmd.env("CARTO_ACTIVITY_CACHE_DIR", env.cache()).env("NO_COLOR", "1").args([
        "--demo",
        "--demo-events-per-day",
        events,
    ]);
    cmd
}

/// `query`'s events per day over the range.
fn per_day(env: &Env, table: &str, start: &str, end: &str) -> BTreeMap<String, u64> {
    let sql = format!("SELECT strftime(ts, '%Y-%m-%d') AS d, count(*) AS n FROM {table} GROUP BY 1");
    let rows = env.query_json(start, end, &sql);
    rows.as_array().unwrap().iter().map(|r| (r["d"].as_str().unwrap().to_string(), r["n"].as_u64().unwrap())).collect()
}

fn days_of(value: &Value) -> BTreeMap<String, u64> {
    value["per_day"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap())).collect()
}

#[test]
fn delta_tables_read_back_day_by_day_and_runs_add_only_what_is_missing() {
    let env = Env::new();
    let dest = env.dir.path().join("warehouse");
    let dest_text = dest.to_str().unwrap();

    let first = summary(&sync(&env, dest_text, &["--from", FIRST, "--until", THIRD]));
    assert_eq!(first["days_added"], 3);
    let activity = read_delta(&dest.join("activity"));
    assert_eq!(days_of(&activity), per_day(&env, "activity", FIRST, THIRD), "every day once, as query counts it");
    assert_eq!(activity["partition_columns"], serde_json::json!(["date"]));
    assert_eq!(activity["transaction_version"], 20251003, "the last day is the source's application transaction");
    assert_eq!(activity["version"], 3, "the table's creation and one commit per day");
    let columns: Vec<String> =
        activity["columns"].as_array().unwrap().iter().map(|c| c[0].as_str().unwrap().to_string()).collect();
    assert_eq!(columns, ["type", "ts", "data", "date"], "no hidden column");
    assert_eq!(activity["columns"][1][1], "timestamp[us, tz=UTC]");
    let usage = read_delta(&dest.join("apiUsage"));
    assert_eq!(days_of(&usage), per_day(&env, "apiUsage", FIRST, THIRD));
    let users = read_delta(&dest.join("userList"));
    let listed = env.query_json(FIRST, THIRD, "SELECT count(*) AS n FROM userList");
    assert_eq!(users["rows"], listed[0]["n"]);
    assert_eq!(users["columns"][4], serde_json::json!(["group_ids", "list<element: string>"]));
    assert!(users["partition_columns"].as_array().unwrap().is_empty());
    let groups = read_delta(&dest.join("groupList"));
    assert_eq!(groups["rows"], env.query_json(FIRST, THIRD, "SELECT count(*) AS n FROM groupList")[0]["n"]);

    // The next run starts the day after the last one synced.
    let second = summary(&sync(&env, dest_text, &["--until", FIFTH]));
    assert_eq!(second["days_added"], 2, "{second}");
    let activity = read_delta(&dest.join("activity"));
    assert_eq!(days_of(&activity), per_day(&env, "activity", FIRST, FIFTH));
    assert_eq!(activity["version"], 5);
    let users_version = read_delta(&dest.join("userList"))["version"].clone();

    // Nothing to add: no new version, no file written.
    let files_before = crate::common::all_files(&dest).len();
    let third = sync(&env, dest_text, &["--until", FIFTH]);
    let third_summary = summary(&third);
    assert_eq!(third_summary["changed"], false);
    assert!(
        String::from_utf8_lossy(&third.stderr).contains("nothing to add"),
        "{}",
        String::from_utf8_lossy(&third.stderr)
    );
    assert_eq!(read_delta(&dest.join("activity"))["version"], 5);
    assert_eq!(read_delta(&dest.join("userList"))["version"], users_version);
    assert_eq!(crate::common::all_files(&dest).len(), files_before);

    // --from earlier than what is there: the days present are skipped.
    let again = summary(&sync(&env, dest_text, &["--from", FIRST, "--until", FIFTH]));
    assert_eq!(again["changed"], false, "{again}");
}

#[test]
fn parquet_syncs_are_hive_folders_duckdb_reads() {
    let env = Env::new();
    let dest = env.dir.path().join("lake");
    let dest_text = dest.to_str().unwrap();
    summary(&sync(&env, dest_text, &["--format", "parquet", "--from", FIRST, "--until", THIRD]));
    let second = summary(&sync(&env, dest_text, &["--format", "parquet", "--until", FIFTH]));
    assert_eq!(second["days_added"], 2);
    let activity = read(&["parquet", dest.join("activity").to_str().unwrap()]);
    assert_eq!(days_of(&activity), per_day(&env, "activity", FIRST, FIFTH));
    for day in ["2025-10-01", "2025-10-05"] {
        assert!(dest.join(format!("activity/date={day}/_SUCCESS")).exists(), "{day} has its manifest");
    }
    let users = read(&["parquet", dest.join("userList").to_str().unwrap()]);
    assert_eq!(users["rows"], env.query_json(FIRST, FIFTH, "SELECT count(*) AS n FROM userList")[0]["n"]);
    let third = summary(&sync(&env, dest_text, &["--format", "parquet", "--until", FIFTH]));
    assert_eq!(third["changed"], false);
    assert!(!dest.join("_tmp").exists(), "no staging left");
}

/// A sync killed at any point, then run again, leaves every day exactly once.
#[test]
fn killed_syncs_then_a_sync_leave_every_day_once() {
    let _alone = crate::common::alone();
    let env = Env::new();
    // Days large enough for the kills to land inside the fetch, the writes and the commits.
    let events = "30000";
    let counted = process(&env, events)
        .args(["query", "--start-date", FIRST, "--end-date", FIFTH, "--json", "--sql"])
        .arg("SELECT strftime(ts, '%Y-%m-%d') AS d, count(*) AS n FROM activity GROUP BY 1")
        .output()
        .unwrap();
    assert_success(&counted);
    let rows: Value = serde_json::from_slice(&counted.stdout).unwrap();
    let expected: BTreeMap<String, u64> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["d"].as_str().unwrap().to_string(), r["n"].as_u64().unwrap()))
        .collect();
    let app_id = format!("demo-s42-e{events}");
    for (round, delay_ms) in [150u64, 400, 800, 1300, 2000].into_iter().enumerate() {
        for format in ["delta", "parquet"] {
            let dest = env.dir.path().join(format!("killed-{format}-{round}"));
            let sync_all = || {
                let mut cmd = process(&env, events);
                cmd.args([
                    "sync",
                    "--to",
                    dest.to_str().unwrap(),
                    "--format",
                    format,
                    "--from",
                    FIRST,
                    "--until",
                    FIFTH,
                ])
                .args(["--category", "activity", "--no-cache"]);
                cmd
            };
            let mut child = sync_all().stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            let _ = child.kill();
            let _ = child.wait();
            let out = sync_all().output().unwrap();
            assert_success(&out);
            let table = dest.join("activity");
            let found = if format == "delta" {
                read(&["delta", table.to_str().unwrap(), &app_id])
            } else {
                read(&["parquet", table.to_str().unwrap()])
            };
            assert_eq!(days_of(&found), expected, "{format}, killed after {delay_ms} ms");
        }
    }
}

#[test]
fn two_syncs_at_once_never_both_commit_a_day() {
    let env = Env::new();
    let dest = env.dir.path().join("raced");
    let start = || {
        process(&env, crate::common::EVENTS_PER_DAY)
            .args(["sync", "--to", dest.to_str().unwrap(), "--from", FIRST, "--until", FIFTH, "--category", "activity"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    for out in &outs {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || stderr.contains("another carto-activity export or sync is writing there"),
            "{stderr}"
        );
    }
    assert!(outs.iter().any(|o| o.status.success()));
    assert_eq!(days_of(&read_delta(&dest.join("activity"))), per_day(&env, "activity", FIRST, FIFTH));
}

#[test]
fn destinations_that_hold_something_else_are_refused_before_any_fetch() {
    let env = Env::new();
    let dest = env.dir.path().join("taken");
    let dest_text = dest.to_str().unwrap();

    let out = sync(&env, dest_text, &["--until", THIRD]);
    assert_clean_failure(&out, 2, "pass --from");

    std::fs::create_dir_all(dest.join("activity")).unwrap();
    std::fs::write(dest.join("activity/notes.txt"), "mine").unwrap();
    let out = sync(&env, dest_text, &["--from", FIRST, "--until", THIRD]);
    assert_clean_failure(&out, 2, "no _delta_log");
    assert!(!env.cache().join(crate::common::LAYOUT).join(DEMO_ID).exists(), "nothing was fetched");

    let other = env.dir.path().join("parquet-there");
    summary(&sync(&env, other.to_str().unwrap(), &["--format", "parquet", "--from", FIRST, "--until", FIRST]));
    let out = sync(&env, other.to_str().unwrap(), &["--until", THIRD]);
    assert_clean_failure(&out, 2, "pass --format parquet");

    // A table of another source (here: the demo at another scale) is not extended.
    let ours = env.dir.path().join("ours");
    summary(&sync(&env, ours.to_str().unwrap(), &["--from", FIRST, "--until", FIRST, "--category", "activity"]));
    let out = env
        .cmd()
        .args(["--demo", "--demo-events-per-day", "500", "sync", "--to", ours.to_str().unwrap(), "--until", THIRD])
        .args(["--category", "activity"])
        .output()
        .unwrap();
    assert_clean_failure(&out, 2, "demo-s42-e500");

    // A Delta table someone else wrote.
    let foreign = env.dir.path().join("foreign");
    let script = "import sys, pyarrow as pa\nfrom deltalake import write_deltalake\nwrite_deltalake(sys.argv[1], pa.table({'x': [1, 2]}))";
    let made =
        Command::new("python3").args(["-c", script, foreign.join("activity").to_str().unwrap()]).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let out = sync(&env, foreign.to_str().unwrap(), &["--from", FIRST, "--until", THIRD, "--category", "activity"]);
    assert_clean_failure(&out, 2, "did not create");

    let out = sync(&env, dest_text, &["--from", FIRST, "--until", "2099-01-01"]);
    assert_clean_failure(&out, 2, "2099-01-01");
}

#[test]
fn s3_round_trip_on_moto() {
    let moto = crate::exports::start_moto();
    crate::exports::s3(&moto, &["create", "warehouse"]);
    let env = Env::new();
    let on_s3 = |args: &[&str]| {
        env.demo()
            .env("AWS_ENDPOINT_URL", &moto.endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .args([
                "sync",
                "--to",
                "s3://warehouse/carto",
                "--json",
                "--category",
                "activity",
                "--category",
                "userList",
            ])
            .args(args)
            .output()
            .unwrap()
    };
    summary(&on_s3(&["--from", FIRST, "--until", THIRD]));
    let second = summary(&on_s3(&["--until", FIFTH]));
    assert_eq!(second["days_added"], 2);
    let table = read(&["delta", "s3://warehouse/carto/activity", DEMO_ID, &moto.endpoint]);
    assert_eq!(days_of(&table), per_day(&env, "activity", FIRST, FIFTH));
    assert_eq!(table["version"], 5);
    let users = read(&["delta", "s3://warehouse/carto/userList", DEMO_ID, &moto.endpoint]);
    assert_eq!(users["rows"], env.query_json(FIRST, FIFTH, "SELECT count(*) AS n FROM userList")[0]["n"]);
    let third = summary(&on_s3(&["--until", FIFTH]));
    assert_eq!(third["changed"], false);
}

/// The second adversarial round: a `--from` past a table's last day would leave days out for
/// good, so it is refused with the day to pass; and days a table lacks between its first and
/// last (left by an earlier version, or lost) are filled by the next run, as the table's own
/// record says, before "synced up to" is said.
#[test]
fn sync_leaves_no_gap_and_fills_what_a_table_lacks() {
    let env = Env::new();
    for format in ["delta", "parquet"] {
        let dest = env.dir.path().join(format!("gaps-{format}"));
        let dest_text = dest.to_str().unwrap();
        let args = |extra: &[&'static str]| [&["--format", format, "--category", "activity"][..], extra].concat();
        assert_eq!(summary(&sync(&env, dest_text, &args(&["--from", FIRST, "--until", FIFTH])))["days_added"], 5);
        let out = sync(&env, dest_text, &args(&["--from", "2025-10-20", "--until", "2025-10-22"]));
        assert_clean_failure(&out, 2, "would leave activity without 2025-10-06..2025-10-19");
        assert!(String::from_utf8_lossy(&out.stderr).contains("pass --from 2025-10-06"), "{format}");
        let next = summary(&sync(&env, dest_text, &args(&["--until", "2025-10-07"])));
        assert_eq!(next["days_added"], 2, "{format}: {next}");
    }
    // A day lost from a Parquet sync (its folder removed) is written again by the next run.
    let dest = env.dir.path().join("gaps-parquet");
    std::fs::remove_dir_all(dest.join("activity/date=2025-10-03")).unwrap();
    let healed = summary(&sync(
        &env,
        dest.to_str().unwrap(),
        &["--format", "parquet", "--category", "activity", "--until", "2025-10-07"],
    ));
    assert_eq!(healed["days_added"], 1, "{healed}");
    assert!(dest.join("activity/date=2025-10-03/_SUCCESS").exists());
    let none = summary(&sync(
        &env,
        dest.to_str().unwrap(),
        &["--format", "parquet", "--category", "activity", "--until", "2025-10-07"],
    ));
    assert_eq!(none["changed"], false);
}
