//! `mcp`: the tables served to AI agents over the Model Context Protocol on stdio, with the
//! official SDK (rmcp). Tools are the CLI's commands with typed arguments and results; resources
//! are the table schemas and the README's DuckDB compatibility notes. A tool's failure is a tool
//! result with `isError` and the CLI's one-line message; the server goes on. Only protocol
//! messages go to stdout; the printer's lines go to stderr as for every command.

mod framing;
mod tools;

use std::os::fd::AsFd;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

use crate::cli::McpArgs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::write_policy::WritePolicy;

/// The README, for the compatibility notes served as a resource (the same text users read).
const README: &str = include_str!("../../../README.md");
const TABLES_URI: &str = "carto-activity://tables";
const COMPATIBILITY_URI: &str = "carto-activity://duckdb-compatibility";

pub(super) async fn serve(context: &Context, args: McpArgs) -> Result<()> {
    // What an agent asks to write stays under one folder; the cache is never an output.
    let root = match args.write_root {
        Some(dir) => dir,
        None => std::env::current_dir().map_err(Error::io("cannot read", "the working folder"))?,
    };
    let context = context.fork(WritePolicy::confined(&root, args.allow_object_stores)?);
    // Standard input and output as async files: rmcp's stdio transport would need tokio's
    // `io-std` feature, and a tokio feature change rebuilds all of DataFusion.
    let duplicate = |fd: std::os::fd::BorrowedFd<'_>, what: &'static str| {
        fd.try_clone_to_owned()
            .map(|fd| tokio::fs::File::from_std(std::fs::File::from(fd)))
            .map_err(Error::io("cannot open", what))
    };
    let input = duplicate(std::io::stdin().as_fd(), "standard input")?;
    let output = duplicate(std::io::stdout().as_fd(), "standard output")?;
    let (input, output, writer) = framing::channel(input, output);
    let server = Server { context: Arc::new(context) };
    let running = server
        .serve((input, output))
        .await
        .map_err(|e| Error::Source(format!("the MCP client did not complete the handshake: {e}")))?;
    running.waiting().await.map_err(|e| Error::internal("serving MCP")(e.to_string()))?;
    // The last answers (and refusals) go out before the process ends.
    let _ = writer.await;
    Ok(())
}

struct Server {
    context: Arc<Context>,
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("carto-activity", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "A CARTO organisation's Activity Data as four tables (activity, apiUsage, userList, groupList) \
                 queried with DuckDB-flavoured SQL over a date range. Call `tables` for the schemas, \
                 `event_types` and `json_keys` before filtering on `type` or reading `data` paths, then `query`.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ListToolsResult, McpError> {
        serde_json::from_value(json!({ "tools": tools::definitions() }))
            .map_err(|e| McpError::internal_error(format!("tool definitions: {e}"), None))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> std::result::Result<CallToolResponse, McpError> {
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        let progress = context.meta.get_progress_token().map(|token| (token, context.peer.clone()));
        let notify = |step: f64, message: &str| {
            let progress = progress.clone();
            let message = message.to_string();
            async move {
                if let Some((token, peer)) = progress {
                    let param = serde_json::from_value::<ProgressNotificationParam>(
                        json!({ "progressToken": token, "progress": step, "total": 2.0, "message": message }),
                    );
                    if let Ok(param) = param {
                        let _ = peer.notify_progress(param).await;
                    }
                }
            }
        };
        let work = tools::call(&self.context, &request.name, &arguments, &notify);
        // A cancelled request drops its work: the query's streams and any fetch stop with it.
        let outcome = tokio::select! {
            outcome = work => outcome,
            _ = context.ct.cancelled() => Err(Error::Interrupted),
        };
        Ok(match outcome {
            Ok(answer) => {
                let mut result = CallToolResult::structured(answer.structured);
                // Agents read a table better than the JSON text `structured` puts here.
                result.content = vec![ContentBlock::text(answer.text)];
                result.into()
            }
            Err(e) => CallToolResult::error(vec![ContentBlock::text(in_argument_names(&e.to_string()))]).into(),
        })
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ListResourcesResult, McpError> {
        serde_json::from_value(json!({ "resources": [
            { "uri": TABLES_URI, "name": "tables", "mimeType": "application/json",
              "description": "The four tables: columns, DuckDB types, and what a row means" },
            { "uri": COMPATIBILITY_URI, "name": "duckdb-compatibility", "mimeType": "text/markdown",
              "description": "Which DuckDB SQL works here: functions identical, rewritten or refused, and the rules that differ" },
        ]}))
        .map_err(|e| McpError::internal_error(format!("resource list: {e}"), None))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ReadResourceResponse, McpError> {
        let (mime, text) = match request.uri.as_str() {
            TABLES_URI => ("application/json", tools::tables().to_string()),
            COMPATIBILITY_URI => ("text/markdown", readme_section("## SQL: DuckDB compatibility")),
            other => {
                return Err(McpError::invalid_params(
                    format!("no resource {other}: the resources are {TABLES_URI} and {COMPATIBILITY_URI}"),
                    None,
                ));
            }
        };
        let result = json!({ "contents": [{ "uri": request.uri, "mimeType": mime, "text": text }] });
        serde_json::from_value::<ReadResourceResult>(result)
            .map(Into::into)
            .map_err(|e| McpError::internal_error(format!("resource: {e}"), None))
    }
}

/// The README from `heading` to the next heading of the same level.
fn readme_section(heading: &str) -> String {
    let Some(start) = README.find(heading) else { return String::new() };
    let rest = &README[start..];
    let level = heading.split(' ').next().unwrap_or("##");
    let end = rest[heading.len()..].find(&format!("\n{level} ")).map_or(rest.len(), |i| i + heading.len() + 1);
    rest[..end].trim_end().to_string()
}

/// What a tool answers: the structured result and its text rendering.
pub(super) struct Answer {
    pub structured: Value,
    pub text: String,
}

/// The command-line flags a message names, as the tool arguments an agent passes.
const ARGUMENTS: [(&str, &str); 7] = [
    ("--start-date", "start_date"),
    ("--end-date", "end_date"),
    ("--output-dir", "output_dir"),
    ("--output", "output"),
    ("--format", "format"),
    ("--category", "categories"),
    ("--sql", "sql"),
];

/// `message` with its flags (clap's `'--start-date <DATE>'` or a bare `--start-date`) named as
/// the arguments an agent passed (`start_date`): an agent sent no flags.
fn in_argument_names(message: &str) -> String {
    let mut text = message.to_string();
    for (flag, argument) in ARGUMENTS {
        let named = format!("`{argument}`");
        while let Some(start) = text.find(&format!("'{flag} <")) {
            let Some(end) = text[start + 1..].find('\'').map(|e| start + 1 + e) else { break };
            text.replace_range(start..=end, &named);
        }
        text = text.replace(flag, &named);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_arguments_an_agent_passed() {
        assert_eq!(
            in_argument_names("invalid value '2025-13-01' for '--start-date <DATE>': not a date"),
            "invalid value '2025-13-01' for `start_date`: not a date"
        );
        assert_eq!(
            in_argument_names("--start-date 2025-10-09 is after --end-date 2025-10-01: swap them or fix one"),
            "`start_date` 2025-10-09 is after `end_date` 2025-10-01: swap them or fix one"
        );
        assert_eq!(in_argument_names("'--output-dir <DIR|URL>' is outside"), "`output_dir` is outside");
    }

    #[test]
    fn the_compatibility_section_is_served_whole() {
        let section = readme_section("## SQL: DuckDB compatibility");
        assert!(section.starts_with("## SQL: DuckDB compatibility"));
        assert!(section.contains("### DuckDB's function catalogue"), "its subsections are in it");
        assert!(!section.contains("\n## Data sources"), "it ends before the next section");
    }
}
