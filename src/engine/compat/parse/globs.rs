//! DuckDB's `GLOB` operator, written before parsing as the regular-expression match it means.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{Edit, offsets};
use crate::error::Result;

/// `x GLOB 'a*'` (and `NOT GLOB`) as the regular expression match `x ~ '^a.*$'`.
pub(crate) fn globs_as_regexes(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("glob") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let mut edits = Vec::new();
    for (i, window) in tokens.windows(2).enumerate() {
        let [glob, pattern] = window else { continue };
        let is_glob =
            matches!(&glob.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("glob"));
        let Token::SingleQuotedString(pattern_text) = &pattern.token else { continue };
        if !is_glob || i == 0 {
            continue;
        }
        let negated = matches!(&tokens[i - 1].token, Token::Word(w) if w.keyword == Keyword::NOT);
        let start = if negated { tokens[i - 1].span.start } else { glob.span.start };
        let end = offset(pattern.span.end);
        let regex = glob_regex(pattern_text).replace('\'', "''");
        edits.push((offset(start), end, format!("{} '{regex}'", if negated { "!~" } else { "~" })));
    }
    Ok(edits)
}

/// A regex class no character is in.
const NOTHING: &str = "[^\\x00-\\x{10FFFF}]";

/// A glob as an anchored regular expression, read as DuckDB's matcher reads it: `*` any text,
/// `?` one character, `\c` the character `c`, `[...]` and `[!...]` sets (a `]` first in a set is
/// literal, `a-z` a range). A pattern DuckDB finds invalid (an unclosed set, a trailing `\`)
/// matches nothing, as there.
fn glob_regex(glob: &str) -> String {
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

#[cfg(test)]
mod tests {
    use crate::engine::compat::parse::prepared;

    #[test]
    fn globs_become_anchored_regexes() {
        assert_eq!(
            prepared("SELECT type GLOB 'Map*', type NOT GLOB '[!A-C]?.x' FROM activity"),
            "SELECT type ~ '(?s)^Map.*$', type !~ '(?s)^[^\\x{41}-\\x{43}].\\.x$' FROM activity"
        );
        assert_eq!(prepared("SELECT 'glob' AS glob"), "SELECT 'glob' AS glob");
    }
}
