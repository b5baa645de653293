//! DuckDB's prefix aliases, the name before a colon: `SELECT total: sum(x)` is
//! `SELECT sum(x) AS total`, and `FROM u: userList` is `FROM userList AS u`.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{Edit, offsets};
use crate::error::Result;

#[derive(Clone, Copy, PartialEq)]
enum Clause {
    Select,
    From,
}

/// Each `name: item` at the start of a select item or a FROM item, as `item AS name`.
pub(crate) fn prefix_aliases(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.contains(':') {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let mut edits = Vec::new();
    for i in 1..tokens.len().saturating_sub(2) {
        if !matches!(tokens[i].token, Token::Word(_)) || tokens[i + 1].token != Token::Colon {
            continue;
        }
        let Some(clause) = item_start(tokens, i) else { continue };
        let Some(end) = item_end(tokens, i + 2, clause) else { continue };
        let alias = &sql[offset(tokens[i].span.start)..offset(tokens[i].span.end)];
        edits.push((offset(tokens[i].span.start), offset(tokens[i + 2].span.start), String::new()));
        let after = offset(tokens[end].span.end);
        edits.push((after, after, format!(" AS {alias}")));
    }
    Ok(edits)
}

fn keyword(token: &TokenWithSpan) -> Option<Keyword> {
    match &token.token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
        _ => None,
    }
}

/// Whether the word at `at` starts an item of a select list or a FROM clause.
fn item_start(tokens: &[TokenWithSpan], at: usize) -> Option<Clause> {
    let governing = |k: Option<Keyword>| match k {
        Some(Keyword::SELECT | Keyword::DISTINCT | Keyword::ALL) => Some(Clause::Select),
        Some(Keyword::FROM | Keyword::JOIN) => Some(Clause::From),
        _ => None,
    };
    if tokens[at - 1].token != Token::Comma {
        return governing(keyword(&tokens[at - 1]));
    }
    // After a comma: the clause the list belongs to, at the same depth.
    let mut depth = 0;
    for j in (0..at - 1).rev() {
        match &tokens[j].token {
            Token::RParen | Token::RBracket | Token::RBrace => depth += 1,
            Token::LParen | Token::LBracket | Token::LBrace if depth == 0 => return None,
            Token::LParen | Token::LBracket | Token::LBrace => depth -= 1,
            Token::Word(_) if depth == 0 => {
                if let Some(clause) = governing(keyword(&tokens[j])) {
                    return Some(clause);
                }
                if matches!(
                    keyword(&tokens[j]),
                    Some(
                        Keyword::WHERE
                            | Keyword::GROUP
                            | Keyword::ORDER
                            | Keyword::HAVING
                            | Keyword::ON
                            | Keyword::USING
                    )
                ) {
                    return None;
                }
            }
            _ => {}
        }
    }
    None
}

/// The last token of the item that starts at `start`.
fn item_end(tokens: &[TokenWithSpan], start: usize, clause: Clause) -> Option<usize> {
    let mut depth = 0;
    let mut end = None;
    for j in start..tokens.len() {
        match &tokens[j].token {
            Token::LParen | Token::LBracket | Token::LBrace => depth += 1,
            Token::RParen | Token::RBracket | Token::RBrace if depth == 0 => break,
            Token::RParen | Token::RBracket | Token::RBrace => depth -= 1,
            Token::Comma | Token::SemiColon if depth == 0 => break,
            Token::Word(_) if depth == 0 && ends_item(tokens, j, clause) => break,
            _ => {}
        }
        end = Some(j);
    }
    end
}

fn ends_item(tokens: &[TokenWithSpan], at: usize, clause: Clause) -> bool {
    let Some(word) = keyword(&tokens[at]) else { return false };
    let ends_query = matches!(
        word,
        Keyword::WHERE
            | Keyword::GROUP
            | Keyword::HAVING
            | Keyword::ORDER
            | Keyword::LIMIT
            | Keyword::OFFSET
            | Keyword::QUALIFY
            | Keyword::WINDOW
            | Keyword::UNION
            | Keyword::EXCEPT
            | Keyword::INTERSECT
            | Keyword::INTO
    );
    match clause {
        // `a IS DISTINCT FROM b` goes on.
        Clause::Select => ends_query || (word == Keyword::FROM && keyword(&tokens[at - 1]) != Some(Keyword::DISTINCT)),
        Clause::From => {
            ends_query
                || matches!(
                    word,
                    Keyword::JOIN
                        | Keyword::INNER
                        | Keyword::LEFT
                        | Keyword::RIGHT
                        | Keyword::FULL
                        | Keyword::CROSS
                        | Keyword::NATURAL
                        | Keyword::ON
                        | Keyword::USING
                        | Keyword::ASOF
                        | Keyword::ANTI
                        | Keyword::SEMI
                        | Keyword::PIVOT
                        | Keyword::UNPIVOT
                        | Keyword::TABLESAMPLE
                        | Keyword::SELECT
                )
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::parse::prepared;

    #[test]
    fn prefix_aliases_are_written_after() {
        assert_eq!(
            prepared("SELECT j: i + 1, \"k\" : a IS DISTINCT FROM b FROM u: t, v : (SELECT 1) WHERE x = 1"),
            "SELECT i + 1 AS j, a IS DISTINCT FROM b AS \"k\" FROM t AS u, (SELECT 1) AS v WHERE x = 1"
        );
        assert_eq!(prepared("FROM b: a JOIN c: d ON true SELECT *"), "FROM a AS b JOIN d AS c ON true SELECT *");
        // Slices, struct literals and casts keep their colons.
        for kept in ["SELECT l[1:2], {'a': 1}, x::INT FROM t", "SELECT list_transform(l, lambda x: x + 1) FROM t"] {
            let prepared = prepared(kept);
            assert!(!prepared.contains(" AS "), "{prepared}");
        }
    }
}
