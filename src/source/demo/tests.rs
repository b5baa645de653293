//! The demo organisation is deterministic, plausible, and empty before it existed.

use super::*;
use datafusion::arrow::array::{Array, AsArray};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn a_day_depends_only_on_seed_day_and_scale() {
    let a = DemoOrg::new(DEFAULT_SEED, 500);
    let b = DemoOrg::new(DEFAULT_SEED, 500);
    // b generates another day first: it must not change what 2025-10-02 looks like.
    b.activity(day("2025-10-01")).unwrap();
    assert_eq!(a.activity(day("2025-10-02")).unwrap(), b.activity(day("2025-10-02")).unwrap());
    assert_eq!(a.api_usage(day("2025-10-02")).unwrap(), b.api_usage(day("2025-10-02")).unwrap());
    let other_seed = DemoOrg::new(7, 500);
    assert_ne!(a.activity(day("2025-10-02")).unwrap(), other_seed.activity(day("2025-10-02")).unwrap());
}

#[test]
fn a_day_in_batches_is_the_same_day() {
    let org = DemoOrg::new(DEFAULT_SEED, 5_000);
    let whole = org.activity(day("2025-10-01")).unwrap();
    let chunks: Vec<RecordBatch> = org.activity_chunks(day("2025-10-01"), 777).collect::<Result<_, _>>().unwrap();
    assert!(chunks.len() > 5 && chunks.iter().all(|c| c.num_rows() <= 777));
    let joined = datafusion::arrow::compute::concat_batches(&whole.schema(), &chunks).unwrap();
    assert_eq!(joined, whole, "the size of the batches changes nothing");
    assert_eq!(org.activity_chunks(day("2014-01-01"), 777).count(), 0, "no batch before the organisation existed");
}

#[test]
fn looks_like_a_real_organisation() {
    let org = DemoOrg::new(DEFAULT_SEED, 20_000);
    let users = org.user_list().unwrap();
    assert_eq!(users.num_rows(), USERS);
    let emails: HashSet<&str> = users.column(1).as_string::<i32>().iter().flatten().collect();
    assert_eq!(emails.len(), USERS, "emails are unique");
    let roles: HashSet<&str> = users.column(2).as_string::<i32>().iter().flatten().collect();
    assert_eq!(roles, HashSet::from(["Admin", "Editor", "Viewer"]));
    assert_eq!(org.group_list().unwrap().num_rows(), 12);

    let batch = org.activity(day("2025-10-01")).unwrap();
    assert!((18_000..=22_000).contains(&batch.num_rows()));
    let mut by_type: HashMap<&str, usize> = HashMap::new();
    for t in batch.column(0).as_string::<i32>().iter().flatten() {
        *by_type.entry(t).or_default() += 1;
    }
    assert!(by_type.len() > 80, "a wide mix of event types: {}", by_type.len());
    assert!(by_type["MapLoadedEvent"] > by_type["MapCreated"] * 10, "a skewed mix");
    let data = batch.column(2).as_string::<i32>();
    let mut without_user = 0;
    for payload in data.iter().flatten() {
        assert!((80..=600).contains(&payload.len()), "payload of {} bytes: {payload}", payload.len());
        let v: Value = serde_json::from_str(payload).unwrap();
        without_user += usize::from(v.get("userId").is_none());
    }
    assert!(without_user > 0 && without_user < batch.num_rows() / 5);
    let ts = batch.column(1).as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
    assert!(ts.values().windows(2).all(|w| w[0] <= w[1]), "ordered by time");
    assert!(ts.values().iter().any(|t| t % 1000 != 0), "microsecond precision");

    let usage = org.api_usage(day("2025-10-01")).unwrap();
    assert!(usage.num_rows() > 50);
    assert!(usage.column(1).null_count() > 0, "some public usage without a user");
}

#[test]
fn weekends_are_quieter() {
    let org = DemoOrg::new(DEFAULT_SEED, 10_000);
    assert!(org.events_on(day("2025-10-04")) < org.events_on(day("2025-10-03")) / 2);
}

#[test]
fn days_before_the_first_account_are_empty() {
    let org = DemoOrg::new(DEFAULT_SEED, 100);
    for d in ["2015-01-01", "2015-01-05", "2015-01-31"] {
        assert_eq!(org.activity(day(d)).unwrap().num_rows(), 0, "{d}");
        assert_eq!(org.api_usage(day(d)).unwrap().num_rows(), 0, "{d}");
    }
    assert!(org.activity(day("2015-02-01")).unwrap().num_rows() > 0, "the founding admin's first day");
}
