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

use crate::category::Category;
use crate::dates::epoch_day;

mod fetch;
mod payloads;
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
