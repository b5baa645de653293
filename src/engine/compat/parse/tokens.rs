//! The tokens of a SQL text as the passes over it before parsing read them: without
//! whitespace, each with its place, and the byte offsets of those places.

use std::borrow::Cow;

use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

/// The tokens of `sql` without whitespace, with their places; `None` if it does not tokenize
/// (the parser then says what is wrong).
pub(crate) fn significant_tokens(sql: &str) -> Option<Vec<TokenWithSpan>> {
    let tokens = Tokenizer::new(&DuckDbCompatDialect, sql).tokenize_with_location().ok()?;
    Some(tokens.into_iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect())
}

/// Byte offsets of the tokenizer's (line, column) locations, columns counted in characters.
pub(crate) fn offsets(sql: &str) -> impl Fn(Location) -> usize + '_ {
    let line_starts: Vec<usize> = std::iter::once(0).chain(sql.match_indices('\n').map(|(i, _)| i + 1)).collect();
    move |location: Location| {
        let line = line_starts.get(location.line.saturating_sub(1) as usize).copied().unwrap_or(sql.len());
        sql[line..].char_indices().nth(location.column.saturating_sub(1) as usize).map_or(sql.len(), |(i, _)| line + i)
    }
}

/// `sql` with each `(start, end, replacement)` byte range replaced; borrowed when there is none.
pub(crate) fn edited(sql: &str, mut edits: Vec<(usize, usize, String)>) -> Cow<'_, str> {
    if edits.is_empty() {
        return Cow::Borrowed(sql);
    }
    // From the end, so that earlier offsets stay valid.
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut text = sql.to_string();
    for (start, end, replacement) in edits {
        text.replace_range(start..end, &replacement);
    }
    Cow::Owned(text)
}
