//! HTTP to CARTO: API calls carry the token and retry what is transient; downloads go to
//! pre-signed URLs without it, streamed to temporary files and checked before use.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::header::{AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tempfile::TempPath;

use super::credentials::{self, Credentials, Token};
pub(crate) use super::retry::RetryPolicy;
use super::retry::{Failure, describe, host_of, transient};
use super::wire::{self, ErrorBody, Job, JobFile, JobRequest, JobStatus, TokenResponse};
use crate::error::{Error, Result};
use crate::printer::Printer;

#[derive(Debug, Clone)]
pub(crate) struct ClientConfig {
    pub api_url: String,
    pub auth_url: String,
    /// Where M2M tokens are cached (mode 0600).
    pub token_cache_dir: std::path::PathBuf,
    pub retry: RetryPolicy,
    pub read_timeout: Duration,
}

struct Inner {
    api: reqwest::Client,
    /// A separate client for pre-signed links, which never carries the token.
    downloads: reqwest::Client,
    config: ClientConfig,
    credentials: Credentials,
    token: tokio::sync::Mutex<Option<Token>>,
    printer: Printer,
    /// Cancellations of jobs whose waiter was dropped (Ctrl-C), still on their way to CARTO.
    cancellations: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

#[derive(Clone)]
pub(crate) struct CartoClient {
    inner: Arc<Inner>,
}

/// Owned by the waiter of a job: if the wait is abandoned (the command was interrupted and its
/// future dropped), the job is cancelled at CARTO rather than left running.
struct CancelOnDrop<'a> {
    client: &'a CartoClient,
    id: String,
    armed: bool,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (client, id) = (self.client.clone(), std::mem::take(&mut self.id));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let task = runtime.spawn(async move {
            if client.cancel(&id).await.is_ok() {
                client.inner.printer.warn(&format!("cancelled CARTO job {id}"));
            }
        });
        if let Ok(mut pending) = self.client.inner.cancellations.lock() {
            pending.push(task);
        }
    }
}

/// What a download gave: the file, or a link that expired and must be fetched anew.
pub(crate) enum Download {
    File(TempPath),
    Expired,
}

impl CartoClient {
    pub fn new(config: ClientConfig, credentials: Credentials, printer: Printer) -> Result<CartoClient> {
        let build = |b: reqwest::ClientBuilder| {
            b.connect_timeout(Duration::from_secs(10))
                .read_timeout(config.read_timeout)
                .user_agent(concat!("carto-activity/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| Error::Source(format!("cannot start an HTTP client: {}", describe(&e))))
        };
        let api = build(reqwest::Client::builder())?;
        // Redirects could take a pre-signed download elsewhere; they never carry the token anyway.
        let downloads = build(reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(5)))?;
        Ok(CartoClient {
            inner: Arc::new(Inner {
                api,
                downloads,
                config,
                credentials,
                token: tokio::sync::Mutex::new(None),
                printer,
                cancellations: Mutex::new(Vec::new()),
            }),
        })
    }

    fn printer(&self) -> &Printer {
        &self.inner.printer
    }

    /// The token to send; `renew` fetches a new M2M token even when one is cached.
    async fn token(&self, renew: bool) -> Result<Token> {
        let m2m = match &self.inner.credentials {
            Credentials::Token { token, .. } => return Ok(token.clone()),
            Credentials::M2m(client) => client,
        };
        let mut current = self.inner.token.lock().await;
        let cache = credentials::token_cache_path(&self.inner.config.token_cache_dir, m2m);
        if !renew && let Some(token) = current.clone().or_else(|| credentials::read_cached_token(&cache)) {
            *current = Some(token.clone());
            return Ok(token);
        }
        let url = format!("{}{}", self.inner.config.auth_url.trim_end_matches('/'), wire::TOKEN_PATH);
        let form = [
            ("grant_type", wire::GRANT_TYPE),
            ("client_id", m2m.client_id.as_str()),
            ("client_secret", m2m.client_secret.expose()),
            ("audience", wire::AUDIENCE),
        ];
        let response: TokenResponse = self
            .with_retries("getting an M2M token", || async {
                let response = self.inner.api.post(&url).form(&form).send().await;
                self.classify(response, "getting an M2M token", false).await
            })
            .await?;
        let token = Token::new(response.access_token);
        credentials::write_cached_token(&cache, &token, response.expires_in)?;
        self.printer().debug("carto: fetched a new M2M access token");
        *current = Some(token.clone());
        Ok(token)
    }

    /// Turns a response into a value or a failure, per the contract's error table.
    async fn classify<T: DeserializeOwned>(
        &self,
        response: reqwest::Result<reqwest::Response>,
        what: &str,
        api: bool,
    ) -> std::result::Result<T, Failure> {
        let response = match response {
            Ok(r) => r,
            Err(e) if transient(&e) => return Err(Failure::Transient { message: describe(&e), wait: None }),
            Err(e) => return Err(Failure::Final(Error::Source(format!("{what}: {}", describe(&e))))),
        };
        let status = response.status();
        if status.is_success() {
            return response.json::<T>().await.map_err(|e| Failure::Transient {
                message: format!("an unreadable answer ({})", describe(&e)),
                wait: None,
            });
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<ErrorBody>(&body).map(|b| b.error).unwrap_or_else(|_| status.to_string());
        let auth_help = if api {
            "use an OAuth access token of an Admin user (an API access token does not work): log in with CARTO's CLI, or set CARTO_CLIENT_ID and CARTO_CLIENT_SECRET"
        } else {
            "check CARTO_CLIENT_ID and CARTO_CLIENT_SECRET"
        };
        Err(match status {
            StatusCode::TOO_MANY_REQUESTS => Failure::Transient {
                message: format!("rate limited (429): {message}"),
                wait: Some(retry_after.unwrap_or(Duration::from_secs(5)).min(self.inner.config.retry.retry_after_cap)),
            },
            s if s.is_server_error() => Failure::Transient { message: format!("{s}: {message}"), wait: None },
            StatusCode::BAD_REQUEST => Failure::Final(Error::Source(format!("CARTO refused {what} (400): {message}"))),
            StatusCode::UNAUTHORIZED => Failure::Final(Error::Unauthorized(format!(
                "CARTO rejected the token while {what} (401): {message}; {auth_help}"
            ))),
            StatusCode::FORBIDDEN => Failure::Final(Error::Source(format!(
                "CARTO denied {what} (403): {message}; Activity Data needs an Enterprise plan and a token of an Admin user"
            ))),
            StatusCode::NOT_FOUND => {
                Failure::Final(Error::Source(format!("CARTO does not know {what} (404): {message}")))
            }
            s => Failure::Final(Error::Source(format!("CARTO answered {what} with {s}: {message}"))),
        })
    }

    async fn with_retries<T, F, Fut>(&self, what: &str, mut attempt_once: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, Failure>>,
    {
        let policy = &self.inner.config.retry;
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match attempt_once().await {
                Ok(value) => return Ok(value),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Transient { message, wait }) => {
                    let delay = wait.unwrap_or_else(|| policy.delay(attempt));
                    if attempt >= policy.max_attempts || started.elapsed() + delay > policy.max_total {
                        return Err(Error::Source(format!(
                            "{what} failed {attempt} times over {:.0}s; the last failure: {message}",
                            started.elapsed().as_secs_f64()
                        )));
                    }
                    self.printer().debug(&format!("carto: {what}: {message}; retrying in {:.1}s", delay.as_secs_f64()));
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// One API call with the token; an M2M token is renewed once when CARTO says 401.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&JobRequest>,
        what: &str,
    ) -> Result<T> {
        let url = format!("{}{}", self.inner.config.api_url.trim_end_matches('/'), path);
        let mut renewed = false;
        loop {
            let token = self.token(false).await?;
            let result = self
                .with_retries(what, || async {
                    let mut request =
                        self.inner.api.request(method.clone(), &url).header(AUTHORIZATION, token.bearer());
                    if let Some(body) = body {
                        request = request.json(body);
                    }
                    self.classify(request.send().await, what, true).await
                })
                .await;
            match result {
                Err(Error::Unauthorized(_)) if !renewed && matches!(self.inner.credentials, Credentials::M2m(_)) => {
                    renewed = true;
                    self.token(true).await?;
                }
                other => return other,
            }
        }
    }

    pub async fn create_job(&self, request: &JobRequest) -> Result<Job> {
        let what = format!("the Activity Data job for {}..{}", request.start_date, request.end_date);
        self.call(Method::POST, wire::JOBS_PATH, Some(request), &what).await
    }

    pub async fn job(&self, id: &str) -> Result<Job> {
        self.call(Method::GET, &wire::job_path(id), None, &format!("job {id}")).await
    }

    pub async fn cancel(&self, id: &str) -> Result<()> {
        let _: serde_json::Value =
            self.call(Method::DELETE, &wire::cancel_path(id), None, &format!("cancelling job {id}")).await?;
        Ok(())
    }

    /// Polls with a growing interval until the job succeeds, fails, or `timeout` passes (then
    /// the job is cancelled).
    pub async fn wait(&self, job: Job, timeout: Duration, on_status: impl Fn(JobStatus)) -> Result<Job> {
        let mut guard = CancelOnDrop { client: self, id: job.id.clone(), armed: true };
        let result = self.poll(job, timeout, on_status).await;
        guard.armed = false;
        result
    }

    /// Waits up to ten seconds for the cancellations of abandoned jobs to reach CARTO.
    pub async fn finish_cancellations(&self) {
        let pending = self.inner.cancellations.lock().map(|mut p| std::mem::take(&mut *p)).unwrap_or_default();
        let _ = tokio::time::timeout(Duration::from_secs(10), futures::future::join_all(pending)).await;
    }

    async fn poll(&self, mut job: Job, timeout: Duration, on_status: impl Fn(JobStatus)) -> Result<Job> {
        let started = Instant::now();
        let mut interval = Duration::from_millis(500);
        loop {
            on_status(job.status);
            match job.status {
                JobStatus::Success => return Ok(job),
                JobStatus::Failure => {
                    return Err(Error::Source(format!(
                        "CARTO's job {} failed: {}",
                        job.id,
                        job.error.as_deref().unwrap_or("no reason given")
                    )));
                }
                JobStatus::Cancelled => return Err(Error::Source(format!("CARTO's job {} was cancelled", job.id))),
                JobStatus::Pending | JobStatus::Running => {}
            }
            if started.elapsed() + interval > timeout {
                let _ = self.cancel(&job.id).await;
                return Err(Error::Source(format!(
                    "CARTO's job {} did not finish within {}s (cancelled): try again later or raise --wait-timeout",
                    job.id,
                    timeout.as_secs()
                )));
            }
            tokio::time::sleep(interval).await;
            interval = (interval.mul_f64(1.5)).min(Duration::from_secs(10));
            job = self.job(&job.id).await?;
        }
    }

    /// Streams one file to a temporary file in `dir`, checked against its announced size and
    /// by `validate`; retries transient failures. Never sends the token.
    pub async fn download(
        &self,
        file: &JobFile,
        dir: &Path,
        on_bytes: impl Fn(u64),
        validate: impl Fn(&Path) -> Result<()>,
    ) -> Result<Download> {
        let what = format!("downloading a {} file from {}", file.category, host_of(&file.url));
        let outcome = self
            .with_retries(&what, || async {
                let response = match self.inner.downloads.get(&file.url).send().await {
                    Ok(r) => r,
                    Err(e) if transient(&e) => return Err(Failure::Transient { message: describe(&e), wait: None }),
                    Err(e) => return Err(Failure::Final(Error::Source(format!("{what}: {}", describe(&e))))),
                };
                let status = response.status();
                if status == StatusCode::FORBIDDEN {
                    return Ok(Download::Expired);
                }
                if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                    return Err(Failure::Transient { message: status.to_string(), wait: None });
                }
                if !status.is_success() {
                    return Err(Failure::Final(Error::Source(format!("{what}: the storage answered {status}"))));
                }
                let expected = file.size_bytes.or(response.content_length());
                let (mut out, temp) = tempfile::Builder::new()
                    .prefix(".tmp-download-")
                    .tempfile_in(dir)
                    .map_err(|e| Failure::Final(Error::io("cannot create a file in", dir)(e)))?
                    .into_parts();
                let mut written = 0u64;
                let mut body = response.bytes_stream();
                while let Some(chunk) = body.next().await {
                    let chunk = chunk.map_err(|e| Failure::Transient {
                        message: format!("the transfer broke off ({})", describe(&e)),
                        wait: None,
                    })?;
                    out.write_all(&chunk)
                        .map_err(|e| Failure::Final(Error::io("cannot write", temp.to_path_buf())(e)))?;
                    written += chunk.len() as u64;
                    on_bytes(chunk.len() as u64);
                }
                out.sync_all().map_err(|e| Failure::Final(Error::io("cannot write", temp.to_path_buf())(e)))?;
                if let Some(expected) = expected
                    && expected != written
                {
                    return Err(Failure::Transient {
                        message: format!("got {written} of {expected} bytes"),
                        wait: None,
                    });
                }
                validate(&temp)
                    .map_err(|e| Failure::Transient { message: format!("a damaged file ({e})"), wait: None })?;
                Ok(Download::File(temp))
            })
            .await?;
        Ok(outcome)
    }
}
