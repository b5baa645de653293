//! DuckDB's joins the parser does not take.
//!
//! `ASOF [LEFT] JOIN r ON <equalities> AND l.t >= r.t` is written as the plain join with a marker as its condition's first conjunct
//! (`JOIN r ON __asof_join() AND ...`), for `expand::asof_joins` to compute. A join written with
//! USING keeps its ASOF, and fails to parse with the message that says what to write.
//!
//! `JOIN BY (TYPE semi) r ON ...`, DuckDB's way of naming a join's physical type, is written as the
//! join of that type the parser takes (`SEMI JOIN r ON ...`).

use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{Edit, is_word, next_significant, offsets};
use crate::error::{Error, Result};

/// The marker's name.
pub(crate) const ASOF_MARKER: &str = "__asof_join";

pub(crate) fn asof_joins(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("asof") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let is = |i: usize, text: &str| is_word(tokens, i, text);
    let next = |i: usize| next_significant(tokens, i);
    let mut edits = Vec::new();
    for i in 0..tokens.len() {
        if !is(i, "asof") {
            continue;
        }
        let Some(after_asof) = next(i) else { continue };
        // Whether a row has a match does not depend on which match is the closest.
        if is(after_asof, "semi") || is(after_asof, "anti") {
            edits.push((offset(tokens[i].span.start), offset(tokens[after_asof].span.start), String::new()));
            continue;
        }
        let mut join = after_asof;
        if is(join, "left") {
            match next(join) {
                Some(j) => join = j,
                None => continue,
            }
        }
        if !is(join, "join") {
            continue;
        }
        // The ON of this join: at its own depth, before anything that ends the join.
        let mut depth = 0usize;
        let mut on = None;
        for (j, token) in tokens.iter().enumerate().skip(join + 1) {
            match &token.token {
                Token::LParen => depth += 1,
                Token::RParen if depth == 0 => break,
                Token::RParen => depth -= 1,
                Token::SemiColon => break,
                Token::Word(_) if depth == 0 && is(j, "on") => {
                    on = Some(j);
                    break;
                }
                Token::Word(_)
                    if depth == 0
                        && ["using", "join", "where", "group", "order", "limit", "union", "natural"]
                            .iter()
                            .any(|k| is(j, k)) =>
                {
                    break;
                }
                _ => {}
            }
        }
        let Some(on) = on else { continue };
        edits.push((offset(tokens[i].span.start), offset(tokens[after_asof].span.start), String::new()));
        let at = offset(tokens[on].span.end);
        edits.push((at, at, format!(" {ASOF_MARKER}() AND")));
    }
    Ok(edits)
}

/// `l POSITIONAL JOIN r` written `l OUTER APPLY r`, which the parser takes and DuckDB does not
/// have, for `expand::positional_joins` to pair the rows by position. APPLY written as such is
/// refused first.
pub(crate) fn positional_joins(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    let lower = sql.to_ascii_lowercase();
    if !lower.contains("positional") && !lower.contains("apply") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let is = |i: usize, text: &str| is_word(tokens, i, text);
    let next = |i: usize| next_significant(tokens, i);
    let mut edits = Vec::new();
    for i in 0..tokens.len() {
        if (is(i, "outer") || is(i, "cross")) && next(i).is_some_and(|j| is(j, "apply")) {
            return Err(Error::Query(
                "OUTER APPLY and CROSS APPLY are not DuckDB's SQL: write LEFT JOIN LATERAL (...) ON true".into(),
            ));
        }
        if is(i, "positional")
            && let Some(join) = next(i).filter(|&j| is(j, "join"))
        {
            edits.push((offset(tokens[i].span.start), offset(tokens[join].span.end), "OUTER APPLY".to_string()));
        }
    }
    Ok(edits)
}

/// `JOIN BY (TYPE <kind>)` as the join it names; a mark join (its marker column has no spelling
/// here) is refused with what to write.
pub(crate) fn typed_joins(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("type") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let is = |i: usize, text: &str| is_word(tokens, i, text);
    let next = |i: usize| next_significant(tokens, i);
    let mut edits = Vec::new();
    for i in 0..tokens.len() {
        if !is(i, "join") {
            continue;
        }
        let by = next(i).filter(|&j| is(j, "by"));
        let open = by.and_then(next).filter(|&j| tokens[j].token == Token::LParen);
        let kind = open.and_then(next).filter(|&j| is(j, "type")).and_then(next);
        let close = kind.and_then(next).filter(|&j| tokens[j].token == Token::RParen);
        let (Some(kind), Some(close)) = (kind, close) else { continue };
        let Token::Word(word) = &tokens[kind].token else { continue };
        let join = match word.value.to_ascii_lowercase().as_str() {
            "inner" => "JOIN",
            "left" => "LEFT JOIN",
            "right" => "RIGHT JOIN",
            "full" | "outer" => "FULL JOIN",
            // A single join is a left join that fails on a second match; DuckDB uses it for scalar
            // subqueries, where a second match is an error anyway.
            "single" => "LEFT JOIN",
            "semi" => "SEMI JOIN",
            "anti" => "ANTI JOIN",
            "cross" => "CROSS JOIN",
            "mark" | "mark_join" => {
                return Err(Error::Query(
                    "JOIN BY (TYPE mark) is not supported: write x IN (SELECT y FROM r) in the select list".into(),
                ));
            }
            other => {
                return Err(Error::Query(format!(
                    "JOIN BY (TYPE {other}) names no join type: write INNER, LEFT, RIGHT, FULL, SEMI, ANTI or CROSS"
                )));
            }
        };
        edits.push((offset(tokens[i].span.start), offset(tokens[close].span.end), join.to_string()));
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::parse::prepared;

    #[test]
    fn asof_and_positional_joins_become_forms_the_parser_takes() {
        assert_eq!(
            prepared("SELECT * FROM l ASOF LEFT JOIN r ON l.k = r.k AND l.t >= r.t"),
            "SELECT * FROM l LEFT JOIN r ON __asof_join() AND l.k = r.k AND l.t >= r.t"
        );
        assert_eq!(prepared("SELECT * FROM l ASOF JOIN r USING (k, t)"), "SELECT * FROM l ASOF JOIN r USING (k, t)");
        assert_eq!(
            prepared("SELECT a FROM l JOIN BY (TYPE SeMi) r ON (a = b)"),
            "SELECT a FROM l SEMI JOIN r ON (a = b)"
        );
    }
}
