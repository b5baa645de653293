//! JSON shredding, the ingest side. DuckDB-style queries read event payloads with
//! `json_extract_string(data, '$.userId')`, which makes an engine parse every payload on every
//! query. Since we write the cache ourselves, ingest parses each payload once and stores the
//! most used paths as hidden text columns beside `data`; the engine's analyzer rule
//! (`engine::shredded`) then reads those columns wherever a plan extracts one of these paths
//! from the `activity` table's `data`.
//!
//! A hidden column holds exactly what `json_as_text(data, path...)` returns for its row (the
//! same first-match, null and raw-text rules), so a query gives the same answer with shredding on
//! or off; everything else (other paths, `->`, arrays) is still parsed from `data`.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use jiter::{Jiter, JiterError, Peek};

use crate::category::Category;

/// The shredded paths of `activity.data`, each with its hidden column. Part of the cache layout:
/// changing this list means a new layout version.
const SHREDDED: &[(&str, &[&str])] = &[
    ("__data_userId", &["userId"]),
    ("__data_mapId", &["mapId"]),
    ("__data_workflowId", &["workflowId"]),
    ("__data_connectionId", &["connectionId"]),
    ("__data_conversationId", &["conversationId"]),
    ("__data_provider", &["provider"]),
    ("__data_runDuration", &["runDuration"]),
    ("__data_map_id", &["map", "id"]),
    ("__data_map_ownerId", &["map", "ownerId"]),
];

/// The column the shredded paths come from.
pub(crate) const SOURCE_COLUMN: &str = "data";

/// The hidden column that holds `path` of `data`, if it is shredded.
pub(crate) fn hidden_column(path: &[&str]) -> Option<&'static str> {
    SHREDDED.iter().find(|(_, p)| *p == path).map(|(name, _)| *name)
}

/// The shredded paths, dotted (`map.id`): the keys every cache knows without reading a payload.
pub(crate) fn shredded_paths() -> impl Iterator<Item = String> {
    SHREDDED.iter().map(|(_, path)| path.join("."))
}

/// The names of the hidden columns, in the order of the cached schema.
pub(crate) fn hidden_columns() -> impl Iterator<Item = &'static str> {
    SHREDDED.iter().map(|(name, _)| *name)
}

static CACHED_ACTIVITY: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields: Vec<Field> = Category::Activity.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.extend(SHREDDED.iter().map(|(name, _)| Field::new(*name, DataType::Utf8, true)));
    Arc::new(Schema::new(fields))
});

/// The schema of a category's cached files: the category's own, plus the hidden columns.
pub(crate) fn cached_schema(category: Category) -> SchemaRef {
    match category {
        Category::Activity => CACHED_ACTIVITY.clone(),
        other => other.schema(),
    }
}

/// Adds the hidden columns to a batch of `category` in its normalised schema.
pub(crate) fn shred(category: Category, batch: &RecordBatch) -> Result<RecordBatch, String> {
    if category != Category::Activity {
        return Ok(batch.clone());
    }
    let data = batch
        .column_by_name(SOURCE_COLUMN)
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or_else(|| "activity rows have no text `data` column".to_string())?;
    let mut builders: Vec<StringBuilder> =
        SHREDDED.iter().map(|_| StringBuilder::with_capacity(data.len(), data.len() * 8)).collect();
    let mut filled = vec![false; SHREDDED.len()];
    for row in 0..data.len() {
        filled.fill(false);
        if data.is_valid(row) {
            // A payload that stops parsing keeps what was found before the fault, as
            // `json_as_text` (which reads no further than its key) would.
            let _ = shred_payload(data.value(row), &mut builders, &mut filled);
        }
        for (builder, done) in builders.iter_mut().zip(&filled) {
            if !done {
                builder.append_null();
            }
        }
    }
    let mut columns = batch.columns().to_vec();
    columns.extend(builders.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    RecordBatch::try_new(CACHED_ACTIVITY.clone(), columns).map_err(|e| e.to_string())
}

/// One pass over a payload's top-level object (and the objects under the first segment of
/// nested paths), appending each shredded path's value at its first occurrence.
fn shred_payload(json: &str, builders: &mut [StringBuilder], filled: &mut [bool]) -> Result<(), JiterError> {
    let mut jiter = Jiter::new(json.as_bytes());
    if jiter.peek()? != Peek::Object {
        return Ok(());
    }
    let mut parents_seen: Vec<&str> = Vec::new();
    let mut key = jiter.known_object()?;
    while let Some(k) = key {
        if let Some(slot) = SHREDDED.iter().position(|(_, path)| path.len() == 1 && path[0] == k) {
            if filled[slot] {
                jiter.next_skip()?;
            } else {
                append_value(json, &mut jiter, &mut builders[slot])?;
                filled[slot] = true;
            }
        } else if let Some((_, path)) = SHREDDED.iter().find(|(_, path)| path.len() == 2 && path[0] == k)
            && !parents_seen.contains(&path[0])
        {
            // Only the first object under a key is searched, as `json_as_text` does.
            parents_seen.push(path[0]);
            let parent = path[0];
            if jiter.peek()? == Peek::Object {
                let mut child = jiter.known_object()?;
                while let Some(c) = child {
                    let slot = SHREDDED.iter().position(|(_, p)| p.len() == 2 && p[0] == parent && p[1] == c);
                    match slot {
                        Some(slot) if !filled[slot] => {
                            append_value(json, &mut jiter, &mut builders[slot])?;
                            filled[slot] = true;
                        }
                        _ => jiter.next_skip()?,
                    }
                    child = jiter.next_key()?;
                }
            } else {
                jiter.next_skip()?;
            }
        } else {
            jiter.next_skip()?;
        }
        key = jiter.next_key()?;
    }
    Ok(())
}

/// `json_as_text`'s rendering: strings unescaped, null as NULL, anything else as its JSON text.
fn append_value(json: &str, jiter: &mut Jiter, builder: &mut StringBuilder) -> Result<(), JiterError> {
    match jiter.peek()? {
        Peek::Null => {
            jiter.known_null()?;
            builder.append_null();
        }
        Peek::String => builder.append_value(jiter.known_str()?),
        peek => {
            let start = jiter.current_index();
            jiter.known_skip(peek)?;
            // jiter stops on character boundaries; `get` keeps that an invariant, not an assumption.
            match json.get(start..jiter.current_index()) {
                Some(text) => builder.append_value(text),
                None => builder.append_null(),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;
    use datafusion::arrow::array::TimestampMicrosecondArray;
    use datafusion::common::ScalarValue;
    use datafusion::common::config::ConfigOptions;
    use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs};
    use proptest::prelude::*;

    fn batch(payloads: Vec<Option<&str>>) -> RecordBatch {
        let n = payloads.len();
        RecordBatch::try_new(
            Category::Activity.schema(),
            vec![
                Arc::new(StringArray::from(vec!["T"; n])),
                Arc::new(TimestampMicrosecondArray::from(vec![0; n]).with_timezone("UTC")),
                Arc::new(StringArray::from(payloads.into_iter().map(|p| p.unwrap_or("")).collect::<Vec<_>>())),
            ],
        )
        .unwrap()
    }

    /// What the engine's own `json_as_text` answers for every row and shredded path.
    fn json_as_text(data: &ArrayRef, path: &[&str]) -> Vec<Option<String>> {
        let udf = datafusion_functions_json::udfs::json_as_text_udf();
        let mut args = vec![ColumnarValue::Array(data.clone())];
        args.extend(path.iter().map(|p| ColumnarValue::Scalar(ScalarValue::Utf8(Some(p.to_string())))));
        let arg_fields = args.iter().map(|a| Arc::new(Field::new("a", a.data_type(), true))).collect();
        let out = udf
            .invoke_with_args(ScalarFunctionArgs {
                args,
                arg_fields,
                number_rows: data.len(),
                return_field: Arc::new(Field::new("r", DataType::Utf8, true)),
                config_options: Arc::new(ConfigOptions::default()),
            })
            .unwrap()
            .into_array(data.len())
            .unwrap();
        out.as_string::<i32>().iter().map(|v| v.map(str::to_string)).collect()
    }

    fn assert_same_as_json_as_text(payloads: Vec<&str>) {
        let input = batch(payloads.iter().copied().map(Some).collect());
        let shredded = shred(Category::Activity, &input).unwrap();
        assert_eq!(shredded.schema(), cached_schema(Category::Activity));
        for (column, path) in SHREDDED {
            let expected = json_as_text(input.column(2), path);
            let got: Vec<Option<String>> = shredded
                .column_by_name(column)
                .unwrap()
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect();
            assert_eq!(got, expected, "{column} over {payloads:?}");
        }
    }

    #[test]
    fn values_render_as_json_as_text_does() {
        assert_same_as_json_as_text(vec![
            r#"{"userId":"u-1","mapId":"m\"1\u00e9","runDuration":12.5,"map":{"id":"m-9","ownerId":null}}"#,
            r#"{"userId":null,"userId":"second","provider":{"a":[1,2]},"map":[1]}"#,
            r#"{"map":{"title":"x"},"map":{"id":"ignored"},"workflowId":true}"#,
            r#"{"connectionId":"c-1","broken": tru"#,
            r#"{"broken": [1, "userId":"u"}"#,
            r#"["userId","u"]"#,
            "not json",
            "",
            r#"{"userId":"ünïcödé ✓","conversationId":"c","map":{"ownerId":7,"id":{"deep":1}}}"#,
        ]);
    }

    #[test]
    fn other_categories_are_left_alone() {
        let b = RecordBatch::try_new(
            Category::GroupList.schema(),
            vec![Arc::new(StringArray::from(vec!["g"])), Arc::new(StringArray::from(vec!["G"]))],
        )
        .unwrap();
        assert_eq!(shred(Category::GroupList, &b).unwrap(), b);
    }

    fn json_value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            any::<i32>().prop_map(|n| n.to_string()),
            "[a-z\"\\\\é ]{0,6}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        ];
        leaf.prop_recursive(2, 12, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(|v| format!("[{}]", v.join(","))),
                proptest::collection::vec((key(), inner), 0..4).prop_map(|kv| {
                    format!("{{{}}}", kv.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(","))
                }),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("userId".to_string()),
            Just("map".to_string()),
            Just("id".to_string()),
            Just("ownerId".to_string()),
            Just("runDuration".to_string()),
            "[a-z]{1,3}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Random payloads (duplicate keys, nesting, every value kind, cut short) shred to what
        /// `json_as_text` answers.
        #[test]
        fn shredding_equals_json_as_text(
            pairs in proptest::collection::vec((key(), json_value()), 0..6),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut payload =
                format!("{{{}}}", pairs.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(","));
            if truncate {
                let mut at = cut.index(payload.len() + 1);
                while !payload.is_char_boundary(at) { at -= 1; }
                payload.truncate(at);
            }
            assert_same_as_json_as_text(vec![&payload]);
        }
    }
}
