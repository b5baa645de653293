//! Helpers shared by the end-to-end tests: the binary with an isolated cache, and DuckDB as an
//! independent oracle over the same cached Parquet files.

#![allow(dead_code)]

mod job_files;
pub mod server;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Condvar, Mutex, MutexGuard};

use assert_cmd::Command;
use serde_json::Value;

/// Small enough to keep the suite quick, large enough for every event type to appear.
pub const EVENTS_PER_DAY: &str = "2000";
/// The cache layout version folder (see src/cache.rs).
pub const LAYOUT: &str = "v3";
pub const DEMO_ID: &str = "demo-s42-e2000";

/// The load of the other tests: every [`Env`] counts as load while it lives, and a test whose
/// timing matters (kill points, stalls) runs alone with [`alone`], since all tests share one
/// binary and run at once. A waiting lone test lets no new load in.
struct Load {
    envs: usize,
    alone: bool,
    waiting_alone: usize,
}

static LOAD: Mutex<Load> = Mutex::new(Load { envs: 0, alone: false, waiting_alone: 0 });
static LOAD_CHANGED: Condvar = Condvar::new();

thread_local! {
    static ALONE: Cell<bool> = const { Cell::new(false) };
}

fn load() -> MutexGuard<'static, Load> {
    LOAD.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn wait(guard: MutexGuard<'static, Load>) -> MutexGuard<'static, Load> {
    LOAD_CHANGED.wait(guard).unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Held by a test that must run without other tests' load; the environments it makes (on its
/// own thread) are no load.
pub struct Alone(());

pub fn alone() -> Alone {
    let mut state = load();
    state.waiting_alone += 1;
    while state.envs > 0 || state.alone {
        state = wait(state);
    }
    state.waiting_alone -= 1;
    state.alone = true;
    ALONE.set(true);
    Alone(())
}

impl Drop for Alone {
    fn drop(&mut self) {
        ALONE.set(false);
        load().alone = false;
        LOAD_CHANGED.notify_all();
    }
}

/// One environment's share of the load.
struct LoadToken;

impl LoadToken {
    fn take() -> LoadToken {
        let mut state = load();
        while state.alone || state.waiting_alone > 0 {
            state = wait(state);
        }
        state.envs += 1;
        LoadToken
    }
}

impl Drop for LoadToken {
    fn drop(&mut self) {
        load().envs -= 1;
        LOAD_CHANGED.notify_all();
    }
}

pub struct Env {
    pub dir: tempfile::TempDir,
    _load: Option<LoadToken>,
}

impl Env {
    pub fn new() -> Env {
        let load = (!ALONE.get()).then(LoadToken::take);
        Env { dir: tempfile::tempdir().expect("a temporary folder"), _load: load }
    }

    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// The binary with this environment's cache, no colour, no terminal.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("carto-activity").expect("the binary is built");
        cmd.env("CARTO_ACTIVITY_CACHE_DIR", self.cache())
            .env_remove("CARTO_API_TOKEN")
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        cmd
    }

    /// The CLI pointed at a CARTO API (the test server) with a home without credentials.
    pub fn api(&self, url: &str) -> Command {
        let mut cmd = self.cmd();
        cmd.env("CARTO_ACTIVITY_API_URL", url)
            .env("CARTO_AUTH_URL", url)
            .env("HOME", self.dir.path())
            .env_remove("CARTO_CLIENT_ID")
            .env_remove("CARTO_CLIENT_SECRET")
            .env_remove("CARTO_PROFILE");
        cmd
    }

    /// [`Env::api`] with the test server's token.
    pub fn with_token(&self, url: &str) -> Command {
        let mut cmd = self.api(url);
        cmd.env("CARTO_API_TOKEN", server::TOKEN);
        cmd
    }

    /// The demo source at test scale.
    pub fn demo(&self) -> Command {
        let mut cmd = self.cmd();
        cmd.args(["--demo", "--demo-events-per-day", EVENTS_PER_DAY]);
        cmd
    }

    pub fn query_json(&self, start: &str, end: &str, sql: &str) -> Value {
        let out = self
            .demo()
            .args(["query", "--start-date", start, "--end-date", end, "--json", "--sql", sql])
            .output()
            .unwrap();
        assert_success(&out);
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("--json printed invalid JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
    }

    pub fn day_files(&self, category: &str, start: &str, end: &str) -> Vec<PathBuf> {
        day_files(&self.cache(), category, start, end)
    }

    /// DuckDB's answer over the cached files of the range (which must be cached already).
    pub fn duckdb(&self, start: &str, end: &str, sql: &str) -> Value {
        let source = self.cache().join(LAYOUT).join(DEMO_ID);
        let mut tables = serde_json::Map::new();
        for category in ["activity", "apiUsage"] {
            if source.join(category).is_dir() {
                tables.insert(category.into(), serde_json::json!(self.day_files(category, start, end)));
            }
        }
        for category in ["userList", "groupList"] {
            let snapshot = source.join(category).join("snapshot.parquet");
            if snapshot.is_file() {
                tables.insert(category.into(), serde_json::json!([snapshot]));
            }
        }
        duckdb(&serde_json::json!({"tables": tables, "sql": sql}))
    }
}

/// Every file below `dir`, at any depth.
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(all_files(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// The oracle's tables over the demo cache of a range (which must be cached already).
pub fn demo_tables(cache: &Path, start: &str, end: &str) -> Value {
    let source = cache.join(LAYOUT).join(DEMO_ID);
    serde_json::json!({
        "activity": day_files(cache, "activity", start, end),
        "apiUsage": day_files(cache, "apiUsage", start, end),
        "userList": [source.join("userList/snapshot.parquet")],
        "groupList": [source.join("groupList/snapshot.parquet")],
    })
}

pub fn day_files(cache: &Path, category: &str, start: &str, end: &str) -> Vec<PathBuf> {
    let dir = cache.join(LAYOUT).join(DEMO_ID).join(category);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let day = name.trim_end_matches(".parquet");
            !name.starts_with('.') && day >= start && day <= end
        })
        .collect();
    files.sort();
    files
}

pub fn duckdb(spec: &Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/duckdb_oracle.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(spec.to_string())
        .output()
        .expect("python3 runs (install the oracle with: python3 -m pip install -r tests/requirements.txt)");
    assert!(
        out.status.success(),
        "DuckDB oracle failed (python3 -m pip install -r tests/requirements.txt): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the oracle prints JSON")
}

pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// No token (the test tokens all contain DO-NOT-LEAK) in any output, path or file of `env`,
/// except the token cache and CARTO's credentials file, whose job is to hold them.
pub fn assert_no_secret(env: &Env, outputs: &[&std::process::Output]) {
    for out in outputs {
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(!text.contains("DO-NOT-LEAK"), "a secret was printed: {text}");
        }
    }
    for entry in all_files(env.dir.path()) {
        let name = entry.to_string_lossy().to_string();
        assert!(!name.contains("DO-NOT-LEAK"), "a secret in a path: {name}");
        if name.contains("/credentials/m2m-") || name.ends_with(".carto_credentials.json") {
            continue; // the token cache (mode 0600) and CARTO's own credentials file hold tokens
        }
        if let Ok(bytes) = std::fs::read(&entry) {
            assert!(!String::from_utf8_lossy(&bytes).contains("DO-NOT-LEAK"), "a secret in {name}");
        }
    }
}

/// A failure as promised: the expected status, one clear line on stderr, nothing on stdout,
/// no panic or backtrace.
pub fn assert_clean_failure(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(stderr.contains(needle), "stderr lacks '{needle}': {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("warning:")).collect();
    assert_eq!(lines.len(), 1, "one line of error: {stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", String::from_utf8_lossy(&out.stdout));
}

/// Floats compared with a tight relative tolerance; everything else exactly.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
        }
        _ => a == b,
    }
}

pub fn assert_same_rows(ours: &Value, theirs: &Value, ordered: bool) {
    let (mut a, mut b) = (ours.as_array().unwrap().clone(), theirs.as_array().unwrap().clone());
    if !ordered {
        let key = |v: &Value| v.to_string();
        a.sort_by_key(key);
        b.sort_by_key(key);
    }
    assert!(
        same_value(&Value::Array(a.clone()), &Value::Array(b.clone())),
        "results differ\nours:   {}\nduckdb: {}",
        Value::Array(a.into_iter().take(10).collect()),
        Value::Array(b.into_iter().take(10).collect())
    );
}
