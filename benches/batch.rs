//! The batch benchmark: carto-activity against the DuckDB CLI on the same cached Parquet files.
//!
//! `cargo bench --bench batch` (after `python3 -m pip install -r tests/requirements.txt
//! duckdb-cli`). It generates the demo organisation at each scale (`BATCH_SCALES`, default
//! "1000000,10000000,30000000" events), times whole processes (median of `BATCH_RUNS`, default 5) of a
//! fixed set of queries on both, plus a cold ingest through the test server and exports, and
//! prints a Markdown table of times, ratios and peak memory (max RSS), then the time and memory of
//! an HTML report over 90 days of the same size (no peer: DuckDB has no report), and last the
//! warm queries over 7, 30, 90, 365 and 730 days at one rate (`BATCH_RANGE_EVENTS`). `BATCH_BIN` times
//! another executable of this tree (the shipped `dist` build) in place of the bench build's.

#[path = "../tests/cli/common/job_files.rs"]
mod job_files;
#[path = "../tests/cli/common/server.rs"]
#[allow(dead_code)]
mod server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const START: &str = "2025-10-01";
const END: &str = "2025-10-30";

struct Case {
    name: &'static str,
    sql: &'static str,
    /// The target ratio to DuckDB: 0.5, and 0.25 for JSON-heavy queries.
    target: f64,
}

const CASES: &[Case] = &[
    Case { name: "COUNT(*)", sql: "SELECT count(*) FROM activity", target: 0.5 },
    Case {
        name: "Quick start (README)",
        sql: "SELECT type, COUNT(*) FROM activity GROUP BY type ORDER BY 2 DESC LIMIT 5",
        target: 0.5,
    },
    Case {
        name: "events by type",
        sql: "SELECT type, count(*) AS n FROM activity GROUP BY type ORDER BY n DESC",
        target: 0.5,
    },
    Case {
        name: "maps created per user (join)",
        sql: "SELECT u.email, count(*) AS maps FROM activity a JOIN userList u ON json_extract_string(a.data, '$.userId') = u.user_id WHERE a.type = 'MapCreated' GROUP BY u.email ORDER BY maps DESC LIMIT 10",
        target: 0.5,
    },
    Case {
        name: "daily active users",
        sql: "SELECT CAST(ts AS DATE) AS day, count(DISTINCT json_extract_string(data, '$.userId')) AS dau FROM activity GROUP BY 1 ORDER BY 1",
        target: 0.25,
    },
    Case {
        name: "top workflows by runs",
        sql: "SELECT json_extract_string(data, '$.workflowId') AS wf, count(*) AS runs FROM activity WHERE type = 'WorkflowRun' GROUP BY 1 ORDER BY runs DESC LIMIT 10",
        target: 0.25,
    },
    Case {
        name: "quota by user email",
        sql: "SELECT coalesce(u.email, '(public)') AS who, sum(q.amount * q.quota_usage_weight) AS quota FROM apiUsage q LEFT JOIN userList u ON u.user_id = q.user_id GROUP BY 1 ORDER BY quota DESC LIMIT 10",
        target: 0.5,
    },
    Case {
        name: "30-day retention (CTE)",
        sql: "WITH first AS (SELECT json_extract_string(data, '$.userId') AS u, min(CAST(ts AS DATE)) AS d FROM activity WHERE json_extract_string(data, '$.userId') IS NOT NULL GROUP BY 1), later AS (SELECT DISTINCT json_extract_string(a.data, '$.userId') AS u FROM activity a JOIN first f ON json_extract_string(a.data, '$.userId') = f.u WHERE CAST(a.ts AS DATE) >= f.d + 7) SELECT count(*) AS users, count(l.u) AS retained FROM first f LEFT JOIN later l USING (u)",
        target: 0.25,
    },
    Case {
        name: "nested path filter ($.map.id)",
        sql: "SELECT count(*) FROM activity WHERE json_extract_string(data, '$.map.id') = 'map_3d0e748ca2ba6ab8'",
        target: 0.25,
    },
];

struct Measure {
    seconds: f64,
    max_rss_kb: u64,
}

/// Runs a command `runs` times under /usr/bin/time; the median wall time and the largest RSS.
fn measure(runs: usize, mut make: impl FnMut() -> Command) -> Measure {
    let mut times = Vec::new();
    let mut rss = 0;
    for _ in 0..runs {
        let inner = make();
        let mut cmd = Command::new("/usr/bin/time");
        cmd.arg("-f").arg("%M").arg(inner.get_program()).args(inner.get_args());
        for (k, v) in inner.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let started = Instant::now();
        let out = cmd.output().expect("/usr/bin/time runs (apt-get install time)");
        let elapsed = started.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{:?} failed: {stderr}", inner.get_args().collect::<Vec<_>>());
        rss = rss.max(stderr.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(0));
        times.push(elapsed);
    }
    times.sort_by(f64::total_cmp);
    Measure { seconds: times[times.len() / 2], max_rss_kb: rss }
}

fn duckdb_binary() -> PathBuf {
    let out = Command::new("python3")
        .args(["-c", "import duckdb_cli, os; print(os.path.join(os.path.dirname(duckdb_cli.__file__), 'duckdb'))"])
        .output()
        .expect("python3");
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(path.is_file(), "the DuckDB CLI: python3 -m pip install duckdb-cli");
    path
}

/// The executable timed: this build's, or `BATCH_BIN` (the shipped `dist` build, which starts
/// faster than the bench profile's larger one).
fn ours() -> PathBuf {
    std::env::var_os("BATCH_BIN").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_carto-activity")), PathBuf::from)
}

fn row(name: &str, ours: &Measure, theirs: &Measure, target: Option<f64>) {
    let ratio = ours.seconds / theirs.seconds;
    let verdict = match target {
        Some(t) if ratio <= t => format!("≤ {t}: met"),
        Some(t) => format!("≤ {t}: missed"),
        None => String::new(),
    };
    println!(
        "| {name} | {:.3} | {:.3} | {ratio:.2} | {verdict} | {} | {} |",
        ours.seconds,
        theirs.seconds,
        ours.max_rss_kb / 1024,
        theirs.max_rss_kb / 1024
    );
}

fn main() {
    let runs: usize = std::env::var("BATCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let scales: Vec<u64> = std::env::var("BATCH_SCALES")
        .unwrap_or_else(|_| "1000000,10000000,30000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let duckdb = duckdb_binary();
    let work = tempfile::tempdir().expect("a temporary folder");
    println!(
        "carto-activity {} vs DuckDB CLI ({}), range {START}..{END}, median of {runs} runs, whole process",
        env!("CARGO_PKG_VERSION"),
        duckdb.display()
    );
    for scale in scales {
        // 30 days: 22 weekdays at the rate, 8 weekend days at about 30% of it.
        let per_day = (scale as f64 / (22.0 + 8.0 * 0.3)).round() as u64;
        let cache = work.path().join(format!("cache-{scale}"));
        let demo = |args: &[&str]| {
            let mut cmd = Command::new(ours());
            cmd.env("CARTO_ACTIVITY_CACHE_DIR", &cache)
                .args(["-q", "--demo", "--demo-events-per-day", &per_day.to_string()])
                .args(args);
            cmd
        };
        let generated = measure(1, || {
            demo(&[
                "query",
                "--start-date",
                START,
                "--end-date",
                END,
                "--sql",
                "SELECT count(*) FROM activity, (SELECT count(*) FROM apiUsage), (SELECT count(*) FROM userList)",
            ])
        });
        let count = demo(&[
            "query",
            "--start-date",
            START,
            "--end-date",
            END,
            "--format",
            "csv",
            "--sql",
            "SELECT count(*) FROM activity",
        ])
        .output()
        .unwrap();
        let events = String::from_utf8_lossy(&count.stdout).lines().nth(1).unwrap_or("?").to_string();
        let source = cache.join(carto_activity::cache::LAYOUT_VERSION).join(format!("demo-s42-e{per_day}"));
        let views = format!(
            "SET TimeZone='UTC'; CREATE VIEW activity AS SELECT COLUMNS('^([^_]|_[^_])') FROM read_parquet('{0}/activity/*.parquet'); CREATE VIEW apiUsage AS SELECT COLUMNS('^([^_]|_[^_])') FROM read_parquet('{0}/apiUsage/*.parquet'); CREATE VIEW userList AS SELECT COLUMNS('^([^_]|_[^_])') FROM read_parquet('{0}/userList/snapshot.parquet');",
            source.display()
        );
        println!(
            "\n### {events} events ({per_day} a weekday), demo generation and ingest {:.1} s, {} MiB\n",
            generated.seconds,
            generated.max_rss_kb / 1024
        );
        println!("| what | carto-activity s | DuckDB s | ratio | target | carto-activity MiB | DuckDB MiB |");
        println!("|---|---|---|---|---|---|---|");
        for case in CASES {
            let ours_m = measure(runs, || {
                demo(&["query", "--start-date", START, "--end-date", END, "--format", "csv", "--sql", case.sql])
            });
            let theirs = measure(runs, || {
                let mut cmd = Command::new(&duckdb);
                cmd.args(["-csv", "-c", &format!("{views} {}", case.sql)]);
                cmd
            });
            row(case.name, &ours_m, &theirs, Some(case.target));
        }
        for (format, ours_args, copy) in [
            // Both write zstd (ours by default, DuckDB's default is snappy).
            ("Parquet", vec!["--format", "parquet"], "(FORMAT parquet, COMPRESSION zstd)"),
            ("CSV.gz", vec!["--format", "csv", "--compression", "gzip"], "(FORMAT csv, COMPRESSION gzip)"),
        ] {
            let out_dir = work.path().join(format!("export-{scale}-{format}"));
            let mut args = vec![
                "export",
                "--start-date",
                START,
                "--end-date",
                END,
                "--category",
                "activity",
                "--overwrite",
                "--output-dir",
                out_dir.to_str().unwrap(),
            ];
            args.extend(ours_args.iter());
            let ours_m = measure(runs.min(3), || demo(&args));
            let target_file =
                work.path().join(format!("duckdb-{scale}.{}", if format == "Parquet" { "parquet" } else { "csv.gz" }));
            let theirs = measure(runs.min(3), || {
                let mut cmd = Command::new(&duckdb);
                cmd.args([
                    "-c",
                    &format!("{views} COPY (SELECT * FROM activity) TO '{}' {copy}", target_file.display()),
                ]);
                cmd
            });
            row(&format!("export to {format}"), &ours_m, &theirs, Some(1.0));
            folder_ingest(work.path(), &out_dir, format, &duckdb, runs.min(3));
        }
        cold_ingest(work.path(), scale, per_day, runs.min(3));
        report_over_90_days(work.path(), scale, runs.min(3));
    }
    range_axis(work.path(), &duckdb, runs);
}

/// Warm times as the range grows: the same events a weekday (`BATCH_RANGE_EVENTS`, default
/// 4,000) over 7, 30, 90, 365 and 730 days ending at [`END`], beside DuckDB reading exactly the
/// files the cache reads for each range (day files, and month files after `cache compact`).
fn range_axis(work: &Path, duckdb: &Path, runs: usize) {
    let per_day: u64 = std::env::var("BATCH_RANGE_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(4000);
    let cache = work.join("range-cache");
    let end = chrono::NaiveDate::parse_from_str(END, "%Y-%m-%d").expect("END is a date");
    let start_of = |days: i64| (end - chrono::Duration::days(days - 1)).to_string();
    let demo = |start: &str, sql: &str| {
        let mut cmd = Command::new(ours());
        cmd.env("CARTO_ACTIVITY_CACHE_DIR", &cache)
            .args(["-q", "--demo", "--demo-events-per-day", &per_day.to_string()])
            .args(["query", "--start-date", start, "--end-date", END, "--format", "csv", "--sql", sql]);
        cmd
    };
    let generated = measure(1, || demo(&start_of(730), "SELECT count(*) FROM activity"));
    println!(
        "\n### Warm queries by range, {per_day} events a weekday (730 days generated and cached in {:.1} s)\n",
        generated.seconds
    );
    println!("| range | what | carto-activity s | DuckDB s | ratio | target | carto-activity MiB | DuckDB MiB |");
    println!("|---|---|---|---|---|---|---|---|");
    let source = cache.join(carto_activity::cache::LAYOUT_VERSION).join(format!("demo-s42-e{per_day}"));
    let mut counts = Vec::new();
    for days in [7, 30, 90, 365, 730] {
        let start = start_of(days);
        let (files, partial) = files_of_range(&source, end - chrono::Duration::days(days - 1), end);
        // A month file read for some of its days: DuckDB reads those days only, as we do.
        let within = if partial {
            format!(" WHERE ts >= TIMESTAMPTZ '{start}' AND ts < TIMESTAMPTZ '{}'", end + chrono::Duration::days(1))
        } else {
            String::new()
        };
        let view = format!(
            "SET TimeZone='UTC'; CREATE VIEW activity AS SELECT COLUMNS('^([^_]|_[^_])') FROM read_parquet([{}]){within};",
            files.join(", ")
        );
        for case in CASES
            .iter()
            .filter(|c| ["COUNT(*)", "Quick start (README)", "events by type", "daily active users"].contains(&c.name))
        {
            let ours_m = measure(runs, || demo(&start, case.sql));
            let theirs = measure(runs, || {
                let mut cmd = Command::new(duckdb);
                cmd.args(["-csv", "-c", &format!("{view} {}", case.sql)]);
                cmd
            });
            row(&format!("{days} days | {}", case.name), &ours_m, &theirs, Some(case.target));
            if case.name == "COUNT(*)" {
                counts.push((days, ours_m.seconds));
            }
        }
    }
    let at = |days: i64| counts.iter().find(|(d, _)| *d == days).map(|(_, seconds)| *seconds);
    if let (Some(seven), Some(year)) = (at(7), at(365)) {
        let growth = year / seven;
        let verdict = if growth <= 1.5 { "met" } else { "missed" };
        println!("\nCOUNT(*) at 365 days takes {growth:.2}× its 7-day time (target ≤ 1.5: {verdict}).");
    }
}

/// The `activity` files the cache reads for `start..=end`, quoted for DuckDB: each day's own file,
/// else its month's (see the cache's compaction); and whether a month file holds days outside.
fn files_of_range(source: &Path, start: chrono::NaiveDate, end: chrono::NaiveDate) -> (Vec<String>, bool) {
    use chrono::Datelike;
    let (mut files, mut partial) = (Vec::<String>::new(), false);
    for day in start.iter_days().take_while(|d| *d <= end) {
        let own = source.join(format!("activity/{day}.parquet"));
        let file = if own.is_file() {
            own
        } else {
            let first = day.with_day(1).expect("a month has a first day");
            let last =
                first.checked_add_months(chrono::Months::new(1)).expect("a next month") - chrono::Duration::days(1);
            partial |= first < start || last > end;
            source.join(format!("activity/{}.parquet", day.format("%Y-%m")))
        };
        let quoted = format!("'{}'", file.display());
        if !files.contains(&quoted) {
            files.push(quoted);
        }
    }
    (files, partial)
}

/// The HTML report over 90 days holding about `scale` events (plus the 90 days before, which the
/// headline compares with): the first run generates and caches the demo days, the others are warm.
fn report_over_90_days(work: &Path, scale: u64, runs: usize) {
    // 90 days from 2025-07-03: 64 weekdays and 26 weekend days at about 30% of the rate.
    let (start, end) = ("2025-07-03", "2025-09-30");
    let per_day = (scale as f64 / (64.0 + 26.0 * 0.3)).round() as u64;
    let cache = work.join(format!("report-cache-{scale}"));
    let page = work.join(format!("report-{scale}.html"));
    let report = || {
        let mut cmd = Command::new(ours());
        cmd.env("CARTO_ACTIVITY_CACHE_DIR", &cache)
            .args(["-q", "--demo", "--demo-events-per-day", &per_day.to_string()])
            .args(["report", "--start-date", start, "--end-date", end, "--output", page.to_str().unwrap()]);
        cmd
    };
    let cold = measure(1, report);
    let warm = measure(runs, report);
    let bytes = std::fs::metadata(&page).map_or(0, |m| m.len());
    println!(
        "| report, 90 days ({per_day} events a weekday), first run generating 180 days | {:.3} | | | | {} | |",
        cold.seconds,
        cold.max_rss_kb / 1024
    );
    println!(
        "| report, 90 days, warm cache ({} KiB page) | {:.3} | | | | {} | |",
        bytes / 1024,
        warm.seconds,
        warm.max_rss_kb / 1024
    );
}

/// Ingest of the export just written, as `--source DIR` (read, split by day, shred, write the
/// cache, count), against DuckDB turning the same file into one Parquet file.
fn folder_ingest(work: &Path, export_dir: &Path, format: &str, duckdb: &Path, runs: usize) {
    let file = std::fs::read_dir(export_dir)
        .expect("the export folder")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("activity")))
        .expect("the exported activity file");
    let mut n = 0;
    let ours_m = measure(runs, || {
        n += 1;
        let mut cmd = Command::new(ours());
        cmd.env("CARTO_ACTIVITY_CACHE_DIR", work.join(format!("ingest-{format}-{n}")))
            .args(["-q", "--source", export_dir.to_str().unwrap(), "query", "--start-date", START, "--end-date", END])
            .args(["--format", "csv", "--sql", "SELECT count(*) FROM activity"]);
        cmd
    });
    let reader = if format == "Parquet" { "read_parquet" } else { "read_csv" };
    let target = work.join("duckdb-ingest.parquet");
    let theirs = measure(runs, || {
        let mut cmd = Command::new(duckdb);
        cmd.args([
            "-c",
            &format!(
                "SET TimeZone='UTC'; COPY (SELECT * FROM {reader}('{}')) TO '{}' (FORMAT parquet)",
                file.display(),
                target.display()
            ),
        ]);
        cmd
    });
    row(&format!("ingest of that {format} file"), &ours_m, &theirs, Some(1.0));
}

/// A cold query through the test server (download + ingest + query), in both formats.
fn cold_ingest(work: &Path, scale: u64, per_day: u64, runs: usize) {
    // A week of the same organisation, so that the test server's files are about `scale` / 4.
    let server = server::TestServer::start(per_day as u32, server::Faults::default());
    for format in ["parquet", "csv"] {
        let mut n = 0;
        let measured = measure(runs, || {
            n += 1;
            let mut cmd = Command::new(ours());
            cmd.env("CARTO_ACTIVITY_CACHE_DIR", work.join(format!("cold-{scale}-{format}-{n}")))
                .env("CARTO_API_TOKEN", server::TOKEN)
                .env("CARTO_ACTIVITY_API_URL", &server.url)
                .args([
                    "-q",
                    "--download-format",
                    format,
                    "query",
                    "--start-date",
                    "2025-10-01",
                    "--end-date",
                    "2025-10-07",
                ])
                .args(["--format", "csv", "--sql", "SELECT type, count(*) FROM activity GROUP BY type"]);
            cmd
        });
        println!(
            "| cold 7-day query via the test server ({format}) | {:.3} | | | | {} | |",
            measured.seconds,
            measured.max_rss_kb / 1024
        );
    }
}
