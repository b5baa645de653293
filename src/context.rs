//! One `Context` per command: the settings the CLI resolved, the printer, the cache and, opened
//! on first need, the source. It brings engines over cached ranges; each engine holds the
//! cache lease its files are read under, however many engines a command keeps.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::cache::fill::{Request, fill_and_share};
use crate::cache::{Cache, SourceLock};
use crate::category::Category;
use crate::dates::DateRange;
use crate::engine::{Engine, EngineOptions};
use crate::error::{Error, Result};
use crate::printer::Printer;
use crate::source::api::ApiSettings;
use crate::source::{Source, SourceChoice, SourceSettings};
use crate::write_policy::WritePolicy;

/// How many threads a plan runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parallelism {
    /// Every core: queries and reports.
    AllCores,
    /// One stream that reads the cached days in order, so that each output file is finished
    /// before the next opens and memory does not grow with the range (exports).
    InOrder,
}

/// The settings every command shares, as the command line resolved them.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub source: SourceChoice,
    pub token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub profile: Option<String>,
    pub api_url: String,
    pub auth_url: String,
    pub wait_timeout: Duration,
    pub read_timeout: Duration,
    pub download_format: crate::source::carto::wire::FileFormat,
    pub demo_events_per_day: u32,
    pub cache_dir: Option<std::path::PathBuf>,
    pub memory_limit: Option<u64>,
    pub shredding: bool,
}

pub(crate) struct Context {
    global: Settings,
    printer: Printer,
    source: Mutex<Option<Arc<Source>>>,
    /// The lease of the engines alive now, if any: a later fill changes its mode instead of
    /// waiting on it.
    lease: Mutex<Weak<SourceLock>>,
    /// Where the command may write its outputs (the cache aside).
    write_policy: WritePolicy,
}

impl Context {
    pub(crate) fn new(global: Settings, printer: Printer) -> Context {
        Context {
            global,
            printer,
            source: Mutex::new(None),
            lease: Mutex::new(Weak::new()),
            write_policy: WritePolicy::unconfined(),
        }
    }

    /// A context of its own with the same settings and `write_policy`, for a server that
    /// outlives the command's.
    pub(crate) fn fork(&self, write_policy: WritePolicy) -> Context {
        Context { write_policy, ..Context::new(self.global.clone(), self.printer) }
    }

    /// Where outputs may go: the command's policy, never inside the cache.
    pub(crate) fn write_policy(&self) -> WritePolicy {
        match Cache::locate(self.global.cache_dir.clone()) {
            Ok(cache) => self.write_policy.clone().protect(cache.root()),
            Err(_) => self.write_policy.clone(),
        }
    }

    pub(crate) fn printer(&self) -> &Printer {
        &self.printer
    }

    pub(crate) fn cache(&self) -> Result<Cache> {
        let cache = Cache::locate(self.global.cache_dir.clone())?;
        crate::engine::check_cache_path(cache.root())?;
        Ok(cache)
    }

    fn choice(&self) -> SourceChoice {
        self.global.source.clone()
    }

    /// Where the data comes from, in words (the report's header).
    pub(crate) fn source_label(&self) -> String {
        match self.choice() {
            SourceChoice::Demo => "the demo organisation".to_string(),
            SourceChoice::Folder(dir) => format!("files in {}", dir.display()),
            SourceChoice::Api => self.global.api_url.clone(),
        }
    }

    /// The source's stable name (see [`Source::identity`]).
    pub(crate) fn source_identity(&self) -> Result<String> {
        Ok(self.source()?.identity())
    }

    /// The newest day that is whole at the source: the API's 05:00 UTC rule (the demo keeps it
    /// too); for folders, yesterday (UTC).
    pub(crate) fn newest_complete_day(&self) -> Result<chrono::NaiveDate> {
        let yesterday = chrono::Utc::now().date_naive() - chrono::Days::new(1);
        Ok(self.source()?.newest_ready_day().unwrap_or(yesterday))
    }

    /// The source, opened on first use; a folder's entries of its earlier states are removed.
    fn source(&self) -> Result<Arc<Source>> {
        let mut opened = self.source.lock().map_err(|_| Error::Internal("the source lock is poisoned".into()))?;
        if let Some(source) = opened.as_ref() {
            return Ok(source.clone());
        }
        let cache = self.cache()?;
        let settings = match self.choice() {
            SourceChoice::Demo => SourceSettings::Demo { events_per_day: self.global.demo_events_per_day },
            SourceChoice::Folder(dir) => SourceSettings::Folder(dir),
            SourceChoice::Api => SourceSettings::Api(Box::new(self.api_settings(&cache)?)),
        };
        let source = Arc::new(Source::open(settings, self.printer)?);
        if let Source::Folder(folder) = source.as_ref() {
            for id in cache.sources()?.iter().filter(|id| folder.is_earlier_state(id)) {
                self.printer.info(&format!(
                    "files in {} changed since they were cached: ingesting them again",
                    folder.dir().display()
                ));
                cache.clear(Some(id), &self.printer)?;
            }
        }
        *opened = Some(source.clone());
        Ok(source)
    }

    fn api_settings(&self, cache: &Cache) -> Result<ApiSettings> {
        let g = &self.global;
        Ok(ApiSettings {
            token: g.token.clone(),
            client_id: g.client_id.clone(),
            client_secret: g.client_secret.clone(),
            profile: g.profile.clone(),
            home: dirs::home_dir(),
            api_url: g.api_url.clone(),
            auth_url: g.auth_url.clone(),
            wait_timeout: g.wait_timeout,
            read_timeout: g.read_timeout,
            format: g.download_format,
            token_cache_dir: cache.private_dir("credentials")?,
            download_dir: cache.private_dir("downloads")?,
        })
    }

    /// An engine over one range; see [`Context::engines`].
    pub(crate) async fn engine(
        &self,
        range: DateRange,
        categories: &[Category],
        refresh: bool,
        parallelism: Parallelism,
    ) -> Result<Engine> {
        let mut engines = self.engines(&[range], categories, refresh, parallelism).await?;
        engines.pop().ok_or_else(|| Error::Internal("no engine for the range".into()))
    }

    /// Fetches what `categories` lack over `ranges` (everything with `refresh`) in one go, and
    /// returns an engine per range with every table registered: the fetched ones over their
    /// cached files, the others empty (not read, but `DESCRIBE` and `SHOW TABLES` list them).
    pub(crate) async fn engines(
        &self,
        ranges: &[DateRange],
        categories: &[Category],
        refresh: bool,
        parallelism: Parallelism,
    ) -> Result<Vec<Engine>> {
        let (options, filled) = self.filled(ranges, categories, refresh, parallelism).await?;
        let Some((files, lease)) = filled else {
            return ranges.iter().map(|_| empty_engine(&options)).collect();
        };
        files.into_iter().map(|range_files| engine_over_files(&options, &lease, &range_files)).collect()
    }

    /// One engine over the days of several ranges together (the days a SQL filter selects).
    pub(crate) async fn engine_over(
        &self,
        ranges: &[DateRange],
        categories: &[Category],
        refresh: bool,
        parallelism: Parallelism,
    ) -> Result<Engine> {
        let (options, filled) = self.filled(ranges, categories, refresh, parallelism).await?;
        let Some((files, lease)) = filled else { return empty_engine(&options) };
        let mut all = crate::cache::fill::RangeFiles::new();
        // Where each file is in `all` (a year is hundreds of files: no search of the list).
        let mut positions: std::collections::HashMap<(Category, std::path::PathBuf), usize> = Default::default();
        for range_files in files {
            for (category, known) in range_files {
                let held = all.entry(category).or_default();
                // A snapshot (or a month file) is the same file in several ranges.
                for file in known {
                    match positions.entry((category, file.path.clone())) {
                        std::collections::hash_map::Entry::Occupied(at) => held[*at.get()].join(file),
                        std::collections::hash_map::Entry::Vacant(at) => {
                            at.insert(held.len());
                            held.push(file);
                        }
                    }
                }
            }
        }
        engine_over_files(&options, &lease, &all)
    }

    /// The engines' options, and (unless no category is wanted) each range's cached files, filled
    /// under the lease they are read under.
    async fn filled(
        &self,
        ranges: &[DateRange],
        categories: &[Category],
        refresh: bool,
        parallelism: Parallelism,
    ) -> Result<(EngineOptions, Option<(Vec<crate::cache::fill::RangeFiles>, Arc<SourceLock>)>)> {
        let partitions = match parallelism {
            Parallelism::AllCores => std::thread::available_parallelism().map_or(2, |n| n.get()),
            Parallelism::InOrder => 1,
        };
        let mut options = EngineOptions::new(partitions, self.global.shredding);
        if let Some(limit) = self.global.memory_limit {
            options.memory_limit = usize::try_from(limit).unwrap_or(usize::MAX);
        }
        if categories.is_empty() {
            return Ok((options, None));
        }
        let source = self.source()?;
        let cache = self.cache()?;
        cache.ensure_root()?;
        let store = cache.source(&source.cache_id());
        // Sorts and joins past the memory limit spill beside the cache, which is on a disk the
        // user chose, rather than into a /tmp that may be memory.
        options.spill_dir = Some(cache.private_dir("spill")?);
        let lease = self.lease_for(&store)?;
        let request = Request { ranges, categories, refresh };
        let files = fill_and_share(&source, &store, &lease, &request, &self.printer).await?;
        self.printer.timing("cache ready");
        Ok((options, Some((files, lease))))
    }

    /// The lock of the engines alive now, or a new one.
    fn lease_for(&self, store: &crate::cache::SourceCache) -> Result<Arc<SourceLock>> {
        let mut lease = self.lease.lock().map_err(|_| Error::Internal("the lease lock is poisoned".into()))?;
        if let Some(alive) = lease.upgrade() {
            return Ok(alive);
        }
        let fresh = Arc::new(store.lock()?);
        *lease = Arc::downgrade(&fresh);
        Ok(fresh)
    }

    /// After an interrupt: lets the cancellation of a CARTO job reach CARTO.
    pub(crate) async fn finish_interrupted(&self) {
        let source = self.source.lock().ok().and_then(|s| s.clone());
        if let Some(source) = source {
            source.finish_interrupted().await;
        }
    }
}

/// An engine whose tables are all empty (not read, but listed).
fn empty_engine(options: &EngineOptions) -> Result<Engine> {
    let engine = Engine::new(options.clone(), None)?;
    for category in Category::ALL {
        engine.register(category, &[])?;
    }
    Ok(engine)
}

/// An engine over these files, holding the lease they are read under.
fn engine_over_files(
    options: &EngineOptions,
    lease: &Arc<SourceLock>,
    files: &crate::cache::fill::RangeFiles,
) -> Result<Engine> {
    let engine = Engine::new(options.clone(), Some(lease.clone()))?;
    for category in Category::ALL {
        engine.register(category, files.get(&category).map_or(&[][..], Vec::as_slice))?;
    }
    Ok(engine)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn context(cache: &std::path::Path) -> Context {
        let argv = ["carto-activity", "--demo", "--demo-events-per-day", "50", "--quiet", "tables", "--cache-dir"];
        let cli = crate::cli::Cli::try_parse_from(argv.iter().copied().chain([cache.to_str().unwrap()])).unwrap();
        Context::new(cli.global.settings(), Printer::new(true, 0))
    }

    fn range(start: &str, end: &str) -> DateRange {
        DateRange::new(crate::dates::parse_date(start).unwrap(), crate::dates::parse_date(end).unwrap()).unwrap()
    }

    async fn count(engine: &Engine) -> usize {
        let [statement] =
            <[_; 1]>::try_from(crate::engine::Prepared::new("SELECT * FROM activity").unwrap().statements).unwrap();
        engine.plan(statement).await.unwrap().count().await.unwrap()
    }

    /// The shell keeps an engine while it fills another range: no wait on its own lease.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_second_range_is_filled_while_the_first_engine_lives() {
        let dir = tempfile::tempdir().unwrap();
        let context = context(dir.path());
        let first =
            context.engine(range("2025-10-01", "2025-10-02"), &[Category::Activity], false, Parallelism::InOrder);
        let first = first.await.unwrap();
        let second =
            context.engine(range("2025-10-03", "2025-10-05"), &[Category::Activity], false, Parallelism::InOrder);
        let second = tokio::time::timeout(Duration::from_secs(60), second).await.expect("no deadlock").unwrap();
        let org = crate::source::demo::DemoOrg::new(42, 50);
        let events = |r: DateRange| r.days().map(|d| org.events_on(d)).sum::<usize>();
        assert_eq!(count(&first).await, events(range("2025-10-01", "2025-10-02")), "the first engine reads its range");
        assert_eq!(count(&second).await, events(range("2025-10-03", "2025-10-05")), "the second engine reads its own");
        // Both engines share one lease: while either lives, a writer elsewhere must wait.
        let lock = dir.path().join("locks").join("demo-s42-e50.lock");
        let other = std::fs::File::options().write(true).open(&lock).unwrap();
        assert!(other.try_lock().is_err(), "the lease is held");
        drop(first);
        assert!(other.try_lock().is_err(), "the second engine still holds it");
        drop(second);
        other.try_lock().unwrap();
    }
}
