//! CARTO's Activity Data API as a source: the missing days become jobs of at most 60 days,
//! each awaited, its files downloaded and ingested.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Duration as Days, NaiveDate, Timelike, Utc};

use crate::category::Category;
use crate::error::{Error, Result};
use crate::printer::Printer;
use crate::source::carto::client::{CartoClient, ClientConfig, Download, RetryPolicy};
use crate::source::carto::credentials;
use crate::source::carto::wire::{DAY_READY_HOUR_UTC, FileFormat, JobFile, JobRequest, JobStatus, MAX_JOB_DAYS};
use crate::source::files::{file_batches, ingest_file};
use crate::source::{FetchPlan, RowSink};

/// What the API source is opened with: flags and environment as the CLI resolved them, and the
/// cache's private folders.
pub(crate) struct ApiSettings {
    pub token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub profile: Option<String>,
    pub home: Option<PathBuf>,
    pub api_url: String,
    pub auth_url: String,
    pub wait_timeout: Duration,
    pub read_timeout: Duration,
    pub format: FileFormat,
    /// Where M2M tokens are cached (mode 0600).
    pub token_cache_dir: PathBuf,
    pub download_dir: PathBuf,
}

pub(crate) struct ApiSource {
    pub(crate) client: CartoClient,
    format: FileFormat,
    wait_timeout: Duration,
    /// Names the organisation's part of the cache, derived from the credentials, never the token.
    identity: String,
    download_dir: PathBuf,
}

/// The newest complete UTC day: a day is complete at 05:00 UTC the next day.
pub(crate) fn newest_ready_day(now: DateTime<Utc>) -> NaiveDate {
    let today = now.date_naive();
    if now.hour() >= DAY_READY_HOUR_UTC { today - Days::days(1) } else { today - Days::days(2) }
}

/// Runs of consecutive days, each split into jobs of at most [`MAX_JOB_DAYS`].
pub(crate) fn job_ranges(days: &[NaiveDate]) -> Vec<(NaiveDate, NaiveDate)> {
    let mut sorted = days.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut ranges: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for day in sorted {
        match ranges.last_mut() {
            Some((start, end)) if *end + Days::days(1) == day && (day - *start).num_days() < MAX_JOB_DAYS => *end = day,
            _ => ranges.push((day, day)),
        }
    }
    ranges
}

struct Job {
    start: NaiveDate,
    end: NaiveDate,
    categories: Vec<Category>,
}

/// The jobs that cover a plan: one per range of missing days, asking only for the categories
/// that miss days in it; snapshots ride along with the first job (or get one of their own).
fn jobs(plan: &FetchPlan, newest_ready: NaiveDate) -> Vec<Job> {
    let all_days: Vec<NaiveDate> = plan.days.values().flatten().copied().collect();
    let mut jobs: Vec<Job> = job_ranges(&all_days)
        .into_iter()
        .map(|(start, end)| Job {
            start,
            end,
            categories: plan
                .days
                .iter()
                .filter(|(_, days)| days.iter().any(|d| *d >= start && *d <= end))
                .map(|(c, _)| *c)
                .collect(),
        })
        .collect();
    if !plan.snapshots.is_empty() {
        match jobs.first_mut() {
            Some(first) => first.categories.extend(&plan.snapshots),
            None => jobs.push(Job { start: newest_ready, end: newest_ready, categories: plan.snapshots.clone() }),
        }
    }
    jobs
}

impl ApiSource {
    pub(crate) fn open(settings: ApiSettings, printer: Printer) -> Result<ApiSource> {
        let credentials = credentials::resolve(&credentials::Sources {
            token: settings.token.as_deref(),
            client_id: settings.client_id.as_deref(),
            client_secret: settings.client_secret.as_deref(),
            profile: settings.profile.as_deref(),
            home: settings.home.clone(),
        })?;
        for (flag, url) in [("--api-url", &settings.api_url), ("--auth-url", &settings.auth_url)] {
            let parsed =
                reqwest::Url::parse(url).map_err(|e| Error::Usage(format!("{flag} '{url}' is not a URL ({e})")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(Error::Usage(format!("{flag} '{url}' is not an http(s) URL")));
            }
        }
        let identity = credentials::account_key(&credentials, &settings.api_url);
        let config = ClientConfig {
            api_url: settings.api_url,
            auth_url: settings.auth_url,
            token_cache_dir: settings.token_cache_dir,
            retry: RetryPolicy::default(),
            read_timeout: settings.read_timeout,
        };
        Ok(ApiSource {
            client: CartoClient::new(config, credentials, printer)?,
            format: settings.format,
            wait_timeout: settings.wait_timeout,
            identity,
            download_dir: settings.download_dir,
        })
    }

    pub(crate) fn cache_id(&self) -> String {
        format!("api-{}", self.identity)
    }

    pub(crate) async fn fetch<S: RowSink>(&self, plan: &FetchPlan, mut sink: S, printer: &Printer) -> Result<S> {
        for job in jobs(plan, newest_ready_day(Utc::now())) {
            sink = self.run_job(&job, sink, printer).await?;
        }
        Ok(sink)
    }

    async fn run_job<S: RowSink>(&self, job: &Job, mut sink: S, printer: &Printer) -> Result<S> {
        let request = JobRequest {
            start_date: job.start,
            end_date: job.end,
            format: self.format,
            categories: job.categories.iter().map(|c| c.name().to_string()).collect(),
        };
        printer.debug(&format!("carto: job for {}..{} ({})", job.start, job.end, request.categories.join(", ")));
        let created = self.client.create_job(&request).await?;
        let spinner = printer.spinner(&format!("CARTO job {}..{}", job.start, job.end));
        let done = self
            .client
            .wait(created, self.wait_timeout, |status: JobStatus| {
                spinner.set_message(format!("CARTO job {}..{}: {status:?}", job.start, job.end).to_lowercase())
            })
            .await;
        spinner.finish_and_clear();
        let mut done = done?;
        let files = done.files.clone().unwrap_or_default();
        let total: u64 = files.iter().filter_map(|f| f.size_bytes).sum();
        let bar = printer.bytes(total, "download");
        for (index, listed) in files.iter().enumerate() {
            let category = Category::from_name(&listed.category).ok_or_else(|| {
                Error::Source(format!(
                    "CARTO's job {} sent a file of an unknown category '{}'",
                    done.id, listed.category
                ))
            })?;
            if !job.categories.contains(&category) {
                continue;
            }
            // An expired link is fetched anew by reading the job again, a bounded number of times.
            let mut refreshes = 0;
            let temp = loop {
                let file: &JobFile =
                    &done.files.as_ref().and_then(|f| f.get(index)).cloned().ok_or_else(|| {
                        Error::Source(format!("CARTO's job {} lists fewer files than before", done.id))
                    })?;
                // Reading a whole file through is CPU work: off the async threads.
                let checked = |path: &Path| tokio::task::block_in_place(|| validate(path, category));
                match self.client.download(file, &self.download_dir, |n| bar.inc(n), checked).await? {
                    Download::File(temp) => break temp,
                    Download::Expired if refreshes < 3 => {
                        refreshes += 1;
                        printer.debug("carto: a download link expired; reading the job again for fresh links");
                        done = self.client.job(&done.id).await?;
                    }
                    Download::Expired => {
                        return Err(Error::Source(format!(
                            "the download links of CARTO's job {} keep expiring (403): try again",
                            done.id
                        )));
                    }
                }
            };
            // The download is removed once ingested (or when ingest fails).
            sink = ingest_file(temp.to_path_buf(), category, sink).await?;
            drop(temp);
        }
        bar.finish_and_clear();
        Ok(sink)
    }
}

/// A download is whole only if every row of it reads.
fn validate(path: &Path, category: Category) -> Result<()> {
    for batch in file_batches(path, category)? {
        batch?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::DateRange;
    use std::collections::BTreeMap;

    fn d(s: &str) -> NaiveDate {
        crate::dates::parse_date(s).unwrap()
    }

    #[test]
    fn a_day_is_ready_at_five_the_next_morning() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(newest_ready_day(at("2025-10-08T04:59:59Z")), d("2025-10-06"));
        assert_eq!(newest_ready_day(at("2025-10-08T05:00:00Z")), d("2025-10-07"));
    }

    #[test]
    fn long_ranges_split_into_jobs_of_sixty_days() {
        let range = |a, b| DateRange::new(d(a), d(b)).unwrap().days().collect::<Vec<_>>();
        assert_eq!(job_ranges(&range("2025-01-01", "2025-03-01")).len(), 1, "60 days");
        assert_eq!(job_ranges(&range("2025-01-01", "2025-03-02")).len(), 2, "61 days");
        assert_eq!(job_ranges(&range("2025-01-01", "2025-05-10")).len(), 3, "130 days");
        let mut gaps = range("2025-10-01", "2025-10-03");
        gaps.extend(range("2025-10-06", "2025-10-07"));
        assert_eq!(job_ranges(&gaps), vec![(d("2025-10-01"), d("2025-10-03")), (d("2025-10-06"), d("2025-10-07"))]);
    }

    #[test]
    fn jobs_ask_only_for_what_is_missing() {
        let plan = FetchPlan {
            days: BTreeMap::from([
                (Category::Activity, vec![d("2025-10-01"), d("2025-10-02")]),
                (Category::ApiUsage, vec![d("2025-10-02")]),
            ]),
            snapshots: vec![Category::UserList],
        };
        let jobs = jobs(&plan, d("2025-11-01"));
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].categories, vec![Category::Activity, Category::ApiUsage, Category::UserList]);
        let only_snapshots = FetchPlan { days: BTreeMap::new(), snapshots: vec![Category::GroupList] };
        let jobs = super::jobs(&only_snapshots, d("2025-11-01"));
        assert_eq!((jobs[0].start, jobs[0].end), (d("2025-11-01"), d("2025-11-01")));
    }
}
