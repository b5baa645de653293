//! Careless and hostile use: outputs that must not replace what is not theirs, exports that
//! race or are killed, `cache clear` pointed at the wrong folder, odd cache paths, overlapping
//! folder files, and values that must not break the page or the terminal they are shown on.

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Env, assert_clean_failure, assert_success};

const START: &str = "2025-10-01";
const END: &str = "2025-10-03";

fn json(out: &std::process::Output) -> Value {
    assert_success(out);
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn query(sql: &str) -> Vec<&str> {
    vec!["query", "--start-date", START, "--end-date", END, "--json", "--sql", sql]
}

#[test]
fn a_report_replaces_no_link_device_or_spec() {
    let env = Env::new();
    let report = |output: &str, extra: &[&str]| {
        env.demo()
            .args(["report", "--start-date", START, "--end-date", END, "--output", output])
            .args(extra)
            .output()
            .unwrap()
    };
    let dir = env.dir.path();
    // A symbolic link is refused, and what it points to is untouched.
    fs::write(dir.join("precious.txt"), "keep me").unwrap();
    std::os::unix::fs::symlink(dir.join("precious.txt"), dir.join("link.html")).unwrap();
    assert_clean_failure(&report(dir.join("link.html").to_str().unwrap(), &[]), 2, "symbolic link");
    assert!(fs::symlink_metadata(dir.join("link.html")).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_to_string(dir.join("precious.txt")).unwrap(), "keep me");
    // Devices and folders are not files to replace.
    assert_clean_failure(&report("/dev/null", &[]), 2, "not a regular file");
    assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    assert_clean_failure(&report(dir.to_str().unwrap(), &[]), 2, "not a regular file");
    // The spec is an input, not the output.
    let spec = dir.join("spec.toml");
    let text =
        "title = \"t\"\n[[panel]]\ntitle = \"n\"\nchart = \"table\"\nsql = \"SELECT count(*) AS n FROM activity\"\n";
    fs::write(&spec, text).unwrap();
    assert_clean_failure(&report(spec.to_str().unwrap(), &["--spec", spec.to_str().unwrap()]), 2, "also the input");
    assert_eq!(fs::read_to_string(&spec).unwrap(), text);
    // `-` is standard output: the page there, no file named `-`.
    let out = report("-", &[]);
    assert_success(&out);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("<!DOCTYPE html>"));
    assert!(!dir.join("-").exists());
}

#[test]
fn report_data_cannot_end_or_hide_the_pages_script_blocks() {
    let env = Env::new();
    let spec = env.dir.path().join("spec.toml");
    fs::write(
        &spec,
        "title = \"t\"\n[[panel]]\ntitle = \"a\"\nchart = \"table\"\nsql = \"SELECT '<!-- <script>' AS x, '</script><b>' AS y\"\n\
         [[panel]]\ntitle = \"b\"\nchart = \"table\"\nsql = \"SELECT 2 AS z\"\n",
    )
    .unwrap();
    let out = env
        .demo()
        .args(["report", "--start-date", START, "--end-date", END, "--output", "-", "--spec", spec.to_str().unwrap()])
        .output()
        .unwrap();
    assert_success(&out);
    let page = String::from_utf8_lossy(&out.stdout);
    let blocks: Vec<&str> = page.split("<script type=\"application/json\"").skip(1).collect();
    assert_eq!(blocks.len(), 2, "both panels' data blocks");
    for block in blocks {
        let body = &block[block.find('>').unwrap() + 1..block.find("</script>").unwrap()];
        assert!(!body.contains('<'), "no '<' inside a data block: {body}");
        let _: Value = serde_json::from_str(body).expect("the block is JSON");
    }
    assert!(page.contains("\\u003c!-- \\u003cscript>"), "the value is kept, escaped");
}

fn export_cmd(env: &Env, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carto-activity"));
    cmd.env("CARTO_ACTIVITY_CACHE_DIR", env.cache())
        .env("NO_COLOR", "1")
        .args(["--demo", "--demo-events-per-day", "40000", "export", "--start-date", START, "--end-date", END])
        .args(["--format", "csv", "--max-rows-per-file", "5000", "--category", "activity", "--output-dir"])
        .arg(out)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn manifest_and_parts(dir: &Path) -> (Value, Vec<String>) {
    let manifest: Value = serde_json::from_slice(&fs::read(dir.join("_SUCCESS")).unwrap()).unwrap();
    let mut parts: Vec<String> = crate::common::all_files(dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| n != "_SUCCESS")
        .collect();
    parts.sort();
    (manifest, parts)
}

#[test]
fn two_exports_to_one_folder_never_both_write() {
    let _alone = crate::common::alone();
    let env = Env::new();
    let out = env.dir.path().join("out");
    assert_success(&export_cmd(&env, &env.dir.path().join("warm"), &[]).output().unwrap());
    // Started together: one writes, the other is refused (busy, or the target exists by then).
    let children: Vec<_> = (0..2).map(|_| export_cmd(&env, &out, &[]).spawn().unwrap()).collect();
    let outputs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let won = outputs.iter().filter(|o| o.status.success()).count();
    assert_eq!(
        won,
        1,
        "exactly one export writes: {:?}",
        outputs.iter().map(|o| String::from_utf8_lossy(&o.stderr).into_owned()).collect::<Vec<_>>()
    );
    let lost = outputs.iter().find(|o| !o.status.success()).unwrap();
    let message = String::from_utf8_lossy(&lost.stderr);
    assert!(message.contains("another carto-activity export") || message.contains("already exists"), "{message}");
    let target = out.join(format!("activity_{START}_{END}"));
    let (manifest, parts) = manifest_and_parts(&target);
    assert_eq!(manifest["files"].as_array().unwrap().len(), parts.len(), "every part is in the manifest: {parts:?}");
    assert!(!out.join("_tmp").exists() && !out.join(".carto-activity-export.lock").exists());
    // While one holds the folder, another is refused at once, with one line.
    let lock = fs::File::create(out.join(".carto-activity-export.lock")).unwrap();
    lock.lock().unwrap();
    let refused = export_cmd(&env, &out, &["--overwrite"]).output().unwrap();
    assert_clean_failure(&refused, 4, "another carto-activity export or sync is writing there");
}

#[test]
fn a_terminated_export_leaves_nothing_and_overwrite_clears_old_staging() {
    let _alone = crate::common::alone();
    let env = Env::new();
    let out = env.dir.path().join("out");
    assert_success(&export_cmd(&env, &env.dir.path().join("warm"), &[]).output().unwrap());
    let mut child = export_cmd(&env, &out, &[]).spawn().unwrap();
    let started = Instant::now();
    while !out.join("_tmp").exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    if status.success() {
        eprintln!("the export finished before SIGTERM reached it");
    } else {
        assert_eq!(status.code(), Some(130), "SIGTERM ends the export as Ctrl-C does");
        assert!(crate::common::all_files(&out).is_empty(), "{:?}", crate::common::all_files(&out));
    }
    // Leftovers of a run killed without a chance to clean (SIGKILL), including the store's own
    // `name#n` upload files, which listing hides: `--overwrite` removes them all.
    let target = out.join(format!("activity_{START}_{END}"));
    fs::create_dir_all(out.join("_tmp/1-1/x")).unwrap();
    fs::write(out.join("_tmp/1-1/x/part-00000.csv"), "partial").unwrap();
    fs::create_dir_all(&target).unwrap();
    fs::write(target.join("part-00004.csv#1"), "partial").unwrap();
    assert_success(&export_cmd(&env, &out, &["--overwrite"]).output().unwrap());
    let (manifest, parts) = manifest_and_parts(&target);
    assert!(parts.iter().all(|p| p.starts_with("part-") && !p.contains('#')), "{parts:?}");
    assert_eq!(manifest["files"].as_array().unwrap().len(), parts.len());
    assert!(!out.join("_tmp").exists());
}

#[test]
fn a_csv_export_without_rows_has_its_header() {
    let env = Env::new();
    let out = env.dir.path().join("empty");
    let sql = "SELECT type, ts FROM activity WHERE false";
    assert_success(
        &env.demo()
            .args(["export", "--start-date", START, "--end-date", END, "--format", "csv", "--sql", sql, "--output-dir"])
            .arg(&out)
            .output()
            .unwrap(),
    );
    assert_eq!(fs::read_to_string(out.join(format!("query_{START}_{END}.csv"))).unwrap(), "type,ts\n");
}

#[test]
fn cache_clear_deletes_only_what_the_cache_wrote() {
    let env = Env::new();
    // A folder that is not a cache: refused, nothing deleted.
    let photos = env.dir.path().join("photos");
    fs::create_dir_all(photos.join("v2/holiday")).unwrap();
    fs::write(photos.join("v2/holiday/a.jpg"), "x").unwrap();
    fs::create_dir_all(photos.join("v1")).unwrap();
    let out = env.cmd().args(["--cache-dir", photos.to_str().unwrap(), "cache", "clear"]).output().unwrap();
    assert_clean_failure(&out, 2, "not a carto-activity cache");
    assert!(photos.join("v2/holiday/a.jpg").exists() && photos.join("v1").exists());
    // A real cache: its days go; a newer layout and a file of the user's stay, and are named.
    let rows = json(&env.demo().args(query("SELECT count(*) AS n FROM activity")).output().unwrap());
    assert!(rows[0]["n"].as_u64().unwrap() > 0);
    let cache = env.cache();
    fs::create_dir_all(cache.join("v4/future")).unwrap();
    let notes = cache.join(crate::common::LAYOUT).join(crate::common::DEMO_ID).join("activity/notes.txt");
    fs::write(&notes, "mine").unwrap();
    let out = env.cmd().args(["cache", "clear"]).output().unwrap();
    assert_success(&out);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("removed") && said.contains(crate::common::DEMO_ID) && said.contains("files"), "{said}");
    assert!(said.contains("kept") && said.contains("notes.txt"), "{said}");
    assert!(notes.exists() && cache.join("v4/future").exists());
    assert!(crate::common::day_files(&cache, "activity", START, END).iter().all(|p| !p.exists()));
}

#[test]
fn any_cache_path_that_is_a_path_works() {
    let env = Env::new();
    let sql = "SELECT count(*) AS n FROM activity";
    let reference = json(&env.demo().args(query(sql)).output().unwrap());
    for name in ["cache[1]", "c?*", "a#b%20c", "with space", "x/../dotted"] {
        let dir = env.dir.path().join(name);
        let out = env.demo().args(["--cache-dir", dir.to_str().unwrap()]).args(query(sql)).output().unwrap();
        assert_eq!(json(&out), reference, "--cache-dir {name}");
    }
    // A path the engine cannot address is refused before anything is fetched.
    let bad = env.dir.path().join("new\nline");
    let out = env.demo().args(["--cache-dir", bad.to_str().unwrap()]).args(query(sql)).output().unwrap();
    assert_clean_failure(&out, 2, "choose another --cache-dir");
    assert!(!bad.join(crate::common::LAYOUT).exists(), "nothing was fetched");
}

#[test]
fn overlapping_folder_files_count_once_and_odd_names_are_named() {
    let env = Env::new();
    let folder = env.dir.path().join("exports");
    // Two weekly-style exports of overlapping ranges into one folder.
    for (start, end) in [("2025-10-01", "2025-10-03"), ("2025-10-02", "2025-10-04")] {
        assert_success(
            &env.demo()
                .args(["export", "--start-date", start, "--end-date", end, "--output-dir"])
                .arg(&folder)
                .output()
                .unwrap(),
        );
    }
    let sql = "SELECT (SELECT count(*) FROM activity) AS a, (SELECT count(*) FROM apiUsage) AS b, \
               (SELECT count(*) FROM userList) AS u, (SELECT count(*) FROM userList JOIN groupList ON true) AS j";
    let range = ["query", "--start-date", "2025-10-01", "--end-date", "2025-10-04", "--json", "--sql", sql];
    let demo = json(&env.demo().args(range).output().unwrap());
    let out = env.cmd().args(["--source", folder.to_str().unwrap()]).args(range).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(json(&out), demo, "each day once, one user list: {said}");
    assert!(said.contains("both hold activity of 2025-10-02 to 2025-10-03"), "{said}");
    assert!(said.contains("userList files"), "{said}");
    // A data file whose name names no category, and a category with no file: warnings.
    fs::write(folder.join("api_usage.csv"), "ts,user_id\n").unwrap();
    let only = env.dir.path().join("only-activity");
    fs::create_dir_all(&only).unwrap();
    for entry in fs::read_dir(&folder).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("apiUsage") {
            fs::copy(entry.path(), only.join(&name)).unwrap();
        }
    }
    let out = env.cmd().args(["--source", only.to_str().unwrap()]).args(range).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(json(&out)[0]["b"], 0);
    assert!(said.contains("ignored") && said.contains("api_usage.csv"), "{said}");
    assert!(said.contains("has no apiUsage files"), "{said}");
}

#[test]
fn folder_files_that_disagree_on_a_day_are_refused() {
    let env = Env::new();
    let folder = env.dir.path().join("exports");
    for (start, end, events) in [("2025-10-01", "2025-10-02", "2000"), ("2025-10-02", "2025-10-03", "2100")] {
        let out = env
            .cmd()
            .args(["--demo", "--demo-events-per-day", events, "export", "--category", "activity"])
            .args(["--start-date", start, "--end-date", end, "--output-dir"])
            .arg(&folder)
            .output()
            .unwrap();
        assert_success(&out);
    }
    let out = env
        .cmd()
        .args(["--source", folder.to_str().unwrap()])
        .args(query("SELECT count(*) FROM activity"))
        .output()
        .unwrap();
    assert_clean_failure(&out, 3, "disagree");
}

#[test]
fn a_cached_day_holding_another_days_or_categorys_rows_is_fetched_again() {
    let env = Env::new();
    let sql = "SELECT (SELECT count(*) FROM activity WHERE ts::DATE = DATE '2025-10-02') AS a, (SELECT count(*) FROM apiUsage) AS b";
    let reference = json(&env.demo().args(query(sql)).output().unwrap());
    let activity = crate::common::day_files(&env.cache(), "activity", START, END);
    let api = crate::common::day_files(&env.cache(), "apiUsage", START, END);
    fs::copy(&activity[0], &activity[1]).unwrap();
    fs::copy(&activity[2], &api[0]).unwrap();
    let out = env.demo().args(query(sql)).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(json(&out), reference, "{said}");
    assert!(said.contains("damaged") && said.contains("2025-10-02"), "{said}");
    // A folder where a day's file belongs: one line saying so, not a retry loop.
    json(&env.demo().args(query("SELECT count(*) FROM userList")).output().unwrap());
    let snapshot =
        env.cache().join(crate::common::LAYOUT).join(crate::common::DEMO_ID).join("userList/snapshot.parquet");
    fs::remove_file(&snapshot).unwrap();
    fs::create_dir_all(&snapshot).unwrap();
    let out = env.demo().args(query("SELECT count(*) FROM userList")).output().unwrap();
    assert_clean_failure(&out, 2, "is not a file");
}

#[test]
fn json_stays_valid_when_a_later_statement_fails() {
    let env = Env::new();
    let sql = "SELECT 1 AS a; SELECT CAST(CASE WHEN ts > TIMESTAMP '2025-10-02' THEN 'x' ELSE '1' END AS INTEGER) AS b FROM activity";
    let out = env.demo().args(query(sql)).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let printed: Value = serde_json::from_slice(&out.stdout).expect("what was printed is valid JSON");
    assert_eq!(printed[0], serde_json::json!([{"a": 1}]));
}

#[test]
fn control_characters_in_data_do_not_reach_the_terminal() {
    let env = Env::new();
    let out = env
        .demo()
        .args(["query", "--start-date", START, "--end-date", END, "--sql", "SELECT chr(27) || '[2J' || chr(7) AS x"])
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
    assert!(text.contains("\\u{1b}[2J\\u{7}"), "{text}");
}

#[test]
fn a_memory_limit_makes_a_runaway_query_fail_with_one_line() {
    let env = Env::new();
    let sql = "SELECT a.data, b.data FROM activity a JOIN activity b ON a.type = b.type ORDER BY 1, 2";
    let out = env.demo().args(["--memory-limit", "16MB"]).args(query(sql)).output().unwrap();
    assert_clean_failure(&out, 1, "--memory-limit");
}
