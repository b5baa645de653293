//! JSON read without building its tree, as DuckDB (yyjson) reads it: an object keeps its
//! duplicate keys and a path finds the first of them, and a document of any depth is read, since
//! nothing here recurses (serde_json skips a value with a loop, and a tree is never built or
//! dropped). Only the values a function returns are built, and only when they are scalars.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::json_path::{PathStep, array_index, lenient_text};

/// The document's text checked as JSON (DuckDB's extensions read: NaN, infinities, trailing
/// commas); `None` when it is not JSON.
pub(super) fn document(text: &str) -> Option<Box<RawValue>> {
    match serde_json::from_str::<&RawValue>(text) {
        Ok(raw) => Some(raw.to_owned()),
        Err(_) => serde_json::from_str::<&RawValue>(&lenient_text(text)).ok().map(ToOwned::to_owned),
    }
}

/// The value at `path` inside `raw`: the first member of a key, an element of an array.
pub(super) fn at<'a>(raw: &'a RawValue, path: &[PathStep]) -> Option<&'a RawValue> {
    let mut value = raw;
    for step in path {
        value = match step {
            PathStep::Key(key) => members(value)?.into_iter().find(|(k, _)| k == key)?.1,
            PathStep::Index(_) | PathStep::FromEnd(_) => {
                let elements = elements(value)?;
                elements.get(array_index(step, elements.len())?).copied()?
            }
        };
    }
    Some(value)
}

/// An object's members in order, duplicate keys kept; `None` for anything else.
pub(super) fn members(raw: &RawValue) -> Option<Vec<(String, &RawValue)>> {
    if !raw.get().starts_with('{') {
        return None;
    }
    let Members(members) = serde_json::from_str(raw.get()).ok()?;
    Some(members)
}

/// An array's elements; `None` for anything else.
pub(super) fn elements(raw: &RawValue) -> Option<Vec<&RawValue>> {
    if !raw.get().starts_with('[') {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// The first character of the value: `{`, `[`, `"`, `t`, `f`, `n` or a number's.
pub(super) fn kind(raw: &RawValue) -> u8 {
    raw.get().as_bytes().first().copied().unwrap_or(b'n')
}

/// A scalar as a value (`None` for an object or array, which are never built here).
pub(super) fn scalar(raw: &RawValue) -> Option<serde_json::Value> {
    if matches!(kind(raw), b'{' | b'[') {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// The value's text without the spaces between its tokens, as DuckDB writes JSON.
pub(super) fn compact(raw: &RawValue) -> String {
    let text = raw.get();
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !c.is_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Members<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Collect;
        impl<'de> Visitor<'de> for Collect {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    members.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Members(members))
            }
            fn visit_seq<S: SeqAccess<'de>>(self, _: S) -> Result<Self::Value, S::Error> {
                Err(serde::de::Error::custom("not an object"))
            }
        }
        deserializer.deserialize_map(Collect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> PathStep {
        PathStep::Key(k.into())
    }

    #[test]
    fn duplicate_keys_are_kept_and_the_first_is_found() {
        let doc = document(r#"{"a": 1, "a": [2, 3], "b": {"c": true}}"#).unwrap();
        let keys: Vec<String> = members(&doc).unwrap().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "a", "b"]);
        assert_eq!(at(&doc, &[key("a")]).unwrap().get(), "1");
        assert_eq!(compact(at(&doc, &[key("b")]).unwrap()), r#"{"c":true}"#);
        assert_eq!(compact(&doc), r#"{"a":1,"a":[2,3],"b":{"c":true}}"#);
        assert!(at(&doc, &[key("b"), key("x")]).is_none());
    }

    #[test]
    fn documents_of_any_depth_are_read() {
        let depth = 200_000;
        let text = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let doc = document(&text).expect("valid at any depth");
        assert_eq!(kind(&doc), b'[');
        let inner = at(&doc, &vec![PathStep::Index(0); depth - 1]).unwrap();
        assert_eq!(inner.get(), "[1]");
        assert!(document(&format!("{}1{}", "[".repeat(depth), "]".repeat(depth - 1))).is_none());
        assert!(document(r#"{"a": NaN, "b": [1,],}"#).is_some(), "DuckDB's extensions");
    }
}
