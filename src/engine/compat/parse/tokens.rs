//! The text of a statement as the passes before parsing read it: tokenized once, each pass
//! given its tokens (without whitespace, each with its place) and answering with edits, the
//! text tokenized again only after a pass changed it; the last tokens are the parser's.

use std::borrow::Cow;

use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

use crate::error::Result;

use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

/// A change to the text: the bytes `start..end` replaced.
pub(crate) type Edit = (usize, usize, String);

/// A pass over the text before parsing: the edits it makes to `sql`, whose significant tokens
/// are given.
pub(crate) type Pass = fn(&str, &[TokenWithSpan]) -> Result<Vec<Edit>>;

/// A statement's text and its tokens, kept in step.
pub(crate) struct Text {
    sql: String,
    /// Every token (whitespace too), with its place; `None` when the text does not tokenize (the
    /// parser then says what is wrong).
    tokens: Option<Vec<TokenWithSpan>>,
    /// The same without whitespace, as the passes read them.
    significant: Vec<TokenWithSpan>,
}

impl Text {
    pub(crate) fn new(sql: &str) -> Text {
        let mut text = Text { sql: sql.to_string(), tokens: None, significant: Vec::new() };
        text.tokenize();
        text
    }

    fn tokenize(&mut self) {
        self.tokens = tokenized(&self.sql);
        self.significant = self.tokens.iter().flatten().filter(|t| !is_whitespace(t)).cloned().collect();
    }

    #[cfg(test)]
    pub(crate) fn sql(&self) -> &str {
        &self.sql
    }

    /// The significant tokens (no whitespace), as the passes read them.
    pub(crate) fn significant(&self) -> &[TokenWithSpan] {
        &self.significant
    }

    /// The text and every token, for the parser; no tokens when the text does not tokenize.
    pub(crate) fn into_parts(self) -> (String, Option<Vec<TokenWithSpan>>) {
        (self.sql, self.tokens)
    }

    /// Runs `pass` and applies its edits (with `repeat`, again until it has none: each run
    /// rewrites what holds no other of its kind); a text that does not tokenize is left as is.
    pub(crate) fn run(&mut self, pass: Pass, repeat: bool) -> Result<()> {
        for _ in 0..if repeat { 16 } else { 1 } {
            if self.tokens.is_none() {
                return Ok(());
            }
            let edits = pass(&self.sql, &self.significant)?;
            if edits.is_empty() {
                return Ok(());
            }
            self.sql = edited(&self.sql, edits).into_owned();
            self.tokenize();
        }
        Ok(())
    }
}

/// `sql` after `pass` alone, for the passes' tests.
#[cfg(test)]
pub(crate) fn after(pass: Pass, repeat: bool, sql: &str) -> Result<String> {
    let mut text = Text::new(sql);
    text.run(pass, repeat)?;
    Ok(text.sql().to_string())
}

fn is_whitespace(token: &TokenWithSpan) -> bool {
    matches!(token.token, Token::Whitespace(_))
}

fn tokenized(sql: &str) -> Option<Vec<TokenWithSpan>> {
    Tokenizer::new(&DuckDbCompatDialect, sql).tokenize_with_location().ok()
}

/// The tokens of `sql` without whitespace, with their places, for a reader of a text that is no
/// statement of its own (a PIVOT's clauses); `None` if it does not tokenize.
pub(crate) fn significant_tokens(sql: &str) -> Option<Vec<TokenWithSpan>> {
    let tokens = tokenized(sql)?;
    Some(tokens.into_iter().filter(|t| !is_whitespace(t)).collect())
}

/// Byte offsets of the tokenizer's (line, column) locations, columns counted in characters.
pub(crate) fn offsets(sql: &str) -> impl Fn(Location) -> usize + '_ {
    let line_starts: Vec<usize> = std::iter::once(0).chain(sql.match_indices('\n').map(|(i, _)| i + 1)).collect();
    move |location: Location| {
        let line = line_starts.get(location.line.saturating_sub(1) as usize).copied().unwrap_or(sql.len());
        sql[line..].char_indices().nth(location.column.saturating_sub(1) as usize).map_or(sql.len(), |(i, _)| line + i)
    }
}

/// Whether the token at `i` is the unquoted word `text`, in any case.
pub(crate) fn is_word(tokens: &[TokenWithSpan], i: usize, text: &str) -> bool {
    matches!(tokens.get(i).map(|t| &t.token), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(text))
}

/// The index of the next token after `i` that is not whitespace.
pub(crate) fn next_significant(tokens: &[TokenWithSpan], i: usize) -> Option<usize> {
    (i + 1..tokens.len()).find(|&j| !matches!(tokens[j].token, Token::Whitespace(_)))
}

/// The index of the first token from `from` at the starting depth that ends a clause there: a
/// `)` closing an outer bracket, a `,` or `;`, or a token `ends` picks; the tokens' count if none.
pub(crate) fn clause_end(tokens: &[TokenWithSpan], from: usize, ends: impl Fn(usize) -> bool) -> usize {
    let mut depth = 0usize;
    for (j, token) in tokens.iter().enumerate().skip(from) {
        match &token.token {
            Token::LParen => depth += 1,
            Token::RParen if depth == 0 => return j,
            Token::RParen => depth -= 1,
            Token::Comma | Token::SemiColon if depth == 0 => return j,
            _ if depth == 0 && ends(j) => return j,
            _ => {}
        }
    }
    tokens.len()
}

/// The index of the `(` that the `)` at `close` ends.
pub(crate) fn opening_paren(tokens: &[TokenWithSpan], close: usize) -> Option<usize> {
    matching(tokens, (0..=close).rev(), &Token::RParen, &Token::LParen)
}

/// The index of the `)` that ends the `(` at `open`.
pub(crate) fn closing_paren(tokens: &[TokenWithSpan], open: usize) -> Option<usize> {
    matching(tokens, open..tokens.len(), &Token::LParen, &Token::RParen)
}

/// Walking `indices` from a bracket, the index where its depth comes back to zero.
fn matching(
    tokens: &[TokenWithSpan],
    indices: impl Iterator<Item = usize>,
    deeper: &Token,
    back: &Token,
) -> Option<usize> {
    let mut depth = 0usize;
    for i in indices {
        let token = &tokens.get(i)?.token;
        if token == deeper {
            depth += 1;
        } else if token == back {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// `sql` with each `(start, end, replacement)` byte range replaced; borrowed when there is none.
pub(crate) fn edited(sql: &str, mut edits: Vec<Edit>) -> Cow<'_, str> {
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
