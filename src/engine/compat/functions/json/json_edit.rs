//! DuckDB's functions that make a new JSON text from others: `json` (minified), `json_set`,
//! `json_insert`, `json_replace`, `json_remove`, `json_merge_patch` (RFC 7396),
//! `json_deep_merge`, `json_merge_patch_diff`, `json_strip_nulls`, `json_normalize`,
//! `json_structure` and `json_pretty`. Keys keep their order as DuckDB (yyjson) keeps it: a key a
//! patch writes moves to the end.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;
use serde_json::{Map, Value};

use crate::encode::sql_json_value;
use crate::engine::compat::functions::common::{invalid, row_udf, row_udf_json, shared};
use crate::engine::compat::functions::json::json_path::{PathStep, array_index, parse_json_path};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let utf8 = |_: &[DataType]| Ok(DataType::Utf8);
    let many = usize::MAX;
    vec![
        row_udf_json("json", "one argument: json(text)", 1..=1, |a| per_row(a, |v| Ok(Some(v[0].clone())))),
        row_udf_json("json_set", "json_set(json, path, value [, path, value ...])", 3..=many, |a| edit(a, Edit::Set)),
        row_udf_json("json_insert", "json_insert(json, path, value [, ...])", 3..=many, |a| edit(a, Edit::Insert)),
        row_udf_json("json_replace", "json_replace(json, path, value [, ...])", 3..=many, |a| edit(a, Edit::Replace)),
        row_udf_json("json_remove", "json_remove(json, path [, path ...])", 2..=many, json_remove),
        row_udf_json("json_merge_patch", "json_merge_patch(json, patch [, patch ...])", 2..=many, |a| {
            merged(a, merge_patch)
        }),
        row_udf_json("json_deep_merge", "json_deep_merge(json, patch [, patch ...])", 2..=many, |a| {
            merged(a, deep_merge)
        }),
        row_udf_json("json_merge_patch_diff", "json_merge_patch_diff(from, to)", 2..=2, |a| {
            // From nothing (NULL), the patch is the whole target.
            let mut out = Vec::with_capacity(a[0].len());
            for row in 0..a[0].len() {
                out.push(match (json_argument(&a[0], row)?, json_argument(&a[1], row)?) {
                    (_, None) => None,
                    (None, Some(to)) => Some(to.to_string()),
                    (Some(from), Some(to)) => Some(patch_between(&from, &to).to_string()),
                });
            }
            Ok(shared(StringArray::from(out)))
        }),
        row_udf_json("json_strip_nulls", "one argument: json_strip_nulls(json)", 1..=1, |a| {
            per_row(a, |v| Ok(Some(strip_nulls(v[0].clone()))))
        }),
        row_udf("json_normalize", "one argument: json_normalize(json)", 1..=1, utf8, |a| {
            per_row(a, |v| Ok(Some(normalized(v[0].clone()))))
        }),
        row_udf_json("json_structure", "one argument: json_structure(json)", 1..=1, |a| {
            per_row(a, |v| Ok(Some(structure(&v[0]))))
        }),
        row_udf("json_pretty", "one argument: json_pretty(json)", 1..=1, utf8, json_pretty),
    ]
}

/// An argument of a row as JSON: text is parsed, other values are written as `to_json` writes
/// them; `None` for SQL NULL.
fn json_argument(array: &ArrayRef, row: usize) -> Result<Option<Value>> {
    if array.is_null(row) || array.data_type() == &DataType::Null {
        return Ok(None);
    }
    if matches!(array.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
        let text = cast(&array.slice(row, 1), &DataType::Utf8)?;
        let text = text.as_string::<i32>().value(0);
        return serde_json::from_str(text)
            .map(Some)
            .map_err(|e| invalid(format!("Invalid Input Error: Malformed JSON: {e} in '{text}'")));
    }
    Ok(Some(sql_json_value(array.as_ref(), row)))
}

/// A path argument: `None` for NULL, no steps for '' or '$' (the root).
fn path_argument(array: &ArrayRef, row: usize) -> Result<Option<Vec<PathStep>>> {
    if array.is_null(row) || array.data_type() == &DataType::Null {
        return Ok(None);
    }
    let text = cast(&array.slice(row, 1), &DataType::Utf8)?;
    let text = text.as_string::<i32>().value(0);
    parse_json_path(text).map(Some).map_err(|e| invalid(e.to_string()))
}

/// Applies `f` to each row whose arguments are all JSON (NULL if any is NULL).
fn per_row(arrays: &[ArrayRef], f: impl Fn(&[Value]) -> Result<Option<Value>>) -> Result<ArrayRef> {
    let rows = arrays.first().map_or(0, |a| a.len());
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        let values: Option<Vec<Value>> = arrays.iter().map(|a| json_argument(a, row)).collect::<Result<_>>()?;
        out.push(match values {
            Some(values) => f(&values)?.map(|v| v.to_string()),
            None => None,
        });
    }
    Ok(shared(StringArray::from(out)))
}

#[derive(Clone, Copy, PartialEq)]
enum Edit {
    Set,
    Insert,
    Replace,
}

fn edit(arrays: &[ArrayRef], how: Edit) -> Result<ArrayRef> {
    if arrays.len().is_multiple_of(2) {
        return Err(invalid("json_set/json_insert/json_replace take a JSON text and path, value pairs".into()));
    }
    let mut out = Vec::with_capacity(arrays[0].len());
    'rows: for row in 0..arrays[0].len() {
        let Some(mut document) = json_argument(&arrays[0], row)? else {
            out.push(None);
            continue;
        };
        for pair in arrays[1..].chunks(2) {
            let (Some(path), Some(value)) = (path_argument(&pair[0], row)?, json_argument(&pair[1], row)?) else {
                out.push(None);
                continue 'rows;
            };
            if path.is_empty() {
                // The root: only json_set and json_replace write it.
                if how != Edit::Insert {
                    document = value;
                }
                continue;
            }
            write_at(&mut document, &path, value, how);
        }
        out.push(Some(document.to_string()));
    }
    Ok(shared(StringArray::from(out)))
}

/// Writes `value` at `path`, creating the objects and arrays on the way for set and insert.
fn write_at(target: &mut Value, path: &[PathStep], value: Value, how: Edit) {
    let (step, rest) = (&path[0], &path[1..]);
    let create = how != Edit::Replace;
    match (step, target) {
        (PathStep::Key(key), Value::Object(object)) => {
            if rest.is_empty() {
                if object.contains_key(key) {
                    if how != Edit::Insert {
                        object.insert(key.clone(), value);
                    }
                } else if create {
                    object.insert(key.clone(), value);
                }
            } else if let Some(child) = object.get_mut(key) {
                write_at(child, rest, value, how);
            } else if create && let Some(made) = built(rest, value) {
                object.insert(key.clone(), made);
            }
        }
        (PathStep::Index(_) | PathStep::FromEnd(_), Value::Array(array)) => {
            let Some(index) = array_index(step, array.len()) else { return };
            if index < array.len() {
                if rest.is_empty() {
                    if how != Edit::Insert {
                        array[index] = value;
                    }
                } else {
                    write_at(&mut array[index], rest, value, how);
                }
            } else if index == array.len() && create {
                array.extend(if rest.is_empty() { Some(value) } else { built(rest, value) });
            }
        }
        _ => {}
    }
}

/// The value that a missing `path` leading to `value` makes (none where the path names an
/// element past the start of the array it would make).
fn built(path: &[PathStep], value: Value) -> Option<Value> {
    path.iter().rev().try_fold(value, |inner, step| match step {
        PathStep::Key(key) => Some(Value::Object(Map::from_iter([(key.clone(), inner)]))),
        PathStep::Index(0) | PathStep::FromEnd(0) => Some(Value::Array(vec![inner])),
        _ => None,
    })
}

fn remove_at(target: &mut Value, path: &[PathStep]) {
    let (step, rest) = (&path[0], &path[1..]);
    match (step, target) {
        (PathStep::Key(key), Value::Object(object)) => {
            if rest.is_empty() {
                object.shift_remove(key);
            } else if let Some(child) = object.get_mut(key) {
                remove_at(child, rest);
            }
        }
        (PathStep::Index(_) | PathStep::FromEnd(_), Value::Array(array)) => {
            if let Some(index) = array_index(step, array.len()).filter(|i| *i < array.len()) {
                if rest.is_empty() {
                    array.remove(index);
                } else {
                    remove_at(&mut array[index], rest);
                }
            }
        }
        _ => {}
    }
}

fn json_remove(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let mut out = Vec::with_capacity(arrays[0].len());
    'rows: for row in 0..arrays[0].len() {
        let Some(mut document) = json_argument(&arrays[0], row)? else {
            out.push(None);
            continue;
        };
        for path in &arrays[1..] {
            match path_argument(path, row)? {
                None => {
                    out.push(None);
                    continue 'rows;
                }
                // Removing the root leaves nothing.
                Some(steps) if steps.is_empty() => {
                    out.push(None);
                    continue 'rows;
                }
                Some(steps) => remove_at(&mut document, &steps),
            }
        }
        out.push(Some(document.to_string()));
    }
    Ok(shared(StringArray::from(out)))
}

/// Folds the patches into the first document, as DuckDB does: a NULL patch makes the document
/// NULL, and a patch of a NULL document is the patch itself.
fn merged(arrays: &[ArrayRef], merge: fn(Option<Value>, Value) -> Value) -> Result<ArrayRef> {
    let mut out = Vec::with_capacity(arrays[0].len());
    for row in 0..arrays[0].len() {
        let mut document = json_argument(&arrays[0], row)?;
        for patch in &arrays[1..] {
            document = json_argument(patch, row)?.map(|patch| merge(document.take(), patch));
        }
        out.push(document.map(|d| d.to_string()));
    }
    Ok(shared(StringArray::from(out)))
}

fn merge_patch(target: Option<Value>, patch: Value) -> Value {
    let Value::Object(patch) = patch else { return patch };
    let mut object = match target {
        Some(Value::Object(o)) => o,
        _ => Map::new(),
    };
    for (key, value) in patch {
        let existing = object.shift_remove(&key);
        if !value.is_null() {
            object.insert(key, merge_patch(existing, value));
        }
    }
    Value::Object(object)
}

/// Like a merge patch, but a `null` in the patch keeps what is there instead of removing it.
fn deep_merge(target: Option<Value>, patch: Value) -> Value {
    match (target, patch) {
        (Some(Value::Object(mut object)), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    continue;
                }
                let existing = object.shift_remove(&key);
                object.insert(key, deep_merge(existing, value));
            }
            Value::Object(object)
        }
        (Some(target), Value::Null) => target,
        (_, patch) => patch,
    }
}

/// The merge patch that turns `from` into `to`.
fn patch_between(from: &Value, to: &Value) -> Value {
    let (Value::Object(from), Value::Object(to)) = (from, to) else { return to.clone() };
    let mut patch = Map::new();
    for key in from.keys().filter(|k| !to.contains_key(*k)) {
        patch.insert(key.clone(), Value::Null);
    }
    for (key, value) in to {
        match from.get(key) {
            Some(old) if old == value => {}
            Some(old @ Value::Object(_)) if value.is_object() => {
                patch.insert(key.clone(), patch_between(old, value));
            }
            _ => {
                patch.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(patch)
}

fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(o) => {
            Value::Object(o.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, strip_nulls(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

fn normalized(value: Value) -> Value {
    match value {
        Value::Object(o) => {
            let mut entries: Vec<(String, Value)> = o.into_iter().map(|(k, v)| (k, normalized(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(normalized).collect()),
        other => other,
    }
}

/// DuckDB's `json_structure`: each value replaced by its type name, array elements merged.
fn structure(value: &Value) -> Value {
    match value {
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), structure(v))).collect()),
        Value::Array(a) => {
            let merged = a.iter().map(structure).reduce(merge_structures).unwrap_or_else(|| Value::from("NULL"));
            Value::Array(vec![merged])
        }
        scalar => Value::from(crate::engine::compat::functions::json::json_inspect::duckdb_json_type(scalar)),
    }
}

fn merge_structures(a: Value, b: Value) -> Value {
    match (a, b) {
        (a, b) if a == b => a,
        (Value::String(n), other) | (other, Value::String(n)) if n == "NULL" => other,
        (Value::Object(mut a), Value::Object(b)) => {
            for (key, value) in b {
                let merged = match a.shift_remove(&key) {
                    Some(existing) => merge_structures(existing, value),
                    None => value,
                };
                a.insert(key, merged);
            }
            Value::Object(a)
        }
        (Value::Array(mut a), Value::Array(mut b)) => match (a.pop(), b.pop()) {
            (Some(x), Some(y)) => Value::Array(vec![merge_structures(x, y)]),
            _ => Value::Array(vec![Value::from("NULL")]),
        },
        (Value::String(x), Value::String(y)) => {
            let numeric = |t: &str| matches!(t, "UBIGINT" | "BIGINT" | "DOUBLE");
            if numeric(&x) && numeric(&y) {
                Value::from(if x == "DOUBLE" || y == "DOUBLE" { "DOUBLE" } else { "BIGINT" })
            } else {
                Value::from("JSON")
            }
        }
        _ => Value::from("JSON"),
    }
}

fn json_pretty(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let mut out = Vec::with_capacity(arrays[0].len());
    for row in 0..arrays[0].len() {
        out.push(match json_argument(&arrays[0], row)? {
            Some(value) => {
                let mut text = Vec::new();
                let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
                let mut serializer = serde_json::Serializer::with_formatter(&mut text, formatter);
                serde::Serialize::serialize(&value, &mut serializer).map_err(|e| invalid(e.to_string()))?;
                Some(String::from_utf8_lossy(&text).into_owned())
            }
            None => None,
        });
    }
    Ok(shared(StringArray::from(out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_move_the_keys_they_write_to_the_end() {
        let merged = merge_patch(Some(json!({"a": 1, "b": 2})), json!({"a": 3, "c": 4}));
        assert_eq!(merged.to_string(), r#"{"b":2,"a":3,"c":4}"#);
        assert_eq!(deep_merge(Some(json!({"a": 1, "b": 2})), json!({"b": null})).to_string(), r#"{"a":1,"b":2}"#);
        let diff = patch_between(&json!({"a":1,"b":2,"c":3}), &json!({"a":1,"b":99,"d":4}));
        assert_eq!(diff.to_string(), r#"{"c":null,"b":99,"d":4}"#);
        let mut doc = json!({});
        write_at(&mut doc, &parse_json_path("$.a[0]").unwrap(), json!(1), Edit::Set);
        assert_eq!(doc.to_string(), r#"{"a":[1]}"#);
        assert_eq!(structure(&json!([true, null, false])).to_string(), r#"["BOOLEAN"]"#);
    }
}
