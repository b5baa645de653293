//! The JSON payload of each kind of demo event.

use rand::Rng;
use rand::distr::Distribution;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::vocabulary::*;
use super::{DemoOrg, User, id, pick, pick_weighted};

impl DemoOrg {
    /// The payload of one `event` by `user`, as CARTO's activity rows carry it in `data`.
    pub(super) fn payload(&self, rng: &mut ChaCha8Rng, event: &EventType, user: &User) -> Value {
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
}
