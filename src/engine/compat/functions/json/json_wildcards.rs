//! JSON paths with wildcards — `$[*]`, `$.*`, `$..key`, `$..*`, `$.**` — which DuckDB answers with
//! the list of every match (`json_extract`: JSON values, `json_extract_string`: their text).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;
use serde_json::Value;

use crate::engine::compat::functions::common::{invalid, row_udf, texts};

pub(crate) const JSON: &str = "json_extract_wildcard";
pub(crate) const TEXT: &str = "json_extract_string_wildcard";

/// Whether a path has a wildcard (and so gives a list).
pub(crate) fn has_wildcard(path: &str) -> bool {
    path.starts_with('$') && (path.contains("[*]") || path.contains(".*") || path.contains(".."))
}

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let json_list = |_: &[DataType]| {
        let item = crate::engine::compat::types::json_field("item").as_ref().clone();
        Ok(DataType::List(Arc::new(item)))
    };
    let text_list = |_: &[DataType]| Ok(DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))));
    vec![
        row_udf(JSON, "json_extract(json, '$[*]')", 2..=2, json_list, |a| extract_all(a, false)),
        row_udf(TEXT, "json_extract_string(json, '$[*]')", 2..=2, text_list, |a| extract_all(a, true)),
    ]
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(i64),
    AnyKey,
    AnyIndex,
    /// `..step`: the step applied to the node and to every node below it.
    Descend(Box<Step>),
    /// `..*` and `.**`: every node below.
    Descendants,
}

fn parse(path: &str) -> Result<Vec<Step>> {
    let bad = |why: &str| invalid(format!("malformed JSON path '{path}': {why}"));
    let mut rest = path.strip_prefix('$').ok_or_else(|| bad("a wildcard path starts with '$'"))?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        let (descend, after) = match rest.strip_prefix("..") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let (step, remaining) = if let Some(inside) = after.strip_prefix('[') {
            let end = inside.find(']').ok_or_else(|| bad("a '[' is not closed"))?;
            let index = inside[..end].trim();
            let step = if index == "*" {
                Step::AnyIndex
            } else {
                Step::Index(index.parse().map_err(|_| bad("an array index is not a number"))?)
            };
            (step, &inside[end + 1..])
        } else {
            let after =
                if descend { after } else { after.strip_prefix('.').ok_or_else(|| bad("expected '.' or '['"))? };
            if let Some(more) = after.strip_prefix("**") {
                (Step::Descendants, more)
            } else if let Some(more) = after.strip_prefix('*') {
                (if descend { Step::Descendants } else { Step::AnyKey }, more)
            } else if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted.find('"').ok_or_else(|| bad("a quoted key is not closed"))?;
                (Step::Key(quoted[..end].to_string()), &quoted[end + 1..])
            } else {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                if end == 0 {
                    return Err(bad("a key is empty"));
                }
                (Step::Key(after[..end].to_string()), &after[end..])
            }
        };
        steps.push(if descend && step != Step::Descendants { Step::Descend(Box::new(step)) } else { step });
        rest = remaining;
    }
    Ok(steps)
}

/// The nodes `step` reaches from `node`, in DuckDB's order.
fn apply<'a>(step: &Step, node: &'a Value, out: &mut Vec<&'a Value>) {
    let children = |node: &'a Value| -> Vec<&'a Value> {
        match node {
            Value::Object(map) => map.values().collect(),
            Value::Array(items) => items.iter().collect(),
            _ => Vec::new(),
        }
    };
    match (step, node) {
        (Step::Key(k), Value::Object(map)) => out.extend(map.get(k)),
        (Step::Index(i), Value::Array(items)) => {
            let at = if *i < 0 { items.len().checked_sub(i.unsigned_abs() as usize) } else { Some(*i as usize) };
            out.extend(at.and_then(|at| items.get(at)));
        }
        (Step::AnyKey, Value::Object(map)) => out.extend(map.values()),
        (Step::AnyIndex, Value::Array(items)) => out.extend(items.iter()),
        (Step::Descendants, _) => {
            let below = children(node);
            out.extend(below.iter().copied());
            for child in below {
                apply(step, child, out);
            }
        }
        (Step::Descend(inner), _) => {
            apply(inner, node, out);
            for child in children(node) {
                apply(step, child, out);
            }
        }
        _ => {}
    }
}

fn extract_all(arrays: &[ArrayRef], as_text: bool) -> Result<ArrayRef> {
    let (documents, paths) = (texts(&arrays[0])?, texts(&arrays[1])?);
    let item = if as_text {
        Field::new_list_field(DataType::Utf8, true)
    } else {
        crate::engine::compat::types::json_field("item").as_ref().clone()
    };
    let mut out = ListBuilder::new(StringBuilder::new()).with_field(Arc::new(item));
    for (document, path) in documents.iter().zip(&paths) {
        let (Some(document), Some(path)) = (document, path) else {
            out.append(false);
            continue;
        };
        let steps = parse(path)?;
        let Ok(root) = serde_json::from_str::<Value>(document) else {
            return Err(invalid(format!("Malformed JSON: '{document}'")));
        };
        let mut nodes = vec![&root];
        for step in &steps {
            let mut next = Vec::new();
            for node in nodes {
                apply(step, node, &mut next);
            }
            nodes = next;
        }
        for node in nodes {
            match node {
                Value::String(s) if as_text => out.values().append_value(s),
                Value::Null if as_text => out.values().append_null(),
                other => out.values().append_value(other.to_string()),
            }
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(document: &str, path: &str) -> Vec<String> {
        let root: Value = serde_json::from_str(document).unwrap();
        let mut nodes = vec![&root];
        for step in &parse(path).unwrap() {
            let mut next = Vec::new();
            for node in nodes {
                apply(step, node, &mut next);
            }
            nodes = next;
        }
        nodes.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn wildcards_match_as_in_duckdb() {
        let doc = r#"{"a":{"b":1,"c":2},"d":["g","h",[{"b":5},{"x":42}]]}"#;
        assert_eq!(matches(doc, "$..b"), ["1", "5"]);
        assert_eq!(matches(doc, "$..[0]"), ["\"g\"", "{\"b\":5}"]);
        assert_eq!(matches(doc, "$..*").len(), 11);
        assert_eq!(matches(doc, "$.**"), matches(doc, "$..*"));
        assert_eq!(matches(r#"[{"duck":42},{"duck":43}]"#, "$[*].duck"), ["42", "43"]);
        assert_eq!(matches(r#"{"duck":[42,43]}"#, "$.*[-1]"), ["43"]);
        assert!(matches(r#"[1]"#, "$.*").is_empty());
    }
}
