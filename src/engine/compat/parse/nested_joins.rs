//! Joins nested without parentheses, as SQL allows: `a LEFT JOIN b JOIN c ON b.x = c.x ON a.y =
//! b.y` is `a LEFT JOIN (b JOIN c ON b.x = c.x) ON a.y = b.y` — the inner join's ON comes first.
//! The parser takes only the parenthesized form, so the parentheses are written in.

use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{Edit, clause_end, closing_paren, is_word, offsets};
use crate::error::Result;

/// Words that end a relation's alias, or a join's condition or ranking expression.
pub(crate) const JOIN_CLAUSE_ENDS: [&str; 27] = [
    "on",
    "using",
    "join",
    "inner",
    "left",
    "right",
    "full",
    "cross",
    "natural",
    "where",
    "group",
    "having",
    "qualify",
    "window",
    "order",
    "limit",
    "offset",
    "union",
    "except",
    "intersect",
    "asof",
    "positional",
    "semi",
    "anti",
    "lateral",
    "pivot",
    "unpivot",
];

pub(crate) fn nested_joins(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    let lower = sql.to_ascii_lowercase();
    if !lower.contains("join") || !lower.contains(" on") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let mut edits = Vec::new();
    for join in 0..tokens.len() {
        if !is_word(tokens, join, "join")
            || (join > 0 && (is_word(tokens, join - 1, "cross") || is_word(tokens, join - 1, "natural")))
        {
            continue;
        }
        let start = join + 1;
        let Some((end, joined)) = table_ref(tokens, start) else { continue };
        // Nested only when this join's own condition follows the joins of its right side.
        if joined && (is_word(tokens, end, "on") || is_word(tokens, end, "using")) {
            edits.push((offset(tokens[start].span.start), offset(tokens[start].span.start), "(".to_string()));
            let last = offset(tokens[end - 1].span.end);
            edits.push((last, last, ")".to_string()));
        }
    }
    Ok(edits)
}

/// The index after the table reference at `at` (a relation, and the joins that follow it with
/// their conditions), and whether it holds a join.
fn table_ref(tokens: &[TokenWithSpan], at: usize) -> Option<(usize, bool)> {
    let mut next = primary(tokens, at)?;
    let mut joined = false;
    while let Some(after) = join_keywords(tokens, next) {
        let (end, _) = table_ref(tokens, after)?;
        next = end;
        if is_word(tokens, next, "on") {
            next = condition_end(tokens, next + 1);
        } else if is_word(tokens, next, "using") && tokens.get(next + 1).map(|t| &t.token) == Some(&Token::LParen) {
            next = closing_paren(tokens, next + 1)? + 1;
        }
        joined = true;
    }
    Some((next, joined))
}

/// The index after a relation and its alias.
fn primary(tokens: &[TokenWithSpan], at: usize) -> Option<usize> {
    let mut next = at;
    if is_word(tokens, next, "lateral") {
        next += 1;
    }
    match &tokens.get(next)?.token {
        Token::LParen => next = closing_paren(tokens, next)? + 1,
        Token::Word(_) => {
            next += 1;
            while tokens.get(next).map(|t| &t.token) == Some(&Token::Period)
                && matches!(tokens.get(next + 1).map(|t| &t.token), Some(Token::Word(_)))
            {
                next += 2;
            }
            if tokens.get(next).map(|t| &t.token) == Some(&Token::LParen) {
                next = closing_paren(tokens, next)? + 1;
            }
        }
        _ => return None,
    }
    if is_word(tokens, next, "as") {
        next += 1;
    }
    if matches!(tokens.get(next).map(|t| &t.token), Some(Token::Word(_)))
        && !JOIN_CLAUSE_ENDS.iter().any(|w| is_word(tokens, next, w))
    {
        next += 1;
        if tokens.get(next).map(|t| &t.token) == Some(&Token::LParen) {
            next = closing_paren(tokens, next)? + 1;
        }
    }
    Some(next)
}

/// The index after the join keywords at `at` (`JOIN`, `LEFT OUTER JOIN`, ...), if a join starts there.
fn join_keywords(tokens: &[TokenWithSpan], at: usize) -> Option<usize> {
    let mut next = at;
    for word in ["natural", "inner", "left", "right", "full", "cross", "outer", "semi", "anti"] {
        if is_word(tokens, next, word) {
            next += 1;
        }
    }
    if is_word(tokens, next, "outer") {
        next += 1;
    }
    is_word(tokens, next, "join").then_some(next + 1)
}

/// The index after a join condition starting at `at`.
fn condition_end(tokens: &[TokenWithSpan], at: usize) -> usize {
    // (`left(s, 1)` in a condition is a call, not a join.)
    clause_end(tokens, at, |j| {
        JOIN_CLAUSE_ENDS.iter().any(|w| is_word(tokens, j, w))
            && (join_keywords(tokens, j).is_some() || !["left", "right"].iter().any(|w| is_word(tokens, j, w)))
    })
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::parse::prepared;

    #[test]
    fn joins_nested_without_parentheses_get_them() {
        assert_eq!(
            prepared("SELECT * FROM a LEFT JOIN b JOIN c AS cc ON b.x = cc.x ON a.y = b.y WHERE a.z > 0"),
            "SELECT * FROM a LEFT JOIN (b JOIN c AS cc ON b.x = cc.x) ON a.y = b.y WHERE a.z > 0"
        );
        let chained =
            "SELECT * FROM a JOIN b ON a.x = b.x LEFT JOIN c ON left(c.s, 1) = b.s CROSS JOIN d JOIN e ON e.k = d.k";
        assert_eq!(prepared(chained), chained);
    }
}
