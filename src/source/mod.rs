//! Where Activity Data comes from. Each source delivers Arrow batches in the normalised schemas
//! of [`Category`]; the cache and everything after it do not know which source it was.

pub mod api;
pub mod demo;
pub mod folder;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;

use std::time::Duration;

use crate::cache::Cache;
use crate::carto::{CartoClient, ClientConfig, RetryPolicy};
use crate::category::Category;
use crate::cli::GlobalArgs;
use crate::credentials;
use crate::error::{Error, Result};
use crate::ingest::CacheWriter;
use crate::printer::Printer;
use api::ApiSource;
use demo::{DEFAULT_SEED, DemoOrg};
use folder::FolderSource;

/// What one fetch must deliver: the missing days of dated categories, and stale snapshots.
#[derive(Debug, Default, Clone)]
pub struct FetchPlan {
    pub days: BTreeMap<Category, Vec<NaiveDate>>,
    pub snapshots: Vec<Category>,
}

impl FetchPlan {
    pub fn is_empty(&self) -> bool {
        self.snapshots.is_empty() && self.days.values().all(Vec::is_empty)
    }

    pub fn day_count(&self) -> usize {
        self.days.values().map(Vec::len).sum()
    }
}

pub enum Source {
    Demo(Box<DemoOrg>),
    Api(ApiSource),
    Folder(FolderSource),
}

impl Source {
    pub fn from_flags(flags: &GlobalArgs, cache: &Cache, printer: &Printer) -> Result<Source> {
        let name = if flags.demo { Some("demo") } else { flags.source.as_deref() };
        match name {
            Some("demo") => Ok(Source::Demo(Box::new(DemoOrg::new(DEFAULT_SEED, flags.demo_events_per_day)))),
            None | Some("api") => api_source(flags, cache, printer).map(Source::Api),
            Some(folder) if std::path::Path::new(folder).is_dir() => {
                let source = FolderSource::open(std::path::Path::new(folder))?;
                source.forget_earlier_states(cache, printer)?;
                Ok(Source::Folder(source))
            }
            Some(other) => Err(Error::Usage(format!(
                "unknown --source '{other}': use `api` (CARTO's API, the default), `demo` (the built-in demo organisation) or a folder of exported files"
            ))),
        }
    }

    /// The name of this source's part of the cache: everything that changes its rows.
    pub fn cache_id(&self) -> String {
        match self {
            Source::Demo(org) => format!("demo-s{DEFAULT_SEED}-e{}", org.events_per_day()),
            Source::Api(api) => api.cache_id(),
            Source::Folder(folder) => folder.cache_id(),
        }
    }

    /// The newest day the source can deliver whole; later days are neither fetched nor cached.
    pub fn newest_ready_day(&self) -> Option<NaiveDate> {
        match self {
            Source::Demo(_) | Source::Folder(_) => None,
            Source::Api(_) => Some(api::newest_ready_day(chrono::Utc::now())),
        }
    }

    pub fn fetch(&self, plan: &FetchPlan, writer: &mut CacheWriter, printer: &Printer) -> Result<()> {
        match self {
            Source::Demo(org) => fetch_demo(org, plan, writer, printer),
            Source::Api(api) => api.fetch(plan, writer, printer),
            Source::Folder(folder) => folder.fetch(plan, writer, printer),
        }
    }
}

fn api_source(flags: &GlobalArgs, cache: &Cache, printer: &Printer) -> Result<ApiSource> {
    let client_id = std::env::var("CARTO_CLIENT_ID").ok();
    let client_secret = std::env::var("CARTO_CLIENT_SECRET").ok();
    let credentials = credentials::resolve(&credentials::Sources {
        token: flags.token.as_deref(),
        client_id: client_id.as_deref(),
        client_secret: client_secret.as_deref(),
        profile: flags.profile.as_deref(),
        home: dirs::home_dir(),
    })?;
    for (flag, url) in [("--api-url", &flags.api_url), ("--auth-url", &flags.auth_url)] {
        let parsed =
            reqwest::Url::parse(url).map_err(|e| Error::Usage(format!("{flag} '{url}' is not a URL ({e})")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Usage(format!("{flag} '{url}' is not an http(s) URL")));
        }
    }
    let identity = credentials::account_key(&credentials, &flags.api_url);
    let config = ClientConfig {
        api_url: flags.api_url.clone(),
        auth_url: flags.auth_url.clone(),
        token_cache_dir: cache.private_dir("credentials")?,
        retry: RetryPolicy::default(),
        read_timeout: Duration::from_secs(flags.read_timeout),
    };
    Ok(ApiSource {
        client: CartoClient::new(config, credentials, *printer)?,
        format: flags.download_format,
        wait_timeout: Duration::from_secs(flags.wait_timeout),
        identity,
        download_dir: cache.private_dir("downloads")?,
    })
}

/// Generates days on every core but one while the calling thread writes them to the cache.
fn fetch_demo(org: &DemoOrg, plan: &FetchPlan, writer: &mut CacheWriter, printer: &Printer) -> Result<()> {
    for &category in &plan.snapshots {
        let batch = match category {
            Category::UserList => org.user_list(),
            Category::GroupList => org.group_list(),
            other => unreachable!("{other} is not a snapshot"),
        }
        .map_err(|e| Error::Source(format!("demo {category}: {e}")))?;
        writer.write_snapshot(category, &batch)?;
    }
    let work: Vec<(Category, NaiveDate)> =
        plan.days.iter().flat_map(|(c, days)| days.iter().map(move |d| (*c, *d))).collect();
    if work.is_empty() {
        return Ok(());
    }
    let bar = printer.progress(work.len() as u64, "demo days");
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let next = AtomicUsize::new(0);
    let result = std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = mpsc::sync_channel::<(Category, NaiveDate, Result<RecordBatch>)>(workers);
        for _ in 0..workers {
            let tx = tx.clone();
            let (work, next) = (&work, &next);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(category, day)) = work.get(i) else {
                        break;
                    };
                    // Shredded here, on every core, rather than by the single writing thread.
                    let batch = match category {
                        Category::Activity => org.activity(day),
                        Category::ApiUsage => org.api_usage(day),
                        other => unreachable!("{other} is not dated"),
                    }
                    .map_err(|e| e.to_string())
                    .and_then(|b| crate::shred::shred(category, &b))
                    .map_err(|e| Error::Source(format!("demo {category} of {day}: {e}")));
                    if tx.send((category, day, batch)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (category, day, batch) in rx {
            writer.write_dated(category, &batch?)?;
            // A demo day comes whole: its file is finished at once, so memory does not grow
            // with the range.
            writer.day_complete(category, day)?;
            bar.inc(1);
        }
        Ok(())
    });
    bar.finish_and_clear();
    result
}
