//! JSON read without building its tree, as DuckDB (yyjson) reads it: an object keeps its
//! duplicate keys and a path finds the first of them, and a document of any depth is read, since
//! nothing here recurses (serde_json skips a value with a loop, and a tree is never built or
//! dropped). Only the values a function returns are built, and only when they are scalars.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::engine::compat::functions::json::json_path::{PathStep, array_index};

/// The document's text checked as JSON (DuckDB's extensions read: NaN, infinities, trailing
/// commas); `None` when it is not JSON.
pub(crate) fn document(text: &str) -> Option<Box<RawValue>> {
    match serde_json::from_str::<&RawValue>(text) {
        Ok(raw) => Some(raw.to_owned()),
        Err(_) => serde_json::from_str::<&RawValue>(&lenient_text(text)).ok().map(ToOwned::to_owned),
    }
}

/// The value at `path` inside `raw`: the first member of a key, an element of an array.
pub(crate) fn at<'a>(raw: &'a RawValue, path: &[PathStep]) -> Option<&'a RawValue> {
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
pub(crate) fn members(raw: &RawValue) -> Option<Vec<(String, &RawValue)>> {
    if !raw.get().starts_with('{') {
        return None;
    }
    let Members(members) = serde_json::from_str(raw.get()).ok()?;
    Some(members)
}

/// An array's elements; `None` for anything else.
pub(crate) fn elements(raw: &RawValue) -> Option<Vec<&RawValue>> {
    if !raw.get().starts_with('[') {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// The first character of the value: `{`, `[`, `"`, `t`, `f`, `n` or a number's.
pub(crate) fn kind(raw: &RawValue) -> u8 {
    raw.get().as_bytes().first().copied().unwrap_or(b'n')
}

/// A scalar as a value (`None` for an object or array, which are never built here).
pub(crate) fn scalar(raw: &RawValue) -> Option<serde_json::Value> {
    if matches!(kind(raw), b'{' | b'[') {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// A value as DuckDB's `json_extract` writes it, or with `as_text` as `json_extract_string`
/// does (a string without its quotes, JSON null as NULL).
pub(crate) fn shown(raw: &RawValue, as_text: bool) -> Option<String> {
    match scalar(raw) {
        Some(serde_json::Value::Null) if as_text => None,
        Some(serde_json::Value::String(s)) if as_text => Some(s),
        Some(scalar) => Some(scalar.to_string()),
        None => Some(compact(raw)),
    }
}

/// The value's text without the spaces between its tokens, as DuckDB writes JSON.
pub(crate) fn compact(raw: &RawValue) -> String {
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

/// The text with DuckDB's JSON extensions made strict JSON: a comma before `]` or `}` dropped,
/// `nan`, `inf` and `infinity` (any case, signed) written as 0.
fn lenient_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    let mut in_string = false;
    while let Some((i, c)) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => out.extend(chars.next().map(|(_, e)| e)),
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            ',' if text[i + 1..].trim_start().starts_with([']', '}']) => {}
            'n' | 'N' | 'i' | 'I' => {
                let word: String = text[i..].chars().take_while(|c| c.is_ascii_alphabetic()).collect();
                if ["nan", "inf", "infinity"].contains(&word.to_ascii_lowercase().as_str()) {
                    out.push('0');
                    for _ in 1..word.len() {
                        chars.next();
                    }
                } else {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// `json_path_json(json, path)` and `json_path_text(json, path)`: the JSON (or the text, a
/// string without its quotes) at each row's path, a DuckDB path or key as text or an element's
/// position as an integer.
pub(crate) fn functions() -> Vec<datafusion::logical_expr::ScalarUDF> {
    use crate::engine::compat::functions::common::{row_udf, row_udf_json};
    use datafusion::arrow::datatypes::DataType;
    vec![
        row_udf_json("json_path_json", "json_path_json(json, path)", 2..=2, |a| values_at(a, false)),
        row_udf("json_path_text", "json_path_text(json, path)", 2..=2, |_| Ok(DataType::Utf8), |a| values_at(a, true)),
    ]
}

fn values_at(
    arrays: &[datafusion::arrow::array::ArrayRef],
    as_text: bool,
) -> datafusion::common::Result<datafusion::arrow::array::ArrayRef> {
    use datafusion::arrow::array::StringArray;
    let texts = crate::engine::compat::functions::common::texts(&arrays[0])?;
    let positions = arrays[1]
        .data_type()
        .is_integer()
        .then(|| crate::engine::compat::functions::common::integers(&arrays[1]))
        .transpose()?;
    let paths =
        if positions.is_none() { Some(crate::engine::compat::functions::common::texts(&arrays[1])?) } else { None };
    let mut out = Vec::with_capacity(texts.len());
    for (r, text) in texts.iter().enumerate() {
        let steps = match (&positions, &paths) {
            (Some(p), _) => p[r].map(|i| vec![PathStep::Index(i)]),
            (_, Some(p)) => p[r]
                .as_deref()
                .map(crate::engine::compat::functions::json::json_path::parse_json_path)
                .transpose()
                .map_err(|e| crate::engine::compat::functions::common::invalid(e.to_string()))?,
            _ => None,
        };
        let document = text.as_deref().and_then(document);
        let value = document.as_deref().zip(steps).and_then(|(d, steps)| at(d, &steps));
        out.push(value.and_then(|raw| shown(raw, as_text)));
    }
    Ok(std::sync::Arc::new(StringArray::from(out)))
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
        assert!(document(&format!("{}1{}", "[".repeat(depth), "]".repeat(depth - 1))).is_none());
        // A path walks without recursing too (each step reads its level again: kept short here).
        let text = format!("{}1{}", "[".repeat(1_000), "]".repeat(1_000));
        let doc = document(&text).unwrap();
        assert_eq!(at(&doc, &vec![PathStep::Index(0); 999]).unwrap().get(), "[1]");
        assert!(document(r#"{"a": NaN, "b": [1,],}"#).is_some(), "DuckDB's extensions");
    }

    #[test]
    fn json_paths_walk_objects_and_arrays() {
        let doc = document(r#"{"a": {"b": [10, 20, {"c": true}]}}"#).unwrap();
        let at = |p| {
            at(&doc, &crate::engine::compat::functions::json::json_path::parse_json_path(p).unwrap())
                .map(|v| v.get().to_string())
        };
        assert_eq!(at("$.a.b[1]").as_deref(), Some("20"));
        assert_eq!(at("$.a.b[-1].c").as_deref(), Some("true"));
        assert_eq!(at("$.a.x"), None);
        assert!(document("not json").is_none());
    }

    #[test]
    fn duckdbs_json_extensions_read_as_json() {
        assert_eq!(
            lenient_text(r#"{"a": NaN, "b": [-Infinity, inf,], "c": "nan,]"}"#),
            r#"{"a": 0, "b": [-0, 0], "c": "nan,]"}"#
        );
        assert!(document(r#"{"a":55,"b":72,}"#).is_some());
        assert!(document("{nan}").is_none());
    }
}
