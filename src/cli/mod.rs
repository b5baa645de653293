//! Command-line flags. Parsing only: validation that needs more than a flag's own value
//! (a date range, where SQL comes from) happens in `run`.

mod commands;
mod global;

use clap::{Parser, Subcommand};

pub use commands::{ExportArgs, McpArgs, OptionalRangeArgs, QueryArgs, RangeArgs, ReportArgs, ShellArgs, SyncArgs};
pub use global::GlobalArgs;

#[derive(Debug, Parser)]
#[command(
    name = "carto-activity",
    version,
    about = "Query and export a CARTO organisation's Activity Data with DuckDB-flavoured SQL",
    after_help = "Exit status: 0 success, 1 query error, 2 usage error, 3 source or network failure, \
                  4 local file error, 130 interrupted."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// A command's examples, under the heading clap gives its own sections.
fn examples(lines: &[&str]) -> String {
    let mut text = String::from("\x1b[1m\x1b[4mExamples:\x1b[0m");
    for line in lines {
        text.push_str("\n  ");
        text.push_str(line);
    }
    text
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL (DuckDB dialect) over the activity, apiUsage, userList and groupList tables
    #[command(after_help = examples(&[
        "carto-activity --demo query --sql \"SELECT type, count(*) FROM activity GROUP BY 1 ORDER BY 2 DESC\"",
        "carto-activity query --start-date 2025-10-01 --end-date 2025-10-31 --json -f top_maps.sql",
        "echo \"SELECT email, role FROM userList\" | carto-activity query --format csv",
    ]))]
    Query(QueryArgs),
    /// Write whole categories of a date range to files
    #[command(after_help = examples(&[
        "carto-activity export --start-date 2025-10-01 --end-date 2025-10-31 --format parquet \\\n      --output-dir ./activity",
        "carto-activity export --start-date 2025-01-01 --end-date 2025-12-31 --category activity \\\n      --format parquet --partition-by month --output-dir s3://bucket/carto",
        "carto-activity export --output-dir ./maps \\\n      --sql \"SELECT * FROM activity WHERE type = 'MapCreated' AND ts >= '2025-10-01'\"",
    ]))]
    Export(ExportArgs),
    /// Write a self-contained HTML report of adoption and quota, with charts
    #[command(after_help = examples(&[
        "carto-activity --demo report --start-date 2025-10-01 --end-date 2025-10-31 -o october.html",
        "carto-activity report --start-date 2025-10-01 --end-date 2025-10-31 --spec panels.toml -o -",
    ]))]
    Report(ReportArgs),
    /// An interactive SQL shell over a range, with completion of tables, functions, event types
    /// and JSON keys, and DuckDB's dot commands (.help lists them)
    #[command(after_help = examples(&[
        "carto-activity --demo shell",
        "carto-activity shell --start-date 2025-10-01 --end-date 2025-10-31",
    ]))]
    Shell(ShellArgs),
    /// Keep a warehouse table current: append the complete days DEST lacks to Delta Lake tables
    /// (or hive-partitioned Parquet), one table per category; safe to re-run and to kill
    #[command(after_help = examples(&[
        "carto-activity sync --to ./lake --from 2025-01-01",
        "carto-activity sync --to s3://bucket/carto-activity --json      # nightly, from a scheduler",
        "carto-activity sync --to ./hive --format parquet --category activity --from 2025-10-01",
    ]))]
    Sync(SyncArgs),
    /// List the tables with their columns and types
    #[command(after_help = examples(&["carto-activity tables"]))]
    Tables,
    /// Serve the tables to AI agents over the Model Context Protocol (stdio): query, tables,
    /// event_types, json_keys, export and report as tools
    #[command(after_help = examples(&[
        "carto-activity --demo mcp",
        "carto-activity mcp --write-root ./agent-files    # the client starts it; exports land there",
    ]))]
    Mcp(McpArgs),
    /// Inspect or empty the local cache
    #[command(after_help = examples(&["carto-activity cache list", "carto-activity cache clear demo-s42-e20000"]))]
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Print the cache folder
    Path,
    /// What the cache holds: source, category, days and bytes (from its manifests)
    List,
    /// Read every cached file and check it against the manifest's checksum; damaged files are
    /// removed (the next query fetches them again) and the exit status is 4
    Verify,
    /// Rewrite each complete month of cached days as one file, so that a year is 12 files rather
    /// than 365 (a query's fill does it as it completes a month: this is for days cached by
    /// earlier versions)
    Compact,
    /// Empty the cache, or only one source's part of it (as named by `cache list`)
    Clear {
        /// A source as `cache list` names it, e.g. demo-s42-e20000
        #[arg(value_name = "SOURCE")]
        cached_source: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::OutputFormat;
    use clap::CommandFactory;
    use global::parse_size;

    #[test]
    fn flags_are_consistent() {
        Cli::command().debug_assert();
    }

    /// Every example of every command's help parses as that command, and fits a terminal.
    #[test]
    fn examples_in_the_help_parse() {
        let mut seen = 0;
        for command in Cli::command().get_subcommands() {
            let Some(help) = command.get_after_help() else { continue };
            let text = help.to_string();
            assert!(text.lines().all(|l| l.len() <= 100), "a line wider than a terminal: {text}");
            for line in text.replace("\\\n", " ").lines().skip(1) {
                let line = line.split("  #").next().unwrap_or_default();
                let line = line.rsplit(" | ").next().unwrap_or_default();
                let words = shlex::split(line).unwrap_or_else(|| panic!("not shell words: {line}"));
                assert_eq!(words[0], "carto-activity");
                let cli = Cli::try_parse_from(&words).unwrap_or_else(|e| panic!("{line}: {e}"));
                let named = format!("{:?}", cli.command).to_lowercase();
                assert!(named.starts_with(command.get_name()), "{line} is an example of {}", command.get_name());
                seen += 1;
            }
        }
        assert!(seen >= 16, "{seen} examples");
    }

    /// The flags a README section's tables name (the first word in backticks of each first cell).
    fn readme_flags(readme: &str, heading: &str) -> std::collections::BTreeSet<String> {
        let start = readme.find(heading).unwrap_or_else(|| panic!("the README has {heading}"));
        let rest = &readme[start + heading.len()..];
        let end = rest.find("\n### ").into_iter().chain(rest.find("\n## ")).min().unwrap_or(rest.len());
        let flag = regex::Regex::new(r"`(--?[a-z][a-z-]*)").unwrap();
        rest[..end]
            .lines()
            .filter(|line| line.starts_with("| `-"))
            .flat_map(|line| {
                let cell = line.split(" | ").next().unwrap_or_default();
                flag.captures_iter(cell).map(|c| c[1].to_string()).collect::<Vec<_>>()
            })
            .collect()
    }

    /// A command's flags as clap has them (`global`: the flags every command takes).
    fn clap_flags(command: &clap::Command, global: bool) -> std::collections::BTreeSet<String> {
        command
            .get_arguments()
            .filter(|a| a.is_global_set() == global && !["help", "version"].contains(&a.get_id().as_str()))
            .flat_map(|a| {
                let long = a.get_long().map(|l| format!("--{l}"));
                let short = a.get_short().map(|s| format!("-{s}"));
                long.into_iter().chain(short)
            })
            .collect()
    }

    /// Every flag in the README is clap's, and every flag clap has is in the README.
    #[test]
    fn the_readme_names_every_flag_as_the_help_does() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let cli = Cli::command();
        for command in cli.get_subcommands().filter(|c| !["tables", "cache", "help"].contains(&c.get_name())) {
            let heading = format!("### `{}`", command.get_name());
            assert_eq!(readme_flags(&readme, &heading), clap_flags(command, false), "{heading}");
        }
        assert_eq!(readme_flags(&readme, "### Global flags"), clap_flags(&cli, true), "### Global flags");
    }

    #[test]
    fn global_flags_go_before_or_after_the_subcommand() {
        for argv in [["carto-activity", "--demo", "tables"], ["carto-activity", "tables", "--demo"]] {
            let cli = Cli::try_parse_from(argv).unwrap();
            assert!(cli.global.demo);
        }
    }

    #[test]
    fn json_means_json_format() {
        let cli = Cli::try_parse_from([
            "carto-activity",
            "query",
            "--start-date",
            "2025-10-01",
            "--end-date",
            "2025-10-01",
            "--json",
            "--sql",
            "SELECT 1",
        ])
        .unwrap();
        let Command::Query(q) = cli.command else { panic!("not a query") };
        assert_eq!(q.output_format(), OutputFormat::Json);
        assert_eq!(parse_size("512MB"), Ok(512 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert!(parse_size("12").is_err() && parse_size("4 parsecs").is_err() && parse_size("-1GB").is_err());
    }
}
