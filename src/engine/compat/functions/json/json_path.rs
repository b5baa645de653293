//! DuckDB's JSON paths (`$.a.b[0]`, `$."a key"`, `/a/0`, a bare key) as steps, and the calls of
//! DataFusion's JSON functions that walk them; a path that is no constant (`json -> p` with `p`
//! a column) is read row by row by `json_path_json` / `json_path_text`.

use datafusion::sql::sqlparser::ast::{Expr, Value, ValueWithSpan};

use crate::engine::compat::ast::{call, null_text};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathStep {
    Key(String),
    Index(i64),
    /// `[#-k]` (`[#]` and a pointer's `-` are `FromEnd(0)`: just past the last element).
    FromEnd(u64),
}

/// DuckDB's JSON paths: `$.a.b[0]`, `$."a key".b`, a JSON pointer `/a/0`, or a bare key.
pub(crate) fn parse_json_path(path: &str) -> Result<Vec<PathStep>> {
    let bad = |why: &str| {
        Error::Query(format!("malformed JSON path '{path}': {why} (write it as '$.key', '$.a.b' or '$.items[0]')"))
    };
    // An empty path is the document itself.
    if path.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(pointer) = path.strip_prefix('/') {
        return Ok(pointer
            .split('/')
            .map(|s| {
                let s = s.replace("~1", "/").replace("~0", "~");
                if s == "-" {
                    return PathStep::FromEnd(0);
                }
                match s.parse::<i64>() {
                    Ok(i) => PathStep::Index(i),
                    Err(_) => PathStep::Key(s),
                }
            })
            .collect());
    }
    let Some(mut rest) = path.strip_prefix('$') else {
        return Ok(vec![PathStep::Key(path.to_string())]);
    };
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            if let Some(quoted) = after.strip_prefix('"') {
                // A quoted key ends at the first '"' that no backslash escapes.
                let mut key = String::new();
                let mut chars = quoted.char_indices();
                let end = loop {
                    match chars.next() {
                        Some((_, '\\')) => key.extend(chars.next().map(|(_, c)| c)),
                        Some((i, '"')) => break i,
                        Some((_, c)) => key.push(c),
                        None => return Err(bad("a quoted key is not closed")),
                    }
                };
                steps.push(PathStep::Key(key));
                rest = &quoted[end + 1..];
            } else {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                if end == 0 {
                    return Err(bad("a key is empty"));
                }
                steps.push(PathStep::Key(after[..end].to_string()));
                rest = &after[end..];
            }
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').ok_or_else(|| bad("a '[' is not closed"))?;
            let index = after[..end].trim();
            if index == "*" {
                return Err(bad("wildcards are not supported"));
            }
            let step = match index.strip_prefix('#') {
                Some("") => PathStep::FromEnd(0),
                Some(back) => PathStep::FromEnd(
                    back.trim()
                        .strip_prefix('-')
                        .and_then(|k| k.trim().parse().ok())
                        .ok_or_else(|| bad("expected '#-N'"))?,
                ),
                None => PathStep::Index(index.parse().map_err(|_| bad("an array index is not a number"))?),
            };
            steps.push(step);
            rest = &after[end + 1..];
        } else {
            return Err(bad("expected '.' or '[' after a step"));
        }
    }
    Ok(steps)
}

/// `function(json, key, key, ...)` for a literal path; other paths are left to the function.
pub(crate) fn json_call(function: &str, json: Expr, mut path: &Expr) -> Result<Expr> {
    // Templates put their arguments in parentheses.
    while let Expr::Nested(inner) = path {
        path = inner;
    }
    let null = |e: &Expr| matches!(e, Expr::Value(ValueWithSpan { value: Value::Null, .. }));
    if null(&json) || null(path) {
        // NULL in, NULL out, as in DuckDB (the JSON functions refuse an untyped NULL).
        return Ok(null_text());
    }
    // Several paths: a list of what each gives.
    if let Expr::Array(paths) = path {
        let each = paths.elem.iter().map(|p| json_call(function, json.clone(), p)).collect::<Result<Vec<_>>>()?;
        return Ok(call("make_array", each));
    }
    let mut args = vec![json];
    match path {
        Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(p), .. }) => {
            if crate::engine::compat::functions::json::json_wildcards::has_wildcard(p) {
                let all = if function == "json_get_json" {
                    crate::engine::compat::functions::json::json_wildcards::JSON
                } else {
                    crate::engine::compat::functions::json::json_wildcards::TEXT
                };
                args.push(path.clone());
                return Ok(call(all, args));
            }
            let steps = parse_json_path(p)?;
            // The root: the JSON itself (as text, a string without its quotes).
            if steps.is_empty() {
                let whole = if function == "json_get_json" { "json" } else { "json_scalar_text" };
                return Ok(call(whole, args));
            }
            // DataFusion's JSON functions read a key of digits as an array position too; DuckDB
            // finds it in objects only.
            if steps.iter().any(|s| matches!(s, PathStep::Key(k) if k.parse::<i64>().is_ok())) {
                let by_row = if function == "json_get_json" { "json_path_json" } else { "json_path_text" };
                args.push(path.clone());
                return Ok(call(by_row, args));
            }
            for step in steps {
                args.push(match step {
                    PathStep::Key(k) => Expr::value(Value::SingleQuotedString(k)),
                    PathStep::Index(i) => Expr::value(Value::Number(i.to_string(), false)),
                    // `[#-k]` counts from the end; `[#]` is past it, where nothing is.
                    PathStep::FromEnd(0) => return Ok(null_text()),
                    PathStep::FromEnd(k) => Expr::value(Value::Number(format!("-{k}"), false)),
                });
            }
        }
        // An integer is an element's position, which the JSON functions take as it is.
        Expr::Value(ValueWithSpan { value: Value::Number(..), .. }) => args.push(path.clone()),
        other => {
            let by_row = if function == "json_get_json" { "json_path_json" } else { "json_path_text" };
            args.push(other.clone());
            return Ok(call(by_row, args));
        }
    }
    Ok(call(function, args))
}

/// `json_extract(json, path)` and `json -> path`: DuckDB's JSON, or a list of it for a list of
/// paths or a path with wildcards.
pub(crate) fn extracted_json(json: Expr, path: &Expr) -> Result<Expr> {
    let extracted = json_call("json_get_json", json, path)?;
    let mut inner = path;
    while let Expr::Nested(e) = inner {
        inner = e;
    }
    let many = match inner {
        Expr::Array(_) => true,
        Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(p), .. }) => {
            crate::engine::compat::functions::json::json_wildcards::has_wildcard(p)
        }
        _ => false,
    };
    Ok(if many { extracted } else { call("json_mark", vec![extracted]) })
}

/// The position a step names in an array of `len` elements (possibly `len` itself, just past the
/// end); `None` before the start.
pub(crate) fn array_index(step: &PathStep, len: usize) -> Option<usize> {
    match step {
        PathStep::Index(i) if *i < 0 => len.checked_sub(i.unsigned_abs() as usize),
        PathStep::Index(i) => Some(*i as usize),
        PathStep::FromEnd(k) => len.checked_sub(*k as usize),
        PathStep::Key(_) => None,
    }
}
