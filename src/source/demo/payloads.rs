//! The JSON payload of each kind of demo event.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::DemoOrg;
use super::people::Person;
use super::things::{Kind, Thing};
use super::vocabulary::*;
use super::{id, pick, pick_weighted};

/// What an event is about, beyond who did it.
#[derive(Clone, Copy)]
pub(super) enum Subject<'a> {
    Nothing,
    Thing(&'a Thing),
    Person(&'a Person),
    /// A turn of an AI conversation with an agent.
    Conversation {
        agent: &'a Thing,
        id: &'a str,
        new: bool,
    },
}

impl DemoOrg {
    /// The payload of one `event` by `user` (none: an anonymous viewer, or the system) about
    /// `subject`, as CARTO's activity rows carry it in `data`.
    pub(super) fn payload(
        &self,
        rng: &mut ChaCha8Rng,
        event: &EventType,
        user: Option<&Person>,
        subject: Subject,
    ) -> Value {
        let mut p = Map::new();
        if let Some(user) = user {
            p.insert("userId".into(), json!(user.id));
        }
        let things = self.things();
        let connection = |i: usize| &things.shelf(Kind::Connection).things[i];
        let owner = |t: &Thing| &self.people[t.owner].id;
        match (event.payload, subject) {
            (Payload::MapLoad, Subject::Thing(m)) => {
                p.insert("mapId".into(), json!(m.id));
                let privacy = if m.public { "public" } else { "private" };
                p.insert("map".into(), json!({"id": m.id, "title": m.title, "privacy": privacy}));
                p.insert("loadTimeMs".into(), json!(rng.random_range(120..4_000)));
                p.insert("isEmbedded".into(), json!(m.public && rng.random_bool(0.4)));
                p.insert("clientId".into(), json!(id(rng, "cl_", 10)));
            }
            (Payload::Map, Subject::Thing(m)) => {
                p.insert("mapId".into(), json!(m.id));
                p.insert("map".into(), json!({"id": m.id, "title": m.title, "ownerId": owner(m)}));
                p.insert("connectionId".into(), json!(connection(m.link).id));
                p.insert("layers".into(), json!(rng.random_range(1..12)));
            }
            (Payload::Workflow, Subject::Thing(w)) => {
                p.insert("workflowId".into(), json!(w.id));
                p.insert("workflow".into(), json!({"id": w.id, "title": w.title, "ownerId": owner(w)}));
                p.insert("provider".into(), json!(w.provider));
                p.insert("nodes".into(), json!(rng.random_range(2..40)));
            }
            (Payload::WorkflowRun, Subject::Thing(w)) => {
                p.insert("workflowId".into(), json!(w.id));
                p.insert("workflow".into(), json!({"id": w.id, "title": w.title}));
                p.insert("provider".into(), json!(w.provider));
                p.insert("connectionId".into(), json!(connection(w.link).id));
                let secs = (rng.random_range(0.5f64..900.0) * 1000.0).round() / 1000.0;
                p.insert("runDuration".into(), json!(secs));
                p.insert("scheduled".into(), json!(rng.random_bool(0.4)));
                if event.name.ends_with("Failed") {
                    p.insert("errorMessage".into(), json!(pick(rng, &ERRORS)));
                }
            }
            (Payload::System, Subject::Thing(w)) => {
                p.insert("workflowId".into(), json!(w.id));
                p.insert("trigger".into(), json!("schedule"));
                p.insert("details".into(), json!({"queue": "default", "attempt": 1}));
            }
            (Payload::Connection | Payload::Import | Payload::ImportFailed, Subject::Thing(c)) => {
                p.insert("connectionId".into(), json!(c.id));
                p.insert("provider".into(), json!(c.provider));
                if matches!(event.payload, Payload::Connection) {
                    p.insert("connectionName".into(), json!(format!("{} \"{}\", EU", c.title, c.provider)));
                } else {
                    p.insert("fileName".into(), json!(pick(rng, &FILE_NAMES)));
                    p.insert("sizeBytes".into(), json!(rng.random_range(1_000u64..2_000_000_000)));
                }
                if matches!(event.payload, Payload::ImportFailed) {
                    p.insert("errorMessage".into(), json!(pick(rng, &ERRORS)));
                }
            }
            (Payload::Agent, Subject::Thing(a)) => {
                let map = &things.shelf(Kind::Map).things[a.link];
                p.insert("agentId".into(), json!(a.id));
                p.insert("agent".into(), json!({"id": a.id, "name": a.title, "ownerId": owner(a)}));
                p.insert("mapId".into(), json!(map.id));
                p.insert("model".into(), json!(model(rng)));
            }
            (Payload::AiRequest, Subject::Conversation { agent: a, id: conversation, new }) => {
                p.insert("agentId".into(), json!(a.id));
                p.insert("conversationId".into(), json!(conversation));
                p.insert("isNewConversation".into(), json!(new));
                let map = &things.shelf(Kind::Map).things[a.link];
                p.insert("mapId".into(), json!(map.id));
                p.insert("map".into(), json!({"id": map.id, "title": map.title}));
                p.insert("model".into(), json!(model(rng)));
                p.insert("promptTokens".into(), json!(rng.random_range(50..4_000)));
                let prompt: Vec<&str> = (0..rng.random_range(1..=4)).map(|_| *pick(rng, &PROMPTS)).collect();
                p.insert("prompt".into(), json!(prompt.join(" ")));
            }
            (Payload::AiResponse, Subject::Conversation { agent: a, id: conversation, .. }) => {
                p.insert("agentId".into(), json!(a.id));
                p.insert("conversationId".into(), json!(conversation));
                p.insert("completionTokens".into(), json!(rng.random_range(20..2_000)));
                p.insert("latencyMs".into(), json!(rng.random_range(300..20_000)));
            }
            (Payload::Token, Subject::Thing(t)) => {
                p.insert("tokenId".into(), json!(t.id));
                p.insert(
                    "grants".into(),
                    json!([{"connectionId": connection(t.link).id, "source": "carto-demo-data.demo_tables.*"}]),
                );
                p.insert("allowedApis".into(), json!(["sql", "maps"]));
            }
            (Payload::Member, Subject::Person(member)) => {
                p.insert("targetUserId".into(), json!(member.id));
                p.insert("email".into(), json!(member.email));
                p.insert("role".into(), json!(member.role));
            }
            (Payload::Login, _) => {
                p.insert("loginMethod".into(), json!(pick_weighted(rng, &LOGIN_METHODS)));
                p.insert("ip".into(), json!(format!("203.0.113.{}", rng.random_range(1..255))));
                p.insert(
                    "userAgent".into(),
                    json!("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"),
                );
            }
            (Payload::ExportRequest, _) => {
                p.insert("categories".into(), json!(["activity", "apiUsage"]));
                p.insert("format".into(), json!(if rng.random_bool(0.5) { "parquet" } else { "csv" }));
                p.insert("startDate".into(), json!("2025-09-01"));
                p.insert("endDate".into(), json!("2025-09-30"));
            }
            _ => {
                p.insert("resourceId".into(), json!(id(rng, "res_", 12)));
                p.insert("details".into(), json!({"source": "builder", "durationMs": rng.random_range(1..5_000)}));
            }
        }
        Value::Object(p)
    }
}

fn model(rng: &mut ChaCha8Rng) -> &'static str {
    if rng.random_bool(0.7) { "gpt-4.1" } else { "gemini-2.5-pro" }
}
