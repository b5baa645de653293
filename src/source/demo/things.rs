//! What the demo organisation's people make: connections, maps, workflows, AI agents and API
//! tokens, each created once by someone who may (the creator is the owner), used while it
//! lives, perhaps deleted, and never used again after.
//!
//! The whole timeline derives from the seed alone, so any day sees the same things whatever
//! range is asked for.

use std::ops::Range;

use chrono::{Datelike, NaiveDate, Weekday};
use rand::distr::weighted::WeightedIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::people::{Chooser, Person};
use super::vocabulary::{MAP_TITLES, PROVIDERS, WORKFLOW_TITLES};
use super::{id, micros_at, pick};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Connection,
    Map,
    Workflow,
    Agent,
    Token,
}

impl Kind {
    const ALL: [Kind; 5] = [Kind::Connection, Kind::Map, Kind::Workflow, Kind::Agent, Kind::Token];

    /// (id prefix, made per weekday by a full organisation, share deleted one day, days
    /// lived by those, days it stays in use after creation)
    fn rules(self) -> (&'static str, f64, f64, Range<i64>, i64) {
        match self {
            Kind::Connection => ("conn_", 0.04, 0.1, 200..2_000, i64::MAX),
            Kind::Map => ("map_", 8.0, 0.25, 3..400, 730),
            Kind::Workflow => ("wf_", 3.0, 0.2, 3..400, 730),
            Kind::Agent => ("agent_", 0.15, 0.2, 30..400, 730),
            Kind::Token => ("tok_", 0.6, 0.5, 1..200, 730),
        }
    }

    pub(super) fn horizon(self) -> i64 {
        self.rules().4
    }
}

pub(super) struct Thing {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) owner: usize,
    pub(super) provider: &'static str,
    pub(super) created: NaiveDate,
    pub(super) created_at: i64,
    pub(super) deleted: Option<(NaiveDate, i64)>,
    /// How much it is used, relative to others of its kind (a long tail).
    pub(super) popularity: f64,
    /// Loaded by anonymous viewers too.
    pub(super) public: bool,
    /// The share of the organisation who open it.
    pub(super) audience: f64,
    /// The connection a map, workflow or token uses; the map an agent works on.
    pub(super) link: usize,
}

impl Thing {
    /// In use on `day`: created before it, not deleted on or before it.
    fn usable_on(&self, day: NaiveDate) -> bool {
        self.created < day && self.deleted.is_none_or(|(gone, _)| day < gone)
    }
}

/// The things of one kind, in the order they were created.
pub(super) struct Shelf {
    kind: Kind,
    pub(super) things: Vec<Thing>,
    /// (day, thing) of every deletion, by day.
    deletions: Vec<(NaiveDate, usize)>,
}

/// The things of a kind in use on one day, drawn by popularity (fading with age).
pub(super) struct InUse {
    pub(super) things: Vec<usize>,
    pub(super) index: WeightedIndex<f64>,
}

impl Shelf {
    pub(super) fn created_on(&self, day: NaiveDate) -> Range<usize> {
        self.things.partition_point(|t| t.created < day)..self.things.partition_point(|t| t.created <= day)
    }

    pub(super) fn deleted_on(&self, day: NaiveDate) -> impl Iterator<Item = usize> + '_ {
        let start = self.deletions.partition_point(|(d, _)| *d < day);
        self.deletions[start..].iter().take_while(move |(d, _)| *d == day).map(|(_, i)| *i)
    }

    pub(super) fn in_use(&self, day: NaiveDate) -> Option<InUse> {
        let horizon = self.kind.horizon();
        let oldest = day.checked_sub_days(chrono::Days::new(horizon.min(100_000) as u64)).unwrap_or(NaiveDate::MIN);
        let from = self.things.partition_point(|t| t.created < oldest);
        let things: Vec<usize> = (from..self.things.len())
            .take_while(|&i| self.things[i].created < day)
            .filter(|&i| self.things[i].usable_on(day))
            .collect();
        let weight = |i: &usize| {
            let thing = &self.things[*i];
            thing.popularity / (1.0 + (day - thing.created).num_days() as f64 / 120.0)
        };
        let index = WeightedIndex::new(things.iter().map(weight)).ok()?;
        Some(InUse { things, index })
    }
}

/// The shelves of the five kinds, in [`Kind::ALL`]'s order.
pub(super) struct Things([Shelf; 5]);

impl Things {
    pub(super) fn shelf(&self, kind: Kind) -> &Shelf {
        &self.0[kind as usize]
    }

    fn shelf_mut(&mut self, kind: Kind) -> &mut Shelf {
        &mut self.0[kind as usize]
    }
}

/// The founding day, when the first admins set up two connections; the last day things are made.
const FIRST_DAY: (i32, u32, u32) = (2015, 2, 1);
const LAST_DAY: (i32, u32, u32) = (2030, 12, 31);

/// Everything the organisation makes from its founding to [`LAST_DAY`].
pub(super) fn timeline(seed: u64, people: &[Person]) -> Things {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7468_696e_6773);
    let chooser = Chooser::new(people);
    let mut things = Things(Kind::ALL.map(|kind| Shelf { kind, things: Vec::new(), deletions: Vec::new() }));
    let first = NaiveDate::from_ymd_opt(FIRST_DAY.0, FIRST_DAY.1, FIRST_DAY.2).expect("valid date");
    let last = NaiveDate::from_ymd_opt(LAST_DAY.0, LAST_DAY.1, LAST_DAY.2).expect("valid date");
    for day in first.iter_days().take_while(|d| *d <= last) {
        let members = people.iter().filter(|p| p.member_on(day)).count() as f64 / people.len() as f64;
        let weekday = if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) { 0.15 } else { 1.0 };
        for kind in Kind::ALL {
            let expected = kind.rules().1 * members * weekday;
            let founding = if kind == Kind::Connection && day == first { 2 } else { 0 };
            let count = (expected.floor() as usize + usize::from(rng.random_bool(expected.fract()))).max(founding);
            for _ in 0..count {
                if let Some(thing) = make(&mut rng, &things, kind, day, people, &chooser, founding > 0) {
                    let shelf = things.shelf_mut(kind);
                    if let Some((gone, _)) = thing.deleted {
                        shelf.deletions.push((gone, shelf.things.len()));
                    }
                    shelf.things.push(thing);
                }
            }
        }
    }
    for kind in Kind::ALL {
        things.shelf_mut(kind).deletions.sort();
    }
    things
}

/// One new thing of `kind` made on `day`, or none when what it needs (a map for an agent)
/// is not there.
fn make(
    rng: &mut ChaCha8Rng,
    things: &Things,
    kind: Kind,
    day: NaiveDate,
    people: &[Person],
    chooser: &Chooser,
    founding: bool,
) -> Option<Thing> {
    let (prefix, _, deleted_share, lifetime, _) = kind.rules();
    let owner = chooser.choose(rng, people, |p| p.member_on(day) && p.can_create(), 0);
    let link = match kind {
        Kind::Connection => 0,
        Kind::Agent => recent_usable(rng, things.shelf(Kind::Map), day)?,
        _ => recent_usable(rng, things.shelf(Kind::Connection), day).unwrap_or(0),
    };
    let created_at = micros_at(day, rng.random_range(7 * 3600..20 * 3600) * 1_000_000);
    let lived = rng.random_range(lifetime);
    let mut deleted = (!founding && rng.random_bool(deleted_share)).then(|| {
        let gone = day + chrono::Duration::days(lived);
        (gone, micros_at(gone, rng.random_range(7 * 3600..20 * 3600) * 1_000_000))
    });
    if kind == Kind::Agent {
        // An agent goes with its map.
        let map_gone = things.shelf(Kind::Map).things[link].deleted;
        if map_gone.is_some_and(|m| deleted.is_none_or(|d| m < d)) {
            deleted = map_gone;
        }
    }
    let n = things.shelf(kind).things.len();
    let provider = match kind {
        Kind::Connection => PROVIDERS[rng.random_range(0..PROVIDERS.len())],
        Kind::Agent => "carto",
        _ => things.shelf(Kind::Connection).things.get(link).map_or("carto_dw", |c| c.provider),
    };
    let title = match kind {
        Kind::Connection => format!("{provider} {}", ["prod", "analytics", "sandbox", "eu", "us"][n % 5]),
        Kind::Map => format!("{} #{n}", pick(rng, &MAP_TITLES)),
        Kind::Workflow => format!("{} #{n}", pick(rng, &WORKFLOW_TITLES)),
        Kind::Agent => format!("Assistant for {}", things.shelf(Kind::Map).things[link].title),
        Kind::Token => String::new(),
    };
    Some(Thing {
        id: id(rng, prefix, if kind == Kind::Agent { 12 } else { 16 }),
        title,
        owner,
        provider,
        created: day,
        created_at,
        deleted,
        popularity: (1.0 / rng.random_range(0.001f64..1.0)).powf(0.9),
        public: rng.random_bool(0.3),
        audience: rng.random_range(0.02..0.4),
        link,
    })
}

/// A thing made in the last two months and still in use on `day`, if a few draws find one.
fn recent_usable(rng: &mut ChaCha8Rng, shelf: &Shelf, day: NaiveDate) -> Option<usize> {
    let end = shelf.things.partition_point(|t| t.created < day);
    let start = match shelf.kind {
        Kind::Connection => 0,
        _ => shelf.things.partition_point(|t| t.created < day - chrono::Duration::days(60)),
    };
    (start < end)
        .then(|| (0..16).map(|_| rng.random_range(start..end)).find(|&i| shelf.things[i].usable_on(day)))
        .flatten()
}
