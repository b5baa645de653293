//! What the data holds, for the people and agents who write the SQL: the event types of a range
//! and the key paths of their JSON payloads (the MCP tools and the shell's completion and dot
//! commands ask the same questions).

use std::collections::{BTreeMap, HashMap};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use futures::StreamExt;
use serde_json::{Map, Value};

use super::Engine;
use super::compat::prepare;
use crate::error::{Error, Result};

/// The event types of the range with their counts, most frequent first.
pub(crate) const EVENT_TYPES_SQL: &str =
    "SELECT type, count(*) AS events FROM activity GROUP BY type ORDER BY events DESC, type";

/// One key path of the payloads (`map.id` for `{"map": {"id": ...}}`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KeyPath {
    pub path: String,
    /// Payloads that have the path.
    pub count: u64,
    /// The first value seen there.
    pub example: Value,
}

/// The key paths of the payloads walked, most frequent first, and how many payloads there were.
#[derive(Debug, Clone, Default)]
pub(crate) struct PayloadKeys {
    pub payloads: u64,
    pub keys: Vec<KeyPath>,
}

/// Walks the payloads of `event_type` (every type when `None`): all of them, or at most
/// `per_type` of each type when given, which bounds the time on a large range and still finds
/// the keys of the rarest types.
pub(crate) async fn payload_keys(
    engine: &Engine,
    event_type: Option<&str>,
    per_type: Option<usize>,
) -> Result<PayloadKeys> {
    let filter = event_type.map(|t| format!(" WHERE type = '{}'", t.replace('\'', "''"))).unwrap_or_default();
    let limit = per_type.filter(|_| event_type.is_some()).map(|n| format!(" LIMIT {n}")).unwrap_or_default();
    let sql = format!("SELECT type, data FROM activity{filter}{limit}");
    let [statement] = <[_; 1]>::try_from(prepare(&sql)?).map_err(|_| Error::Internal("one statement".into()))?;
    let mut stream = engine.execute(statement).await?;
    let mut paths: BTreeMap<String, (u64, Value)> = BTreeMap::new();
    let mut taken: HashMap<String, usize> = HashMap::new();
    let mut payloads = 0;
    let text = |array: &dyn Array| {
        datafusion::arrow::compute::cast(array, &DataType::Utf8).map_err(|e| Error::query(e.into()))
    };
    while let Some(batch) = stream.next().await {
        let batch: RecordBatch = batch.map_err(Error::query)?;
        let (types, data) = (text(batch.column(0))?, text(batch.column(1))?);
        let (types, texts) = (types.as_string::<i32>(), data.as_string::<i32>());
        for row in 0..texts.len() {
            if texts.is_null(row) {
                continue;
            }
            if let Some(cap) = per_type {
                let seen = taken.entry(types.value(row).to_string()).or_default();
                if *seen >= cap {
                    continue;
                }
                *seen += 1;
            }
            payloads += 1;
            if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(texts.value(row)) {
                record(&object, "", &mut paths);
            }
        }
    }
    let mut keys: Vec<KeyPath> =
        paths.into_iter().map(|(path, (count, example))| KeyPath { path, count, example }).collect();
    keys.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.path.cmp(&b.path)));
    Ok(PayloadKeys { payloads, keys })
}

/// Counts each path of `object` once per payload (a path inside an array is not followed).
pub(crate) fn record(object: &Map<String, Value>, prefix: &str, paths: &mut BTreeMap<String, (u64, Value)>) {
    for (key, value) in object {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        let entry = paths.entry(path.clone()).or_insert_with(|| (0, value.clone()));
        entry.0 += 1;
        if let Value::Object(inner) = value {
            record(inner, &path, paths);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_paths_are_counted_once_per_payload() {
        let mut paths = BTreeMap::new();
        for text in [r#"{"a":1,"m":{"id":"x","t":null}}"#, r#"{"a":2,"m":{"id":"y"},"l":[{"z":1}]}"#] {
            let Value::Object(o) = serde_json::from_str(text).unwrap() else { unreachable!() };
            record(&o, "", &mut paths);
        }
        let counts: Vec<(&str, u64)> = paths.iter().map(|(k, (n, _))| (k.as_str(), *n)).collect();
        assert_eq!(counts, vec![("a", 2), ("l", 1), ("m", 2), ("m.id", 2), ("m.t", 1)]);
        assert_eq!(paths["m.id"].1, json!("x"), "the first value seen is the example");
    }

    /// Without a type, a few payloads of every type are read: the rare types' keys are found.
    #[tokio::test]
    async fn a_sample_per_type_finds_the_rare_keys() {
        let (_dir, engine) = crate::engine::tests::demo_day_engine(3_000);
        let all = payload_keys(&engine, None, None).await.unwrap();
        let sampled = payload_keys(&engine, None, Some(3)).await.unwrap();
        let types = engine.first_column_texts(EVENT_TYPES_SQL).await.unwrap().len() as u64;
        assert!(sampled.payloads <= 3 * types && sampled.payloads < all.payloads / 10, "{}", sampled.payloads);
        let paths =
            |keys: &PayloadKeys| keys.keys.iter().map(|k| k.path.clone()).collect::<std::collections::BTreeSet<_>>();
        assert_eq!(paths(&sampled), paths(&all), "every key of the day, from a few payloads of each type");
        let one = payload_keys(&engine, Some("WorkflowExecutionFailed"), Some(2)).await.unwrap();
        assert_eq!(one.payloads, 2);
        assert!(one.keys.iter().any(|k| k.path == "errorMessage"));
    }
}
