//! `carto-activity shell`: through a pseudo-terminal (tests/shell_pty.py types, presses TAB,
//! Ctrl-C, arrow-up and Ctrl-D), and with statements piped on standard input.

use serde_json::Value;

use crate::common::{EVENTS_PER_DAY, Env, assert_clean_failure, assert_success};

const START: &str = "2025-10-01";
const END: &str = "2025-10-02";

/// The number in the first body row of the last table in `text` (`│ 1234 │`).
fn number_in(text: &str) -> u64 {
    let row = text
        .lines()
        .filter(|l| l.starts_with('│'))
        .filter_map(|l| l.trim_matches(|c| c == '│' || c == ' ').parse::<u64>().ok())
        .next_back();
    row.unwrap_or_else(|| panic!("no number in: {text}"))
}

fn count(env: &Env, sql: &str) -> u64 {
    let rows = env.query_json(START, END, sql);
    rows[0].as_object().unwrap().values().next().unwrap().as_u64().unwrap()
}

#[test]
fn a_person_at_a_terminal_queries_completes_cancels_and_comes_back() {
    let _alone = crate::common::alone();
    let env = Env::new();
    let state = env.dir.path().join("state");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/shell_pty.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args([env!("CARGO_BIN_EXE_carto-activity"), env.cache().to_str().unwrap(), state.to_str().unwrap()])
        .args([START, END, EVENTS_PER_DAY])
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "the terminal script failed: {}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    let shown = |step: &str| report[step].as_str().unwrap_or_else(|| panic!("no step {step}: {report}")).to_string();

    let banner = shown("banner");
    assert!(banner.contains("2025-10-01 to 2025-10-02 (2 days)") && banner.contains(".help"), "{banner}");
    assert_eq!(number_in(&shown("count")), count(&env, "SELECT count(*) FROM activity"));
    assert_eq!(number_in(&shown("table_completion")), count(&env, "SELECT count(*) FROM activity"));
    let loads = count(&env, "SELECT count(*) FROM activity WHERE type = 'MapLoadedEvent'");
    assert_eq!(number_in(&shown("type_completion")), loads, "'MapLo' + TAB completed the type");
    let keyed = count(&env, "SELECT count(data->>'loadTimeMs') FROM activity");
    assert_eq!(number_in(&shown("key_completion")), keyed, "'loadT' + TAB completed the key");
    for table in ["activity", "apiUsage", "userList", "groupList"] {
        assert!(shown("tables").contains(table), "{}", shown("tables"));
    }
    let error = shown("error");
    assert!(error.contains("error:") && error.contains("nowhere"), "{error}");
    assert_eq!(number_in(&shown("after_error")), 42, "an error keeps the shell");
    assert!(shown("multi_line").contains("two"), "{}", shown("multi_line"));
    let wide = shown("wide");
    let table: Vec<&str> = wide.lines().filter(|l| l.starts_with(['┌', '│', '└'])).collect();
    assert!(table.iter().all(|l| l.chars().count() <= 200), "fitted to the 200 columns: {wide}");
    assert!(wide.contains("first") && wide.contains("last") && wide.contains('…'), "middle columns left out: {wide}");
    assert_eq!(report["clear_waited"], true, "cache clear waited for the shell's lease");
    let clear = report["clear_said"].as_str().unwrap();
    assert!(clear.contains("waiting for another carto-activity process"), "{clear}");
    assert_eq!(report["clear_status"], 0, "{clear}");
    assert!(shown("interrupted").contains("interrupted"));
    let seconds = report["interrupt_seconds"].as_f64().unwrap();
    assert!(seconds < 10.0, "Ctrl-C came back to the prompt after {seconds} s");
    assert_eq!(number_in(&shown("after_interrupt")), 42);
    assert_eq!(report["exit_status"], 0, "Ctrl-D leaves with status 0");
    // The second adversarial round: Ctrl-C heard during a join that keeps every core busy,
    // lines typed ahead all run, and a linked history file is left alone.
    let seconds = report["join_interrupt_seconds"].as_f64().unwrap();
    assert!(seconds < 10.0, "Ctrl-C during a three-way join came back after {seconds} s");
    assert!(!shown("join_interrupted").contains("joined |"), "the join was stopped, not finished");
    let seconds = report["range_interrupt_seconds"].as_f64().unwrap();
    assert!(seconds < 10.0, "Ctrl-C during a .range fetch came back after {seconds} s");
    assert!(!shown("range_interrupted").contains("range: 2023-01-01"), "{}", shown("range_interrupted"));
    assert!(shown("range_kept").contains("2025-10-01 2025-10-02"), "{}", shown("range_kept"));
    let ahead = shown("typed_ahead");
    assert!(ahead.contains("typedahead") && ahead.contains("andmore"), "{ahead}");
    assert!(shown("linked_banner").contains("is a symbolic link"), "{}", shown("linked_banner"));
    assert_eq!(report["victim"], "keep me");
    assert_eq!(report["victim_mode"], "0o644");
    assert_eq!(number_in(&shown("recalled")), 42, "arrow-up recalled the last statement after a restart");
    assert_eq!(report["second_exit_status"], 0);

    let history = state.join("carto-activity/history");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&history).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the history is the user's alone");
    assert!(std::fs::read_to_string(&history).unwrap().contains("SELECT 40 + 2 AS answer;"));
}

/// Runs the shell with `script` on standard input.
fn piped(env: &Env, args: &[&str], script: &str) -> std::process::Output {
    env.demo()
        .args(["shell", "--start-date", START, "--end-date", END])
        .args(args)
        .env("XDG_STATE_HOME", env.dir.path().join("state"))
        .write_stdin(script)
        .output()
        .unwrap()
}

#[test]
fn piped_statements_and_dot_commands_run_in_order() {
    let env = Env::new();
    std::fs::write(env.dir.path().join("more.sql"), "\u{feff}SELECT 'read' AS source;\n").unwrap();
    let script = "\
-- a header comment
.mode csv
SELECT type, count(*) AS n
FROM activity GROUP BY ALL ORDER BY n DESC, type LIMIT 2;
.mode json
SELECT * FROM (SELECT 1 AS a) x, (SELECT 1 AS a) y;
.once once.csv
.mode csv
SELECT 'to the file' AS x;
.read more.sql
.mode line
.timer on
SELECT 1 AS a, 'x' AS bb;
.timer off
.output out.txt
.mode csv
SELECT 'kept' AS y;
.tables
.output
.schema groupList
.range 2025-10-02 2025-10-02
.mode csv
SELECT count(*) AS n FROM activity
";
    let out = piped(&env, &[], script);
    assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let top = env.query_json(
        START,
        END,
        "SELECT type, count(*) AS n FROM activity GROUP BY ALL ORDER BY n DESC, type LIMIT 2",
    );
    let expected_top = format!(
        "type,n\n{},{}\n{},{}\n",
        top[0]["type"].as_str().unwrap(),
        top[0]["n"],
        top[1]["type"].as_str().unwrap(),
        top[1]["n"]
    );
    assert!(stdout.starts_with(&expected_top), "{stdout}");
    assert!(stdout.contains(r#""a_1":1"#), "duplicate names kept apart: {stdout}");
    assert!(!stdout.contains("to the file"), ".once went to the file");
    assert_eq!(std::fs::read_to_string(env.dir.path().join("once.csv")).unwrap(), "x\nto the file\n");
    assert!(stdout.contains("source\nread\n"), ".read ran the file: {stdout}");
    assert!(stdout.contains(" a = 1\nbb = x\n"), "line mode: {stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("Run Time: ").count(), 1, ".timer on for one statement: {stderr}");
    assert_eq!(
        std::fs::read_to_string(env.dir.path().join("out.txt")).unwrap(),
        "y\nkept\nname\nactivity\napiUsage\nuserList\ngroupList\n",
        ".output kept results until `.output` alone"
    );
    assert!(stdout.contains("CREATE TABLE groupList(group_id VARCHAR, group_alias VARCHAR);"), "{stdout}");
    let one_day =
        crate::common::Env::query_json(&env, "2025-10-02", "2025-10-02", "SELECT count(*) AS n FROM activity");
    assert!(stdout.ends_with(&format!("n\n{}\n", one_day[0]["n"])), ".range changed the range: {stdout}");
    assert!(!env.dir.path().join("state/carto-activity/history").exists(), "no history without a terminal");
}

#[test]
fn piped_mistakes_stop_with_one_line() {
    let env = Env::new();
    let out = piped(&env, &[], "SELECT 'before' AS x;\n.mode box\nSELECT 'after' AS x;\n");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown mode 'box'") && !stderr.contains("panicked"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("before") && !stdout.contains("after"), "statements after the error do not run: {stdout}");

    let out = piped(&env, &[], ".keys NoSuchEvent\n");
    assert_clean_failure(&out, 2, "no events of type 'NoSuchEvent'");

    let out = env.demo().args(["shell", "--start-date", START]).output().unwrap();
    assert_clean_failure(&out, 2, "--end-date");
}

#[test]
fn keys_and_types_answer_what_duckdb_reads_in_the_payloads() {
    let env = Env::new();
    let out = piped(&env, &[], ".mode csv\n.types\n.keys WorkflowRun\n");
    assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let types = env.duckdb(
        START,
        END,
        "SELECT type, count(*) AS events FROM activity GROUP BY type ORDER BY events DESC, type",
    );
    let first = &types[0];
    assert!(
        stdout.starts_with(&format!("type,events\n{},{}\n", first["type"].as_str().unwrap(), first["events"])),
        "{stdout}"
    );
    let runs = env.duckdb(
        START,
        END,
        "SELECT count(*) AS n, count(json_extract(data, '$.runDuration')) AS d FROM activity WHERE type = 'WorkflowRun'",
    );
    let line = stdout.lines().find(|l| l.starts_with("runDuration,")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.starts_with(&format!("runDuration,$.runDuration,{},", runs[0]["d"])), "{line} vs {runs}");
}
