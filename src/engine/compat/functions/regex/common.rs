//! What the regular-expression functions share: patterns compiled with DuckDB's options, and
//! DuckDB's walk over the matches.

use datafusion::common::Result;

use crate::engine::compat::functions::common::invalid;

/// A regular expression with DuckDB's option letters (`i` insensitive, `c` sensitive, `s`/`n`/`p`
/// newline-sensitive, `m`, `l` literal, `g` global: ignored as every match is taken).
pub(crate) fn compile(pattern: &str, options: Option<&str>) -> Result<regex::Regex> {
    let options = options.unwrap_or_default();
    // `l` reads the pattern literally; the other options still apply to it.
    let pattern = if options.contains('l') { regex::escape(pattern) } else { pattern.to_string() };
    let mut builder = regex::RegexBuilder::new(&pattern);
    for option in options.chars() {
        match option {
            'i' => {
                builder.case_insensitive(true);
            }
            'c' => {
                builder.case_insensitive(false);
            }
            'm' | 'n' | 'p' => {
                builder.multi_line(true);
            }
            's' => {
                builder.dot_matches_new_line(true);
            }
            'g' | 'l' | 'k' => {}
            other => return Err(invalid(format!("Unrecognized Regex option {other}"))),
        }
    }
    builder.build().map_err(|e| invalid(format!("Invalid Input Error: {e}")))
}

/// DuckDB's walk over the matches: the next search starts where the match ended, or one
/// character further when that is where it started.
pub(crate) fn for_each_match(
    re: &regex::Regex,
    subject: &str,
    mut emit: impl FnMut(&regex::Captures) -> Result<()>,
) -> Result<()> {
    let mut start = 0;
    while start <= subject.len() {
        let Some(captures) = re.captures_at(subject, start) else { break };
        emit(&captures)?;
        let end = captures.get(0).map_or(start, |m| m.end());
        start = if end == start { start + next_char_len(subject, start) } else { end };
    }
    Ok(())
}

pub(crate) fn next_char_len(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(1, char::len_utf8)
}
