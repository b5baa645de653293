//! Where Activity Data comes from. Each source delivers Arrow batches in the normalised schemas
//! of [`Category`] to a [`RowSink`] (the cache's writer); nothing downstream knows which source
//! it was.

pub(crate) mod api;
pub mod carto;
pub mod demo;
pub(crate) mod files;
pub(crate) mod folder;
mod overlap;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;

use crate::category::Category;
use crate::error::Result;
use crate::printer::Printer;
use api::{ApiSettings, ApiSource};
use demo::{DEFAULT_SEED, DemoOrg};
use folder::FolderSource;

/// Where the data comes from, as `--source` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceChoice {
    /// CARTO's Activity Data API.
    Api,
    /// The built-in demo organisation.
    Demo,
    /// A folder of exported files.
    Folder(PathBuf),
}

impl SourceChoice {
    /// `api`, `demo`, or an existing folder.
    pub fn parse(text: &str) -> std::result::Result<SourceChoice, String> {
        match text {
            "api" => Ok(SourceChoice::Api),
            "demo" => Ok(SourceChoice::Demo),
            folder if std::path::Path::new(folder).is_dir() => Ok(SourceChoice::Folder(PathBuf::from(folder))),
            other => Err(format!(
                "unknown --source '{other}': use `api` (CARTO's API, the default), `demo` (the built-in demo organisation) or a folder of exported files"
            )),
        }
    }
}

/// What a source needs to open, resolved from flags and environment.
pub(crate) enum SourceSettings {
    Api(Box<ApiSettings>),
    Demo { events_per_day: u32 },
    Folder(PathBuf),
}

/// Where a source's rows go. Rows of a dated category may come in any order and span days.
pub trait RowSink: Send + 'static {
    fn write_dated(&mut self, category: Category, batch: &RecordBatch) -> Result<()>;
    fn write_snapshot(&mut self, category: Category, batch: &RecordBatch) -> Result<()>;
    /// Every row of `day` has been written (for sources that deliver whole days).
    fn day_complete(&mut self, category: Category, day: NaiveDate) -> Result<()>;
}

/// What one fetch must deliver: the missing days of dated categories, and stale snapshots.
#[derive(Debug, Default, Clone)]
pub(crate) struct FetchPlan {
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

pub(crate) enum Source {
    Demo(Arc<DemoOrg>),
    Api(ApiSource),
    Folder(FolderSource),
}

impl Source {
    pub(crate) fn open(settings: SourceSettings, printer: Printer) -> Result<Source> {
        Ok(match settings {
            SourceSettings::Demo { events_per_day } => {
                Source::Demo(Arc::new(DemoOrg::new(DEFAULT_SEED, events_per_day)))
            }
            SourceSettings::Api(settings) => Source::Api(ApiSource::open(*settings, printer)?),
            SourceSettings::Folder(dir) => Source::Folder(FolderSource::open(&dir)?),
        })
    }

    /// The name of this source's part of the cache: everything that changes its rows.
    pub(crate) fn cache_id(&self) -> String {
        match self {
            Source::Demo(org) => format!("demo-s{DEFAULT_SEED}-e{}", org.events_per_day()),
            Source::Api(api) => api.cache_id(),
            Source::Folder(folder) => folder.cache_id(),
        }
    }

    /// Names the organisation the data is of, stable across runs: the cache's name, except that
    /// a folder's does not change with its files (a table synced from it stays its table).
    pub(crate) fn identity(&self) -> String {
        match self {
            Source::Folder(folder) => folder.identity(),
            _ => self.cache_id(),
        }
    }

    /// The newest day the source can deliver whole; later days are neither fetched nor cached.
    pub(crate) fn newest_ready_day(&self) -> Option<NaiveDate> {
        match self {
            Source::Folder(_) => None,
            // The demo keeps the API's rule, so scripts tried on it behave the same on CARTO.
            Source::Demo(_) | Source::Api(_) => Some(api::newest_ready_day(chrono::Utc::now())),
        }
    }

    /// Delivers `plan` to `sink`, and gives the sink back for the caller to commit.
    pub(crate) async fn fetch<S: RowSink>(&self, plan: &FetchPlan, sink: S, printer: &Printer) -> Result<S> {
        match self {
            Source::Demo(org) => demo::fetch(org.clone(), plan.clone(), sink, *printer).await,
            Source::Api(api) => api.fetch(plan, sink, printer).await,
            Source::Folder(folder) => folder.fetch(plan, sink, printer).await,
        }
    }

    /// Waits (briefly) for the clean-up of an interrupted fetch: the cancellation of a CARTO job.
    pub(crate) async fn finish_interrupted(&self) {
        if let Source::Api(api) = self {
            api.client.finish_cancellations().await;
        }
    }
}
