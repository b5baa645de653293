//! DuckDB's `json_each(json [, path])` and `json_tree(json [, path])`: a row per element of the
//! JSON (json_tree: per value below it too, the value itself first), with columns `key`,
//! `value`, `type`, `atom`, `id`, `parent`, `fullkey` and `path`. DataFusion's table functions
//! take constants only, and these are mostly used laterally (`FROM activity, json_each(data)`),
//! so each is a scalar function making the rows as a list of structs, which the query unnests
//! (see `lateral_unnest`).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, ListBuilder, StringBuilder, StructBuilder, UInt64Builder};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;
use serde_json::Value;

use crate::engine::compat::functions::common::{invalid, row_udf};
use crate::engine::compat::functions::json::json_path::{PathStep, parse_json_path};

/// The columns of a row, in DuckDB's order.
pub(crate) const COLUMNS: [&str; 8] = ["key", "value", "type", "atom", "id", "parent", "fullkey", "path"];

/// The functions that make the rows: `json_each_rows` and `json_tree_rows`.
pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![
        row_udf("json_each_rows", "json_each(json [, path])", 1..=2, |_| Ok(rows_type()), |a| rows(a, false)),
        row_udf("json_tree_rows", "json_tree(json [, path])", 1..=2, |_| Ok(rows_type()), |a| rows(a, true)),
    ]
}

/// The function making the rows of the table function `name`, if it is one of these.
pub(crate) fn rows_function(name: &str) -> Option<&'static str> {
    match name.to_lowercase().as_str() {
        "json_each" => Some("json_each_rows"),
        "json_tree" => Some("json_tree_rows"),
        _ => None,
    }
}

fn row_fields() -> Fields {
    COLUMNS
        .iter()
        .map(|name| match *name {
            "value" | "atom" => crate::engine::compat::types::json_field(name),
            "id" | "parent" => Arc::new(Field::new(*name, DataType::UInt64, true)),
            _ => Arc::new(Field::new(*name, DataType::Utf8, true)),
        })
        .collect()
}

fn rows_type() -> DataType {
    DataType::new_list(DataType::Struct(row_fields()), true)
}

/// One row of json_each or json_tree.
struct Row {
    key: Option<String>,
    value: Value,
    id: u64,
    parent: Option<u64>,
    fullkey: String,
    path: String,
}

/// How many ids a value takes: itself, and each element (an object's keys take one each).
fn size(value: &Value) -> u64 {
    match value {
        Value::Array(items) => 1 + items.iter().map(size).sum::<u64>(),
        Value::Object(entries) => 1 + entries.values().map(|v| 1 + size(v)).sum::<u64>(),
        _ => 1,
    }
}

/// An object key in a path: bare when it is an ASCII letter followed by ASCII letters, digits
/// and underscores, quoted (with `"` and `\` escaped) otherwise, as DuckDB and SQLite write it.
fn key_step(key: &str) -> String {
    let mut chars = key.chars();
    let bare =
        chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if bare { format!(".{key}") } else { format!(".\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\"")) }
}

/// The children of a value at `id` and `fullkey`: (key, value, id, fullkey).
fn children<'v>(value: &'v Value, id: u64, fullkey: &str) -> Vec<(String, &'v Value, u64, String)> {
    let mut next = id + 1;
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let child = (i.to_string(), item, next, format!("{fullkey}[{i}]"));
                next += size(item);
                child
            })
            .collect(),
        Value::Object(entries) => entries
            .iter()
            .map(|(key, item)| {
                let child = (key.clone(), item, next + 1, format!("{fullkey}{}", key_step(key)));
                next += 1 + size(item);
                child
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The value at `steps` below `root`, with its id and its path written out.
fn located<'v>(root: &'v Value, steps: &[PathStep]) -> Option<(Option<String>, &'v Value, u64, String)> {
    let (mut key, mut value, mut id, mut fullkey) = (None, root, 0, "$".to_string());
    for step in steps {
        let wanted = match (step, value) {
            (PathStep::Key(k), Value::Object(_)) => k.clone(),
            (_, Value::Array(items)) => {
                crate::engine::compat::functions::json::json_path::array_index(step, items.len())?.to_string()
            }
            _ => return None,
        };
        let (k, v, i, f) = children(value, id, &fullkey).into_iter().find(|(k, ..)| *k == wanted)?;
        (key, value, id, fullkey) = (Some(k), v, i, f);
    }
    Some((key, value, id, fullkey))
}

/// The rows of `json_each` (the start's children, or the start itself when it is no container)
/// or `json_tree` (the start, then every value below it, depth first).
fn table(root: &Value, steps: &[PathStep], tree: bool) -> Vec<Row> {
    let Some((key, start, id, fullkey)) = located(root, steps) else { return Vec::new() };
    let container = matches!(start, Value::Array(_) | Value::Object(_));
    let mut rows = Vec::new();
    if tree || !container {
        let path = if steps.is_empty() { "$".to_string() } else { parent_path(&fullkey) };
        rows.push(Row { key: key.clone(), value: start.clone(), id, parent: None, fullkey: fullkey.clone(), path });
    }
    if !container {
        return rows;
    }
    let mut pending: Vec<(String, &Value, u64, String, u64, String)> =
        children(start, id, &fullkey).into_iter().rev().map(|(k, v, i, f)| (k, v, i, f, id, fullkey.clone())).collect();
    while let Some((k, v, i, f, parent, path)) = pending.pop() {
        if tree {
            for (ck, cv, ci, cf) in children(v, i, &f).into_iter().rev() {
                pending.push((ck, cv, ci, cf, i, f.clone()));
            }
        }
        let parent = tree.then_some(parent);
        rows.push(Row { key: Some(k), value: v.clone(), id: i, parent, fullkey: f, path });
    }
    rows
}

/// The path of the value holding the one at `fullkey`.
fn parent_path(fullkey: &str) -> String {
    // The last step starts at the last '.' or '[' outside quotes.
    let mut quoted = false;
    let mut escaped = false;
    let mut last = 1;
    for (i, c) in fullkey.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '.' | '[' if !quoted => last = i,
            _ => {}
        }
    }
    fullkey[..last.max(1)].to_string()
}

fn rows(arrays: &[ArrayRef], tree: bool) -> Result<ArrayRef> {
    let texts = crate::engine::compat::functions::common::texts(&arrays[0])?;
    let paths = arrays.get(1).map(crate::engine::compat::functions::common::texts).transpose()?;
    let mut builder = ListBuilder::new(StructBuilder::from_fields(row_fields(), 0))
        .with_field(Arc::new(Field::new_list_field(DataType::Struct(row_fields()), true)));
    for (r, text) in texts.iter().enumerate() {
        let path = paths.as_ref().map(|p| p[r].clone());
        let (Some(text), None | Some(Some(_))) = (text, &path) else {
            builder.append(false);
            continue;
        };
        let root: Value = serde_json::from_str(text)
            .map_err(|e| invalid(format!("json_each/json_tree: malformed JSON '{text}': {e}")))?;
        let steps = match path.flatten() {
            Some(p) => parse_json_path(&p).map_err(|e| invalid(e.to_string()))?,
            None => Vec::new(),
        };
        for row in table(&root, &steps, tree) {
            append(builder.values(), row);
        }
        builder.append(true);
    }
    Ok(Arc::new(builder.finish()))
}

fn append(fields: &mut StructBuilder, row: Row) {
    let atom = match &row.value {
        Value::Array(_) | Value::Object(_) | Value::Null => None,
        scalar => Some(scalar.to_string()),
    };
    let text = |i: usize, fields: &mut StructBuilder, value: Option<&str>| {
        if let Some(b) = fields.field_builder::<StringBuilder>(i) {
            b.append_option(value);
        }
    };
    text(0, fields, row.key.as_deref());
    text(1, fields, Some(&row.value.to_string()));
    text(2, fields, Some(crate::engine::compat::functions::json::json_inspect::duckdb_json_type(&row.value)));
    text(3, fields, atom.as_deref());
    if let Some(b) = fields.field_builder::<UInt64Builder>(4) {
        b.append_value(row.id);
    }
    if let Some(b) = fields.field_builder::<UInt64Builder>(5) {
        b.append_option(row.parent);
    }
    text(6, fields, Some(&row.fullkey));
    text(7, fields, Some(&row.path));
    fields.append(true);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(json: &str, path: &str, tree: bool) -> Vec<String> {
        let root: Value = serde_json::from_str(json).unwrap();
        let steps = parse_json_path(path).unwrap();
        table(&root, &steps, tree)
            .into_iter()
            .map(|r| {
                let parent = r.parent.map_or("-".into(), |p| p.to_string());
                format!("{} {} {} {parent} {} {}", r.key.unwrap_or("-".into()), r.value, r.id, r.fullkey, r.path)
            })
            .collect()
    }

    #[test]
    fn rows_are_numbered_as_duckdb_numbers_them() {
        // DuckDB: select * from json_each('{"a": 1, "b": [1,{"c":2}], "d": null}')
        assert_eq!(
            described(r#"{"a": 1, "b": [1,{"c":2}], "d": null}"#, "", false),
            ["a 1 2 - $.a $", r#"b [1,{"c":2}] 4 - $.b $"#, "d null 10 - $.d $"]
        );
        assert_eq!(
            described(r#"{"a": 1, "b": [1,{"c":2}]}"#, "", true),
            [
                r#"- {"a":1,"b":[1,{"c":2}]} 0 - $ $"#,
                "a 1 2 0 $.a $",
                r#"b [1,{"c":2}] 4 0 $.b $"#,
                "0 1 5 4 $.b[0] $.b",
                r#"1 {"c":2} 6 4 $.b[1] $.b"#,
                "c 2 8 6 $.b[1].c $.b[1]",
            ]
        );
        assert_eq!(described(r#"{"nested": {"a.b": 1}}"#, "$.nested", false), [r#"a.b 1 4 - $.nested."a.b" $.nested"#]);
        assert_eq!(described("3", "", false), ["- 3 0 - $ $"]);
        assert!(described(r#"{"a": 1}"#, "$.missing", false).is_empty());
    }

    #[test]
    fn keys_are_quoted_unless_plain() {
        assert_eq!(key_step("a_b1"), ".a_b1");
        assert_eq!(key_step("0a"), ".\"0a\"");
        assert_eq!(key_step("a\"b"), ".\"a\\\"b\"");
        assert_eq!(key_step(""), ".\"\"");
        assert_eq!(parent_path("$.\"a.b\".c[0]"), "$.\"a.b\".c");
        assert_eq!(parent_path("$.a"), "$");
    }
}
