//! Command-line flags. Parsing only: validation that needs more than a flag's own value
//! (a date range, where SQL comes from) happens in `run`.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{ArgAction, Args, Parser, Subcommand};

use crate::category::Category;
use crate::choice::Named;
use crate::context::Settings;
use crate::dates::{DateRange, parse_date};
use crate::error::Error;
use crate::export::{ExportCompression, ExportFormat, PartitionBy};
use crate::output::OutputFormat;
use crate::source::SourceChoice;
use crate::source::carto::wire;
use crate::sync::SyncFormat;

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

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Where the data comes from: `api` (CARTO's Activity Data API, the default), `demo` (a
    /// built-in synthetic organisation) or a folder of exported files
    #[arg(long, global = true, value_name = "SOURCE", value_parser = SourceChoice::parse)]
    pub source: Option<SourceChoice>,

    /// Shorthand for `--source demo`
    #[arg(long, global = true, conflicts_with = "source")]
    pub demo: bool,

    /// CARTO OAuth access token of an Admin user (else an M2M client from CARTO_CLIENT_ID and
    /// CARTO_CLIENT_SECRET, else CARTO's CLI credentials file)
    #[arg(long, global = true, env = "CARTO_API_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,

    /// Client id of a CARTO M2M OAuth client (with CARTO_CLIENT_SECRET)
    #[arg(long, global = true, env = "CARTO_CLIENT_ID", value_name = "ID", hide_short_help = true)]
    pub client_id: Option<String>,

    /// Client secret of a CARTO M2M OAuth client: set it in the environment rather than on the
    /// command line, where other users can see it
    #[arg(
        long,
        global = true,
        env = "CARTO_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET",
        hide_short_help = true
    )]
    pub client_secret: Option<String>,

    /// Profile of ~/.carto_credentials.json [default: its current profile]
    #[arg(long, global = true, env = "CARTO_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// CARTO's Activity Data host
    #[arg(long, global = true, env = "CARTO_ACTIVITY_API_URL", value_name = "URL",
          default_value = wire::DEFAULT_API_URL)]
    pub api_url: String,

    /// CARTO's OAuth host, for M2M clients
    #[arg(long, global = true, env = "CARTO_AUTH_URL", value_name = "URL",
          default_value = wire::DEFAULT_AUTH_URL)]
    pub auth_url: String,

    /// How long to wait for a CARTO export job, in seconds
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 1800,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub wait_timeout: u64,

    /// How long a connection to CARTO may stay silent before the request is retried, in seconds
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub read_timeout: u64,

    /// The file format CARTO's jobs are asked for (both hold the same data)
    #[arg(long, global = true, value_parser = named::<wire::FileFormat>(), value_name = "FORMAT", default_value = "parquet")]
    pub download_format: wire::FileFormat,

    /// Events per day of the demo organisation (part of its cache identity)
    #[arg(long, global = true, value_name = "N", default_value_t = 20_000,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub demo_events_per_day: u32,

    /// Cache folder [default: the user's cache folder, e.g. ~/.cache/carto-activity]
    #[arg(long, global = true, env = "CARTO_ACTIVITY_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Memory the engine may hold for sorts, joins and aggregates (e.g. 4GB, 512MB); past it
    /// they spill to the cache folder or the query fails [default: 60% of the machine's memory]
    #[arg(long, global = true, env = "CARTO_ACTIVITY_MEMORY_LIMIT", value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<u64>,

    /// Print nothing but results and errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Say more about what happens (cache hits, files written)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Parse every JSON payload at query time instead of reading the cache's shredded columns
    /// (for comparing answers and timings)
    #[arg(long, global = true, hide_short_help = true)]
    pub no_shredding: bool,
}

impl GlobalArgs {
    /// The settings the library works with: the source chosen, durations, shredding.
    pub(crate) fn settings(&self) -> Settings {
        let source = match (&self.source, self.demo) {
            (_, true) => SourceChoice::Demo,
            (Some(choice), false) => choice.clone(),
            (None, false) => SourceChoice::Api,
        };
        Settings {
            source,
            token: self.token.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            profile: self.profile.clone(),
            api_url: self.api_url.clone(),
            auth_url: self.auth_url.clone(),
            wait_timeout: std::time::Duration::from_secs(self.wait_timeout),
            read_timeout: std::time::Duration::from_secs(self.read_timeout),
            download_format: self.download_format,
            demo_events_per_day: self.demo_events_per_day,
            cache_dir: self.cache_dir.clone(),
            memory_limit: self.memory_limit,
            shredding: !self.no_shredding,
        }
    }
}

/// The parser of a [`Named`] setting: its names offered (with their help) and read in any case.
fn named<T: Named>() -> impl TypedValueParser<Value = T> {
    let values = T::NAMES.iter().map(|(name, _, help)| {
        let value = PossibleValue::new(*name);
        if help.is_empty() { value } else { value.help(*help) }
    });
    PossibleValuesParser::new(values)
        .try_map(|name: String| T::from_name(&name).ok_or_else(|| format!("'{name}' is not one of the values")))
}

/// `512MB`, `4GB`, `1.5GiB`, or bytes; at least 16 MB.
fn parse_size(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    let split = lower.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(lower.len());
    let (number, unit) = lower.split_at(split);
    let scale: u64 = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => return Err(format!("unknown unit '{other}': write e.g. 512MB or 4GB")),
    };
    let value: f64 = number.parse().map_err(|_| format!("'{text}' is not a size: write e.g. 512MB or 4GB"))?;
    let bytes = value * scale as f64;
    if !(bytes >= 16.0 * (1 << 20) as f64 && bytes < u64::MAX as f64) {
        return Err(format!("'{text}' is too small or too large: give at least 16MB"));
    }
    Ok(bytes as u64)
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

#[derive(Debug, Clone, Copy, Args)]
pub struct RangeArgs {
    /// First day, YYYY-MM-DD (UTC, inclusive)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub start_date: NaiveDate,

    /// Last day, YYYY-MM-DD (UTC, inclusive)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub end_date: NaiveDate,

    /// Fetch the range again and replace the cached days
    #[arg(long)]
    pub no_cache: bool,
}

impl RangeArgs {
    /// The range, once both ends are known to be in order.
    pub fn resolve(&self) -> Result<DateRange, Error> {
        DateRange::new(self.start_date, self.end_date).map_err(Error::Usage)
    }
}

/// `--start-date` and `--end-date` where both may be left out: the days then come from the
/// SQL's filter on `ts`.
#[derive(Debug, Clone, Copy, Args)]
pub struct OptionalRangeArgs {
    /// First day, YYYY-MM-DD (UTC, inclusive) [default: from the SQL's filter on ts, else 7 days before the last complete one]
    #[arg(long, value_name = "DATE", value_parser = parse_date, requires = "end_date")]
    pub start_date: Option<NaiveDate>,

    /// Last day, YYYY-MM-DD (UTC, inclusive) [default: from the SQL's filter on ts, else the last complete day]
    #[arg(long, value_name = "DATE", value_parser = parse_date, requires = "start_date")]
    pub end_date: Option<NaiveDate>,

    /// Fetch the range again and replace the cached days
    #[arg(long)]
    pub no_cache: bool,
}

impl OptionalRangeArgs {
    /// The range, when given; its ends in order.
    pub fn resolve(&self) -> Result<Option<DateRange>, Error> {
        match (self.start_date, self.end_date) {
            (Some(start), Some(end)) => DateRange::new(start, end).map(Some).map_err(Error::Usage),
            _ => Ok(None),
        }
    }
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Where the tables are: a folder, file://..., s3://bucket/prefix, gs://bucket/prefix or az://container/prefix
    #[arg(long, value_name = "DEST")]
    pub to: String,

    /// First day to sync, YYYY-MM-DD (needed when DEST holds no day yet) [default: the day after the last one synced]
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub from: Option<NaiveDate>,

    /// Last day to sync, YYYY-MM-DD [default: the last complete UTC day]
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub until: Option<NaiveDate>,

    /// Table format
    #[arg(long, value_parser = named::<SyncFormat>(), default_value = "delta")]
    pub format: SyncFormat,

    /// Category to sync (repeatable) [default: all four]
    #[arg(long = "category", value_parser = named::<Category>(), value_name = "CATEGORY", ignore_case = true)]
    pub categories: Vec<Category>,

    /// Parquet compression of the data files
    #[arg(long, value_parser = named::<ExportCompression>(), value_name = "CODEC", default_value = "zstd")]
    pub compression: ExportCompression,

    /// Fetch the days written again instead of reading them from the cache
    #[arg(long)]
    pub no_cache: bool,

    /// Print a JSON summary on stdout (for schedulers)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShellArgs {
    /// First day, YYYY-MM-DD (UTC, inclusive) [default: 6 days before the end]
    #[arg(long, value_name = "DATE", value_parser = parse_date, requires = "end_date")]
    pub start_date: Option<NaiveDate>,

    /// Last day, YYYY-MM-DD (UTC, inclusive) [default: the last complete UTC day]
    #[arg(long, value_name = "DATE", value_parser = parse_date, requires = "start_date")]
    pub end_date: Option<NaiveDate>,

    /// Fetch the range again and replace the cached days
    #[arg(long)]
    pub no_cache: bool,

    /// Keep no history of statements (none is kept when standard input is not a terminal)
    #[arg(long)]
    pub no_history: bool,
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// The folder the export and report tools write in: paths outside it (after `..` and
    /// links are resolved) and `~` are refused [default: the working folder]
    #[arg(long, value_name = "DIR")]
    pub write_root: Option<PathBuf>,

    /// Let the export tool write to object stores (s3://, gs://, az://) with the credentials
    /// of the server's environment
    #[arg(long)]
    pub allow_object_stores: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub range: RangeArgs,

    /// The HTML file to write, or - for standard output [default: carto-activity-report_START_END.html]
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Custom panels (TOML, or JSON when the name ends in .json): see the README
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,

    /// Replace an existing --output file that is not a carto-activity report (a report is
    /// replaced without it)
    #[arg(long)]
    pub overwrite: bool,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub range: OptionalRangeArgs,

    /// SQL to run; several statements separated by `;` run in order
    #[arg(long, value_name = "SQL", conflicts_with = "file", allow_hyphen_values = true)]
    pub sql: Option<String>,

    /// Read the SQL from a file (`-` for standard input)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Same as `--format json`
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// How results are printed
    #[arg(long, value_parser = named::<OutputFormat>(), value_name = "FORMAT")]
    pub format: Option<OutputFormat>,

    /// Rows printed per result [default: 40 for tables, all otherwise]
    #[arg(long, value_name = "N")]
    pub max_rows: Option<usize>,
}

impl QueryArgs {
    pub fn output_format(&self) -> OutputFormat {
        match (self.json, self.format) {
            (true, _) => OutputFormat::Json,
            (false, Some(f)) => f,
            (false, None) => OutputFormat::Table,
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// (Needed for whole categories; with --sql, taken from its filter on ts when left out.)
    #[command(flatten)]
    pub range: OptionalRangeArgs,

    /// Category to export (repeatable) [default: all four]
    #[arg(long = "category", value_parser = named::<Category>(), value_name = "CATEGORY", ignore_case = true, conflicts_with = "sql")]
    pub categories: Vec<Category>,

    /// Export the result of this query instead of whole categories
    #[arg(long, value_name = "SQL")]
    pub sql: Option<String>,

    /// File format
    #[arg(long, value_parser = named::<ExportFormat>(), default_value = "csv")]
    pub format: ExportFormat,

    /// Compression [default: zstd for Parquet, none for CSV and NDJSON]
    #[arg(long, value_parser = named::<ExportCompression>(), value_name = "CODEC")]
    pub compression: Option<ExportCompression>,

    /// Rows per Parquet row group
    #[arg(long, value_name = "N", default_value_t = 122_880, value_parser = clap::value_parser!(u64).range(1..))]
    pub row_group_size: u64,

    /// Hive-partitioned folders by the `ts` column: category/date=2025-10-01/part-00000.parquet
    #[arg(long, value_parser = named::<PartitionBy>(), default_value = "none")]
    pub partition_by: PartitionBy,

    /// Start a new file after this many rows
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_rows_per_file: Option<u64>,

    /// Where the files go: a folder, file://..., s3://bucket/prefix, gs://bucket/prefix or az://container/prefix
    #[arg(long, value_name = "DIR|URL", default_value = "./activity-data")]
    pub output_dir: String,

    /// Replace output that already exists
    #[arg(long)]
    pub overwrite: bool,
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
    use clap::CommandFactory;

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
