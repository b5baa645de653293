//! CARTO's API as the source, end to end against the test server: both download formats,
//! jobs, credentials, every error of the contract and every injected fault.

use crate::common::server::{CLIENT_ID, CLIENT_SECRET, Faults, TOKEN, TestServer, write_credentials_file};
use crate::common::{Env, assert_clean_failure, assert_success};
use serde_json::Value;

const EVENTS: u32 = 2000;
const SQL: &str = "SELECT type, count(*) AS n, min(ts) AS first, max(ts) AS last FROM activity GROUP BY type ORDER BY type; \
                   SELECT metric, count(*) AS n, sum(amount * quota_usage_weight) AS quota FROM apiUsage GROUP BY metric ORDER BY metric; \
                   SELECT role, count(*) AS n, count(group_ids) AS with_groups FROM userList GROUP BY role ORDER BY role; \
                   SELECT count(*) AS n FROM groupList";

fn api(env: &Env, server: &TestServer) -> assert_cmd::Command {
    env.api(&server.url)
}

fn with_token(env: &Env, server: &TestServer) -> assert_cmd::Command {
    env.with_token(&server.url)
}

fn query(cmd: &mut assert_cmd::Command, start: &str, end: &str, sql: &str) -> std::process::Output {
    cmd.args(["query", "--start-date", start, "--end-date", end, "--json", "--sql", sql]).output().unwrap()
}

/// The answer of the demo source for the same range: the test server serves the same rows.
fn demo_answer(start: &str, end: &str, sql: &str) -> Value {
    demo_answer_scaled(start, end, sql, EVENTS)
}

fn json(out: &std::process::Output) -> Value {
    assert_success(out);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn downloads(server: &TestServer) -> Vec<crate::common::server::Logged> {
    server.log().into_iter().filter(|l| l.path.starts_with("/files/")).collect()
}

/// Every place a token must never reach: output, cache files, exports.
#[test]
fn queries_through_the_api_in_both_formats_give_the_demo_answers() {
    let expected = demo_answer("2025-10-01", "2025-10-07", SQL);
    for format in ["parquet", "csv"] {
        let server = TestServer::start(EVENTS, Faults { running_polls: 1, ..Faults::default() });
        let env = Env::new();
        let out =
            query(with_token(&env, &server).args(["-v", "--download-format", format]), "2025-10-01", "2025-10-07", SQL);
        assert_eq!(json(&out), expected, "{format}");
        let jobs = server.job_requests();
        assert_eq!(jobs.len(), 1, "{format}: one job");
        assert_eq!(jobs[0].categories.len(), 4);
        assert!(downloads(&server).len() > 4, "a category comes in several files");
        for request in server.log() {
            let is_download = request.path.starts_with("/files/");
            assert_eq!(request.authorization.is_some(), !is_download, "{format}: {} {}", request.method, request.path);
        }
        // Cached now: the same query asks CARTO nothing.
        let before = server.log().len();
        let again = query(&mut with_token(&env, &server), "2025-10-01", "2025-10-07", SQL);
        assert_eq!(json(&again), expected);
        assert_eq!(server.log().len(), before, "a warm query makes no request");
        crate::common::assert_no_secret(&env, &[&out, &again]);
    }
}

#[test]
fn export_through_the_api() {
    let server = TestServer::start(EVENTS, Faults::default());
    let env = Env::new();
    let out_dir = env.dir.path().join("out");
    let out = with_token(&env, &server)
        .args([
            "export",
            "--start-date",
            "2025-10-01",
            "--end-date",
            "2025-10-02",
            "--format",
            "parquet",
            "--output-dir",
        ])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_success(&out);
    let counts = crate::common::duckdb(&serde_json::json!({
        "tables": {},
        "sql": format!("SELECT count(*) AS n FROM read_parquet('{}')", out_dir.join("activity_2025-10-01_2025-10-02.parquet").display()),
    }));
    let expected = demo_answer("2025-10-01", "2025-10-02", "SELECT count(*) AS n FROM activity");
    assert_eq!(counts, expected);
    crate::common::assert_no_secret(&env, &[&out]);
}

#[test]
fn only_missing_days_are_requested_and_long_ranges_make_several_jobs() {
    let server = TestServer::start(50, Faults::default());
    let env = Env::new();
    let count = "SELECT count(*) AS n FROM activity";
    assert_success(&query(&mut with_token(&env, &server), "2025-03-01", "2025-03-07", count));
    assert_success(&query(&mut with_token(&env, &server), "2025-03-01", "2025-03-14", count));
    let jobs = server.job_requests();
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        (jobs[1].start_date.to_string(), jobs[1].end_date.to_string()),
        ("2025-03-08".into(), "2025-03-14".into())
    );
    assert_eq!(jobs[1].categories, vec!["activity"], "only the category the query reads");

    let days_of = |jobs: &[carto_activity::source::carto::wire::JobRequest]| -> Vec<i64> {
        jobs.iter().map(|j| (j.end_date - j.start_date).num_days() + 1).collect()
    };
    let (server, env) = (TestServer::start(20, Faults::default()), Env::new());
    assert_success(&query(&mut with_token(&env, &server), "2025-01-01", "2025-03-02", count));
    assert_eq!(days_of(&server.job_requests()), vec![60, 1], "61 days make 2 jobs");
    let (server, env) = (TestServer::start(20, Faults::default()), Env::new());
    let out = query(&mut with_token(&env, &server), "2025-01-01", "2025-05-10", count);
    assert_eq!(days_of(&server.job_requests()), vec![60, 60, 10], "130 days make 3 jobs");
    assert_eq!(json(&out), demo_answer_scaled("2025-01-01", "2025-05-10", count, 20));
}

fn demo_answer_scaled(start: &str, end: &str, sql: &str, events: u32) -> Value {
    let env = Env::new();
    let out = env
        .cmd()
        .args(["--demo", "--demo-events-per-day", &events.to_string()])
        .args(["query", "--start-date", start, "--end-date", end, "--json", "--sql", sql])
        .output()
        .unwrap();
    json(&out)
}

#[test]
fn faults_recover_with_exact_results() {
    let sql =
        "SELECT type, count(*) AS n FROM activity GROUP BY type ORDER BY type; SELECT count(*) AS n FROM userList";
    let expected = demo_answer("2025-10-01", "2025-10-03", sql);
    let cases: Vec<(&str, Faults)> = vec![
        ("429 with Retry-After", Faults { rate_limited: 2, ..Faults::default() }),
        ("503 on the API", Faults { unavailable: 2, ..Faults::default() }),
        ("503 on a download", Faults { download_unavailable: 2, ..Faults::default() }),
        ("connection reset mid-body", Faults { reset_mid_body: 2, ..Faults::default() }),
        ("truncated body", Faults { truncated: 2, ..Faults::default() }),
        ("corrupted bytes", Faults { corrupted: 2, ..Faults::default() }),
        ("expired links", Faults { expired_links: 2, ..Faults::default() }),
        ("a slow job", Faults { running_polls: 3, ..Faults::default() }),
    ];
    for (name, faults) in cases {
        for format in ["parquet", "csv"] {
            let server = TestServer::start(EVENTS, faults.clone());
            let env = Env::new();
            let out =
                query(with_token(&env, &server).args(["--download-format", format]), "2025-10-01", "2025-10-03", sql);
            assert_success(&out);
            assert_eq!(json(&out), expected, "{name} ({format})");
            let left = server.faults().faults.clone();
            assert_eq!(
                (
                    left.rate_limited,
                    left.unavailable,
                    left.download_unavailable,
                    left.reset_mid_body,
                    left.truncated,
                    left.corrupted,
                    left.expired_links
                ),
                (0, 0, 0, 0, 0, 0, 0),
                "{name}: the fault was injected"
            );
            if name == "expired links" {
                let reads = server
                    .log()
                    .iter()
                    .filter(|l| l.method == "GET" && l.path.starts_with("/activity-data-jobs/"))
                    .count();
                assert!(reads >= 3, "the job was read again for fresh links");
            }
            crate::common::assert_no_secret(&env, &[&out]);
        }
    }
}

#[test]
fn the_contracts_errors_are_clear_and_leave_no_bad_day() {
    let cases: Vec<(Faults, &str)> = vec![
        (Faults { create_status: Some((400, "range too long".into())), ..Faults::default() }, "refused"),
        (Faults { create_status: Some((401, "token expired".into())), ..Faults::default() }, "OAuth access token"),
        (Faults { create_status: Some((403, "plan not eligible".into())), ..Faults::default() }, "Enterprise plan"),
        (Faults { create_status: Some((404, "no such thing".into())), ..Faults::default() }, "404"),
        (Faults { job_failure: Some("warehouse exploded".into()), ..Faults::default() }, "warehouse exploded"),
        (Faults { always_unavailable: true, ..Faults::default() }, "failed 6 times"),
        (Faults { corrupted: 100, ..Faults::default() }, "damaged file"),
    ];
    for (faults, needle) in cases {
        let server = TestServer::start(200, faults);
        let env = Env::new();
        let out =
            query(with_token(&env, &server).arg("-v"), "2025-10-01", "2025-10-02", "SELECT count(*) FROM activity");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{needle}: {stderr}");
        assert!(stderr.lines().last().unwrap_or("").contains(needle), "{needle}: {stderr}");
        assert!(!stderr.contains("panicked"));
        let cached = crate::common::all_files(&env.cache().join(crate::common::LAYOUT))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .count();
        assert_eq!(cached, 0, "{needle}: no day is cached after a failure");
        crate::common::assert_no_secret(&env, &[&out]);
        // After the fault, a healthy server gives exact counts.
        let healthy = TestServer::start(200, Faults::default());
        let out =
            query(&mut with_token(&env, &healthy), "2025-10-01", "2025-10-02", "SELECT count(*) AS n FROM activity");
        assert_eq!(
            json(&out),
            demo_answer_scaled("2025-10-01", "2025-10-02", "SELECT count(*) AS n FROM activity", 200)
        );
    }
}

#[test]
fn unauthorised_token_and_no_credentials() {
    let server = TestServer::start(200, Faults::default());
    let env = Env::new();
    let out = query(
        api(&env, &server).env("CARTO_API_TOKEN", "wrong-token-DO-NOT-LEAK"),
        "2025-10-01",
        "2025-10-01",
        "SELECT count(*) FROM activity",
    );
    assert_clean_failure(&out, 3, "401");
    crate::common::assert_no_secret(&env, &[&out]);
    let out = query(&mut api(&env, &server), "2025-10-01", "2025-10-01", "SELECT count(*) FROM activity");
    assert_clean_failure(&out, 3, "no CARTO credentials");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--token") && stderr.contains("CARTO_CLIENT_ID") && stderr.contains("carto_credentials"));
}

#[test]
fn m2m_tokens_are_fetched_cached_and_renewed_on_401() {
    let server = TestServer::start(200, Faults { refuse_first_m2m_token: true, ..Faults::default() });
    let env = Env::new();
    let m2m = |env: &Env| {
        let mut cmd = api(env, &server);
        cmd.env("CARTO_CLIENT_ID", CLIENT_ID).env("CARTO_CLIENT_SECRET", CLIENT_SECRET).arg("-v");
        cmd
    };
    let out = query(&mut m2m(&env), "2025-10-01", "2025-10-01", "SELECT count(*) AS n FROM activity");
    assert_success(&out);
    let token_requests = server.log().iter().filter(|l| l.path == "/oauth/token").count();
    assert_eq!(token_requests, 2, "a token, refused once, then a new one");
    let cache_files: Vec<_> = crate::common::all_files(&env.cache().join("credentials"));
    assert_eq!(cache_files.len(), 1);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&cache_files[0]).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(env.cache()).unwrap().permissions().mode() & 0o777, 0o700);
    // The cached token is used by the next run: no new token request.
    let out = query(&mut m2m(&env), "2025-10-02", "2025-10-02", "SELECT count(*) AS n FROM activity");
    assert_success(&out);
    assert_eq!(server.log().iter().filter(|l| l.path == "/oauth/token").count(), 2);
    crate::common::assert_no_secret(&env, &[&out]);
}

#[test]
fn credentials_file_profiles() {
    let server = TestServer::start(200, Faults::default());
    let env = Env::new();
    write_credentials_file(env.dir.path(), "broken", &[("broken", "expired-DO-NOT-LEAK"), ("admin", TOKEN)]);
    let out = query(&mut api(&env, &server), "2025-10-01", "2025-10-01", "SELECT count(*) AS n FROM activity");
    assert_clean_failure(&out, 3, "401");
    let out = query(
        api(&env, &server).args(["--profile", "admin"]),
        "2025-10-01",
        "2025-10-01",
        "SELECT count(*) AS n FROM activity",
    );
    assert_success(&out);
    let out =
        query(api(&env, &server).env("CARTO_PROFILE", "nobody"), "2025-10-01", "2025-10-01", "SELECT 1 FROM activity");
    assert_clean_failure(&out, 2, "no profile 'nobody'");
    crate::common::assert_no_secret(&env, &[&out]);
}

#[test]
fn days_not_yet_complete_are_named_and_not_cached() {
    let server = TestServer::start(50, Faults::default());
    let env = Env::new();
    let today = chrono::Utc::now().date_naive();
    let start = (today - chrono::Duration::days(4)).to_string();
    let out = query(&mut with_token(&env, &server), &start, &today.to_string(), "SELECT count(*) AS n FROM activity");
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not complete yet (CARTO completes a day") && stderr.contains(&today.to_string()),
        "{stderr}"
    );
    let job = &server.job_requests()[0];
    assert!(job.end_date < today, "today is not requested: {job:?}");
    let cached = crate::common::all_files(&env.cache().join(crate::common::LAYOUT))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(&today.to_string()))
        .count();
    assert_eq!(cached, 0);
}

#[test]
fn ctrl_c_cancels_the_job_and_leaves_the_cache_consistent() {
    let server = TestServer::start(200, Faults { running_polls: 10_000, ..Faults::default() });
    let env = Env::new();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("carto-activity"))
        .env("CARTO_ACTIVITY_CACHE_DIR", env.cache())
        .env("CARTO_ACTIVITY_API_URL", &server.url)
        .env("CARTO_API_TOKEN", TOKEN)
        .env("HOME", env.dir.path())
        .args([
            "query",
            "--start-date",
            "2025-10-01",
            "--end-date",
            "2025-10-02",
            "--sql",
            "SELECT count(*) FROM activity",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while server.job_requests().is_empty() || server.log().len() < 3 {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "the job was never created");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let cancels: Vec<_> =
        server.log().into_iter().filter(|l| l.method == "DELETE" && l.path.ends_with("/cancel")).collect();
    assert_eq!(cancels.len(), 1, "the job was cancelled");
    let cached = crate::common::all_files(&env.cache().join(crate::common::LAYOUT))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .count();
    assert_eq!(cached, 0);
}
