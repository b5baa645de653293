//! A deterministic synthetic organisation, so that everything works without a CARTO account.
//!
//! The people (with when they joined, left and how active they are) and everything they make
//! over the years (with owner, creation and deletion) derive from the seed alone; a day's events
//! and API usage from (seed, day, scale) alone, so any range gives the same rows for a given day.
//! Each day, members act by the chance of their activity level (weekends much less); the
//! timeline's creations, deletions, invitations and departures happen when it says, and the rest
//! of the day's events use what exists that day, by the people who act.

use std::sync::{Arc, OnceLock};

use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
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

mod day;
mod fetch;
mod payloads;
mod people;
mod things;
mod vocabulary;

pub(crate) use fetch::fetch;
use people::Person;
use things::{Kind, Things};
use vocabulary::*;

pub const DEFAULT_SEED: u64 = 42;

/// The organisation: people and things, derived from the seed alone.
pub struct DemoOrg {
    seed: u64,
    events_per_day: u32,
    people: Vec<Person>,
    group_ids: Vec<Vec<String>>,
    groups: Vec<(String, &'static str)>,
    /// Made on first use: a query over cached days never needs it.
    things: OnceLock<Things>,
    types: Vec<EventType>,
    /// The types of the day's use (the timeline's own events weigh nothing here).
    usage_index: WeightedIndex<f64>,
    /// The types a day's use falls back on: a login when nothing exists yet, a request that
    /// opens the first conversation.
    logins: usize,
    ai_request: usize,
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

fn micros_at(day: NaiveDate, micros_of_day: i64) -> i64 {
    Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN)).timestamp_micros() + micros_of_day
}

impl DemoOrg {
    pub fn new(seed: u64, events_per_day: u32) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let groups: Vec<(String, &'static str)> =
            GROUP_ALIASES.iter().map(|alias| (id(&mut rng, "grp_", 12), *alias)).collect();
        let people = people::people(&mut rng);
        let group_ids = people
            .iter()
            .map(|_| {
                let mut ids: Vec<String> = Vec::new();
                for _ in 0..rng.random_range(0..=3) {
                    let g = pick(&mut rng, &groups).0.clone();
                    if !ids.contains(&g) {
                        ids.push(g);
                    }
                }
                ids
            })
            .collect();
        let types = event_types();
        let usage_index =
            WeightedIndex::new(types.iter().map(|t| if LIFECYCLE.contains(&t.name.as_str()) { 0.0 } else { t.weight }))
                .expect("positive weights");
        let named = |name: &str| types.iter().position(|t| t.name == name).expect("in the vocabulary");
        let (logins, ai_request) = (named("UserLogins"), named("AIRequest"));
        DemoOrg {
            seed,
            events_per_day,
            people,
            group_ids,
            groups,
            things: OnceLock::new(),
            types,
            usage_index,
            logins,
            ai_request,
        }
    }

    fn things(&self) -> &Things {
        self.things.get_or_init(|| things::timeline(self.seed, &self.people))
    }

    /// The position of an event type the generator names itself.
    fn type_named(&self, name: &str) -> usize {
        self.types.iter().position(|t| t.name == name).expect("the generator names types of its vocabulary")
    }

    pub fn events_per_day(&self) -> u32 {
        self.events_per_day
    }

    fn day_rng(&self, day: NaiveDate, stream: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(((epoch_day(day) as u64) << 8) | stream);
        rng
    }

    /// How many events happen on `day` (about): fewer at weekends, a little noise on weekdays,
    /// and a gentle growth over the months.
    pub fn events_on(&self, day: NaiveDate) -> usize {
        let mut rng = self.day_rng(day, 0);
        let base = self.events_per_day as f64;
        let factor = match day.weekday() {
            chrono::Weekday::Sat | chrono::Weekday::Sun => 0.12 + rng.random_range(0.0..0.08),
            _ => 0.9 + rng.random_range(0.0..0.2),
        };
        let months_since_2025 = (day.year() - 2025) * 12 + day.month0() as i32;
        let growth = (1.0 + 0.008 * months_since_2025 as f64).clamp(0.75, 1.25);
        ((base * factor * growth).round() as usize).max(1)
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
        let mut events = day::DayEvents::new(self, day);
        std::iter::from_fn(move || {
            let events = events.as_mut()?;
            let count = events.remaining().min(rows);
            if count == 0 {
                return None;
            }
            let mut types = StringBuilder::with_capacity(count, count * 16);
            let mut data = StringBuilder::with_capacity(count, count * 260);
            let mut ts = Vec::with_capacity(count);
            while let Some((at, name, payload)) = (ts.len() < count).then(|| events.next_event()).flatten() {
                types.append_value(name);
                data.append_value(payload.to_string());
                ts.push(at);
            }
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

    /// One day of `apiUsage`: rows per (person acting that day, metric) for some of them, on
    /// the maps and workflows in use, plus public usage with no user.
    pub fn api_usage(&self, day: NaiveDate) -> Result<RecordBatch, ArrowError> {
        let Some(cast) = self.cast(day) else {
            return Ok(RecordBatch::new_empty(Category::ApiUsage.schema()));
        };
        let things = self.things();
        let (maps, workflows) = (things.shelf(Kind::Map).in_use(day), things.shelf(Kind::Workflow).in_use(day));
        let used = |in_use: &Option<things::InUse>, shelf: &things::Shelf, rng: &mut ChaCha8Rng| {
            in_use.as_ref().map(|u| shelf.things[u.things[u.index.sample(rng)]].id.clone())
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
            map_id.push(if name == "maps_api_requests" { used(&maps, things.shelf(Kind::Map), rng) } else { None });
            workflow_id.push(if name == "workflow_executions" {
                used(&workflows, things.shelf(Kind::Workflow), rng)
            } else {
                None
            });
            weight.push(w);
        };
        for &u in &cast.actors {
            if !rng.random_bool(share) {
                continue;
            }
            for m in METRICS {
                if rng.random_bool(0.45) {
                    push(&mut rng, Some(&self.people[u].id), m);
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

    /// The people with an account: those who left are gone from it (their events remain).
    pub fn user_list(&self) -> Result<RecordBatch, ArrowError> {
        let members: Vec<usize> = (0..self.people.len()).filter(|&i| self.people[i].left.is_none()).collect();
        let mut groups = ListBuilder::new(StringBuilder::new());
        for &i in &members {
            for g in &self.group_ids[i] {
                groups.values().append_value(g);
            }
            groups.append(true);
        }
        let people = || members.iter().map(|&i| &self.people[i]);
        RecordBatch::try_new(
            Category::UserList.schema(),
            vec![
                Arc::new(StringArray::from_iter_values(people().map(|u| &u.id))) as ArrayRef,
                Arc::new(StringArray::from_iter_values(people().map(|u| &u.email))),
                Arc::new(StringArray::from_iter_values(people().map(|u| u.role))),
                Arc::new(
                    TimestampMicrosecondArray::from_iter_values(people().map(|u| u.created_at)).with_timezone("UTC"),
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
