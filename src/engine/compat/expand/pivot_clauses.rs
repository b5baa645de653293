//! The PIVOT and UNPIVOT clauses of a FROM item (`FROM t PIVOT (sum(x) FOR k IN ('a', 'b'))`,
//! `FROM t UNPIVOT (v FOR k IN (a, b))`) written as DuckDB's statements in a subquery, which
//! mean the same (the pivot groups by every other column): `FROM (PIVOT t ON k IN ('a', 'b')
//! USING sum(x))`, `FROM (UNPIVOT t ON a, b INTO NAME k VALUE v)`. Forms the statements do not
//! have (several `FOR` columns, `INCLUDE NULLS`, renamed `IN` items) are left to be refused.

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
        if keyword == Keyword::UNPIVOT && word(&tokens[open]) == Some(Keyword::EXCLUDE) {
            open += 2;
        }
        if tokens.get(open).map(|t| &t.token) != Some(&Token::LParen) {
            continue;
        }
        let Some(close) = closing_paren(tokens, open) else { continue };
        let Some(clause) = Clause::read(tokens, open + 1, close) else { continue };
        let start = offset(tokens[source].span.start);
        let source = text(source, at - 1);
        let statement = match keyword {
            Keyword::PIVOT => {
                let aggregates = aliased(tokens, open + 1, clause.for_at, &text);
                let column = text(clause.for_at + 1, clause.for_at + 1);
                let values = text(clause.for_at + 3, close - 1);
                format!("(PIVOT {source} ON {column} IN {values} USING {aggregates})")
            }
            _ => {
                if clause.for_at != open + 2 {
                    continue;
                }
                let value = text(open + 1, open + 1);
                let name = text(clause.for_at + 1, clause.for_at + 1);
                let columns = text(clause.for_at + 4, close - 2);
                format!("(UNPIVOT {source} ON {columns} INTO NAME {name} VALUE {value})")
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

/// The inside of a clause, `... FOR column IN (...)`, one column and plain items.
struct Clause {
    for_at: usize,
}

impl Clause {
    fn read(tokens: &[TokenWithSpan], start: usize, close: usize) -> Option<Clause> {
        let mut depth = 0i32;
        let for_at = (start..close).find(|&i| {
            match tokens[i].token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                _ => {}
            }
            depth == 0 && word(&tokens[i]) == Some(Keyword::FOR)
        })?;
        // `FOR k IN ( ... ) )`: one column, one list that ends the clause, no item renamed.
        let single = matches!(tokens.get(for_at + 1).map(|t| &t.token), Some(Token::Word(_)))
            && word(&tokens[for_at + 2]) == Some(Keyword::IN)
            && tokens[for_at + 3].token == Token::LParen
            && closing_paren(tokens, for_at + 3) == Some(close - 1);
        let renamed = (for_at + 4..close - 1).any(|i| word(&tokens[i]) == Some(Keyword::AS));
        (single && !renamed).then_some(Clause { for_at })
    }
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
        // The statements themselves, and forms they do not have, are left as written.
        for kept in [
            "PIVOT sales ON month USING sum(amount)",
            "SELECT * FROM t PIVOT (min(a) FOR (b, c) IN ((1, 2)))",
            "SELECT * FROM t UNPIVOT INCLUDE NULLS (v FOR k IN (a, b))",
        ] {
            assert_eq!(rewritten(kept), kept);
        }
    }
}
