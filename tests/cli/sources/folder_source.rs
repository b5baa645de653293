//! `--source DIR`: a folder of files exported earlier, ingested through the same path as
//! downloads; changes to its files are noticed; hostile files fail clearly.

use std::path::Path;

use crate::common::{Env, assert_clean_failure, assert_success};
use serde_json::Value;

const SQL: &str = "SELECT type, count(*) AS n, min(ts) AS first FROM activity GROUP BY type ORDER BY type; \
                   SELECT metric, sum(amount) AS amount, count(user_id) AS users FROM apiUsage GROUP BY metric ORDER BY metric; \
                   SELECT email, role, created_at, group_ids FROM userList ORDER BY email; \
                   SELECT * FROM groupList ORDER BY group_id";

fn folder_query(env: &Env, dir: &Path, sql: &str) -> std::process::Output {
    env.cmd()
        .arg("--source")
        .arg(dir)
        .args(["query", "--start-date", "2025-10-01", "--end-date", "2025-10-03", "--json", "--sql", sql])
        .output()
        .unwrap()
}

fn export(env: &Env, format: &str, dir: &Path) {
    let out = env
        .demo()
        .args(["export", "--start-date", "2025-10-01", "--end-date", "2025-10-03", "--format", format, "--output-dir"])
        .arg(dir)
        .output()
        .unwrap();
    assert_success(&out);
}

#[test]
fn exported_files_read_back_as_the_source_they_came_from() {
    let env = Env::new();
    let expected = env.query_json("2025-10-01", "2025-10-03", SQL);
    for format in ["csv", "parquet"] {
        let dir = env.dir.path().join(format!("export-{format}"));
        export(&env, format, &dir);
        let out = folder_query(&env, &dir, SQL);
        assert_success(&out);
        let ours: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(ours, expected, "{format}");
    }
}

#[test]
fn a_changed_file_is_noticed() {
    let env = Env::new();
    let dir = env.dir.path().join("export");
    export(&env, "csv", &dir);
    let count = "SELECT count(*) AS n FROM activity";
    let before: Value = serde_json::from_slice(&folder_query(&env, &dir, count).stdout).unwrap();
    let file = dir.join("activity_2025-10-01_2025-10-03.csv");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("LateEvent,2025-10-02T10:00:00Z,\"{\"\"userId\"\":\"\"u\"\"}\"\n");
    std::fs::write(&file, text).unwrap();
    let out = folder_query(&env, &dir, count);
    assert_success(&out);
    let after: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(after[0]["n"].as_i64().unwrap(), before[0]["n"].as_i64().unwrap() + 1);
    let sources = std::fs::read_dir(env.cache().join(crate::common::LAYOUT))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("dir-"))
        .count();
    assert_eq!(sources, 1, "the earlier state's cache entry is gone");
}

#[test]
fn hostile_files_fail_clearly_and_cache_nothing() {
    let env = Env::new();
    let good = env.dir.path().join("good");
    export(&env, "parquet", &good);
    type Damage = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Damage, &str)> = vec![
        (
            "truncated Parquet",
            Box::new(|dir: &Path| {
                let file = dir.join("activity_2025-10-01_2025-10-03.parquet");
                let bytes = std::fs::read(&file).unwrap();
                std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
            }),
            "activity_2025-10-01_2025-10-03",
        ),
        (
            "CSV with wrong columns",
            Box::new(|dir: &Path| {
                std::fs::remove_file(dir.join("activity_2025-10-01_2025-10-03.parquet")).unwrap();
                std::fs::write(dir.join("activity.csv"), "kind,when,payload\nx,2025-10-01T00:00:00Z,{}\n").unwrap();
            }),
            "no column 'type'",
        ),
        (
            "non-UTF-8 bytes",
            Box::new(|dir: &Path| {
                std::fs::remove_file(dir.join("activity_2025-10-01_2025-10-03.parquet")).unwrap();
                std::fs::write(dir.join("activity.csv"), b"type,ts,data\n\xff\xfe,2025-10-01T00:00:00Z,{}\n").unwrap();
            }),
            "UTF-8",
        ),
        (
            "a bad timestamp",
            Box::new(|dir: &Path| {
                std::fs::remove_file(dir.join("activity_2025-10-01_2025-10-03.parquet")).unwrap();
                std::fs::write(dir.join("activity.csv"), "type,ts,data\nX,last tuesday,{}\n").unwrap();
            }),
            "not an ISO 8601 timestamp",
        ),
    ];
    for (name, damage, needle) in cases {
        let dir = env.dir.path().join(name.replace(' ', "-"));
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&good).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
        damage(&dir);
        let out = folder_query(&env, &dir, "SELECT count(*) FROM activity");
        assert_clean_failure(&out, 3, needle);
        let days = common_days(&env.cache());
        assert_eq!(days, 0, "{name}: no day cached");
    }
    let out = env
        .cmd()
        .args([
            "--source",
            "/no/such/folder",
            "query",
            "--start-date",
            "2025-10-01",
            "--end-date",
            "2025-10-01",
            "--sql",
            "SELECT count(*) FROM activity",
        ])
        .output()
        .unwrap();
    assert_clean_failure(&out, 2, "unknown --source");
}

fn common_days(cache: &Path) -> usize {
    let Ok(sources) = std::fs::read_dir(cache.join(crate::common::LAYOUT)) else { return 0 };
    sources
        .flatten()
        .filter(|s| s.file_name().to_string_lossy().starts_with("dir-"))
        .flat_map(|s| std::fs::read_dir(s.path().join("activity")).into_iter().flatten().flatten())
        .filter(|f| f.file_name().to_string_lossy().ends_with(".parquet"))
        .count()
}
