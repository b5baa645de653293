//! The catalogue test: every function of DuckDB's own catalogue in the families activity analysis
//! uses, with DuckDB's answers to its examples and to generated arguments
//! (`fixtures/catalogue/cases.jsonl`, written by `tests/catalogue.py`), answered here and compared
//! value by value (as DuckDB prints them) and by DuckDB's type name.
//!
//! Each function is classified — identical, rewritten (a rewrite or UDF of this layer), refused
//! (every case fails with one line) or wrong — and the classification is committed
//! (`fixtures/catalogue/classification.tsv`), as is the README's compatibility section made from
//! it. A function that stops giving DuckDB's answer fails the test; so does one that starts to,
//! until the files are regenerated: `CATALOGUE_BLESS=1 cargo test --lib catalogue`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use datafusion::prelude::SessionContext;
use regex::Regex;
use serde::Deserialize;

use super::readme::{replace_readme_section, served_tables};
use crate::encode::display_text;
use crate::engine::compat::types::field_type_name;
use crate::engine::{Engine, EngineOptions};

#[derive(Deserialize, Clone)]
struct Case {
    entry: String,
    family: String,
    sql: Option<String>,
    compare: Option<String>,
    #[serde(default)]
    rows: Vec<Vec<Option<String>>>,
    #[serde(default)]
    types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Pass,
    Differs(String),
    Fails(String),
    Panics(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Identical,
    Rewritten,
    Refused,
    Wrong,
    Untested,
    Panics,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Identical => "identical",
            Status::Rewritten => "rewritten",
            Status::Refused => "refused",
            Status::Wrong => "wrong",
            Status::Untested => "untested",
            Status::Panics => "panics",
        }
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/catalogue").join(name)
}

fn load_cases() -> Vec<Case> {
    let text = std::fs::read_to_string(fixture("cases.jsonl")).expect("fixtures/catalogue/cases.jsonl");
    text.lines().map(|l| serde_json::from_str(l).expect("a catalogue case")).collect()
}

/// A type name, without what DuckDB and DataFusion type differently and print the same: integer
/// widths (DuckDB types a literal as the narrowest integer that holds it, DataFusion as BIGINT)
/// and a DECIMAL's precision.
fn type_class(name: &str) -> String {
    static INTEGERS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT))\b").unwrap());
    static DECIMALS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"DECIMAL\(\d+,").unwrap());
    DECIMALS.replace_all(&INTEGERS.replace_all(name, "INTEGER"), "DECIMAL(_,").into_owned()
}

/// Floats printed by two engines may differ in their last digits (libm); nothing else may.
fn same_text(ours: &Option<String>, theirs: &Option<String>) -> bool {
    match (ours, theirs) {
        (Some(a), Some(b)) if a != b => match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => super::fuzz::close(x, y),
            _ => false,
        },
        (a, b) => a == b,
    }
}

/// What this layer answers to a statement: the result's type names and each value as DuckDB prints it.
pub(super) async fn answer(engine: &Engine, sql: &str) -> Result<(Vec<String>, Vec<Vec<Option<String>>>), String> {
    let statements = crate::engine::compat::prepare(sql).map_err(|e| e.to_string())?;
    let statement = statements.into_iter().next().ok_or("no statement")?;
    let frame = engine.plan(statement).await.map_err(|e| e.to_string())?;
    // The types of what runs (after the analyzer's typing rules), as the output prints them.
    // Errors in the words a user reads.
    let stream = frame.execute_stream().await.map_err(|e| crate::error::Error::query(e).to_string())?;
    let types: Vec<String> = stream.schema().fields().iter().map(|f| field_type_name(f)).collect();
    let batches: Vec<_> =
        futures::TryStreamExt::try_collect(stream).await.map_err(|e| crate::error::Error::query(e).to_string())?;
    let mut rows = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| {
                        if c.is_null(row) || c.data_type().is_null() {
                            None
                        } else {
                            Some(display_text(c.as_ref(), row))
                        }
                    })
                    .collect::<Vec<_>>(),
            );
        }
    }
    Ok((types, rows))
}

pub(super) fn same_rows(ours: &[Vec<Option<String>>], theirs: &[Vec<Option<String>>]) -> bool {
    ours.len() == theirs.len()
        && ours.iter().zip(theirs).all(|(a, b)| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_text(x, y)))
}

pub(super) fn show_rows(rows: &[Vec<Option<String>>]) -> String {
    format!("{rows:?}").chars().take(160).collect()
}

async fn run_case(engine: &Engine, case: &Case) -> Outcome {
    let (types, rows) = match answer(engine, case.sql.as_deref().unwrap_or_default()).await {
        Ok(answered) => answered,
        Err(message) => return Outcome::Fails(message),
    };
    let same_types = types.iter().map(|t| type_class(t)).eq(case.types.iter().map(|t| type_class(t)));
    // DuckDB types a bare NULL as "NULL"; any type holding only NULLs answers the same.
    let only_nulls = case.types == ["\"NULL\""] && rows.iter().all(|r| r.iter().all(Option::is_none));
    if !same_types && !only_nulls {
        return Outcome::Differs(format!("type {} where DuckDB has {}", types.join(", "), case.types.join(", ")));
    }
    if case.compare.as_deref() == Some("type") {
        return Outcome::Pass;
    }
    if same_rows(&rows, &case.rows) {
        Outcome::Pass
    } else {
        Outcome::Differs(format!("gives {} where DuckDB gives {}", show_rows(&rows), show_rows(&case.rows)))
    }
}

/// Whether this layer rewrites or adds the function (else DataFusion has it as DuckDB does).
fn rewritten_here(entry: &str, sql: &str, vanilla: &SessionContext, ours: &SessionContext) -> bool {
    let plain = datafusion::sql::sqlparser::parser::Parser::parse_sql(
        &crate::engine::compat::parse::dialect::DuckDbCompatDialect,
        sql,
    )
    .map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let prepared = crate::engine::compat::prepare(sql).map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let has = |ctx: &SessionContext| {
        let state = ctx.state();
        state.scalar_functions().contains_key(entry)
            || state.aggregate_functions().contains_key(entry)
            || state.window_functions().contains_key(entry)
    };
    matches!((plain, prepared), (Ok(a), Ok(b)) if a != b) || (has(ours) && !has(vanilla))
}

struct Classified {
    family: String,
    status: Status,
    detail: String,
}

async fn classify(cases: &[Case]) -> BTreeMap<String, Classified> {
    let engine = Engine::new(EngineOptions::new(1, false), None).unwrap();
    let vanilla = SessionContext::new();
    let mut ours = SessionContext::new();
    crate::engine::compat::register(&mut ours).unwrap();
    let mut by_entry: BTreeMap<&str, Vec<&Case>> = BTreeMap::new();
    for case in cases {
        by_entry.entry(case.entry.as_str()).or_default().push(case);
    }
    let engine = std::sync::Arc::new(engine);
    let mut classified = BTreeMap::new();
    for (entry, cases) in by_entry {
        let family = cases[0].family.clone();
        let tested: Vec<&Case> = cases.into_iter().filter(|c| c.sql.is_some()).collect();
        let mut outcomes = Vec::new();
        for case in &tested {
            let engine = engine.clone();
            let case = (*case).clone();
            let task = tokio::spawn(async move { run_case(&engine, &case).await });
            outcomes.push(match tokio::time::timeout(Duration::from_secs(20), task).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(panic)) => Outcome::Panics(panic.to_string()),
                Err(_) => Outcome::Differs("takes more than 20 s".into()),
            });
        }
        let first = |pick: fn(&Outcome) -> Option<&String>| -> Option<(String, String)> {
            tested
                .iter()
                .zip(&outcomes)
                .find_map(|(c, o)| pick(o).map(|m| (c.sql.clone().unwrap_or_default(), m.clone())))
        };
        let (status, detail) = if tested.is_empty() {
            (Status::Untested, "DuckDB answers none of the generated cases".to_string())
        } else if let Some((sql, m)) = first(|o| if let Outcome::Panics(m) = o { Some(m) } else { None }) {
            (Status::Panics, format!("{sql}: {m}"))
        } else if outcomes.iter().all(|o| *o == Outcome::Pass) {
            let sql = tested[0].sql.as_deref().unwrap_or_default();
            if rewritten_here(entry, sql, &vanilla, &ours) {
                (Status::Rewritten, String::new())
            } else {
                (Status::Identical, String::new())
            }
        } else if outcomes.iter().all(|o| matches!(o, Outcome::Fails(_))) {
            let (sql, message) = first(|o| if let Outcome::Fails(m) = o { Some(m) } else { None }).unwrap();
            assert!(!message.contains('\n'), "{entry} is refused with more than one line on {sql}: {message}");
            (Status::Refused, message)
        } else {
            let (sql, m) = first(|o| match o {
                Outcome::Differs(m) | Outcome::Fails(m) => Some(m),
                _ => None,
            })
            .unwrap();
            (Status::Wrong, format!("{sql}: {m}"))
        };
        let detail = one_line_detail(&detail);
        classified.insert(entry.to_string(), Classified { family, status, detail });
    }
    classified
}

/// A reason on one line, with the aggregate cases' table shortened to `t`.
fn one_line_detail(detail: &str) -> String {
    let detail = detail.split_whitespace().collect::<Vec<_>>().join(" ");
    static TABLE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\(VALUES .*?\) t\(i, d, s, ts, dt, b, j, l, g\)").unwrap());
    TABLE.replace_all(&detail, "t").chars().take(300).collect()
}

fn classification_text(classified: &BTreeMap<String, Classified>) -> String {
    let mut text = String::from("# entry\tfamily\tstatus\twhy (refused and wrong only)\n");
    for (entry, c) in classified {
        let detail = c.detail.replace(['\t', '\n'], " ");
        writeln!(text, "{entry}\t{}\t{}\t{detail}", c.family, c.status.name()).unwrap();
    }
    text
}

const README_START: &str = "<!-- catalogue:start (generated by CATALOGUE_BLESS=1 cargo test --lib catalogue) -->";
const README_END: &str = "<!-- catalogue:end -->";

fn readme_section(classified: &BTreeMap<String, Classified>) -> String {
    let mut families: BTreeMap<&str, BTreeMap<Status, Vec<&str>>> = BTreeMap::new();
    for (entry, c) in classified {
        families.entry(c.family.as_str()).or_default().entry(c.status).or_default().push(entry);
    }
    let count = |f: &BTreeMap<Status, Vec<&str>>, s: Status| f.get(&s).map_or(0, Vec::len);
    let mut text = format!("{README_START}\n\n");
    text.push_str("| family | functions | identical | rewritten | refused | wrong |\n|---|---:|---:|---:|---:|---:|\n");
    let mut totals = [0usize; 5];
    for (family, statuses) in &families {
        let counts = [Status::Identical, Status::Rewritten, Status::Refused, Status::Wrong].map(|s| count(statuses, s));
        let all: usize = statuses.values().map(Vec::len).sum();
        totals[0] += all;
        for (t, c) in totals[1..].iter_mut().zip(counts) {
            *t += c;
        }
        writeln!(text, "| {family} | {all} | {} | {} | {} | {} |", counts[0], counts[1], counts[2], counts[3]).unwrap();
    }
    writeln!(text, "| **all** | {} | {} | {} | {} | {} |\n", totals[0], totals[1], totals[2], totals[3], totals[4])
        .unwrap();
    for (family, statuses) in &families {
        for status in [Status::Refused, Status::Wrong, Status::Untested, Status::Panics] {
            if let Some(names) = statuses.get(&status) {
                let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                writeln!(text, "- {family}, {}: {}", status.name(), names.join(", ")).unwrap();
            }
        }
    }
    text.push_str(&format!("\n{README_END}"));
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdbs_catalogue_gives_the_classified_answers() {
    let cases = load_cases();
    let classified = classify(&cases).await;
    let panics: Vec<String> = classified
        .iter()
        .filter(|(_, c)| c.status == Status::Panics)
        .map(|(entry, c)| format!("{entry}: {}", c.detail))
        .collect();
    let text = classification_text(&classified);
    let bless = std::env::var_os("CATALOGUE_BLESS").is_some();
    if bless {
        std::fs::write(fixture("classification.tsv"), &text).unwrap();
    }
    let (readme, updated) = replace_readme_section(README_START, README_END, &readme_section(&classified), bless);
    let families: BTreeMap<String, String> = classified.iter().map(|(e, c)| (e.clone(), c.family.clone())).collect();
    let (served_readme, served_updated) = served_tables(&families, bless);
    assert!(panics.is_empty(), "{} catalogue functions panic:\n{}", panics.len(), panics.join("\n"));
    if std::env::var_os("CATALOGUE_BLESS").is_some() {
        return;
    }
    let committed = std::fs::read_to_string(fixture("classification.tsv")).unwrap_or_default();
    let status_of = |text: &str| -> BTreeMap<String, String> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some((f.next()?.to_string(), f.nth(1)?.to_string()))
            })
            .collect()
    };
    let (now, before) = (status_of(&text), status_of(&committed));
    let changes: Vec<String> = now
        .iter()
        .filter(|(entry, status)| before.get(*entry) != Some(status))
        .map(|(entry, status)| {
            let why = &classified[entry].detail;
            format!("{entry}: {} -> {status} {why}", before.get(entry).map_or("(new)", String::as_str))
        })
        .collect();
    assert!(
        changes.is_empty(),
        "{} catalogue functions changed class (regenerate with CATALOGUE_BLESS=1 if it is an improvement):\n{}",
        changes.len(),
        changes.join("\n")
    );
    assert!(
        readme == updated && served_readme == served_updated,
        "the README's compatibility section is out of date: CATALOGUE_BLESS=1 cargo test --lib catalogue"
    );
}

/// Every function of DuckDB's catalogue in the families tested has its row in the catalogue of
/// names, which says how it is served.
#[test]
fn every_duckdb_function_tested_is_in_the_catalogue_of_names() {
    let missing: Vec<String> = load_cases()
        .into_iter()
        .map(|case| case.entry)
        .filter(|entry| !entry.starts_with("CAST AS ") && crate::engine::compat::catalogue::served(entry).is_none())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(missing.is_empty(), "not in src/engine/compat/catalogue/names.tsv: {missing:?}");
}

/// `list_aggregate` answers over lists, and a wrong aggregate is refused at planning (not a
/// panic inside the aggregate).
#[tokio::test]
async fn list_aggregates_answer_and_wrong_arguments_are_errors() {
    let engine = Engine::new(EngineOptions::new(1, false), None).unwrap();
    let (_, rows) =
        answer(&engine, "SELECT list_aggregate([1, 2, 4], 'sum'), list_median([1, 2, 4]), list_var_pop([1.0, 3.0])")
            .await
            .unwrap();
    assert_eq!(rows, vec![vec![Some("7".to_string()), Some("2.0".to_string()), Some("1.0".to_string())]]);
    let refused = answer(&engine, "SELECT list_aggregate([1.0, 2.0], 'corr')").await.unwrap_err();
    assert!(refused.contains("corr"), "{refused}");
}
