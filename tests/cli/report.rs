//! `report`: the page's numbers equal `query --json` answers to the SQL it shows, the page is
//! valid HTML, makes no request and logs nothing in a real browser, and bad specs fail clearly.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Env, assert_clean_failure, assert_success};
use carto_activity::report::format::human;
use serde_json::Value;

const START: &str = "2025-10-01";
const END: &str = "2025-10-14";

fn unescape(html: &str) -> String {
    html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// Each panel of a page: its title, the SQL shown, and the data block's rows.
pub(crate) fn page_panels(page: &str) -> Vec<(String, String, Value)> {
    page.split("<section class=\"panel\"")
        .skip(1)
        .map(|section| {
            let between = |open: &str, close: &str| -> String {
                let start = section.find(open).unwrap_or_else(|| panic!("{open} in {section}")) + open.len();
                let rest = &section[start..];
                let start = rest.find('>').unwrap() + 1;
                rest[start..rest.find(close).unwrap()].to_string()
            };
            let title = unescape(&between("<h2", "</h2>"));
            let sql = unescape(&between("<pre", "</pre>"));
            let data = between("<script type=\"application/json\"", "</script>").replace("<\\/", "</");
            (title, sql, serde_json::from_str(&data).unwrap())
        })
        .collect()
}

fn report(env: &Env, extra: &[&str]) -> (std::process::Output, PathBuf) {
    let path = env.dir.path().join("report.html");
    let out = env
        .demo()
        .args(["report", "--start-date", START, "--end-date", END, "--output"])
        .arg(&path)
        .args(extra)
        .output()
        .unwrap();
    (out, path)
}

#[test]
fn every_number_on_the_page_is_the_answer_of_the_sql_it_shows() {
    let env = Env::new();
    let (out, path) = report(&env, &[]);
    assert_success(&out);
    let page = std::fs::read_to_string(&path).unwrap();
    let panels = page_panels(&page);
    assert_eq!(panels.len(), 12, "the built-in panels");
    for (title, sql, shown) in &panels {
        let answer = env.query_json(START, END, sql);
        assert_eq!(&answer, shown, "panel '{title}' shows what `query` answers");
        // In the demo organisation every user is active; accounts rarely start in a fortnight.
        let may_be_empty = title.starts_with("New users") || title.starts_with("Users inactive");
        assert!(may_be_empty || !shown.as_array().unwrap().is_empty(), "panel '{title}' is empty");
    }
    // The headline's figures are on the page as people read them, with their change.
    let (_, _, headline) = &panels[0];
    for (name, value) in headline[0].as_object().unwrap() {
        assert!(page.contains(&format!("<div class=\"value\">{}</div>", human(value))), "{name} = {value} is shown");
    }
    assert!(page.contains("against the previous period"), "the headline compares with the previous period");
    // Tables show their rows.
    let (_, _, top_maps) = panels.iter().find(|p| p.0 == "Top maps").unwrap();
    let first_map = top_maps[0]["map_id"].as_str().unwrap();
    assert!(page.contains(&format!("<td>{first_map}</td>")));
    // Charts are inline SVG drawn from the rows.
    assert!(page.matches("<svg class=\"chart\"").count() >= 7, "one SVG per chart panel");
}

#[test]
fn the_page_is_self_contained_valid_html() {
    let env = Env::new();
    let (out, path) = report(&env, &[]);
    assert_success(&out);
    let page = std::fs::read_to_string(&path).unwrap();
    for needle in ["http://", "https://", "<link", "src=", "@import", "url("] {
        let hits: Vec<&str> = page.match_indices(needle).map(|(i, _)| &page[i.saturating_sub(40)..i + 40]).collect();
        // The SVG namespace is a name, not a request.
        let requests: Vec<&&str> = hits.iter().filter(|h| !h.contains("xmlns=\"http://www.w3.org/2000/svg")).collect();
        assert!(requests.is_empty(), "the page refers to something outside itself: {requests:?}");
    }
    let script = r#"
import sys, html5lib
parser = html5lib.HTMLParser(strict=True)
try:
    parser.parse(open(sys.argv[1], 'rb'))
except Exception as e:
    print(f"invalid HTML: {e} {parser.errors[:3]}")
    sys.exit(1)
"#;
    let check = Command::new("python3").args(["-c", script]).arg(&path).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
}

/// Chromium, headless, with every network route closed: the page renders, logs no console
/// message and starts no request of its own (the browser's own service requests have no origin).
#[test]
fn chromium_renders_the_page_offline_without_errors() {
    let env = Env::new();
    let (out, path) = report(&env, &[]);
    assert_success(&out);
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
        .expect("Chromium is installed (.ci/run installs the Debian package `chromium`)");
    let screenshot = env.dir.path().join("report.png");
    let netlog = env.dir.path().join("netlog.json");
    let run = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,2400"])
        .args(["--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"])
        .args(["--disable-background-networking", "--disable-component-update", "--no-first-run"])
        .args(["--disable-extensions", "--disable-sync", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", env.dir.path().join("profile").display()))
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(format!("file://{}", path.display()))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(screenshot.is_file(), "a screenshot was taken: {log}");
    let png = std::fs::read(&screenshot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 50_000, "a page was drawn ({} bytes)", png.len());
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    let events: Value = serde_json::from_str(&std::fs::read_to_string(&netlog).unwrap()).unwrap();
    let page_requests: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["params"]["initiator"].as_str().is_some_and(|i| i != "not an origin"))
        .filter_map(|e| e["params"]["url"].as_str())
        .collect();
    assert!(page_requests.is_empty(), "the page made requests: {page_requests:?}");
    copy_screenshot_for_readme(&screenshot);
}

/// `CARTO_ACTIVITY_SCREENSHOT=path` keeps the screenshot (the README's picture is made so).
fn copy_screenshot_for_readme(screenshot: &Path) {
    if let Ok(target) = std::env::var("CARTO_ACTIVITY_SCREENSHOT") {
        std::fs::copy(screenshot, target).unwrap();
    }
}

#[test]
fn custom_panels_from_toml_and_json_specs() {
    let env = Env::new();
    let toml = env.dir.path().join("team.toml");
    std::fs::write(
        &toml,
        r#"
title = "Workflows team"

[[panel]]
title = "Runs per day"
chart = "line"
sql = "SELECT CAST(ts AS DATE) AS day, count(*) AS runs FROM activity WHERE type = 'WorkflowRun' GROUP BY 1 ORDER BY 1"

[[panel]]
title = "Runs"
chart = "figure"
sql = "SELECT count(*) AS runs FROM activity WHERE type = 'WorkflowRun' AND ts >= TIMESTAMP '{start_date} 00:00:00'"
"#,
    )
    .unwrap();
    let (out, path) = report(&env, &["--spec", toml.to_str().unwrap()]);
    assert_success(&out);
    let page = std::fs::read_to_string(&path).unwrap();
    assert!(page.contains("<title>Workflows team</title>"));
    let panels = page_panels(&page);
    assert_eq!(panels.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["Runs per day", "Runs"]);
    assert!(panels[1].1.contains(&format!("TIMESTAMP '{START} 00:00:00'")), "dates are filled in");
    for (title, sql, shown) in &panels {
        assert_eq!(&env.query_json(START, END, sql), shown, "{title}");
    }

    let json = env.dir.path().join("team.json");
    std::fs::write(
        &json,
        r#"{"builtin": true, "panel": [{"title": "Types", "chart": "table", "sql": "SELECT type, count(*) AS n FROM activity GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5"}]}"#,
    )
    .unwrap();
    let (out, path) = report(&env, &["--spec", json.to_str().unwrap()]);
    assert_success(&out);
    let panels = page_panels(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(panels.len(), 13, "built-in panels, then the spec's");
    assert_eq!(panels[12].0, "Types");
}

#[test]
fn bad_specs_and_failing_panels_are_named_and_write_nothing() {
    let env = Env::new();
    let cases = [
        ("pie.toml", "[[panel]]\ntitle = \"Share\"\nchart = \"pie\"\nsql = \"SELECT 1\"\n", 2, "pie"),
        ("empty.toml", "title = \"nothing\"\n", 2, "no [[panel]]"),
        ("broken.json", "{\"panel\": [", 2, "not valid"),
        (
            "unknown.toml",
            "[[panel]]\ntitle = \"Lost\"\nchart = \"table\"\nsql = \"SELECT nope FROM activity\"\n",
            1,
            "panel 'Lost'",
        ),
        (
            "write.toml",
            "[[panel]]\ntitle = \"Sneaky\"\nchart = \"table\"\nsql = \"DROP TABLE activity\"\n",
            1,
            "panel 'Sneaky'",
        ),
        (
            "two.toml",
            "[[panel]]\ntitle = \"Two\"\nchart = \"table\"\nsql = \"SELECT 1; SELECT 2\"\n",
            1,
            "panel 'Two' has 2 SQL statements",
        ),
    ];
    for (name, text, code, needle) in cases {
        let spec = env.dir.path().join(name);
        std::fs::write(&spec, text).unwrap();
        let (out, path) = report(&env, &["--spec", spec.to_str().unwrap()]);
        assert_clean_failure(&out, code, needle);
        assert!(!path.exists(), "{name}: no page is written");
    }
    let (out, _) = report(&env, &["--spec", "/no/such/spec.toml"]);
    assert_clean_failure(&out, 4, "cannot read the report spec");
}
