//! DuckDB's glob patterns as regular expressions: the `GLOB` operator's (written before parsing
//! for a literal pattern) and `glob_regex(pattern)`, the helper it writes for a pattern read per
//! row.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{ScalarUDF, Volatility};

use crate::engine::compat::functions::common::{row_udf_with, strings};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![row_udf_with(
        Volatility::Immutable,
        "glob_regex",
        "one pattern: glob_regex(pattern)",
        1..=1,
        |_| Ok(DataType::Utf8),
        |args| {
            let patterns = strings(&args[0])?;
            let regexes: StringArray = patterns.as_string::<i32>().iter().map(|p| p.map(glob_regex)).collect();
            Ok(Arc::new(regexes) as ArrayRef)
        },
    )]
}

/// A regex class no character is in.
const NOTHING: &str = "[^\\x00-\\x{10FFFF}]";

/// A glob as an anchored regular expression, read as DuckDB's matcher reads it: `*` any text,
/// `?` one character, `\c` the character `c`, `[...]` and `[!...]` sets (a `]` first in a set is
/// literal, `a-z` a range). A pattern DuckDB finds invalid (an unclosed set, a trailing `\`)
/// matches nothing, as there.
pub(crate) fn glob_regex(glob: &str) -> String {
    let mut regex = String::from("(?s)^");
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => regex.push_str(".*"),
            '?' => regex.push('.'),
            '\\' => {
                i += 1;
                let Some(c) = chars.get(i) else { return NOTHING.into() };
                regex.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
            }
            '[' => {
                let Some((set, next)) = glob_set(&chars, i + 1) else { return NOTHING.into() };
                regex.push_str(&set);
                i = next;
                continue;
            }
            c => regex.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
        i += 1;
    }
    regex.push('$');
    regex
}

/// The set that starts at `chars[start]` (after its `[`) as a regex class, and where the glob goes
/// on after its `]`; `None` when the set is not closed.
fn glob_set(chars: &[char], start: usize) -> Option<(String, usize)> {
    let escaped = |c: char| format!("\\x{{{:x}}}", c as u32);
    let mut i = start;
    let negated = chars.get(i) == Some(&'!');
    if negated {
        i += 1;
    }
    let first = i;
    let mut items = String::new();
    loop {
        let c = *chars.get(i)?;
        if c == ']' && i > first {
            break;
        }
        // DuckDB needs a character after each member (at least the closing bracket).
        chars.get(i + 1)?;
        if chars[i + 1] == '-' {
            let end = *chars.get(i + 2)?;
            if c <= end {
                items.push_str(&format!("{}-{}", escaped(c), escaped(end)));
            }
            i += 3;
        } else {
            items.push_str(&escaped(c));
            i += 1;
        }
    }
    let class = match (negated, items.is_empty()) {
        (false, true) => NOTHING.to_string(),
        (true, true) => "(?s:.)".to_string(),
        (false, false) => format!("[{items}]"),
        (true, false) => format!("[^{items}]"),
    };
    Some((class, i + 1))
}
