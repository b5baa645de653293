//! `carto-activity mcp` driven by the official MCP Python client (tests/mcp_client.py): the
//! tools' answers against `query --json` and DuckDB over the same cached files, errors as tool
//! results that leave the server working, truncation, resources, and cancellation.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::Env;

const START: &str = "2025-10-01";
const END: &str = "2025-10-03";

fn drive(env: &Env) -> Value {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args([env!("CARGO_BIN_EXE_carto-activity"), env.cache().to_str().unwrap(), START, END])
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "the MCP client failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the client prints JSON")
}

#[test]
fn an_mcp_client_gets_what_the_cli_gives() {
    let _alone = crate::common::alone();
    let env = Env::new();
    let report = drive(&env);

    let tools: Vec<&str> = report["tools"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(tools, ["query", "tables", "event_types", "json_keys", "export", "report"]);
    // The range is optional: without it the days come from the SQL's filter on ts.
    assert_eq!(report["tools"]["query"]["required"], serde_json::json!(["sql"]));

    // The same rows as `query --json`, and truncation flagged.
    let sql = "SELECT type, count(*) AS n, min(ts) AS first FROM activity GROUP BY ALL ORDER BY n DESC, type";
    let cli = env.query_json(START, END, sql);
    let query = &report["query"]["structured"];
    assert_eq!(report["query"]["is_error"], false);
    assert_eq!(query["rows"], cli, "the tool's rows are query --json's");
    assert_eq!(query["row_count"].as_u64(), Some(cli.as_array().unwrap().len() as u64));
    assert_eq!(query["columns"][1], serde_json::json!({"name": "n", "type": "BIGINT"}));
    let truncated = &report["truncated"]["structured"];
    assert_eq!(truncated["truncated"], true);
    assert_eq!(truncated["rows"].as_array().unwrap().len(), 3);
    assert_eq!(truncated["row_count"], query["row_count"]);
    assert!(report["truncated"]["text"].as_str().unwrap().contains("raise max_rows"));
    assert_eq!(report["two"]["structured"]["results"].as_array().unwrap().len(), 2, "one result per statement");

    // Errors are tool results with the CLI's one line; the next call works.
    for (step, needle) in [("write", "refused"), ("unknown_table", "nowhere"), ("bad_date", "2025-13-01")] {
        let result = &report[step];
        assert_eq!(result["is_error"], true, "{step}: {result}");
        let text = result["text"].as_str().unwrap();
        assert!(text.contains(needle) && !text.contains('\n') && !text.starts_with("error:"), "{step}: {text}");
    }
    assert_eq!(report["after_errors"]["structured"]["rows"], serde_json::json!([{"answer": 42}]));
    // The text part is compact: CSV, names then DuckDB types, every row whole; errors name the
    // tool's arguments, not the command line's flags.
    let text: Vec<&str> = report["query"]["text"].as_str().unwrap().lines().collect();
    assert_eq!(text[..2], ["type,n,first", "VARCHAR,BIGINT,TIMESTAMP WITH TIME ZONE"]);
    assert_eq!(text.len() - 2, cli.as_array().unwrap().len());
    // An event type the days lack: DuckDB's answer, and a warning naming the type meant.
    let typo = &report["typo"]["structured"];
    assert_eq!(typo["rows"], serde_json::json!([{"n": 0}]));
    assert!(typo["warnings"][0].as_str().unwrap().contains("did you mean 'MapCreated'?"), "{typo}");
    let bad_date = report["bad_date"]["text"].as_str().unwrap();
    assert!(bad_date.contains("`start_date`") && !bad_date.contains("--"), "{bad_date}");

    // event_types and json_keys agree with DuckDB over the same cached files.
    let types = env.duckdb(
        START,
        END,
        "SELECT type, count(*) AS events FROM activity GROUP BY type ORDER BY events DESC, type",
    );
    assert_eq!(report["event_types"]["structured"]["event_types"], types);
    let keys = env.duckdb(
        START,
        END,
        "SELECT k AS path, count(*) AS n FROM (SELECT unnest(json_keys(data)) AS k FROM activity WHERE type = 'MapCreated') GROUP BY k \
         UNION ALL SELECT 'map.' || k, count(*) FROM (SELECT unnest(json_keys(data, '$.map')) AS k FROM activity WHERE type = 'MapCreated' AND json_type(data, '$.map') = 'OBJECT') GROUP BY k",
    );
    let theirs: BTreeMap<String, u64> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["path"].as_str().unwrap().to_string(), r["n"].as_u64().unwrap()))
        .collect();
    let ours: BTreeMap<String, u64> = report["json_keys"]["structured"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["path"].as_str().unwrap().to_string(), k["count"].as_u64().unwrap()))
        .filter(|(path, _)| path.matches('.').count() == 0 || path.starts_with("map."))
        .collect();
    assert_eq!(ours, theirs, "json_keys counts the paths DuckDB finds");

    // export and report write as the commands do, and refuse what they refuse.
    let written = report["export"]["structured"]["written"].as_array().unwrap();
    assert_eq!(written.len(), 2, "{}", report["export"]);
    assert_eq!(written[0]["rows"], cli.as_array().unwrap().iter().map(|r| r["n"].as_u64().unwrap()).sum::<u64>());
    assert_eq!(report["export_again"]["is_error"], true);
    assert!(report["export_again"]["text"].as_str().unwrap().contains("already exists"));
    let page = report["report"]["structured"]["path"].as_str().unwrap();
    assert!(std::fs::read_to_string(page).unwrap().starts_with("<!DOCTYPE html>"));

    // Resources: the schemas and the compatibility notes.
    assert_eq!(
        report["resources"],
        serde_json::json!(["carto-activity://tables", "carto-activity://duckdb-compatibility"])
    );
    assert!(report["compatibility"].as_str().unwrap().contains("### DuckDB's function catalogue"));
    assert_eq!(report["tables"]["structured"]["tables"].as_array().unwrap().len(), 4);

    // A cancelled query stops: the next call answers at once and the server goes idle.
    let cancel = &report["after_cancel"];
    assert_eq!(cancel["structured"]["rows"], serde_json::json!([{"seven": 7}]));
    assert!(cancel["seconds"].as_f64().unwrap() < 10.0, "{cancel}");
    assert!(cancel["server_cpu"].as_f64().unwrap() < 0.5, "the cancelled query still runs: {cancel}");
    eprintln!("warm query tool call, median of 10: {:.1} ms", report["warm_call_median_ms"].as_f64().unwrap());
}

/// The second adversarial round's MCP findings (tests/mcp_hostile.py): writes confined to the
/// server's root (no file outside it, no link, no cache file, no `~` folder, no object store
/// or metadata request unless allowed), arguments of the wrong type named, concurrent calls on
/// a cold range all answered, and lines no client library sends answered as JSON-RPC says.
#[test]
fn an_agent_writes_only_where_the_operator_lets_it() {
    let _alone = crate::common::alone();
    let env = Env::new();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_hostile.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args([env!("CARGO_BIN_EXE_carto-activity"), env.dir.path().to_str().unwrap(), START, END])
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "the MCP client failed: {}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("the client prints JSON");
    let refused = |step: &str, needle: &str| {
        let result = &report[step];
        let text = result["text"].as_str().unwrap_or_default();
        assert_eq!(result["is_error"], true, "{step}: {result}");
        assert!(text.contains(needle) && !text.contains('\n'), "{step}: {text}");
    };
    refused("report_outside", "outside the folder this server may write in");
    refused("report_up", "outside the folder");
    refused("report_link", "symbolic link");
    refused("report_notes", "was not written by carto-activity");
    refused("report_cache", "inside the cache folder");
    for step in ["export_etc", "export_up", "export_link"] {
        refused(step, "outside the folder");
    }
    refused("export_tilde", "`~` is not expanded");
    refused("export_s3", "--allow-object-stores");
    refused("categories_empty", "`categories` is empty");
    refused("date_number", "`start_date` of query is text, not a number");
    refused("s3_allowed", "CARTO_ACTIVITY_INSTANCE_METADATA");
    assert_eq!(report["metadata_connections"], 0, "no request reached the metadata service");
    assert_eq!(report["victim"], "keep me");
    assert_eq!(report["notes"], "my notes");
    assert_eq!(report["link_is_link"], true);
    assert_eq!(report["tilde_made"], false);
    assert_eq!(report["outside_files"], serde_json::json!(["victim.txt"]), "nothing was written outside the root");
    // A report of ours is written, and replaced by the next.
    assert_eq!(report["report_new"]["is_error"], false, "{}", report["report_new"]);
    assert_eq!(report["report_again"]["is_error"], false, "{}", report["report_again"]);
    assert!(
        report["report_new_starts"].as_str().unwrap().starts_with("<!DOCTYPE html>\n<!-- carto-activity report -->")
    );
    assert_eq!(report["export_inside"]["is_error"], false, "{}", report["export_inside"]);
    // Concurrent calls of one server on a cold range: every one answers, all alike.
    for round in 0..6 {
        let answers = report[format!("concurrent_{round}")].as_array().unwrap();
        assert_eq!(answers.len(), 4);
        for answer in answers {
            assert_eq!(answer["is_error"], false, "round {round}: {answer}");
            assert_eq!(answer["structured"]["rows"], answers[0]["structured"]["rows"]);
        }
    }
    // Raw lines: JSON-RPC's errors, with the request's id where it has one, and the server goes on.
    assert_eq!(report["raw_initialize"], true);
    for (step, code) in [("raw_garbage", -32700), ("raw_nan", -32700), ("raw_utf8", -32700), ("raw_no_params", -32602)]
    {
        assert_eq!(report[step]["error"]["code"], code, "{step}: {}", report[step]);
    }
    assert_eq!(report["raw_no_params"]["id"], 4);
    assert!(report["raw_after"]["result"].is_object(), "{}", report["raw_after"]);
    assert_eq!(report["raw_exit"], 0);
}
