//! The flags every command takes, and their conversion into the library's [`Settings`].

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{ArgAction, Args};

use crate::choice::Named;
use crate::context::Settings;
use crate::source::SourceChoice;
use crate::source::carto::wire;

/// The headings the flags every command takes are shown under, after the command's own.
const SRC: &str = "Source and credentials";
const CACHE: &str = "Cache and resources";
const OUT: &str = "Output";

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Where the data comes from: `api` (CARTO's Activity Data API, the default), `demo` (a
    /// built-in synthetic organisation) or a folder of exported files
    #[arg(help_heading = SRC, long, global = true, value_name = "SOURCE", value_parser = SourceChoice::parse)]
    pub source: Option<SourceChoice>,

    /// Shorthand for `--source demo`
    #[arg(help_heading = SRC, long, global = true, conflicts_with = "source")]
    pub demo: bool,

    /// CARTO OAuth access token of an Admin user (else an M2M client from CARTO_CLIENT_ID and
    /// CARTO_CLIENT_SECRET, else CARTO's CLI credentials file)
    #[arg(help_heading = SRC, long, global = true, env = "CARTO_API_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,

    /// Client id of a CARTO M2M OAuth client (with CARTO_CLIENT_SECRET)
    #[arg(help_heading = SRC, long, global = true, env = "CARTO_CLIENT_ID", value_name = "ID", hide_short_help = true)]
    pub client_id: Option<String>,

    /// Client secret of a CARTO M2M OAuth client: set it in the environment rather than on the
    /// command line, where other users can see it
    #[arg(
        help_heading = SRC,
        long,
        global = true,
        env = "CARTO_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET",
        hide_short_help = true
    )]
    pub client_secret: Option<String>,

    /// Profile of ~/.carto_credentials.json [default: its current profile]
    #[arg(help_heading = SRC, long, global = true, env = "CARTO_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// CARTO's Activity Data host
    #[arg(help_heading = SRC, long, global = true, env = "CARTO_ACTIVITY_API_URL", value_name = "URL",
          default_value = wire::DEFAULT_API_URL)]
    pub api_url: String,

    /// CARTO's OAuth host, for M2M clients
    #[arg(help_heading = SRC, long, global = true, env = "CARTO_AUTH_URL", value_name = "URL",
          default_value = wire::DEFAULT_AUTH_URL)]
    pub auth_url: String,

    /// How long to wait for a CARTO export job, in seconds
    #[arg(help_heading = SRC, long, global = true, value_name = "SECONDS", default_value_t = 1800,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub wait_timeout: u64,

    /// How long a connection to CARTO may stay silent before the request is retried, in seconds
    #[arg(help_heading = SRC, long, global = true, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub read_timeout: u64,

    /// The file format CARTO's jobs are asked for (both hold the same data)
    #[arg(help_heading = SRC, long, global = true, value_parser = named::<wire::FileFormat>(), value_name = "FORMAT", default_value = "parquet")]
    pub download_format: wire::FileFormat,

    /// Events per day of the demo organisation (part of its cache identity)
    #[arg(help_heading = SRC, long, global = true, value_name = "N", default_value_t = 20_000,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub demo_events_per_day: u32,

    /// Cache folder [default: the user's cache folder, e.g. ~/.cache/carto-activity]
    #[arg(help_heading = CACHE, long, global = true, env = "CARTO_ACTIVITY_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Memory the engine may hold for sorts, joins and aggregates (e.g. 4GB, 512MB); past it
    /// they spill to the cache folder or the query fails [default: 60% of the machine's memory]
    #[arg(help_heading = CACHE, long, global = true, env = "CARTO_ACTIVITY_MEMORY_LIMIT", value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<u64>,

    /// Print nothing but results and errors
    #[arg(help_heading = OUT, short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Say more about what happens (cache hits, files written)
    #[arg(help_heading = OUT, short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Parse every JSON payload at query time instead of reading the cache's shredded columns
    /// (for comparing answers and timings)
    #[arg(help_heading = CACHE, long, global = true, hide_short_help = true)]
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
pub(super) fn named<T: Named>() -> impl TypedValueParser<Value = T> {
    let values = T::NAMES.iter().map(|(name, _, help)| {
        let value = PossibleValue::new(*name);
        if help.is_empty() { value } else { value.help(*help) }
    });
    PossibleValuesParser::new(values)
        .try_map(|name: String| T::from_name(&name).ok_or_else(|| format!("'{name}' is not one of the values")))
}

/// `512MB`, `4GB`, `1.5GiB`, or bytes; at least 16 MB.
pub(super) fn parse_size(text: &str) -> Result<u64, String> {
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
