//! The differential query fuzzer: seeded random queries (see [`grammar`]) over three demo days
//! run here and in DuckDB over the very same Parquet files; every answer must be DuckDB's (the
//! same rows, in the same order when DuckDB fixes one; floats within a relative 1e-9), or both
//! must fail; no query may panic. The minimised mismatches found so far are kept in
//! `fixtures/fuzz_regressions.sql` and run first.
//!
//! `cargo test` runs 2,000 queries from seed 1. More: `CARTO_FUZZ_QUERIES=20000
//! CARTO_FUZZ_SEED=7 cargo test --lib fuzz`; `CARTO_FUZZ_REPORT=FILE` writes every mismatch there.

mod expressions;
mod grammar;
mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::category::Category;
use crate::dates::parse_date;
use crate::encode::json_value;
use crate::engine::{Engine, EngineOptions};
use crate::printer::Printer;
use crate::source::FetchPlan;
use crate::source::demo::DemoOrg;

const DAYS: [&str; 3] = ["2025-10-01", "2025-10-02", "2025-10-03"];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The demo organisation's cached files for [`DAYS`], by table name.
async fn demo_files(dir: &Path) -> BTreeMap<Category, Vec<PathBuf>> {
    let cache = crate::cache::Cache::locate(Some(dir.to_path_buf())).unwrap();
    let source = cache.source("fuzz");
    let days: Vec<_> = DAYS.iter().map(|d| parse_date(d).unwrap()).collect();
    let dated = BTreeMap::from([(Category::Activity, days.clone()), (Category::ApiUsage, days.clone())]);
    let plan = FetchPlan { days: dated.clone(), snapshots: vec![Category::UserList, Category::GroupList] };
    let writer = crate::cache::writer::CacheWriter::new(source.clone(), dated);
    let org = Arc::new(DemoOrg::new(42, 400));
    let writer = crate::source::demo::fetch(org, plan, writer, Printer::new(true, 0)).await.unwrap();
    writer.commit().unwrap();
    Category::ALL
        .into_iter()
        .map(|c| {
            let files = if c.is_snapshot() {
                vec![source.snapshot_path(c)]
            } else {
                days.iter().map(|d| source.day_path(c, *d)).collect()
            };
            (c, files)
        })
        .collect()
}

/// DuckDB's answers, one `{"rows": ...}` or `{"error": ...}` per statement.
fn duckdb_answers(files: &BTreeMap<Category, Vec<PathBuf>>, sqls: &[String], dir: &Path) -> Vec<Value> {
    let tables: serde_json::Map<String, Value> = files.iter().map(|(c, f)| (c.name().to_string(), json!(f))).collect();
    let spec = dir.join("spec.json");
    std::fs::write(&spec, json!({"tables": tables, "sqls": sqls}).to_string()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/duckdb_oracle.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(format!("@{}", spec.display()))
        .output()
        .expect("python3 runs (install the oracle: tests/setup.sh)");
    assert!(out.status.success(), "the DuckDB oracle fails: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

enum Answer {
    /// The last statement's column names and rows.
    Rows(Vec<String>, Vec<Value>),
    Fails(String),
    Panics(String),
}

async fn our_answer(engine: Arc<Engine>, sql: String) -> Answer {
    let task = tokio::spawn(async move {
        let statements = crate::engine::compat::prepare(&sql).map_err(|e| e.to_string())?;
        let (mut columns, mut rows) = (Vec::new(), Vec::new());
        for statement in statements {
            rows.clear();
            let frame = engine.plan(statement).await.map_err(|e| e.to_string())?;
            columns = frame.schema().fields().iter().map(|f| f.name().clone()).collect();
            for batch in frame.collect().await.map_err(|e| e.to_string())? {
                for row in 0..batch.num_rows() {
                    rows.push(Value::Array(batch.columns().iter().map(|c| json_value(c.as_ref(), row)).collect()));
                }
            }
        }
        Ok::<_, String>((columns, rows))
    });
    match tokio::time::timeout(Duration::from_secs(60), task).await {
        Ok(Ok(Ok((columns, rows)))) => Answer::Rows(columns, rows),
        Ok(Ok(Err(e))) => Answer::Fails(e),
        Ok(Err(panic)) => Answer::Panics(panic.to_string()),
        Err(_) => Answer::Fails("takes more than 60 s".into()),
    }
}

/// Floats from two engines may differ in their last digits (summation order, libm).
pub(super) fn close(x: f64, y: f64) -> bool {
    // Relative for ordinary values; absolute near zero, where a statistic of equal values is 0
    // in one engine and a rounding residue (4e-16) in the other.
    x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()) || (x - y).abs() <= 1e-12
}

/// Both sides' values compared as JSON, floats with [`close`].
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => close(x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN)),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
        }
        _ => a == b,
    }
}

fn compare(sql: &str, ordered: bool, ours: Answer, theirs: &Value) -> Option<String> {
    let theirs_rows = theirs.get("rows").and_then(Value::as_array);
    match (ours, theirs_rows) {
        (Answer::Panics(m), _) => Some(format!("{sql}\n  panics: {m}")),
        (Answer::Fails(_), None) => None,
        (Answer::Fails(e), Some(_)) => Some(format!("{sql}\n  fails here ({e}); DuckDB answers")),
        (Answer::Rows(..), None) => Some(format!("{sql}\n  answers here; DuckDB fails ({})", theirs["error"])),
        // DuckDB's repeated names as the JSON output keys them (`c`, `c_1`), as a plan holds them.
        (Answer::Rows(columns, _), Some(_))
            if theirs
                .get("columns")
                .and_then(|c| serde_json::from_value::<Vec<String>>(c.clone()).ok())
                .is_some_and(|names| crate::encode::unique_keys(&names) != crate::encode::unique_keys(&columns)) =>
        {
            Some(format!("{sql}\n  names:  {}\n  duckdb: {}", json!(columns), theirs["columns"]))
        }
        (Answer::Rows(_, mut ours), Some(theirs)) => {
            let mut theirs = theirs.clone();
            if !ordered {
                ours.sort_by_key(Value::to_string);
                theirs.sort_by_key(Value::to_string);
            }
            let (a, b) = (Value::Array(ours), Value::Array(theirs));
            (!same_value(&a, &b)).then(|| {
                let show = |v: &Value| {
                    v.as_array().map_or(0, Vec::len).to_string()
                        + " rows, "
                        + &v.to_string().chars().take(300).collect::<String>()
                };
                format!("{sql}\n  ours:   {}\n  duckdb: {}", show(&a), show(&b))
            })
        }
    }
}

/// The regression cases: each a query once found to differ, with whether its order is fixed.
/// `CARTO_FUZZ_FILE` names another file of `;`-ended queries to check instead (e.g. a user's).
fn regressions() -> Vec<(String, bool)> {
    let path = std::env::var_os("CARTO_FUZZ_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz_regressions.sql"));
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.split(";\n")
        .map(|s| s.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n"))
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            let ordered = s.contains("ORDER BY") && !s.contains("DISTINCT ON");
            (s.trim().to_string(), ordered)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_queries_give_duckdbs_answers() {
    let dir = tempfile::tempdir().unwrap();
    let files = demo_files(dir.path()).await;
    let engine = Engine::new(EngineOptions::new(2, true), None).unwrap();
    for (category, files) in &files {
        let known: Vec<_> = files.iter().map(|f| crate::cache::KnownFile::read(f, *category)).collect();
        engine.register(*category, &known).unwrap();
    }
    let engine = Arc::new(engine);
    let (count, seed) = (env_number("CARTO_FUZZ_QUERIES", 2000), env_number("CARTO_FUZZ_SEED", 1));
    let mut generator = grammar::Generator::new(seed);
    let mut queries = regressions();
    let fixed = queries.len();
    queries.extend((0..count).map(|_| {
        let q = generator.query();
        (q.sql, q.ordered)
    }));
    let sqls: Vec<String> = queries.iter().map(|(s, _)| s.clone()).collect();
    let theirs = duckdb_answers(&files, &sqls, dir.path());
    let mut mismatches = Vec::new();
    let (mut answered, mut both_fail) = (0, 0);
    for ((sql, ordered), theirs) in queries.iter().zip(&theirs) {
        let ours = our_answer(engine.clone(), sql.clone()).await;
        if theirs.get("rows").is_some() {
            answered += 1;
        } else if matches!(ours, Answer::Fails(_)) {
            both_fail += 1;
        }
        mismatches.extend(compare(sql, *ordered, ours, theirs));
    }
    let named = mismatches.iter().filter(|m| m.contains("\n  names:  ")).count();
    eprintln!(
        "fuzzer: seed {seed}, {count} generated + {fixed} regression queries; DuckDB answers {answered}, both fail {both_fail}, {} differ ({named} in their column names only)",
        mismatches.len()
    );
    if let Some(report) = std::env::var_os("CARTO_FUZZ_REPORT") {
        std::fs::write(report, mismatches.join("\n\n")).unwrap();
    }
    assert!(
        answered * 10 >= queries.len() * 8,
        "DuckDB answers only {answered} of {} queries: the grammar is off",
        queries.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} queries differ from DuckDB (seed {seed}):\n\n{}",
        mismatches.len(),
        queries.len(),
        mismatches.iter().take(40).cloned().collect::<Vec<_>>().join("\n\n")
    );
}
