//! The demo organisation's people: who joins when, who leaves, how active each one is, and who
//! acts on a given day.

use chrono::{Datelike, NaiveDate, Weekday};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;

use super::vocabulary::{DOMAINS, FIRST_NAMES, LAST_NAMES};
use super::{id, micros_at, pick, pick_weighted};

/// How often someone works in CARTO.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Level {
    /// Every working day, many events.
    Power,
    Regular,
    Occasional,
    /// Has an account, rarely opens it.
    Dormant,
}

impl Level {
    /// The chance of acting on a weekday (weekends: a fraction of it).
    fn chance(self) -> f64 {
        match self {
            Level::Power => 0.95,
            Level::Regular => 0.7,
            Level::Occasional => 0.25,
            Level::Dormant => 0.02,
        }
    }

    /// A share of the day's events, relative to others who act that day.
    pub(super) fn weight(self) -> f64 {
        match self {
            Level::Power => 10.0,
            Level::Regular => 3.0,
            Level::Occasional => 1.0,
            Level::Dormant => 0.5,
        }
    }
}

pub(super) struct Person {
    pub(super) id: String,
    pub(super) email: String,
    pub(super) role: &'static str,
    /// When the account was created (the invitation), in microseconds.
    pub(super) created_at: i64,
    pub(super) joined: NaiveDate,
    /// The day an admin deleted the account; gone from the user list.
    pub(super) left: Option<NaiveDate>,
    pub(super) level: Level,
}

impl Person {
    /// Has an account on `day` (the day of leaving excluded).
    pub(super) fn member_on(&self, day: NaiveDate) -> bool {
        self.joined <= day && self.left.is_none_or(|left| day < left)
    }

    pub(super) fn can_create(&self) -> bool {
        self.role != "Viewer"
    }
}

pub(super) const PEOPLE: usize = 300;
/// The founding admins, who never leave; the organisation has no one before them.
const FOUNDERS: usize = 8;
/// Departures all lie before this day, so the user list is the same whenever it is asked for.
const LAST_DEPARTURE: (i32, u32, u32) = (2026, 6, 30);

pub(super) fn people(rng: &mut ChaCha8Rng) -> Vec<Person> {
    let first_hire = NaiveDate::from_ymd_opt(2016, 1, 1).expect("valid date");
    let last_departure =
        NaiveDate::from_ymd_opt(LAST_DEPARTURE.0, LAST_DEPARTURE.1, LAST_DEPARTURE.2).expect("valid date");
    (0..PEOPLE)
        .map(|i| {
            let first = pick(rng, &FIRST_NAMES);
            let last = pick(rng, &LAST_NAMES);
            let domain = pick_weighted(rng, &DOMAINS);
            let founder = i < FOUNDERS;
            let role = match (founder, rng.random_range(0..100)) {
                (true, _) | (false, 0..4) => "Admin",
                (false, 4..50) => "Editor",
                _ => "Viewer",
            };
            // The founding admins date from February 2015; the rest joined over the years since.
            let joined = if founder {
                NaiveDate::from_ymd_opt(2015, 2, 1 + i as u32).expect("valid date")
            } else {
                first_hire + chrono::Duration::days(rng.random_range(0..3_900))
            };
            let created_at = micros_at(joined, rng.random_range(8 * 3600..18 * 3600) * 1_000_000);
            let level = match (founder, rng.random_range(0..100)) {
                (true, 0..40) | (false, 0..6) => Level::Power,
                (true, _) | (false, 6..36) => Level::Regular,
                (false, 36..80) => Level::Occasional,
                _ => Level::Dormant,
            };
            let stay_days = rng.random_range(60..1_500);
            let left = (!founder && rng.random_bool(0.12))
                .then(|| joined + chrono::Duration::days(stay_days))
                .filter(|day| *day <= last_departure);
            Person {
                id: id(rng, "auth0|", 24),
                email: format!("{}.{}{}@{}", first, last.replace('\'', ""), i, domain),
                role,
                created_at,
                joined,
                left,
                level,
            }
        })
        .collect()
}

/// Picks people by their activity level, among those a test accepts.
pub(super) struct Chooser {
    index: WeightedIndex<f64>,
}

impl Chooser {
    pub(super) fn new(people: &[Person]) -> Self {
        Chooser { index: WeightedIndex::new(people.iter().map(|p| p.level.weight())).expect("positive weights") }
    }

    /// Someone for whom `accept` holds, drawn by activity; `fallback` when a few draws find
    /// no one (early days, when few have joined).
    pub(super) fn choose(
        &self,
        rng: &mut impl RngCore,
        people: &[Person],
        accept: impl Fn(&Person) -> bool,
        fallback: usize,
    ) -> usize {
        (0..64).map(|_| self.index.sample(rng)).find(|&i| accept(&people[i])).unwrap_or(fallback)
    }
}

/// Who acts on a day: each member by the chance of their level, much less at weekends.
pub(super) fn acting_on(people: &[Person], day: NaiveDate, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
    let factor = if weekend { 0.12 } else { 1.0 };
    (0..people.len())
        .filter(|&i| {
            // The coin is drawn for everyone, member or not, so a person's days do not depend
            // on who else exists.
            let coin = rng.random::<f64>();
            people[i].member_on(day) && coin < people[i].level.chance() * factor
        })
        .collect()
}

/// A founder who answers for the organisation (invites, deletions) on `day`.
pub(super) fn an_admin(rng: &mut impl Rng, people: &[Person], day: NaiveDate) -> usize {
    let members: Vec<usize> = (0..FOUNDERS).filter(|&i| people[i].member_on(day)).collect();
    if members.is_empty() { 0 } else { members[rng.random_range(0..members.len())] }
}
