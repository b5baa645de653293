//! A deterministic synthetic organisation, so that everything works without a CARTO account.
//!
//! Everything derives from a seed: the people, groups, maps, workflows and connections from the
//! seed alone, and a day's events and API usage from (seed, day, scale) alone, so any range
//! gives the same rows for a given day.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use datafusion::arrow::array::{
    ArrayRef, Float64Array, ListBuilder, RecordBatch, StringArray, StringBuilder, TimestampMicrosecondArray,
};
use datafusion::arrow::error::ArrowError;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use crate::category::Category;
use crate::dates::epoch_day;

mod fetch;
mod vocabulary;

pub(crate) use fetch::fetch;
use vocabulary::*;

pub const DEFAULT_SEED: u64 = 42;
const USERS: usize = 300;
const MAPS: usize = 1_500;
const WORKFLOWS: usize = 600;
const CONNECTIONS: usize = 40;

struct User {
    id: String,
    email: String,
    role: &'static str,
    created_at: i64,
    group_ids: Vec<String>,
    /// How active this person is, relative to others.
    activity: f64,
}

struct Resource {
    id: String,
    title: String,
    owner: usize,
    provider: &'static str,
}

/// The organisation: people and things, derived from the seed alone.
pub struct DemoOrg {
    seed: u64,
    events_per_day: u32,
    users: Vec<User>,
    groups: Vec<(String, &'static str)>,
    maps: Vec<Resource>,
    workflows: Vec<Resource>,
    connections: Vec<Resource>,
    types: Vec<EventType>,
    type_index: WeightedIndex<f64>,
    map_index: WeightedIndex<f64>,
    workflow_index: WeightedIndex<f64>,
}

fn id(rng: &mut impl RngCore, prefix: &str, hex_len: usize) -> String {
    let mut s = String::with_capacity(prefix.len() + hex_len);
    s.push_str(prefix);
    while s.len() < prefix.len() + hex_len {
        s.push_str(&format!("{:016x}", rng.next_u64()));
    }
    s.truncate(prefix.len() + hex_len);
    s
}

fn pick<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn pick_weighted<T: Copy>(rng: &mut impl Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for &(item, w) in items {
        if x < w {
            return item;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

fn zipf_weights(n: usize, s: f64) -> WeightedIndex<f64> {
    WeightedIndex::new((0..n).map(|i| 1.0 / (1.0 + i as f64).powf(s))).expect("weights are positive and finite")
}

fn micros_at(day: NaiveDate, micros_of_day: i64) -> i64 {
    Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN)).timestamp_micros() + micros_of_day
}

impl DemoOrg {
    pub fn new(seed: u64, events_per_day: u32) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let groups: Vec<(String, &'static str)> =
            GROUP_ALIASES.iter().map(|alias| (id(&mut rng, "grp_", 12), *alias)).collect();
        let first_day = NaiveDate::from_ymd_opt(2016, 1, 1).expect("valid date");
        let users = (0..USERS)
            .map(|i| {
                let first = pick(&mut rng, &FIRST_NAMES);
                let last = pick(&mut rng, &LAST_NAMES);
                let domain = pick_weighted(&mut rng, &DOMAINS);
                let role = match rng.random_range(0..100) {
                    0..5 => "Admin",
                    5..50 => "Editor",
                    _ => "Viewer",
                };
                // The founding admins date from 2015; the rest joined over the years since,
                // a few of them after the demo's favourite month (October 2025).
                let created_day = if i < 8 {
                    NaiveDate::from_ymd_opt(2015, 2, 1 + i as u32).expect("valid date")
                } else {
                    first_day + chrono::Duration::days(rng.random_range(0..3_900))
                };
                let created_at = micros_at(created_day, rng.random_range(8 * 3600..18 * 3600) * 1_000_000);
                let n_groups = rng.random_range(0..=3);
                let mut group_ids: Vec<String> = Vec::new();
                for _ in 0..n_groups {
                    let g = pick(&mut rng, &groups).0.clone();
                    if !group_ids.contains(&g) {
                        group_ids.push(g);
                    }
                }
                User {
                    id: id(&mut rng, "auth0|", 24),
                    email: format!("{}.{}{}@{}", first, last.replace('\'', ""), i, domain),
                    role,
                    created_at,
                    group_ids,
                    activity: 1.0 / (1.0 + (i % 97) as f64).powf(0.8),
                }
            })
            .collect::<Vec<_>>();
        let resources = |rng: &mut ChaCha8Rng, n: usize, prefix: &str, noun: &str| -> Vec<Resource> {
            (0..n)
                .map(|i| Resource {
                    id: id(rng, prefix, 16),
                    title: format!("{} #{}", pick(rng, &MAP_TITLES).replace("Store", noun), i),
                    owner: rng.random_range(0..USERS),
                    provider: PROVIDERS[rng.random_range(0..PROVIDERS.len())],
                })
                .collect()
        };
        let maps = resources(&mut rng, MAPS, "map_", "Store");
        let workflows = resources(&mut rng, WORKFLOWS, "wf_", "Pipeline");
        let connections = resources(&mut rng, CONNECTIONS, "conn_", "Warehouse");
        let types = event_types();
        let type_index = WeightedIndex::new(types.iter().map(|t| t.weight)).expect("positive weights");
        DemoOrg {
            seed,
            events_per_day,
            users,
            groups,
            maps,
            workflows,
            connections,
            types,
            type_index,
            map_index: zipf_weights(MAPS, 1.1),
            workflow_index: zipf_weights(WORKFLOWS, 1.0),
        }
    }

    pub fn events_per_day(&self) -> u32 {
        self.events_per_day
    }

    fn day_rng(&self, day: NaiveDate, stream: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(((epoch_day(day) as u64) << 8) | stream);
        rng
    }

    /// The users who exist on `day`, with their activity weights; `None` before the first
    /// account was created, when the organisation has no events at all.
    fn active_users(&self, day: NaiveDate) -> Option<(Vec<usize>, WeightedIndex<f64>)> {
        let end_of_day = micros_at(day, 86_400_000_000);
        let ids: Vec<usize> = (0..self.users.len()).filter(|&i| self.users[i].created_at < end_of_day).collect();
        let weights = WeightedIndex::new(ids.iter().map(|&i| self.users[i].activity)).ok()?;
        Some((ids, weights))
    }

    /// How many events happen on `day`: fewer at weekends, a little noise on weekdays.
    pub fn events_on(&self, day: NaiveDate) -> usize {
        use chrono::Datelike;
        let mut rng = self.day_rng(day, 0);
        let base = self.events_per_day as f64;
        let factor = match day.weekday() {
            chrono::Weekday::Sat | chrono::Weekday::Sun => 0.25 + rng.random_range(0.0..0.1),
            _ => 0.9 + rng.random_range(0.0..0.2),
        };
        ((base * factor).round() as usize).max(1)
    }

    /// One day of `activity`, ordered by time.
    pub fn activity(&self, day: NaiveDate) -> Result<RecordBatch, ArrowError> {
        let chunks: Vec<RecordBatch> = self.activity_chunks(day, usize::MAX).collect::<Result<_, _>>()?;
        datafusion::arrow::compute::concat_batches(&Category::Activity.schema(), &chunks)
    }

    /// One day of `activity` as batches of at most `rows` events (the same events whatever the
    /// size): memory follows the batch, not the day, at any `--demo-events-per-day`.
    pub fn activity_chunks(
        &self,
        day: NaiveDate,
        rows: usize,
    ) -> impl Iterator<Item = Result<RecordBatch, ArrowError>> + '_ {
        let active = self.active_users(day);
        let n = if active.is_some() { self.events_on(day) } else { 0 };
        let mut rng = self.day_rng(day, 1);
        let mut times: Vec<i64> = (0..n).map(|_| business_micros(&mut rng)).collect();
        times.sort_unstable();
        let mut start = 0;
        std::iter::from_fn(move || {
            let (user_ids, user_index) = active.as_ref()?;
            if start >= times.len() {
                return None;
            }
            let end = times.len().min(start.saturating_add(rows));
            let count = end - start;
            let mut types = StringBuilder::with_capacity(count, count * 16);
            let mut data = StringBuilder::with_capacity(count, count * 260);
            let mut ts = Vec::with_capacity(count);
            for &t in &times[start..end] {
                let event = &self.types[self.type_index.sample(&mut rng)];
                let user = &self.users[user_ids[user_index.sample(&mut rng)]];
                let payload = self.payload(&mut rng, event, user);
                types.append_value(&event.name);
                data.append_value(payload.to_string());
                ts.push(micros_at(day, t));
            }
            start = end;
            Some(RecordBatch::try_new(
                Category::Activity.schema(),
                vec![
                    Arc::new(types.finish()) as ArrayRef,
                    Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")),
                    Arc::new(data.finish()),
                ],
            ))
        })
    }

    fn payload(&self, rng: &mut ChaCha8Rng, event: &EventType, user: &User) -> Value {
        let mut p = Map::new();
        let map = |rng: &mut ChaCha8Rng| &self.maps[self.map_index.sample(rng)];
        let workflow = |rng: &mut ChaCha8Rng| &self.workflows[self.workflow_index.sample(rng)];
        let connection = |rng: &mut ChaCha8Rng| pick(rng, &self.connections);
        let with_user = !matches!(event.payload, Payload::System);
        if with_user {
            p.insert("userId".into(), json!(user.id));
        }
        match event.payload {
            Payload::MapLoad => {
                let m = map(rng);
                // Public maps are loaded by anonymous viewers: no userId.
                if rng.random_bool(0.2) {
                    p.remove("userId");
                }
                p.insert("mapId".into(), json!(m.id));
                p.insert("map".into(), json!({"id": m.id, "title": m.title, "privacy": if rng.random_bool(0.3) { "public" } else { "private" }}));
                p.insert("loadTimeMs".into(), json!(rng.random_range(120..4_000)));
                p.insert("isEmbedded".into(), json!(rng.random_bool(0.15)));
                p.insert("clientId".into(), json!(id(rng, "cl_", 10)));
            }
            Payload::Map => {
                let m = map(rng);
                p.insert("mapId".into(), json!(m.id));
                p.insert("map".into(), json!({"id": m.id, "title": m.title, "ownerId": self.users[m.owner].id}));
                p.insert("connectionId".into(), json!(connection(rng).id));
                p.insert("layers".into(), json!(rng.random_range(1..12)));
            }
            Payload::Workflow => {
                let w = workflow(rng);
                p.insert("workflowId".into(), json!(w.id));
                p.insert("workflow".into(), json!({"id": w.id, "title": w.title}));
                p.insert("provider".into(), json!(w.provider));
                p.insert("nodes".into(), json!(rng.random_range(2..40)));
            }
            Payload::WorkflowRun => {
                let w = workflow(rng);
                p.insert("workflowId".into(), json!(w.id));
                p.insert("provider".into(), json!(w.provider));
                p.insert("connectionId".into(), json!(connection(rng).id));
                let secs = (rng.random_range(0.5f64..900.0) * 1000.0).round() / 1000.0;
                p.insert("runDuration".into(), json!(secs));
                p.insert("scheduled".into(), json!(rng.random_bool(0.4)));
                if event.name.ends_with("Failed") {
                    p.insert("errorMessage".into(), json!(pick(rng, &ERRORS)));
                }
            }
            Payload::Login => {
                p.insert("loginMethod".into(), json!(pick_weighted(rng, &LOGIN_METHODS)));
                p.insert("ip".into(), json!(format!("203.0.113.{}", rng.random_range(1..255))));
                p.insert(
                    "userAgent".into(),
                    json!("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"),
                );
            }
            Payload::Connection => {
                let c = connection(rng);
                p.insert("connectionId".into(), json!(c.id));
                p.insert("provider".into(), json!(c.provider));
                p.insert("connectionName".into(), json!(format!("{} \"prod\", EU", c.title)));
            }
            Payload::Import | Payload::ImportFailed => {
                let c = connection(rng);
                p.insert("fileName".into(), json!(pick(rng, &FILE_NAMES)));
                p.insert("sizeBytes".into(), json!(rng.random_range(1_000u64..2_000_000_000)));
                p.insert("connectionId".into(), json!(c.id));
                p.insert("provider".into(), json!(c.provider));
                if matches!(event.payload, Payload::ImportFailed) {
                    p.insert("errorMessage".into(), json!(pick(rng, &ERRORS)));
                }
            }
            Payload::AiRequest => {
                p.insert("agentId".into(), json!(format!("agent_{}", rng.random_range(1..25))));
                p.insert("conversationId".into(), json!(id(rng, "conv_", 12)));
                p.insert("isNewConversation".into(), json!(rng.random_bool(0.3)));
                p.insert("model".into(), json!(if rng.random_bool(0.7) { "gpt-4.1" } else { "gemini-2.5-pro" }));
                p.insert("promptTokens".into(), json!(rng.random_range(50..4_000)));
                let prompt: Vec<&str> = (0..rng.random_range(1..=5)).map(|_| *pick(rng, &PROMPTS)).collect();
                p.insert("prompt".into(), json!(prompt.join(" ")));
                if rng.random_bool(0.5) {
                    p.insert("mapId".into(), json!(map(rng).id));
                }
            }
            Payload::AiResponse => {
                p.insert("conversationId".into(), json!(id(rng, "conv_", 12)));
                p.insert("completionTokens".into(), json!(rng.random_range(20..2_000)));
                p.insert("latencyMs".into(), json!(rng.random_range(300..20_000)));
            }
            Payload::Token => {
                p.insert("tokenId".into(), json!(id(rng, "tok_", 16)));
                p.insert(
                    "grants".into(),
                    json!([{"connectionId": connection(rng).id, "source": "carto-demo-data.demo_tables.*"}]),
                );
                p.insert("allowedApis".into(), json!(["sql", "maps"]));
            }
            Payload::ExportRequest => {
                p.insert("categories".into(), json!(["activity", "apiUsage"]));
                p.insert("format".into(), json!(if rng.random_bool(0.5) { "parquet" } else { "csv" }));
                p.insert("startDate".into(), json!("2025-09-01"));
                p.insert("endDate".into(), json!("2025-09-30"));
            }
            Payload::Generic => {
                p.insert("resourceId".into(), json!(id(rng, "res_", 12)));
                p.insert("details".into(), json!({"source": "builder", "durationMs": rng.random_range(1..5_000)}));
            }
            Payload::System => {
                p.insert("workflowId".into(), json!(workflow(rng).id));
                p.insert("trigger".into(), json!("schedule"));
                p.insert("details".into(), json!({"queue": "default", "attempt": 1}));
            }
        }
        Value::Object(p)
    }

    /// One day of `apiUsage`: a row per (active user, metric), plus public usage with no user.
    pub fn api_usage(&self, day: NaiveDate) -> Result<RecordBatch, ArrowError> {
        let Some((user_ids, _)) = self.active_users(day) else {
            return Ok(RecordBatch::new_empty(Category::ApiUsage.schema()));
        };
        let mut rng = self.day_rng(day, 2);
        let midnight = micros_at(day, 0);
        let share = (self.events_per_day as f64 / 20_000.0).clamp(0.05, 1.0) * 0.3;
        let (mut user, mut metric, mut amount, mut map_id, mut workflow_id, mut weight) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut push = |rng: &mut ChaCha8Rng, u: Option<&str>, (name, w): (&'static str, f64)| {
            user.push(u.map(str::to_owned));
            metric.push(name);
            amount.push(if name.starts_with("lds") {
                rng.random_range(1..500) as f64
            } else {
                (rng.random_range(1..40_000) as f64) / 4.0
            });
            map_id.push((name == "maps_api_requests").then(|| self.maps[self.map_index.sample(rng)].id.clone()));
            workflow_id.push(
                (name == "workflow_executions").then(|| self.workflows[self.workflow_index.sample(rng)].id.clone()),
            );
            weight.push(w);
        };
        for &u in &user_ids {
            if !rng.random_bool(share) {
                continue;
            }
            for m in METRICS {
                if rng.random_bool(0.45) {
                    push(&mut rng, Some(&self.users[u].id), m);
                }
            }
        }
        for m in &METRICS[..2] {
            push(&mut rng, None, *m);
        }
        let n = metric.len();
        RecordBatch::try_new(
            Category::ApiUsage.schema(),
            vec![
                Arc::new(TimestampMicrosecondArray::from(vec![midnight; n]).with_timezone("UTC")) as ArrayRef,
                Arc::new(StringArray::from(user)),
                Arc::new(StringArray::from(metric)),
                Arc::new(Float64Array::from(amount)),
                Arc::new(StringArray::from(map_id)),
                Arc::new(StringArray::from(workflow_id)),
                Arc::new(Float64Array::from(weight)),
            ],
        )
    }

    pub fn user_list(&self) -> Result<RecordBatch, ArrowError> {
        let mut groups = ListBuilder::new(StringBuilder::new());
        for u in &self.users {
            for g in &u.group_ids {
                groups.values().append_value(g);
            }
            groups.append(true);
        }
        RecordBatch::try_new(
            Category::UserList.schema(),
            vec![
                Arc::new(StringArray::from_iter_values(self.users.iter().map(|u| &u.id))) as ArrayRef,
                Arc::new(StringArray::from_iter_values(self.users.iter().map(|u| &u.email))),
                Arc::new(StringArray::from_iter_values(self.users.iter().map(|u| u.role))),
                Arc::new(
                    TimestampMicrosecondArray::from_iter_values(self.users.iter().map(|u| u.created_at))
                        .with_timezone("UTC"),
                ),
                Arc::new(groups.finish()),
            ],
        )
    }

    pub fn group_list(&self) -> Result<RecordBatch, ArrowError> {
        RecordBatch::try_new(
            Category::GroupList.schema(),
            vec![
                Arc::new(StringArray::from_iter_values(self.groups.iter().map(|g| &g.0))) as ArrayRef,
                Arc::new(StringArray::from_iter_values(self.groups.iter().map(|g| g.1))),
            ],
        )
    }
}

/// Microseconds into a day, mostly in European and American business hours.
fn business_micros(rng: &mut ChaCha8Rng) -> i64 {
    const HOUR_WEIGHTS: [u32; 24] =
        [1, 1, 1, 1, 1, 2, 4, 10, 18, 22, 22, 20, 16, 20, 22, 22, 20, 16, 10, 6, 4, 3, 2, 1];
    let total: u32 = HOUR_WEIGHTS.iter().sum();
    let mut x = rng.random_range(0..total);
    let mut hour = 0;
    while x >= HOUR_WEIGHTS[hour] {
        x -= HOUR_WEIGHTS[hour];
        hour += 1;
    }
    hour as i64 * 3_600_000_000 + rng.random_range(0..3_600_000_000)
}

#[cfg(test)]
mod tests;
