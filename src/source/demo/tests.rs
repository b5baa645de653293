//! The demo organisation is deterministic, plausible, and empty before it existed.

use super::*;
use chrono::Datelike;
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
    let gone = org.people.iter().filter(|p| p.left.is_some()).count();
    assert!(gone > 0 && users.num_rows() == people::PEOPLE - gone, "those who left are not listed");
    let emails: HashSet<&str> = users.column(1).as_string::<i32>().iter().flatten().collect();
    assert_eq!(emails.len(), users.num_rows(), "emails are unique");
    let roles: HashSet<&str> = users.column(2).as_string::<i32>().iter().flatten().collect();
    assert_eq!(roles, HashSet::from(["Admin", "Editor", "Viewer"]));
    assert_eq!(org.group_list().unwrap().num_rows(), 12);

    let batch = org.activity(day("2025-10-01")).unwrap();
    assert!((18_000..=24_000).contains(&batch.num_rows()), "{}", batch.num_rows());
    let mut by_type: HashMap<&str, usize> = HashMap::new();
    for t in batch.column(0).as_string::<i32>().iter().flatten() {
        *by_type.entry(t).or_default() += 1;
    }
    assert!(by_type.len() > 80, "a wide mix of event types: {}", by_type.len());
    assert!(by_type["MapLoadedEvent"] > by_type["MapUpdated"] * 5, "a skewed mix");
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

/// Every event of a month, as (day, type, payload).
fn month(org: &DemoOrg, first: &str) -> Vec<(NaiveDate, String, Value)> {
    let first = day(first);
    let mut events = Vec::new();
    for d in first.iter_days().take_while(|d| d.month() == first.month()) {
        let batch = org.activity(d).unwrap();
        let types = batch.column(0).as_string::<i32>();
        let data = batch.column(2).as_string::<i32>();
        for i in 0..batch.num_rows() {
            events.push((d, types.value(i).to_string(), serde_json::from_str(data.value(i)).unwrap()));
        }
    }
    events
}

fn user_of(payload: &Value) -> Option<&str> {
    payload.get("userId").and_then(Value::as_str)
}

#[test]
fn people_act_by_their_level_and_rest_at_weekends() {
    let org = DemoOrg::new(DEFAULT_SEED, 2_000);
    let events = month(&org, "2025-10-01");
    let mut active: HashMap<NaiveDate, HashSet<&str>> = HashMap::new();
    for (d, _, payload) in &events {
        active.entry(*d).or_default().extend(user_of(payload));
    }
    let by_day = |d: &str| active[&day(d)].len();
    // Daily active users vary from one weekday to the next, and weekends are far quieter.
    let weekdays: HashSet<usize> =
        ["2025-10-06", "2025-10-07", "2025-10-08", "2025-10-09", "2025-10-10"].iter().map(|d| by_day(d)).collect();
    assert!(weekdays.len() > 1, "daily active users are not flat: {weekdays:?}");
    assert!(by_day("2025-10-11") * 3 < by_day("2025-10-10"), "{} at the weekend", by_day("2025-10-11"));
    // Some members do nothing in a month.
    let month_active: HashSet<&str> = active.values().flatten().copied().collect();
    let users = org.user_list().unwrap();
    let idle = users.column(0).as_string::<i32>().iter().flatten().filter(|u| !month_active.contains(u)).count();
    assert!(idle > 5 && idle < users.num_rows() / 3, "{idle} members idle in the month");
}

#[test]
fn things_are_created_once_by_their_owner_and_not_used_after_deletion() {
    let org = DemoOrg::new(DEFAULT_SEED, 2_000);
    let events = month(&org, "2025-10-01");
    let mut created: HashSet<&str> = HashSet::new();
    let mut deleted: HashMap<&str, NaiveDate> = HashMap::new();
    for (d, kind, payload) in &events {
        if kind == "MapCreated" {
            let id = payload["mapId"].as_str().unwrap();
            assert!(created.insert(id), "{id} created twice");
            assert_eq!(user_of(payload), payload["map"]["ownerId"].as_str(), "the creator owns the map");
        }
        if kind == "MapDeleted" {
            deleted.insert(payload["mapId"].as_str().unwrap(), *d);
        }
    }
    assert!(created.len() > 20 && !deleted.is_empty(), "{} created, {} deleted", created.len(), deleted.len());
    for (d, kind, payload) in &events {
        let Some(id) = payload.get("mapId").and_then(Value::as_str) else { continue };
        if let Some(gone) = deleted.get(id) {
            assert!(d < gone || (d == gone && kind == "MapDeleted"), "{id} used by {kind} on {d}, deleted on {gone}");
        }
        if created.contains(id) && kind != "MapCreated" {
            let made = events.iter().find(|(_, k, p)| k == "MapCreated" && p["mapId"] == id).unwrap().0;
            assert!(*d > made, "{id} used by {kind} on {d}, created on {made}");
        }
    }
    // Conversations answer requests made earlier that day, with the same agent.
    let mut asked: HashMap<&str, &str> = HashMap::new();
    for (_, kind, payload) in &events {
        let (Some(conversation), Some(agent)) = (payload["conversationId"].as_str(), payload["agentId"].as_str())
        else {
            continue;
        };
        match kind.as_str() {
            "AIRequest" => assert_eq!(*asked.entry(conversation).or_insert(agent), agent),
            _ => assert_eq!(asked.get(conversation), Some(&agent), "{conversation} answered before it was asked"),
        }
    }
    assert!(!asked.is_empty());
}

#[test]
fn the_generator_names_only_types_of_its_vocabulary() {
    let org = DemoOrg::new(DEFAULT_SEED, 10);
    for name in LIFECYCLE {
        org.type_named(name);
    }
}
