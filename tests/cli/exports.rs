//! Exports at warehouse scale: every format × partitioning read back by DuckDB as exactly the
//! rows `query` returns; files split by row count; `--sql`; an S3 round trip against a real
//! S3-compatible server (moto); and exports that fail midway leave nothing complete-looking.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::common::{Env, assert_clean_failure, assert_same_rows, assert_success};
use serde_json::{Value, json};

const START: &str = "2025-10-01";
const END: &str = "2025-10-03";
const USAGE_SQL: &str = "SELECT ts, user_id, metric, amount, map_id, workflow_id, quota_usage_weight FROM apiUsage";

fn export(env: &Env, args: &[&str], out: &str) -> std::process::Output {
    env.demo()
        .args(["export", "--start-date", START, "--end-date", END, "--output-dir", out])
        .args(args)
        .output()
        .unwrap()
}

/// DuckDB's reader for an export's files.
fn reader(format: &str, glob: &str) -> String {
    match format {
        "parquet" => format!("read_parquet('{glob}', hive_partitioning = false)"),
        "csv" => format!(
            "read_csv('{glob}', header = true, types = {{'ts': 'TIMESTAMPTZ', 'user_id': 'VARCHAR', 'map_id': 'VARCHAR', 'workflow_id': 'VARCHAR'}}, hive_partitioning = false)"
        ),
        _ => format!(
            "read_json('{glob}', columns = {{ts: 'TIMESTAMPTZ', user_id: 'VARCHAR', metric: 'VARCHAR', amount: 'DOUBLE', map_id: 'VARCHAR', workflow_id: 'VARCHAR', quota_usage_weight: 'DOUBLE'}}, hive_partitioning = false)"
        ),
    }
}

fn read_back(format: &str, glob: &str, sql: &str) -> Value {
    crate::common::duckdb(
        &json!({"tables": {}, "sql": sql.replace("FROM apiUsage", &format!("FROM {}", reader(format, glob)))}),
    )
}

#[test]
fn every_format_and_partitioning_reads_back_as_the_query_does() {
    let env = Env::new();
    let expected = env.query_json(START, END, USAGE_SQL);
    let activity_per_day =
        env.query_json(START, END, "SELECT CAST(ts AS DATE) AS day, count(*) AS n FROM activity GROUP BY 1");
    let formats: [(&str, &[&str], &str); 4] = [
        ("parquet", &["--format", "parquet"], "parquet"),
        ("csv", &["--format", "csv"], "csv"),
        ("csv", &["--format", "csv", "--compression", "gzip"], "csv.gz"),
        ("ndjson", &["--format", "ndjson"], "ndjson"),
    ];
    for (format, flags, ext) in formats {
        for partition in ["none", "day", "month"] {
            let out_dir = env.dir.path().join(format!("{ext}-{partition}"));
            let out_text = out_dir.to_str().unwrap();
            let mut args = flags.to_vec();
            args.extend(["--partition-by", partition, "--category", "apiUsage", "--category", "activity"]);
            assert_success(&export(&env, &args, out_text));
            let (usage, activity) = if partition == "none" {
                (
                    out_dir.join(format!("apiUsage_{START}_{END}.{ext}")),
                    out_dir.join(format!("activity_{START}_{END}.{ext}")),
                )
            } else {
                let key = if partition == "day" { "date=*" } else { "month=*" };
                assert!(out_dir.join("apiUsage").join("_SUCCESS").is_file());
                (
                    out_dir.join("apiUsage").join(key).join(format!("*.{ext}")),
                    out_dir.join("activity").join(key).join(format!("*.{ext}")),
                )
            };
            let theirs = read_back(format, usage.to_str().unwrap(), USAGE_SQL);
            assert_same_rows(&expected, &theirs, false);
            let glob = activity.to_str().unwrap();
            let activity_reader = match format {
                "parquet" => format!("read_parquet('{glob}', hive_partitioning = false)"),
                "csv" => format!("read_csv('{glob}', header = true, hive_partitioning = false)"),
                _ => format!("read_json('{glob}', hive_partitioning = false)"),
            };
            let per_day = crate::common::duckdb(&json!({"tables": {}, "sql": format!(
                "SELECT CAST(CAST(ts AS TIMESTAMPTZ) AS DATE) AS day, count(*) AS n FROM {activity_reader} GROUP BY 1"
            )}));
            assert_same_rows(&activity_per_day, &per_day, false);
            if partition == "day" {
                let days = std::fs::read_dir(out_dir.join("activity"))
                    .unwrap()
                    .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("date="))
                    .count();
                assert_eq!(days, 3, "{ext}: one folder per day");
            }
        }
    }
}

#[test]
fn files_split_by_row_count_with_a_manifest() {
    let env = Env::new();
    let out_dir = env.dir.path().join("split");
    assert_success(&export(
        &env,
        &["--format", "parquet", "--category", "activity", "--max-rows-per-file", "1000"],
        out_dir.to_str().unwrap(),
    ));
    let folder = out_dir.join(format!("activity_{START}_{END}"));
    let manifest: Value = serde_json::from_slice(&std::fs::read(folder.join("_SUCCESS")).unwrap()).unwrap();
    let total = env.query_json(START, END, "SELECT count(*) AS n FROM activity")[0]["n"].as_u64().unwrap();
    assert_eq!(manifest["rows"].as_u64().unwrap(), total);
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len() as u64, total.div_ceil(1000));
    for file in files {
        assert!(file["rows"].as_u64().unwrap() <= 1000);
        let path = out_dir.join(file["path"].as_str().unwrap());
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len() as u64, file["bytes"].as_u64().unwrap());
        use sha2::Digest;
        assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), file["sha256"].as_str().unwrap());
    }
}

#[test]
fn export_sql_writes_the_query_result() {
    let env = Env::new();
    let sql = "SELECT ts, type, data->>'userId' AS user_id FROM activity WHERE type = 'MapCreated'";
    let out_dir = env.dir.path().join("sql");
    assert_success(&export(&env, &["--format", "parquet", "--sql", sql], out_dir.to_str().unwrap()));
    let theirs = crate::common::duckdb(
        &json!({"tables": {}, "sql": format!("SELECT * FROM read_parquet('{}')", out_dir.join(format!("query_{START}_{END}.parquet")).display())}),
    );
    assert_same_rows(&env.query_json(START, END, sql), &theirs, false);
    let out = export(&env, &["--sql", "SELECT 1; SELECT 2"], out_dir.to_str().unwrap());
    assert_clean_failure(&out, 2, "one query");
    let out = export(&env, &["--format", "csv", "--compression", "zstd"], out_dir.to_str().unwrap());
    assert_clean_failure(&out, 2, "gzip or none");
}

/// A query that fails on its second day: the export breaks off midway.
const FAILS_MIDWAY: &str = "SELECT ts, CAST(CASE WHEN ts < TIMESTAMP '2025-10-02' THEN '1' ELSE 'not a number' END AS INTEGER) AS x FROM activity";

#[test]
fn an_export_that_fails_midway_leaves_nothing_complete() {
    let env = Env::new();
    for args in [
        vec!["--format", "parquet", "--partition-by", "day"],
        vec!["--format", "csv"],
        vec!["--format", "ndjson", "--max-rows-per-file", "100"],
    ] {
        let out_dir = env.dir.path().join(format!("midway-{}", args.join("")));
        let mut all = args.clone();
        all.extend(["--sql", FAILS_MIDWAY]);
        let out = export(&env, &all, out_dir.to_str().unwrap());
        assert_clean_failure(&out, 1, "not a number");
        let left = crate::common::all_files(&out_dir);
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
    // A destination that cannot be written: a folder where a file stands.
    let blocker = env.dir.path().join("blocker");
    std::fs::write(&blocker, "x").unwrap();
    let out = export(&env, &["--category", "groupList"], blocker.join("sub").to_str().unwrap());
    assert_clean_failure(&out, 4, "blocker");
}

pub(crate) struct Moto {
    child: Child,
    pub(crate) endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start_moto() -> Moto {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("python3")
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m moto.server (python3 -m pip install -r tests/requirements.txt)");
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "moto did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Moto { child, endpoint }
}

pub(crate) fn s3(moto: &Moto, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3_helper.py");
    let out = Command::new("python3").arg(script).arg(&moto.endpoint).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn s3_export(env: &Env, moto: &Moto, args: &[&str], target: &str) -> std::process::Output {
    env.demo()
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .args(["export", "--start-date", START, "--end-date", END, "--output-dir", target])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn s3_round_trip_and_a_server_that_goes_away() {
    let moto = start_moto();
    s3(&moto, &["create", "warehouse"]);
    let env = Env::new();
    let out = s3_export(
        &env,
        &moto,
        &["--format", "parquet", "--partition-by", "day", "--category", "apiUsage"],
        "s3://warehouse/carto/activity-data",
    );
    assert_success(&out);
    let local = env.dir.path().join("s3-copy");
    let keys = s3(&moto, &["download", "warehouse", "carto/activity-data/", local.to_str().unwrap()]);
    assert!(keys.contains("carto/activity-data/apiUsage/_SUCCESS"), "{keys}");
    assert!(keys.contains("carto/activity-data/apiUsage/date=2025-10-02/part-00000.parquet"), "{keys}");
    let glob = local.join("carto/activity-data/apiUsage/*/*.parquet");
    assert_same_rows(
        &env.query_json(START, END, USAGE_SQL),
        &read_back("parquet", glob.to_str().unwrap(), USAGE_SQL),
        false,
    );

    // Existing output is refused, then replaced with --overwrite.
    let out = s3_export(
        &env,
        &moto,
        &["--format", "parquet", "--partition-by", "day", "--category", "apiUsage"],
        "s3://warehouse/carto/activity-data",
    );
    assert_clean_failure(&out, 4, "--overwrite");
    let out = s3_export(
        &env,
        &moto,
        &["--format", "parquet", "--partition-by", "day", "--category", "apiUsage", "--overwrite"],
        "s3://warehouse/carto/activity-data",
    );
    assert_success(&out);

    // Fails midway: no _SUCCESS, no parts left.
    let out = s3_export(
        &env,
        &moto,
        &["--format", "parquet", "--partition-by", "day", "--sql", FAILS_MIDWAY],
        "s3://warehouse/midway",
    );
    assert_eq!(out.status.code(), Some(1));
    let keys = s3(&moto, &["download", "warehouse", "midway/", env.dir.path().join("midway").to_str().unwrap()]);
    assert!(keys.trim().is_empty(), "{keys}");

    // The server goes away: a clear error.
    drop(moto);
    let moto_gone = Moto { child: Command::new("true").spawn().unwrap(), endpoint: "http://127.0.0.1:9".into() };
    let out = s3_export(
        &env,
        &moto_gone,
        &["--format", "parquet", "--category", "groupList", "--overwrite"],
        "s3://warehouse/gone",
    );
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn export_writes_files_that_read_back_as_the_query_does() {
    let env = Env::new();
    let (start, end) = ("2025-10-01", "2025-10-03");
    let out_dir = env.dir.path().join("out");
    for format in ["csv", "parquet"] {
        let out = env
            .demo()
            .args(["export", "--start-date", start, "--end-date", end, "--format", format, "--output-dir"])
            .arg(&out_dir)
            .output()
            .unwrap();
        assert_success(&out);
    }
    let counts = env.query_json(
        start,
        end,
        "SELECT (SELECT count(*) FROM activity) AS activity, (SELECT count(*) FROM apiUsage) AS api_usage, \
                (SELECT count(*) FROM userList) AS users, (SELECT count(*) FROM groupList) AS groups",
    );
    for (category, key) in
        [("activity", "activity"), ("apiUsage", "api_usage"), ("userList", "users"), ("groupList", "groups")]
    {
        for (ext, reader) in [("csv", "read_csv"), ("parquet", "read_parquet")] {
            let file = out_dir.join(format!("{category}_{start}_{end}.{ext}"));
            assert!(file.is_file(), "{}", file.display());
            let theirs = crate::common::duckdb(&json!({
                "tables": {},
                "sql": format!("SELECT count(*) AS n FROM {reader}('{}')", file.display()),
            }));
            assert_eq!(theirs[0]["n"], counts[0][key], "{category}.{ext}");
        }
    }
    // The CSV holds the same values as the query: compare one category whole.
    let ours =
        env.query_json(start, end, "SELECT user_id, email, role, created_at, group_ids FROM userList ORDER BY user_id");
    let theirs = crate::common::duckdb(&json!({
        "tables": {},
        "sql": format!(
            "SELECT user_id, email, role, created_at, CAST(group_ids AS VARCHAR[]) AS group_ids \
             FROM read_csv('{}', types={{'group_ids': 'JSON', 'created_at': 'TIMESTAMPTZ'}}) ORDER BY user_id",
            out_dir.join(format!("userList_{start}_{end}.csv")).display()
        ),
    }));
    assert_same_rows(&ours, &theirs, true);

    // An existing file is refused without --overwrite, and left alone.
    let before = std::fs::read(out_dir.join(format!("activity_{start}_{end}.csv"))).unwrap();
    let out = env
        .demo()
        .args(["export", "--start-date", start, "--end-date", end, "--category", "activity", "--output-dir"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_clean_failure(&out, 4, "--overwrite");
    assert_eq!(before, std::fs::read(out_dir.join(format!("activity_{start}_{end}.csv"))).unwrap());
    let out = env
        .demo()
        .args([
            "export",
            "--start-date",
            start,
            "--end-date",
            end,
            "--category",
            "activity",
            "--overwrite",
            "--output-dir",
        ])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_success(&out);
    let names: Vec<String> =
        std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert_eq!(names.len(), 8, "no temporary files left: {names:?}");
}

#[test]
fn export_defaults_to_csv_in_activity_data() {
    let env = Env::new();
    let out = env
        .demo()
        .args(["export", "--start-date", "2025-10-01", "--end-date", "2025-10-01", "--category", "groupList"])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(env.dir.path().join("activity-data/groupList_2025-10-01_2025-10-01.csv").is_file());
}
