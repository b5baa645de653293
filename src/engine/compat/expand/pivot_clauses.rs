//! The PIVOT and UNPIVOT clauses of a FROM item (`FROM t PIVOT (sum(x) FOR k IN ('a', 'b'))`,
//! `FROM t UNPIVOT (v FOR k IN (a, b))`) written as DuckDB's statements in a subquery, which
//! mean the same (the pivot groups by every other column): `FROM (PIVOT t ON k IN ('a', 'b')
//! USING sum(x))`, `FROM (UNPIVOT t ON a, b INTO NAME k VALUE v)`, with several `FOR` columns,
//! a `GROUP BY`, renamed items, groups of columns and `INCLUDE NULLS` carried over.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{Edit, closing_paren, offsets, opening_paren};
use crate::error::Result;

/// The first PIVOT or UNPIVOT clause of `sql` as a statement in a subquery (run again until
/// there is none: a clause may read the one before).
pub(crate) fn clauses_as_statements(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("pivot") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let text = |from: usize, to: usize| sql[offset(tokens[from].span.start)..offset(tokens[to].span.end)].to_string();
    for at in 1..tokens.len() {
        let Some(keyword) = word(&tokens[at]).filter(|k| matches!(k, Keyword::PIVOT | Keyword::UNPIVOT)) else {
            continue;
        };
        let Some(source) = source_start(tokens, at) else { continue };
        let mut open = at + 1;
        let mut nulls = "";
        if keyword == Keyword::UNPIVOT && matches!(word(&tokens[open]), Some(Keyword::EXCLUDE | Keyword::INCLUDE)) {
            if word(&tokens[open]) == Some(Keyword::INCLUDE) {
                nulls = "INCLUDE NULLS ";
            }
            open += 2;
        }
        if tokens.get(open).map(|t| &t.token) != Some(&Token::LParen) {
            continue;
        }
        let Some(close) = closing_paren(tokens, open) else { continue };
        let Some(for_at) = top_level_for(tokens, open + 1, close) else { continue };
        let start = offset(tokens[source].span.start);
        let source = text(source, at - 1);
        let statement = match keyword {
            Keyword::PIVOT => {
                let Some((columns, groups)) = pivot_columns(tokens, for_at + 1, close, &text) else { continue };
                let aggregates = aliased(tokens, open + 1, for_at, &text);
                let group_by = groups.map(|g| format!(" GROUP BY {g}")).unwrap_or_default();
                format!("(PIVOT {source} ON {} USING {aggregates}{group_by})", columns.join(", "))
            }
            _ => {
                let in_list = for_at + 3;
                let single = word(&tokens[for_at + 2]) == Some(Keyword::IN)
                    && tokens[in_list].token == Token::LParen
                    && closing_paren(tokens, in_list) == Some(close - 1);
                if !single || for_at <= open + 1 {
                    continue;
                }
                let values = text(open + 1, for_at - 1);
                let values = values.trim().strip_prefix('(').and_then(|v| v.strip_suffix(')')).unwrap_or(&values);
                let name = text(for_at + 1, for_at + 1);
                let columns = text(in_list + 1, close - 2);
                format!("(UNPIVOT {nulls}{source} ON {columns} INTO NAME {name} VALUE {values})")
            }
        };
        return Ok(vec![(start, offset(tokens[close].span.end), statement)]);
    }
    Ok(Vec::new())
}

fn word(token: &TokenWithSpan) -> Option<Keyword> {
    match &token.token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
        _ => None,
    }
}

/// Where the FROM item a clause at `at` pivots starts: a name (dotted or not) or a parenthesised
/// subquery, with its alias; `None` when the word starts a statement.
fn source_start(tokens: &[TokenWithSpan], at: usize) -> Option<usize> {
    let mut end = at.checked_sub(1)?;
    let introduces =
        |i: usize| matches!(word(&tokens[i]), Some(Keyword::FROM | Keyword::JOIN)) || tokens[i].token == Token::Comma;
    // An alias: `AS a`, or a bare word after a name or a `)`.
    if matches!(tokens[end].token, Token::Word(_)) && end >= 2 {
        if word(&tokens[end - 1]) == Some(Keyword::AS) {
            end -= 2;
        } else if !introduces(end - 1) && matches!(tokens[end - 1].token, Token::Word(_) | Token::RParen) {
            end -= 1;
        }
    }
    let start = if tokens[end].token == Token::RParen {
        opening_paren(tokens, end)?
    } else {
        let mut start = end;
        while start >= 2 && tokens[start - 1].token == Token::Period {
            start -= 2;
        }
        start
    };
    (start > 0 && introduces(start - 1)).then_some(start)
}

/// Where the clause's FOR is, at its own level.
fn top_level_for(tokens: &[TokenWithSpan], start: usize, close: usize) -> Option<usize> {
    let mut depth = 0i32;
    (start..close).find(|&i| {
        match tokens[i].token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        depth == 0 && word(&tokens[i]) == Some(Keyword::FOR)
    })
}

/// A PIVOT's `column IN (...)` items after FOR (several: `FOR a IN (...) b IN (...)`), as the
/// statement's ON writes them, and the text of its GROUP BY.
fn pivot_columns(
    tokens: &[TokenWithSpan],
    mut at: usize,
    close: usize,
    text: &dyn Fn(usize, usize) -> String,
) -> Option<(Vec<String>, Option<String>)> {
    let mut columns = Vec::new();
    while at < close {
        if word(&tokens[at]) == Some(Keyword::GROUP) && word(&tokens[at + 1]) == Some(Keyword::BY) {
            return (!columns.is_empty() && at + 2 < close).then(|| (columns, Some(text(at + 2, close - 1))));
        }
        let is_column = matches!(tokens[at].token, Token::Word(_));
        if !is_column || word(&tokens[at + 1]) != Some(Keyword::IN) || tokens[at + 2].token != Token::LParen {
            return None;
        }
        let end = closing_paren(tokens, at + 2)?;
        columns.push(text(at, end));
        at = end + 1;
    }
    (!columns.is_empty()).then_some((columns, None))
}

/// The aggregates between `start` and `end`, each alias written after AS (`sum(x) total` is
/// `sum(x) AS total`, as USING reads it).
fn aliased(tokens: &[TokenWithSpan], start: usize, end: usize, text: &dyn Fn(usize, usize) -> String) -> String {
    let mut items = Vec::new();
    let (mut from, mut depth) = (start, 0i32);
    for i in start..=end {
        match tokens[i].token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        if i == end || (depth == 0 && tokens[i].token == Token::Comma) {
            let last = i - 1;
            let bare_alias =
                last > from && matches!(tokens[last].token, Token::Word(_)) && tokens[last - 1].token == Token::RParen;
            items.push(if bare_alias {
                format!("{} AS {}", text(from, last - 1), text(last, last))
            } else {
                text(from, last)
            });
            from = i + 1;
        }
    }
    items.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compat::parse::tokens::after;

    fn rewritten(sql: &str) -> String {
        after(clauses_as_statements, true, sql).unwrap()
    }

    #[test]
    fn clauses_become_statements_in_subqueries() {
        assert_eq!(
            rewritten("SELECT * FROM sales PIVOT (sum(amount) FOR month IN ('JAN', 'FEB')) AS p ORDER BY ALL"),
            "SELECT * FROM (PIVOT sales ON month IN ('JAN', 'FEB') USING sum(amount)) AS p ORDER BY ALL"
        );
        assert_eq!(
            rewritten("FROM (SELECT a, b FROM t) AS s PIVOT (sum(a) total, count(*) n FOR b IN (1, 2))"),
            "FROM (PIVOT (SELECT a, b FROM t) AS s ON b IN (1, 2) USING sum(a) AS total, count(*) AS n)"
        );
        assert_eq!(
            rewritten("SELECT * FROM produce UNPIVOT (sales FOR quarter IN (q1, q2))"),
            "SELECT * FROM (UNPIVOT produce ON q1, q2 INTO NAME quarter VALUE sales)"
        );
        // Several FOR columns, a GROUP BY, renamed values; UNPIVOT's groups and NULLs option.
        assert_eq!(
            rewritten("FROM t PIVOT (sum(x) FOR y IN (1, 2) m IN ('a' AS b) GROUP BY k) p"),
            "FROM (PIVOT t ON y IN (1, 2), m IN ('a' AS b) USING sum(x) GROUP BY k) p"
        );
        assert_eq!(
            rewritten("FROM t UNPIVOT INCLUDE NULLS ((v, w) FOR n IN ((a, b) AS 'x', (c, d)))"),
            "FROM (UNPIVOT INCLUDE NULLS t ON (a, b) AS 'x', (c, d) INTO NAME n VALUE v, w)"
        );
        // The statements themselves are left as written.
        assert_eq!(rewritten("PIVOT sales ON month USING sum(amount)"), "PIVOT sales ON month USING sum(amount)");
    }
}
