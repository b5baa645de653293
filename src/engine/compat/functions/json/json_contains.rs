//! DuckDB's `json_contains(haystack, needle)`: whether the needle is somewhere in the haystack —
//! equal to it or to a value nested in it, where an object matches an object with at least its
//! keys (values matched the same way) and an array an array holding each of its elements.
//! (datafusion-functions-json's function of that name asks whether a key exists.)

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;
use serde_json::Value;

use crate::engine::compat::functions::common::{invalid, row_udf, texts};

pub(crate) fn json_contains() -> ScalarUDF {
    row_udf(
        "json_contains",
        "two JSON values: json_contains(haystack, needle)",
        2..=2,
        |_| Ok(DataType::Boolean),
        |arrays: &[ArrayRef]| {
            let (haystacks, needles) = (texts(&arrays[0])?, texts(&arrays[1])?);
            let parse = |text: &str| {
                serde_json::from_str::<Value>(text)
                    .map_err(|e| invalid(format!("json_contains: malformed JSON {text:?} ({e})")))
            };
            let out = haystacks
                .iter()
                .zip(&needles)
                .map(|(h, n)| match (h, n) {
                    (Some(h), Some(n)) => Ok(Some(contains(&parse(h)?, &parse(n)?))),
                    _ => Ok(None),
                })
                .collect::<Result<BooleanArray>>()?;
            Ok(Arc::new(out) as ArrayRef)
        },
    )
}

fn contains(haystack: &Value, needle: &Value) -> bool {
    fuzzy_equals(haystack, needle)
        || match haystack {
            Value::Array(items) => items.iter().any(|h| contains(h, needle)),
            Value::Object(fields) => fields.values().any(|h| contains(h, needle)),
            _ => false,
        }
}

fn fuzzy_equals(haystack: &Value, needle: &Value) -> bool {
    if haystack == needle {
        return true;
    }
    match (haystack, needle) {
        (Value::Array(h), Value::Array(n)) => n.iter().all(|n| h.iter().any(|h| fuzzy_equals(h, n))),
        (Value::Object(h), Value::Object(n)) => n.iter().all(|(k, n)| h.get(k).is_some_and(|h| fuzzy_equals(h, n))),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needles_are_found_as_duckdb_finds_them() {
        let j = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        let haystack = j(r#"{"a": 1, "b": {"c": [1, 2, {"d": true}]}, "e": "x"}"#);
        for (needle, found) in [
            (r#"{"a": 1}"#, true),
            (r#"{"d": true}"#, true),
            ("[2, 1]", true),
            (r#""x""#, true),
            ("2", true),
            (r#"{"a": 2}"#, false),
            ("[3]", false),
            ("1.0", false),
        ] {
            assert_eq!(contains(&haystack, &j(needle)), found, "{needle}");
        }
    }
}
