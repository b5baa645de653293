//! When a request to CARTO is tried again: the back-off policy, and which failures are transient.

use std::time::Duration;

use rand::Rng;

use crate::error::Error;

#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    pub max_attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// No request is retried once this much time has gone by since its first attempt.
    pub max_total: Duration,
    /// The longest `Retry-After` that is honoured as given.
    pub retry_after_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_total: Duration::from_secs(120),
            retry_after_cap: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Exponential back-off with ±50% jitter, so that clients do not retry in lock-step.
    pub(super) fn delay(&self, attempt: u32) -> Duration {
        let exponential = self.first_delay.saturating_mul(1 << attempt.min(16).saturating_sub(1));
        let capped = exponential.min(self.max_delay);
        capped.mul_f64(rand::rng().random_range(0.5..1.5))
    }
}

pub(super) enum Failure {
    /// Worth another attempt, after `wait` if the server said how long.
    Transient {
        message: String,
        wait: Option<Duration>,
    },
    Final(Error),
}

pub(super) fn transient(e: &reqwest::Error) -> bool {
    e.is_timeout() || e.is_connect() || e.is_request() || e.is_body() || e.is_decode()
}

pub(super) fn describe(e: &reqwest::Error) -> String {
    // reqwest's Display names the URL; pre-signed links carry signatures, so name only the host.
    let mut text = match e.url() {
        Some(url) => e.to_string().replace(url.as_str(), &host_of(url.as_str())),
        None => e.to_string(),
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

pub(super) fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "the download host".into())
}
