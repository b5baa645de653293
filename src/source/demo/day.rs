//! One day of the demo organisation: who acts, what the timeline makes happen (creations,
//! deletions, arrivals and departures), and the day's use of what exists, in time order.

use chrono::NaiveDate;
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use super::payloads::Subject;
use super::people::{acting_on, an_admin};
use super::things::{InUse, Kind};
use super::vocabulary::Payload;
use super::{DemoOrg, business_micros, id, micros_at};

/// Who acts on a day, and how much.
pub(super) struct Cast {
    pub(super) actors: Vec<usize>,
    acting: Vec<bool>,
    index: WeightedIndex<f64>,
}

/// What an event refers to, by position in the organisation.
#[derive(Clone, Copy)]
enum About {
    Nothing,
    Thing(Kind, usize),
    Person(usize),
    /// A conversation of the day, by position in the day's list; whether this turn opens it.
    Conversation(usize, bool),
}

/// An event the timeline fixes: at a time, of a type, by someone, about something.
struct Fixed {
    at: i64,
    event: usize,
    user: Option<usize>,
    about: About,
}

const LIFECYCLE_NAMES: [(Kind, &str, &str); 5] = [
    (Kind::Connection, "ConnectionCreated", "ConnectionDeleted"),
    (Kind::Map, "MapCreated", "MapDeleted"),
    (Kind::Workflow, "WorkflowCreated", "WorkflowDeleted"),
    (Kind::Agent, "AIAgentCreated", "AIAgentDeleted"),
    (Kind::Token, "TokenCreated", "TokenDeleted"),
];

impl DemoOrg {
    /// The events the timeline fixes on `day`, by time, and who acts that day (them included);
    /// `None` before anyone has an account.
    fn fixed_and_cast(&self, day: NaiveDate) -> Option<(Vec<Fixed>, Cast)> {
        if !self.people.iter().any(|p| p.member_on(day)) {
            return None;
        }
        let mut rng = self.day_rng(day, 3);
        let mut actors = acting_on(&self.people, day, &mut rng);
        let mut fixed = Vec::new();
        let things = self.things();
        for (kind, created, deleted) in LIFECYCLE_NAMES {
            let shelf = things.shelf(kind);
            for i in shelf.created_on(day) {
                let thing = &shelf.things[i];
                let about = About::Thing(kind, i);
                fixed.push(Fixed {
                    at: thing.created_at,
                    event: self.type_named(created),
                    user: Some(thing.owner),
                    about,
                });
            }
            for i in shelf.deleted_on(day) {
                let thing = &shelf.things[i];
                let by = if self.people[thing.owner].member_on(day) {
                    thing.owner
                } else {
                    an_admin(&mut rng, &self.people, day)
                };
                let at = thing.deleted.map_or(0, |(_, at)| at);
                fixed.push(Fixed { at, event: self.type_named(deleted), user: Some(by), about: About::Thing(kind, i) });
            }
        }
        for (i, person) in self.people.iter().enumerate() {
            if person.joined == day {
                if i >= 1 && self.people[0].member_on(day) {
                    let admin = an_admin(&mut rng, &self.people, day);
                    let event = self.type_named("UserInvited");
                    fixed.push(Fixed { at: person.created_at, event, user: Some(admin), about: About::Person(i) });
                }
                // The first login follows the invitation within hours, the same day.
                let later = person.created_at + rng.random_range(300..4 * 3600) * 1_000_000;
                let at = later.min(micros_at(day, 86_400_000_000 - 1));
                fixed.push(Fixed { at, event: self.logins, user: Some(i), about: About::Nothing });
            }
            if person.left == Some(day) {
                let at = micros_at(day, business_micros(&mut rng));
                let by = an_admin(&mut rng, &self.people, day);
                fixed.push(Fixed {
                    at,
                    event: self.type_named("UserDeleted"),
                    user: Some(by),
                    about: About::Person(i),
                });
            }
        }
        fixed.sort_by_key(|f| f.at);
        actors.extend(fixed.iter().filter_map(|f| f.user));
        if actors.is_empty() {
            actors.push(an_admin(&mut rng, &self.people, day));
        }
        actors.sort_unstable();
        actors.dedup();
        let mut acting = vec![false; self.people.len()];
        for &a in &actors {
            acting[a] = true;
        }
        let index = WeightedIndex::new(actors.iter().map(|&a| self.people[a].level.weight())).ok()?;
        Some((fixed, Cast { actors, acting, index }))
    }

    pub(super) fn cast(&self, day: NaiveDate) -> Option<Cast> {
        self.fixed_and_cast(day).map(|(_, cast)| cast)
    }
}

/// The events of one day, produced one by one in time order.
pub(super) struct DayEvents<'a> {
    org: &'a DemoOrg,
    rng: ChaCha8Rng,
    cast: Cast,
    fixed: Vec<Fixed>,
    next_fixed: usize,
    /// The times of the day's other events, ascending.
    usage_times: Vec<i64>,
    next_usage: usize,
    in_use: [Option<InUse>; 4],
    /// (id, agent, user) of the day's AI conversations so far.
    conversations: Vec<(String, usize, usize)>,
}

impl<'a> DayEvents<'a> {
    pub(super) fn new(org: &'a DemoOrg, day: NaiveDate) -> Option<Self> {
        let (fixed, cast) = org.fixed_and_cast(day)?;
        let mut rng = org.day_rng(day, 1);
        let usage = org.events_on(day).saturating_sub(fixed.len());
        let mut usage_times: Vec<i64> = (0..usage).map(|_| micros_at(day, business_micros(&mut rng))).collect();
        usage_times.sort_unstable();
        let things = org.things();
        let in_use = [Kind::Connection, Kind::Map, Kind::Workflow, Kind::Agent].map(|k| things.shelf(k).in_use(day));
        Some(DayEvents {
            org,
            rng,
            cast,
            fixed,
            next_fixed: 0,
            usage_times,
            next_usage: 0,
            in_use,
            conversations: Vec::new(),
        })
    }

    pub(super) fn remaining(&self) -> usize {
        self.fixed.len() - self.next_fixed + self.usage_times.len() - self.next_usage
    }

    /// The next event: its time, type and payload.
    pub(super) fn next_event(&mut self) -> Option<(i64, &'a str, Value)> {
        let fixed_next = self.fixed.get(self.next_fixed).map(|f| f.at);
        let usage_next = self.usage_times.get(self.next_usage).copied();
        let take_fixed = match (fixed_next, usage_next) {
            (None, None) => return None,
            (Some(f), Some(u)) => f <= u,
            (fixed, _) => fixed.is_some(),
        };
        let (at, event, user, about) = if take_fixed {
            let fixed = &self.fixed[self.next_fixed];
            self.next_fixed += 1;
            (fixed.at, fixed.event, fixed.user, fixed.about)
        } else {
            let at = self.usage_times[self.next_usage];
            self.next_usage += 1;
            let (event, user, about) = self.usage();
            (at, event, user, about)
        };
        let org = self.org;
        let things = org.things();
        let subject = match about {
            About::Nothing => Subject::Nothing,
            About::Thing(kind, i) => Subject::Thing(&things.shelf(kind).things[i]),
            About::Person(i) => Subject::Person(&org.people[i]),
            About::Conversation(c, new) => {
                let (id, agent, _) = &self.conversations[c];
                Subject::Conversation { agent: &things.shelf(Kind::Agent).things[*agent], id, new }
            }
        };
        let event = &org.types[event];
        let payload = org.payload(&mut self.rng, event, user.map(|u| &org.people[u]), subject);
        Some((at, &event.name, payload))
    }

    /// One event of the day's use: its type, who, about what.
    fn usage(&mut self) -> (usize, Option<usize>, About) {
        let org = self.org;
        let mut event = org.usage_index.sample(&mut self.rng);
        let payload = org.types[event].payload;
        let Some(kind) = needs(payload) else {
            return (event, Some(self.actor()), About::Nothing);
        };
        let slot = kind as usize;
        let Some(in_use) = &self.in_use[slot] else {
            // Nothing of the kind exists yet: the person just logs in.
            return (org.logins, Some(self.actor()), About::Nothing);
        };
        let i = in_use.things[in_use.index.sample(&mut self.rng)];
        if kind != Kind::Agent || payload == Payload::Agent {
            let user = self.user_for(payload, kind, i);
            return (event, user, About::Thing(kind, i));
        }
        // A turn of a conversation: a new one (with the agent drawn), or one of the day's.
        if payload == Payload::AiResponse && self.conversations.is_empty() {
            event = org.ai_request;
        }
        let open_new = self.conversations.is_empty()
            || (org.types[event].payload == Payload::AiRequest && self.rng.random_bool(0.3));
        if open_new {
            let user = self.audience_member(&org.things().shelf(Kind::Agent).things[i]);
            self.conversations.push((id(&mut self.rng, "conv_", 12), i, user));
            return (event, Some(user), About::Conversation(self.conversations.len() - 1, true));
        }
        let c = self.rng.random_range(0..self.conversations.len());
        (event, Some(self.conversations[c].2), About::Conversation(c, false))
    }

    fn actor(&mut self) -> usize {
        self.cast.actors[self.cast.index.sample(&mut self.rng)]
    }

    fn user_for(&mut self, payload: Payload, kind: Kind, i: usize) -> Option<usize> {
        let thing = &self.org.things().shelf(kind).things[i];
        match payload {
            Payload::System => None,
            Payload::MapLoad if thing.public && self.rng.random_bool(0.25) => None,
            Payload::MapLoad => Some(self.audience_member(thing)),
            Payload::Map | Payload::Workflow | Payload::WorkflowRun | Payload::Agent => {
                if self.cast.acting[thing.owner] && self.rng.random_bool(0.75) {
                    Some(thing.owner)
                } else {
                    Some(self.audience_member(thing))
                }
            }
            _ => Some(self.actor()),
        }
    }

    /// Someone acting today who opens `thing`: its owner or one of its audience.
    fn audience_member(&mut self, thing: &super::things::Thing) -> usize {
        let mut last = thing.owner;
        for _ in 0..3 {
            let a = self.actor();
            if a == thing.owner || in_audience(self.org.seed, thing.created_at, a, thing.audience) {
                return a;
            }
            last = a;
        }
        if self.cast.acting[thing.owner] { thing.owner } else { last }
    }
}

/// Whether person `a` is among those who open a thing: a fixed coin per (thing, person),
/// mixed as splitmix64 does (cheap: it is asked for most events).
fn in_audience(seed: u64, created_at: i64, a: usize, audience: f64) -> bool {
    let mut z = seed ^ (created_at as u64) ^ ((a as u64) << 48);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    ((z >> 11) as f64 / (1u64 << 53) as f64) < audience
}

/// The kind of thing an event of this payload is about.
fn needs(payload: Payload) -> Option<Kind> {
    match payload {
        Payload::MapLoad | Payload::Map => Some(Kind::Map),
        Payload::Workflow | Payload::WorkflowRun | Payload::System => Some(Kind::Workflow),
        Payload::Connection | Payload::Import | Payload::ImportFailed => Some(Kind::Connection),
        Payload::Agent | Payload::AiRequest | Payload::AiResponse => Some(Kind::Agent),
        _ => None,
    }
}
