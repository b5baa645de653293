//! A test server that speaks CARTO's Activity Data wire contract on 127.0.0.1, serving the demo
//! organisation's data in either format, with fault injection and a log of every request.

use futures::StreamExt;
use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use carto_activity::category::Category;
use carto_activity::source::carto::wire::{Job, JobFile, JobRequest, JobStatus};
use carto_activity::source::demo::{DEFAULT_SEED, DemoOrg};
use chrono::{Duration, NaiveDate, Timelike, Utc};
use serde_json::json;

use super::job_files::job_files;

#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
}

/// Faults to inject; each count is used up one response at a time.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    /// Answer every job creation with this status and message.
    pub create_status: Option<(u16, String)>,
    /// Jobs end in `failure` with this message.
    pub job_failure: Option<String>,
    /// API calls answered 429 with `Retry-After: 1`.
    pub rate_limited: u32,
    /// API calls answered 503.
    pub unavailable: u32,
    /// Every API call answered 503, for ever.
    pub always_unavailable: bool,
    /// Downloads answered 503.
    pub download_unavailable: u32,
    /// Downloads cut off mid-body (the connection breaks).
    pub reset_mid_body: u32,
    /// Downloads that end early, cleanly, without Content-Length.
    pub truncated: u32,
    /// Downloads with bytes flipped in the middle.
    pub corrupted: u32,
    /// Downloads answered 403, as an expired pre-signed link is.
    pub expired_links: u32,
    /// M2M tokens issued before this many refusals are refused once (401) by the API.
    pub refuse_first_m2m_token: bool,
    /// Polls that still see the job running.
    pub running_polls: u32,
    /// Downloads that send half the body, then nothing for a minute (a stalled connection).
    pub stalled: u32,
}

pub struct Inner {
    pub log: Vec<Logged>,
    pub faults: Faults,
    jobs: HashMap<String, (JobRequest, JobStatus, u32, Vec<JobFile>)>,
    pub(super) files: HashMap<String, Vec<u8>>,
    /// The files of a (category, range, format), made once: later jobs for the same reuse them.
    pub(super) made: HashMap<String, Vec<Vec<u8>>>,
    issued_tokens: Vec<String>,
    refused_m2m: bool,
}

pub struct Shared {
    pub inner: Mutex<Inner>,
    pub base: String,
    pub token: String,
    pub client: (String, String),
    pub(super) org: DemoOrg,
}

pub struct TestServer {
    pub url: String,
    pub shared: Arc<Shared>,
}

pub const TOKEN: &str = "test-token-DO-NOT-LEAK-7f3a9c";
pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "test-secret-DO-NOT-LEAK-51b2";

impl TestServer {
    pub fn start(events_per_day: u32, faults: Faults) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                log: vec![],
                faults,
                jobs: HashMap::new(),
                files: HashMap::new(),
                made: HashMap::new(),
                issued_tokens: vec![],
                refused_m2m: false,
            }),
            base: url.clone(),
            token: TOKEN.into(),
            client: (CLIENT_ID.into(), CLIENT_SECRET.into()),
            org: DemoOrg::new(DEFAULT_SEED, events_per_day),
        });
        let app = Router::new()
            .route("/activity-data-jobs", post(create_job))
            .route("/activity-data-jobs/{id}", get(read_job))
            .route("/activity-data-jobs/{id}/cancel", delete(cancel_job))
            .route("/oauth/token", post(issue_token))
            .route("/files/{id}/{name}", get(download))
            .with_state(shared.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        TestServer { url, shared }
    }

    pub fn log(&self) -> Vec<Logged> {
        self.shared.inner.lock().unwrap().log.clone()
    }

    pub fn faults(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap()
    }

    /// The job requests made so far, in order.
    pub fn job_requests(&self) -> Vec<JobRequest> {
        self.log()
            .iter()
            .filter(|l| l.method == "POST" && l.path == "/activity-data-jobs")
            .filter_map(|l| serde_json::from_str(&l.body).ok())
            .collect()
    }
}

fn record(shared: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &str) {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    shared.inner.lock().unwrap().log.push(Logged {
        method: method.to_string(),
        path: uri.to_string(),
        authorization,
        body: body.to_string(),
    });
}

fn error(status: u16, message: &str) -> Response {
    (StatusCode::from_u16(status).unwrap(), axum::Json(json!({"error": message}))).into_response()
}

/// The checks every API call passes through: faults first, then the token.
fn gate(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    let mut inner = shared.inner.lock().unwrap();
    if inner.faults.always_unavailable {
        return Some(error(503, "service unavailable"));
    }
    if inner.faults.unavailable > 0 {
        inner.faults.unavailable -= 1;
        return Some(error(503, "service unavailable"));
    }
    if inner.faults.rate_limited > 0 {
        inner.faults.rate_limited -= 1;
        let mut response = error(429, "too many requests");
        response.headers_mut().insert(header::RETRY_AFTER, "1".parse().unwrap());
        return Some(response);
    }
    let presented =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let Some(presented) = presented else { return Some(error(401, "missing token")) };
    if inner.faults.refuse_first_m2m_token
        && !inner.refused_m2m
        && inner.issued_tokens.first().map(String::as_str) == Some(presented)
    {
        inner.refused_m2m = true;
        return Some(error(401, "token expired"));
    }
    if presented != shared.token && !inner.issued_tokens.iter().any(|t| t == presented) {
        return Some(error(401, "invalid token"));
    }
    None
}

async fn issue_token(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    record(&shared, &method, &uri, &headers, &body.replace(CLIENT_SECRET, "***"));
    let form: HashMap<String, String> = url_decode(&body);
    let ok = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id") == Some(&shared.client.0)
        && form.get("client_secret") == Some(&shared.client.1)
        && form.get("audience").map(String::as_str) == Some("carto-cloud-native-api");
    if !ok {
        return error(401, "invalid client");
    }
    let mut inner = shared.inner.lock().unwrap();
    let token = format!("m2m-token-{}-DO-NOT-LEAK", inner.issued_tokens.len() + 1);
    inner.issued_tokens.push(token.clone());
    axum::Json(json!({"access_token": token, "expires_in": 86400, "token_type": "Bearer"})).into_response()
}

fn url_decode(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace('+', " ").replace("%3A", ":").replace("%2F", "/")))
        .collect()
}

fn newest_ready_day() -> NaiveDate {
    let now = Utc::now();
    if now.hour() >= 5 { now.date_naive() - Duration::days(1) } else { now.date_naive() - Duration::days(2) }
}

async fn create_job(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    record(&shared, &method, &uri, &headers, &body);
    if let Some(response) = gate(&shared, &headers) {
        return response;
    }
    if let Some((status, message)) = shared.inner.lock().unwrap().faults.create_status.clone() {
        return error(status, &message);
    }
    let Ok(request) = serde_json::from_str::<JobRequest>(&body) else { return error(400, "malformed job request") };
    let days = (request.end_date - request.start_date).num_days() + 1;
    if !(1..=60).contains(&days) {
        return error(400, &format!("range {}..{} is longer than 60 days", request.start_date, request.end_date));
    }
    if request.end_date > newest_ready_day() {
        return error(400, &format!("data for {} is not ready", request.end_date));
    }
    if request.categories.is_empty() || request.categories.iter().any(|c| Category::from_name(c).is_none()) {
        return error(400, "unknown categories");
    }
    let mut inner = shared.inner.lock().unwrap();
    let id = format!("adj_{}", inner.jobs.len() + 1);
    let running = inner.faults.running_polls;
    inner.jobs.insert(id.clone(), (request.clone(), JobStatus::Pending, running, vec![]));
    let job = Job { id, status: JobStatus::Pending, error: None, files: None };
    (StatusCode::CREATED, axum::Json(job)).into_response()
}

async fn read_job(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    record(&shared, &method, &uri, &headers, "");
    if let Some(response) = gate(&shared, &headers) {
        return response;
    }
    let (request, status, running) = {
        let mut inner = shared.inner.lock().unwrap();
        let failure = inner.faults.job_failure.clone();
        let Some(job) = inner.jobs.get_mut(&id) else { return error(404, &format!("job {id} not found")) };
        if job.1 == JobStatus::Cancelled {
            return axum::Json(Job { id, status: JobStatus::Cancelled, error: None, files: None }).into_response();
        }
        if job.2 > 0 {
            job.2 -= 1;
            job.1 = JobStatus::Running;
        } else if let Some(message) = failure {
            return axum::Json(Job { id, status: JobStatus::Failure, error: Some(message), files: None })
                .into_response();
        } else {
            job.1 = JobStatus::Success;
        }
        (job.0.clone(), job.1, job.2)
    };
    let _ = running;
    if status != JobStatus::Success {
        return axum::Json(Job { id, status, error: None, files: None }).into_response();
    }
    let files = job_files(&shared, &id, &request);
    axum::Json(Job { id, status, error: None, files: Some(files) }).into_response()
}

async fn cancel_job(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    record(&shared, &method, &uri, &headers, "");
    if let Some(response) = gate(&shared, &headers) {
        return response;
    }
    let mut inner = shared.inner.lock().unwrap();
    match inner.jobs.get_mut(&id) {
        Some(job) if matches!(job.1, JobStatus::Pending | JobStatus::Running) => {
            job.1 = JobStatus::Cancelled;
            axum::Json(json!({})).into_response()
        }
        Some(_) => error(400, "the job has already ended"),
        None => error(404, &format!("job {id} not found")),
    }
}

async fn download(
    State(shared): State<Arc<Shared>>,
    Path((id, name)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    record(&shared, &method, &uri, &headers, "");
    let mut inner = shared.inner.lock().unwrap();
    let Some(bytes) = inner.files.get(&format!("{id}/{name}")).cloned() else { return error(404, "no such file") };
    let faults = &mut inner.faults;
    if faults.expired_links > 0 {
        faults.expired_links -= 1;
        return error(403, "Request has expired");
    }
    if faults.download_unavailable > 0 {
        faults.download_unavailable -= 1;
        return error(503, "slow down");
    }
    if faults.reset_mid_body > 0 {
        faults.reset_mid_body -= 1;
        let half = Bytes::from(bytes[..bytes.len() / 2].to_vec());
        let stream = futures::stream::iter(vec![
            Ok::<Bytes, std::io::Error>(half),
            Err(std::io::Error::other("connection reset")),
        ]);
        return Response::builder()
            .header(header::CONTENT_LENGTH, bytes.len())
            .body(Body::from_stream(stream))
            .unwrap();
    }
    if faults.stalled > 0 {
        faults.stalled -= 1;
        let half = Bytes::from(bytes[..bytes.len() / 2].to_vec());
        let rest = Bytes::from(bytes[bytes.len() / 2..].to_vec());
        let stream =
            futures::stream::iter(vec![Ok::<Bytes, std::io::Error>(half)]).chain(futures::stream::once(async move {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                Ok(rest)
            }));
        return Response::builder()
            .header(header::CONTENT_LENGTH, bytes.len())
            .body(Body::from_stream(stream))
            .unwrap();
    }
    if faults.truncated > 0 {
        faults.truncated -= 1;
        let part = Bytes::from(bytes[..bytes.len() * 2 / 3].to_vec());
        let stream = futures::stream::iter(vec![Ok::<Bytes, std::io::Error>(part)]);
        return Response::builder().body(Body::from_stream(stream)).unwrap();
    }
    if faults.corrupted > 0 {
        faults.corrupted -= 1;
        let mut damaged = bytes.clone();
        let middle = damaged.len() / 2;
        for b in &mut damaged[middle..(middle + 64).min(bytes.len())] {
            *b = !*b;
        }
        return damaged.into_response();
    }
    bytes.into_response()
}

pub fn write_credentials_file(home: &std::path::Path, current: &str, profiles: &[(&str, &str)]) -> PathBuf {
    let profiles: serde_json::Map<String, serde_json::Value> = profiles
        .iter()
        .map(|(name, token)| ((*name).to_string(), json!({"token": token, "tenant_id": "gcp-us-east1", "organization_id": "ac_test", "user_email": "admin@acme-geo.com"})))
        .collect();
    let path = home.join(".carto_credentials.json");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(json!({"current_profile": current, "profiles": profiles}).to_string().as_bytes())
        .unwrap();
    path
}
