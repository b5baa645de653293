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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL (DuckDB dialect) over the activity, apiUsage, userList and groupList tables
    Query(QueryArgs),
    /// Write whole categories of a date range to files
    Export(ExportArgs),
    /// Write a self-contained HTML report of adoption and quota, with charts
    Report(ReportArgs),
    /// An interactive SQL shell over a range, with completion of tables, functions, event types
    /// and JSON keys, and DuckDB's dot commands (.help lists them)
    Shell(ShellArgs),
    /// Keep a warehouse table current: append the complete days DEST lacks to Delta Lake tables
    /// (or hive-partitioned Parquet), one table per category; safe to re-run and to kill
    Sync(SyncArgs),
    /// List the tables with their columns and types
    Tables,
    /// Serve the tables to AI agents over the Model Context Protocol (stdio): query, tables,
    /// event_types, json_keys, export and report as tools
    Mcp(McpArgs),
    /// Inspect or empty the local cache
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
