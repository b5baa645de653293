//! DuckDB's joins the parser does not take.
//!
//! `ASOF [LEFT] JOIN r ON <equalities> AND l.t >= r.t` is written as the plain join with a marker as its condition's first conjunct
//! (`JOIN r ON __asof_join() AND ...`), for `expand::asof_joins` to compute. A join written with
//! USING keeps its ASOF, and fails to parse with the message that says what to write.

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
    }
}
