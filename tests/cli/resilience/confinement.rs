//! The second adversarial round, from the command line: outputs that replace only what is
//! theirs, inputs read up to a bound and interruptibly, charts that stay bounded, credentials
//! that never reach a message, and failures that name what failed and leave nothing behind.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Env, assert_clean_failure, assert_success};

const START: &str = "2025-10-01";
const END: &str = "2025-10-03";

fn report(env: &Env, extra: &[&str]) -> std::process::Output {
    env.demo().args(["report", "--start-date", START, "--end-date", END]).args(extra).output().unwrap()
}

/// Item 1: a report replaces a report, and nothing else unless told to.
#[test]
fn a_report_replaces_only_a_report_unless_told() {
    let env = Env::new();
    let dir = env.dir.path();
    fs::write(dir.join("notes.txt"), "my notes").unwrap();
    assert_clean_failure(&report(&env, &["--output", "notes.txt"]), 2, "was not written by carto-activity");
    assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "my notes");
    assert_success(&report(&env, &["--output", "page.html"]));
    assert_success(&report(&env, &["--output", "page.html"]));
    assert_success(&report(&env, &["--output", "notes.txt", "--overwrite"]));
    assert!(fs::read_to_string(dir.join("notes.txt")).unwrap().starts_with("<!DOCTYPE html>"));
    // Never into the cache, nor into a folder called `~`.
    let manifest = env.cache().join("v3/manifest.json");
    let out = report(&env, &["--output", manifest.to_str().unwrap(), "--overwrite"]);
    assert_clean_failure(&out, 2, "inside the cache folder");
    assert_clean_failure(&report(&env, &["--output", "~/page.html"]), 2, "`~` is not expanded");
    assert!(!dir.join("~").exists());
}

/// Item 3: a credentials file that is not what CARTO's CLI writes is refused by field, and its
/// token is in no message.
#[test]
fn a_malformed_credentials_file_never_prints_its_token() {
    let env = Env::new();
    for text in [
        r#"{"current_profile":"a","profiles":{"a":"tok_DO-NOT-LEAK_1"}}"#,
        r#"{"current_profile":"a","profiles":{"a":{"token":{"v":"tok_DO-NOT-LEAK_2"}}}}"#,
        r#"{"current_profile":"a","profiles":{"a":{"token":"tok_DO-NOT-LEAK_3\q"}}}"#,
        r#"["tok_DO-NOT-LEAK_4"]"#,
    ] {
        fs::write(env.dir.path().join(".carto_credentials.json"), text).unwrap();
        let out = env
            .api("http://127.0.0.1:9")
            .args(["query", "--start-date", START, "--end-date", END, "--sql", "SELECT 1 FROM activity"])
            .output()
            .unwrap();
        assert_clean_failure(&out, 2, "is not a CARTO credentials file");
        crate::common::assert_no_secret(&env, &[&out]);
    }
}

/// Item 4: `.output`/`.once` write no link, device or cache file, and replace a file only if
/// this session wrote it or `--overwrite` says so.
#[test]
fn shell_outputs_replace_only_what_they_wrote() {
    let env = Env::new();
    let dir = env.dir.path();
    fs::write(dir.join("precious.txt"), "keep me").unwrap();
    std::os::unix::fs::symlink(dir.join("precious.txt"), dir.join("link.csv")).unwrap();
    let shell = |script: &str| {
        env.demo().args(["shell", "--start-date", START, "--end-date", END]).write_stdin(script).output().unwrap()
    };
    assert_clean_failure(&shell(".once link.csv\nSELECT 1;\n"), 2, "symbolic link");
    assert_clean_failure(&shell(".output precious.txt\nSELECT 1;\n"), 2, ".output --overwrite precious.txt");
    assert_clean_failure(&shell(".once /dev/null\nSELECT 1;\n"), 2, "not a regular file");
    let manifest = env.cache().join("v3/manifest.json");
    assert_clean_failure(&shell(&format!(".once {}\nSELECT 1;\n", manifest.display())), 2, "inside the cache folder");
    assert_eq!(fs::read_to_string(dir.join("precious.txt")).unwrap(), "keep me");
    // Its own files again, and another's when told.
    let out = shell(
        ".mode csv\n.once a.csv\nSELECT 1 AS x;\n.once a.csv\nSELECT 2 AS x;\n.once --overwrite precious.txt\nSELECT 3 AS x;\n",
    );
    assert_success(&out);
    assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "x\n2\n");
    assert_eq!(fs::read_to_string(dir.join("precious.txt")).unwrap(), "x\n3\n");
    assert!(fs::symlink_metadata(dir.join("link.csv")).unwrap().file_type().is_symlink());
}

/// Item 5: every file read as SQL or a spec is read up to a bound.
#[test]
fn endless_inputs_end_in_one_line() {
    let env = Env::new();
    let started = Instant::now();
    assert_clean_failure(&report(&env, &["--output", "-", "--spec", "/dev/zero"]), 2, "longer than 16 MiB");
    let out =
        env.demo().args(["shell", "--start-date", START, "--end-date", END]).write_stdin(".read /dev/zero\n").output();
    assert_clean_failure(&out.unwrap(), 2, "longer than 16 MiB");
    eprintln!("both refused in {:.1} s", started.elapsed().as_secs_f64());
}

/// Item 6: a spec FIFO that no one writes does not hold SIGTERM, and a chart of thousands of
/// series is drawn bounded (the largest, the rest summed as "other").
#[test]
fn reports_stay_bounded_and_hear_signals() {
    let env = Env::new();
    let dir = env.dir.path();
    let fifo = dir.join("spec.toml");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_carto-activity"))
        .env("CARTO_ACTIVITY_CACHE_DIR", env.cache())
        .args(["--demo", "report", "--start-date", START, "--end-date", END, "--output", "-", "--spec"])
        .arg(&fifo)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "SIGTERM did not end a report waiting for its spec");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    let spec = dir.join("many.toml");
    let sql = "SELECT d AS day, 'series ' || s AS series, s AS n FROM range(5) a(d), range(3000) b(s)";
    fs::write(&spec, format!("[[panel]]\ntitle = \"many\"\nchart = \"stacked_bar\"\nsql = \"{sql}\"\n")).unwrap();
    let out = report(&env, &["--output", "-", "--spec", spec.to_str().unwrap()]);
    assert_success(&out);
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains("other (2989)"), "the 2,989 smallest series are one");
}

/// Item 12: a panel whose rows cannot be drawn as its chart is named; a refused first sync
/// leaves no folder behind.
#[test]
fn failures_name_what_failed_and_leave_nothing() {
    let env = Env::new();
    let dir = env.dir.path();
    for (chart, sql, needle) in [
        ("line", "SELECT 1 AS only", "a line chart takes the x values"),
        ("bar", "SELECT 'a' AS label, 'many' AS n", "column 'n' is VARCHAR"),
        ("stacked_bar", "SELECT 1 AS x, 2 AS y", "the SQL gives 2 column(s)"),
    ] {
        let spec = dir.join(format!("{chart}.toml"));
        fs::write(&spec, format!("[[panel]]\ntitle = \"odd {chart}\"\nchart = \"{chart}\"\nsql = \"{sql}\"\n"))
            .unwrap();
        let out = report(&env, &["--output", "-", "--spec", spec.to_str().unwrap()]);
        assert_clean_failure(&out, 1, &format!("panel 'odd {chart}': "));
        assert_clean_failure(&out, 1, needle);
    }
    let target = dir.join("warehouse/new");
    let out = env.demo().args(["sync", "--to", target.to_str().unwrap()]).output().unwrap();
    assert_clean_failure(&out, 2, "holds no day yet");
    assert!(!dir.join("warehouse").exists(), "the refused sync left {:?}", crate::common::all_files(dir));
    assert!(Path::new(dir).exists());
}

/// Item 12: a full disk during a sync names the table and what was being written. (The disk is
/// a 4 MiB tmpfs: mounting one needs root, which the CI machines give; elsewhere it is skipped.)
#[test]
fn a_full_disk_during_sync_names_the_table() {
    let env = Env::new();
    let small = env.dir.path().join("small");
    fs::create_dir(&small).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&small)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a small tmpfs here (not root)");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&small);
    let out = env
        .cmd()
        .args(["--demo", "sync", "--category", "activity", "--from", "2025-10-01", "--until", "2025-10-20", "--to"])
        .arg(small.join("warehouse"))
        .output()
        .unwrap();
    assert_clean_failure(&out, 4, "cannot write data files to the Delta table");
    assert_clean_failure(&out, 4, "the disk is full");
}
