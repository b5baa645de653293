//! Every detail of CARTO's Activity Data wire contract (`shared/carto-activity-api.md`) in one
//! place: hosts, paths, field names, status values. A change on CARTO's side touches this file.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub const DEFAULT_API_URL: &str = "https://accounts.app.carto.com";
pub const DEFAULT_AUTH_URL: &str = "https://auth.carto.com";
pub const JOBS_PATH: &str = "/activity-data-jobs";
pub const TOKEN_PATH: &str = "/oauth/token";
pub const AUDIENCE: &str = "carto-cloud-native-api";
pub const GRANT_TYPE: &str = "client_credentials";
/// The longest range one job may cover, both ends inclusive.
pub const MAX_JOB_DAYS: i64 = 60;
/// A UTC day is complete at this hour of the next day.
pub const DAY_READY_HOUR_UTC: u32 = 5;
/// The official CARTO CLI's credentials file, in the home folder.
pub const CREDENTIALS_FILE: &str = ".carto_credentials.json";

pub fn job_path(id: &str) -> String {
    format!("{JOBS_PATH}/{id}")
}

pub fn cancel_path(id: &str) -> String {
    format!("{JOBS_PATH}/{id}/cancel")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Parquet,
    Csv,
}

impl crate::choice::Named for FileFormat {
    const NAMES: &'static [(&'static str, Self, &'static str)] =
        &[("parquet", FileFormat::Parquet, ""), ("csv", FileFormat::Csv, "")];
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRequest {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub format: FileFormat,
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Pending,
    Running,
    Success,
    Failure,
    Cancelled,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    pub status: JobStatus,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub files: Option<Vec<JobFile>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobFile {
    pub category: String,
    pub url: String,
    #[serde(default)]
    pub size_bytes: Option<u64>,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// Error bodies: `{"error": "message"}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: u64,
    #[serde(default)]
    pub token_type: Option<String>,
}

/// `~/.carto_credentials.json`, as CARTO's CLI writes it (read field by field: see
/// `credentials::read_credentials`).
pub struct CredentialsFile {
    pub current_profile: Option<String>,
    pub profiles: HashMap<String, Profile>,
}

pub struct Profile {
    pub token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_speak_camel_case() {
        let request = JobRequest {
            start_date: NaiveDate::from_ymd_opt(2025, 10, 1).unwrap(),
            end_date: NaiveDate::from_ymd_opt(2025, 10, 7).unwrap(),
            format: FileFormat::Parquet,
            categories: vec!["activity".into()],
        };
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            r#"{"startDate":"2025-10-01","endDate":"2025-10-07","format":"parquet","categories":["activity"]}"#
        );
        let job: Job = serde_json::from_str(
            r#"{"id":"adj_1","status":"success","error":null,"files":[{"category":"activity","url":"u","sizeBytes":3,"expiresAt":"x"}]}"#,
        )
        .unwrap();
        assert_eq!(job.status, JobStatus::Success);
        assert_eq!(job.files.unwrap()[0].size_bytes, Some(3));
    }
}
