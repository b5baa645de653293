//! Each command's own flags.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;

use super::global::named;
use crate::category::Category;
use crate::dates::{DateRange, parse_date};
use crate::error::Error;
use crate::export::{ExportCompression, ExportFormat, PartitionBy};
use crate::output::OutputFormat;
use crate::sync::SyncFormat;

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
    /// SQL to run; several statements separated by `;` run in order
    #[arg(long, value_name = "SQL", conflicts_with = "file", allow_hyphen_values = true)]
    pub sql: Option<String>,

    /// Read the SQL from a file (`-` for standard input)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,

    #[command(flatten)]
    pub range: OptionalRangeArgs,

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
