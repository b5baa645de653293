//! Reliability: processes killed at seeded moments, many processes at once, network faults
//! beyond the contract's (full and read-only disks are in `disks`). After each, the next run answers exactly,
//! the cache serves no partial day and no export looks complete unless it is.
//!
//! Each test here runs alone (`common::alone`): crash points are fractions of a timed run,
//! which other tests' load would make meaningless.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::server::{Faults, TestServer};
use crate::common::{Env, assert_success};
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value;

const START: &str = "2025-10-01";
const END: &str = "2025-10-03";
const SQL: &str = "SELECT type, count(*) AS n, count(DISTINCT json_extract_string(data, '$.userId')) AS users FROM activity GROUP BY type ORDER BY type; \
                   SELECT metric, count(*) AS n, sum(amount) AS amount FROM apiUsage GROUP BY metric ORDER BY metric; \
                   SELECT count(*) AS users FROM userList";

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_carto-activity")
}

/// A process of the CLI pointed at the test server, for spawning and killing.
fn api_process(cache: &Path, home: &Path, url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(binary());
    cmd.env("CARTO_ACTIVITY_CACHE_DIR", cache)
        .env("CARTO_ACTIVITY_API_URL", url)
        .env("CARTO_AUTH_URL", url)
        .env("CARTO_API_TOKEN", crate::common::server::TOKEN)
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn query_args(sql: &str) -> Vec<&str> {
    vec!["query", "--start-date", START, "--end-date", END, "--json", "--sql", sql]
}

/// Seeded points in [0, 1): one in each of `n` equal slices, so that every phase is hit.
fn seeded_points(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|i| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let jitter = (state >> 11) as f64 / (1u64 << 53) as f64;
            (i as f64 + jitter) / n as f64
        })
        .collect()
}

/// Runs `cmd`, killing it (SIGKILL) after `after`; whether it had finished by then.
fn run_and_kill(mut cmd: Command, after: Duration) -> bool {
    let mut child = cmd.spawn().expect("the CLI starts");
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        if child.try_wait().expect("wait").is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    false
}

/// Every visible Parquet file of the cache, by path below the cache folder, with its row count.
/// A file that cannot be read as whole Parquet fails the test: the cache must never show one.
fn cached_days(cache: &Path) -> BTreeMap<PathBuf, i64> {
    crate::common::all_files(&cache.join(crate::common::LAYOUT))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with(".tmp-"))
        .map(|p| {
            let reader = SerializedFileReader::new(File::open(&p).unwrap())
                .unwrap_or_else(|e| panic!("the cache shows a damaged file {}: {e}", p.display()));
            (p.strip_prefix(cache).unwrap().to_path_buf(), reader.metadata().file_metadata().num_rows())
        })
        .collect()
}

fn json(out: &Output) -> Value {
    assert_success(out);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_query_killed_at_24_points_of_download_and_ingest_leaves_no_partial_day() {
    let _alone = crate::common::alone();
    let server = TestServer::start(20_000, Faults::default());
    let env = Env::new();
    // The first run has the server make its files; the second, timed, is what the kills cut short.
    let warm_up = json(&api_process(&env.cache(), env.dir.path(), &server.url, &query_args(SQL)).output().unwrap());
    let reference_cache = env.dir.path().join("reference");
    let started = Instant::now();
    let reference =
        json(&api_process(&reference_cache, env.dir.path(), &server.url, &query_args(SQL)).output().unwrap());
    let full_run = started.elapsed();
    assert_eq!(warm_up, reference);
    let complete = cached_days(&reference_cache);
    assert_eq!(complete.len(), 3 + 3 + 1, "three days of two categories and the user list: {complete:?}");

    let mut killed = 0;
    for (i, point) in seeded_points(24, 7).into_iter().enumerate() {
        let cache = env.dir.path().join(format!("crash-{i}"));
        // Up to 90% of a whole run, so that a run somewhat faster than the timed one is still cut.
        let after = full_run.mul_f64(0.9 * point);
        if !run_and_kill(api_process(&cache, env.dir.path(), &server.url, &query_args(SQL)), after) {
            killed += 1;
        }
        for (path, rows) in cached_days(&cache) {
            assert_eq!(complete.get(&path), Some(&rows), "after a kill at {after:?}, {} is partial", path.display());
        }
        let again = json(&api_process(&cache, env.dir.path(), &server.url, &query_args(SQL)).output().unwrap());
        assert_eq!(again, reference, "the run after a kill at {after:?} answers exactly");
        assert_eq!(cached_days(&cache), complete, "the cache is whole after the run that follows a kill");
        let leftovers: Vec<PathBuf> = crate::common::all_files(&cache.join(crate::common::LAYOUT))
            .into_iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "temporaries of a killed run are removed: {leftovers:?}");
    }
    eprintln!("{killed} of 24 queries killed before they finished");
    assert!(killed >= 20, "only {killed} of 24 runs were killed before they finished");
}

/// An export's manifest, when its `_SUCCESS` file exists.
fn manifest(dir: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join("_SUCCESS")).ok()?;
    Some(serde_json::from_str(&text).expect("a _SUCCESS manifest is JSON"))
}

#[test]
fn an_export_killed_at_10_points_never_looks_complete() {
    let _alone = crate::common::alone();
    let env = Env::new();
    let demo = |args: &[&str]| {
        let mut cmd = Command::new(binary());
        cmd.env("CARTO_ACTIVITY_CACHE_DIR", env.cache())
            .args(["--demo", "--demo-events-per-day", "40000"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    };
    let export_args = |dir: &Path| -> Vec<String> {
        ["export", "--start-date", START, "--end-date", END, "--category", "activity", "--format", "parquet"]
            .iter()
            .map(|s| s.to_string())
            .chain(["--partition-by", "day", "--max-rows-per-file", "30000", "--output-dir"].map(String::from))
            .chain([dir.display().to_string()])
            .collect()
    };
    // Warm the cache, then time a whole export.
    let reference_dir = env.dir.path().join("reference");
    let args = export_args(&reference_dir);
    assert_success(&demo(&args.iter().map(String::as_str).collect::<Vec<_>>()).output().unwrap());
    std::fs::remove_dir_all(&reference_dir).unwrap();
    let started = Instant::now();
    assert_success(&demo(&args.iter().map(String::as_str).collect::<Vec<_>>()).output().unwrap());
    let full_run = started.elapsed();
    let reference = manifest(&reference_dir.join("activity")).expect("a finished export has a manifest");
    let total_rows = reference["rows"].as_u64().unwrap();

    let mut killed = 0;
    for (i, point) in seeded_points(10, 11).into_iter().enumerate() {
        let out_dir = env.dir.path().join(format!("export-{i}"));
        let args = export_args(&out_dir);
        let dir = out_dir.join("activity");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if !run_and_kill(demo(&args), full_run.mul_f64(0.9 * point)) {
            match manifest(&dir) {
                // Killed before it finished: it must not look complete, and nothing a reader of
                // `part-*` files would take for data is outside the staging folder.
                None => {
                    killed += 1;
                    let visible: Vec<_> = crate::common::all_files(&out_dir)
                        .into_iter()
                        .filter(|p| {
                            let relative = p.strip_prefix(&out_dir).unwrap().to_string_lossy().into_owned();
                            !relative.starts_with("_tmp/") && !relative.starts_with('.')
                        })
                        .collect();
                    assert!(visible.is_empty(), "a killed export left {visible:?} where readers look");
                }
                // Killed while exiting, after its last write: then it is complete, every file
                // of the manifest present and every row there.
                Some(written) => {
                    assert_eq!(written["rows"].as_u64(), Some(total_rows), "a manifest only for a whole export");
                    for file in written["files"].as_array().unwrap() {
                        let path = out_dir.join(file["path"].as_str().unwrap());
                        assert_eq!(std::fs::metadata(&path).map(|m| m.len()).ok(), file["bytes"].as_u64(), "{path:?}");
                    }
                }
            }
        }
        // Run again over the leftovers: a whole export, its manifest matching the files.
        let mut again = args.clone();
        again.push("--overwrite");
        assert_success(&demo(&again).output().unwrap());
        let written = manifest(&dir).expect("the export after a kill completes");
        assert_eq!(written["rows"].as_u64(), Some(total_rows));
        let listed: BTreeSet<String> =
            written["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
        let present: BTreeSet<String> = crate::common::all_files(&dir)
            .iter()
            .map(|p| p.strip_prefix(&out_dir).unwrap().display().to_string())
            .filter(|p| p != "activity/_SUCCESS")
            .collect();
        assert_eq!(present, listed, "exactly the manifest's files, no leftovers of the killed run");
        assert!(!out_dir.join("_tmp").exists(), "the staging folder of the killed run is removed");
    }
    eprintln!("{killed} of 10 exports killed before they finished");
    assert!(killed >= 8, "only {killed} of 10 exports were killed before they finished");
}

#[test]
fn eight_processes_on_one_cold_range_download_each_file_once() {
    let _alone = crate::common::alone();
    let server = TestServer::start(5_000, Faults::default());
    let env = Env::new();
    let cache = env.cache();
    let children: Vec<_> =
        (0..8).map(|_| api_process(&cache, env.dir.path(), &server.url, &query_args(SQL)).spawn().unwrap()).collect();
    let outputs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let first = json(&outputs[0]);
    for out in &outputs[1..] {
        assert_eq!(json(out), first, "all eight answers are identical");
    }
    assert_eq!(server.job_requests().len(), 1, "one job for the eight processes");
    let log = server.log();
    let downloads: Vec<&str> =
        log.iter().filter(|l| l.method == "GET" && l.path.starts_with("/files/")).map(|l| l.path.as_str()).collect();
    let distinct: BTreeSet<&str> = downloads.iter().copied().collect();
    assert!(!downloads.is_empty());
    assert_eq!(downloads.len(), distinct.len(), "each file downloaded once: {downloads:?}");
}

#[test]
fn cache_clear_while_a_query_runs_ends_cleanly_for_both() {
    let _alone = crate::common::alone();
    let env = Env::new();
    let sql = "SELECT count(*) AS n, count(DISTINCT data->>'userId') AS users FROM activity";
    let range = ["--start-date", "2025-09-01", "--end-date", "2025-09-20"];
    let reference = {
        let other = Env::new();
        json(&other.demo().args(["query", "--json", "--sql", sql]).args(range).output().unwrap())
    };
    for delay_ms in [0, 50, 200, 600] {
        let mut query = Command::new(binary());
        query
            .env("CARTO_ACTIVITY_CACHE_DIR", env.cache())
            .args(["--demo", "--demo-events-per-day", crate::common::EVENTS_PER_DAY, "query", "--json", "--sql", sql])
            .args(range)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let running = query.spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let clear = env.cmd().args(["cache", "clear"]).output().unwrap();
        assert_success(&clear);
        let out = running.wait_with_output().unwrap();
        assert_eq!(json(&out), reference, "the query answers exactly although the cache was cleared ({delay_ms} ms)");
    }
}

#[test]
fn network_faults_beyond_the_contract() {
    let _alone = crate::common::alone();
    // A download that stalls mid-body is abandoned after --read-timeout and fetched again.
    let count_with_stalls = |stalls: u32| {
        let server = TestServer::start(2_000, Faults { stalled: stalls, ..Faults::default() });
        let env = Env::new();
        let started = Instant::now();
        let out = env
            .with_token(&server.url)
            .args(["--read-timeout", "1", "-v"])
            .args(query_args("SELECT count(*) AS n FROM activity"))
            .output()
            .unwrap();
        (server, env, out, started.elapsed())
    };
    let (server, env, out, _) = count_with_stalls(1);
    let expected = {
        let demo = Env::new();
        json(&demo.demo().args(query_args("SELECT count(*) AS n FROM activity")).output().unwrap())
    };
    assert_eq!(json(&out), expected, "the stalled download was retried: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(server.faults().faults.stalled, 0, "the stall was injected");
    crate::common::assert_no_secret(&env, &[&out]);

    // Downloads that always stall: a bounded number of attempts, then one clear line.
    let (_server, env, out, took) = count_with_stalls(1000);
    assert_verbose_failure(&out, 3, "failed 6 times");
    crate::common::assert_no_secret(&env, &[&out]);
    assert!(took < Duration::from_secs(120), "retries are bounded");
    assert!(cached_days(&env.cache()).is_empty(), "nothing cached from a failed download");

    // Nothing listens: refused connections.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    // A name that does not resolve (.invalid is reserved for exactly this).
    let unresolvable = "http://carto-activity-test.invalid".to_string();
    let cases: Vec<(String, &str)> = vec![(closed, "127.0.0.1"), (unresolvable, "carto-activity-test.invalid")];
    let threads: Vec<_> = cases
        .into_iter()
        .map(|(url, needle)| {
            // Made here, on the lone test's thread: these environments are no load.
            let env = Env::new();
            std::thread::spawn(move || {
                let out =
                    env.with_token(&url).arg("-v").args(query_args("SELECT count(*) FROM activity")).output().unwrap();
                assert_verbose_failure(&out, 3, needle);
                crate::common::assert_no_secret(&env, &[&out]);
                assert!(cached_days(&env.cache()).is_empty());
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// A failure under `-v`: the retries are told on stderr, the last line is the one error.
fn assert_verbose_failure(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.starts_with("error:")).count(), 1, "{stderr}");
    let last = stderr.lines().last().unwrap_or("");
    assert!(last.starts_with("error:") && last.contains(needle), "the last line names {needle}: {stderr}");
    assert!(out.stdout.is_empty());
}
