//! Lambdas (`lambda x : x + 1`, and the older `x -> x + 1`) for the list functions DataFusion
//! runs with lambdas (`list_transform`, `list_filter`, `any_match`, ...), prepared in the text.
//!
//! The parser cannot take lambdas in general: in DuckDB `data->'k'` is JSON access, and with
//! lambdas on the parser reads it as one. So the text is prepared first, only inside the
//! arguments of functions that take a lambda: `lambda x, i : body` becomes `(x, i) -> (body)`
//! and `x -> body` becomes `x -> (body)`, which parse as a JSON arrow whose body keeps its
//! extent; `rewrite::lambdas` then turns those arrows, where a lambda belongs, into lambdas.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{Edit, offsets};
use crate::error::Result;

/// The functions whose arguments may be lambdas, by DuckDB's names and DataFusion's.
const TAKES_LAMBDA: [&str; 15] = [
    "list_transform",
    "array_transform",
    "apply",
    "list_apply",
    "array_apply",
    "list_filter",
    "array_filter",
    "filter",
    "list_reduce",
    "array_reduce",
    "reduce",
    "any_match",
    "list_any_match",
    "invoke",
    // COLUMNS(c -> c LIKE 'a%'): a test on each column's name.
    "columns",
];

pub(crate) fn takes_lambda(name: &str) -> bool {
    TAKES_LAMBDA.contains(&name.to_ascii_lowercase().as_str())
}

/// `sql` with the lambdas of lambda-taking functions written as parenthesised arrows.
pub(crate) fn arrows_for_lambdas(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    let lower = sql.to_ascii_lowercase();
    if !(lower.contains("lambda") || lower.contains("->")) || !TAKES_LAMBDA.iter().any(|f| lower.contains(f)) {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let at = |location: Location| offset(location);
    let mut edits: Vec<Edit> = Vec::new();
    // Per open bracket: whether it holds a lambda-taking function's arguments, and whether a
    // body opened by an edit waits for its `)`.
    let mut frames: Vec<(bool, bool)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i].token;
        let mut argument_starts = false;
        match token {
            Token::LParen | Token::LBracket | Token::LBrace => {
                let is_call = matches!(token, Token::LParen)
                    && i > 0
                    && matches!(&tokens[i - 1].token, Token::Word(w) if takes_lambda(&w.value));
                frames.push((is_call, false));
                argument_starts = is_call;
            }
            Token::Comma | Token::RParen | Token::RBracket | Token::RBrace => {
                if let Some((_, open)) = frames.last_mut()
                    && *open
                {
                    let close = at(tokens[i].span.start);
                    edits.push((close, close, ")".into()));
                    *open = false;
                }
                if matches!(token, Token::Comma) {
                    argument_starts = frames.last().is_some_and(|f| f.0);
                } else {
                    frames.pop();
                }
            }
            _ => {}
        }
        i += 1;
        if argument_starts && let Some((next, edit)) = lambda_at(tokens, i, &at) {
            edits.push(edit);
            if let Some(frame) = frames.last_mut() {
                frame.1 = true;
            }
            i = next;
        }
    }
    Ok(edits)
}

/// A lambda's head starting at token `i`: the token after it and the edit that makes it
/// `params -> (`.
fn lambda_at(tokens: &[TokenWithSpan], i: usize, at: &impl Fn(Location) -> usize) -> Option<(usize, Edit)> {
    let word = |j: usize| match tokens.get(j).map(|t| &t.token) {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.clone()),
        _ => None,
    };
    let is = |j: usize, expected: &Token| tokens.get(j).is_some_and(|t| &t.token == expected);
    // `lambda x, y : body`
    if matches!(tokens.get(i).map(|t| &t.token), Some(Token::Word(w)) if w.keyword == Keyword::LAMBDA) {
        let mut params = vec![word(i + 1)?];
        let mut j = i + 2;
        while is(j, &Token::Comma) {
            params.push(word(j + 1)?);
            j += 2;
        }
        if !is(j, &Token::Colon) {
            return None;
        }
        let start = at(tokens[i].span.start);
        let end = at(tokens[j].span.start) + 1;
        return Some((j + 1, (start, end, format!("({}) -> (", params.join(", ")))));
    }
    // `x -> body` or `(x, y) -> body`
    let arrow = if word(i).is_some() && is(i + 1, &Token::Arrow) {
        i + 1
    } else if is(i, &Token::LParen) {
        let mut j = i + 1;
        word(j)?;
        while is(j + 1, &Token::Comma) {
            word(j + 2)?;
            j += 2;
        }
        if !(is(j + 1, &Token::RParen) && is(j + 2, &Token::Arrow)) {
            return None;
        }
        j + 2
    } else {
        return None;
    };
    let after = at(tokens[arrow].span.start) + 2;
    Some((arrow + 1, (after, after, " (".into())))
}

#[cfg(test)]
mod tests {
    use super::arrows_for_lambdas;
    use crate::engine::compat::parse::tokens::after;

    fn prepared(sql: &str) -> String {
        after(arrows_for_lambdas, false, sql).unwrap()
    }

    #[test]
    fn lambdas_become_parenthesised_arrows_only_where_a_lambda_belongs() {
        for (sql, expected) in [
            ("SELECT list_transform([1, 2], lambda x : x + 1)", "SELECT list_transform([1, 2], (x) -> ( x + 1))"),
            ("SELECT filter(l, lambda x, i : x > i) FROM t", "SELECT filter(l, (x, i) -> ( x > i)) FROM t"),
            ("SELECT list_filter(l, x -> x > 1 AND x < 5)", "SELECT list_filter(l, x -> ( x > 1 AND x < 5))"),
            ("SELECT apply(l, (x, i) -> x + i)", "SELECT apply(l, (x, i) -> ( x + i))"),
            (
                "SELECT list_transform([[1], [2]], lambda x : list_sum(x)), 'lambda'",
                "SELECT list_transform([[1], [2]], (x) -> ( list_sum(x))), 'lambda'",
            ),
        ] {
            assert_eq!(prepared(sql), expected, "{sql}");
        }
        for sql in ["SELECT data->'a' FROM activity", "SELECT coalesce(data->>'x', 'lambda') FROM activity"] {
            assert_eq!(prepared(sql), sql, "no lambda here");
        }
    }
}
