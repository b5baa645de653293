//! DuckDB's JSON paths (`$.a.b[0]`, `$."a key"`, `/a/0`, a bare key) as steps.

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathStep {
    Key(String),
    Index(i64),
}

/// DuckDB's JSON paths: `$.a.b[0]`, `$."a key".b`, a JSON pointer `/a/0`, or a bare key.
pub(crate) fn parse_json_path(path: &str) -> Result<Vec<PathStep>> {
    let bad = |why: &str| {
        Error::Query(format!("malformed JSON path '{path}': {why} (write it as '$.key', '$.a.b' or '$.items[0]')"))
    };
    if let Some(pointer) = path.strip_prefix('/') {
        return Ok(pointer
            .split('/')
            .map(|s| {
                let s = s.replace("~1", "/").replace("~0", "~");
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
                let end = quoted.find('"').ok_or_else(|| bad("a quoted key is not closed"))?;
                steps.push(PathStep::Key(quoted[..end].to_string()));
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
            steps.push(PathStep::Index(index.parse().map_err(|_| bad("an array index is not a number"))?));
            rest = &after[end + 1..];
        } else {
            return Err(bad("expected '.' or '[' after a step"));
        }
    }
    Ok(steps)
}
