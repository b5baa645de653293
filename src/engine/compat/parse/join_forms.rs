//! DuckDB's joins the parser does not take.
//!
//! `ASOF [LEFT] JOIN r ON <equalities> AND l.t >= r.t` is written as the plain join with a marker as its condition's first conjunct
//! (`JOIN r ON __asof_join() AND ...`), for `expand::asof_joins` to compute. A join written with
//! USING keeps its ASOF, and fails to parse with the message that says what to write.
//!
//! `JOIN r t NEAREST k BY DISTANCE d` is written as the lateral top-k join DuckDB defines it as.
//!
//! `JOIN BY (TYPE semi) r ON ...`, DuckDB's way of naming a join's physical type, is written as the
//! join of that type the parser takes (`SEMI JOIN r ON ...`); a mark join as a lateral aggregate.

use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::nested_joins::JOIN_CLAUSE_ENDS;
use crate::engine::compat::parse::tokens::{Edit, clause_end, is_word, next_significant, offsets, opening_paren};
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
                edits.push(mark_join(sql, tokens, i, close)?);
                continue;
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

/// A mark join, `l JOIN BY (TYPE mark) r ON c`: each row of `l` with `__mark_join_marker`, whether
/// a row of `r` meets `c` as `IN` answers it (NULL when none does but some comparison is NULL),
/// written as a lateral aggregate of `r`.
fn mark_join(sql: &str, tokens: &[TokenWithSpan], join: usize, close: usize) -> Result<Edit> {
    let offset = offsets(sql);
    let text = |from: usize, to: usize| &sql[offset(tokens[from].span.start)..offset(tokens[to].span.end)];
    let refused = || {
        Error::Query(
            "JOIN BY (TYPE mark) needs ON and its condition: write l JOIN BY (TYPE mark) r ON l.a = r.b".into(),
        )
    };
    let on = (close + 1..tokens.len())
        .find(|&j| is_word(tokens, j, "on"))
        .filter(|&on| on > close + 1)
        .ok_or_else(refused)?;
    let last = join_clause_end(tokens, on + 1);
    if last <= on {
        return Err(refused());
    }
    let (relation, condition) = (text(close + 1, on - 1), text(on + 1, last));
    Ok((
        offset(tokens[join].span.start),
        offset(tokens[last].span.end),
        format!(
            "CROSS JOIN LATERAL (SELECT CASE WHEN bool_or({condition}) THEN true WHEN bool_or(({condition}) IS NULL) THEN NULL ELSE false END AS __mark_join_marker FROM {relation}) AS __mark_join"
        ),
    ))
}

/// `l JOIN r t [APPROX | EXACT] NEAREST [k] BY DISTANCE d` (or `BY SIMILARITY`, largest first),
/// which DuckDB defines as the lateral top-k join, written as that join:
/// `JOIN LATERAL (SELECT * FROM r t WHERE (d) IS NOT NULL ORDER BY (d) LIMIT k) AS t ON TRUE`
/// (`LEFT JOIN` keeps the rows with no candidate). The search is always exact.
pub(crate) fn nearest_joins(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("nearest") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let is = |i: usize, text: &str| is_word(tokens, i, text);
    let text = |from: usize, to: usize| &sql[offset(tokens[from].span.start)..offset(tokens[to].span.end)];
    let mut edits = Vec::new();
    for nearest in 0..tokens.len() {
        if !is(nearest, "nearest") {
            continue;
        }
        let mut at = nearest + 1;
        let count = match tokens.get(at).map(|t| &t.token) {
            Some(Token::Number(n, _)) => {
                at += 1;
                Some(n.as_str())
            }
            _ => None,
        };
        // (Otherwise `nearest` is a name.)
        if nearest < 2 || !is(at, "by") || !(is(at + 1, "distance") || is(at + 1, "similarity")) {
            continue;
        }
        let count = match count {
            None => 1,
            Some(n) => n
                .parse::<u64>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| Error::Query(format!("NEAREST expects a positive integer literal, got \"{n}\"")))?,
        };
        let direction = if is(at + 1, "distance") { "ASC" } else { "DESC" };
        let (first, last) = (at + 2, join_clause_end(tokens, at + 2));
        if last < first {
            return Err(Error::Query("NEAREST ... BY DISTANCE needs the expression to rank by".into()));
        }
        let distance = text(first, last);
        let relation_end = if nearest > 0 && (is(nearest - 1, "approx") || is(nearest - 1, "exact")) {
            nearest - 2
        } else {
            nearest - 1
        };
        let Some(join) = join_before(tokens, relation_end) else { continue };
        let (start, kind) = match join.checked_sub(1) {
            Some(k) if is(k, "inner") => (k, "JOIN"),
            Some(k) if is(k, "left") => (k, "LEFT JOIN"),
            Some(k) if is(k, "outer") && k > 0 && is(k - 1, "left") => (k - 1, "LEFT JOIN"),
            Some(k)
                if ["right", "full", "semi", "anti", "cross", "outer", "asof", "positional", "natural"]
                    .iter()
                    .any(|w| is(k, w)) =>
            {
                let kind = if is(k, "outer") && k > 0 { text(k - 1, k - 1) } else { text(k, k) };
                return Err(Error::Query(format!(
                    "NEAREST BY only supports INNER and LEFT OUTER joins, not {}",
                    kind.to_ascii_uppercase()
                )));
            }
            _ => (join, "JOIN"),
        };
        let alias = relation_alias(tokens, join + 1, relation_end).map(|a| format!(" AS {}", text(a, a)));
        edits.push((
            offset(tokens[start].span.start),
            offset(tokens[last].span.end),
            format!(
                "{kind} LATERAL (SELECT * FROM {} WHERE ({distance}) IS NOT NULL ORDER BY ({distance}) {direction} LIMIT {count}){} ON TRUE",
                text(join + 1, relation_end),
                alias.unwrap_or_default()
            ),
        ));
    }
    Ok(edits)
}

/// The last token of a join clause's trailing expression that starts at `from`: before the next
/// clause, join, comma or closing bracket at its own depth.
fn join_clause_end(tokens: &[TokenWithSpan], from: usize) -> usize {
    clause_end(tokens, from, |j| JOIN_CLAUSE_ENDS.iter().any(|w| is_word(tokens, j, w))).saturating_sub(1)
}

/// The `JOIN` whose relation ends at `end`, at the relation's depth.
fn join_before(tokens: &[TokenWithSpan], end: usize) -> Option<usize> {
    let mut depth = 0usize;
    for j in (0..=end).rev() {
        match &tokens[j].token {
            Token::RParen => depth += 1,
            Token::LParen => depth = depth.checked_sub(1)?,
            Token::Word(_) if depth == 0 && is_word(tokens, j, "join") => return Some(j),
            _ => {}
        }
    }
    None
}

/// The token that names the joined relation `start..=end` outside it: its alias (`r t`,
/// `(...) AS t`, `r t(a, b)`), or a table's own name; `None` for an unnamed subquery.
fn relation_alias(tokens: &[TokenWithSpan], start: usize, end: usize) -> Option<usize> {
    let word = |i: usize| matches!(tokens[i].token, Token::Word(_));
    let last = if tokens[end].token == Token::RParen {
        let open = opening_paren(tokens, end)?;
        // A subquery of its own, unnamed; else the column list of an alias.
        if open == start {
            return None;
        }
        open - 1
    } else {
        end
    };
    word(last).then_some(last)
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
        assert_eq!(
            prepared("SELECT a, __mark_join_marker FROM l JOIN BY (TYPE mark) r ON (a = b) ORDER BY a"),
            "SELECT a, __mark_join_marker FROM l CROSS JOIN LATERAL (SELECT CASE WHEN bool_or((a = b)) THEN true WHEN bool_or(((a = b)) IS NULL) THEN NULL ELSE false END AS __mark_join_marker FROM r) AS __mark_join ORDER BY a"
        );
    }

    #[test]
    fn nearest_joins_are_lateral_top_k_joins() {
        assert_eq!(
            prepared("SELECT q.id, t.y FROM l q INNER JOIN r t NEAREST 2 BY DISTANCE abs(q.x - t.y) ORDER BY 1"),
            "SELECT q.id, t.y FROM l q JOIN LATERAL (SELECT * FROM r t WHERE (abs(q.x - t.y)) IS NOT NULL ORDER BY (abs(q.x - t.y)) ASC LIMIT 2) AS t ON TRUE ORDER BY 1"
        );
        assert_eq!(
            prepared(
                "SELECT * FROM u q LEFT OUTER JOIN (SELECT * FROM p) AS t APPROX NEAREST BY SIMILARITY s(q.e, t.e)"
            ),
            "SELECT * FROM u q LEFT JOIN LATERAL (SELECT * FROM (SELECT * FROM p) AS t WHERE (s(q.e, t.e)) IS NOT NULL ORDER BY (s(q.e, t.e)) DESC LIMIT 1) AS t ON TRUE"
        );
        assert_eq!(
            prepared("SELECT count(*) FROM q JOIN (VALUES (1)) NEAREST 1 BY DISTANCE col0, products"),
            "SELECT count(*) FROM q JOIN LATERAL (SELECT * FROM (VALUES (1)) WHERE (col0) IS NOT NULL ORDER BY (col0) ASC LIMIT 1) ON TRUE, products"
        );
        assert_eq!(prepared("SELECT nearest.approx FROM nearest"), "SELECT nearest.approx FROM nearest");
        let refused = |sql: &str| {
            crate::engine::compat::parse::tokens::after(super::nearest_joins, false, sql).unwrap_err().to_string()
        };
        assert_eq!(
            refused("SELECT 1 FROM u q RIGHT JOIN p t NEAREST 1 BY DISTANCE d"),
            "NEAREST BY only supports INNER and LEFT OUTER joins, not RIGHT"
        );
        assert_eq!(
            refused("SELECT 1 FROM u q JOIN p t NEAREST 1.5 BY DISTANCE d"),
            "NEAREST expects a positive integer literal, got \"1.5\""
        );
    }
}
