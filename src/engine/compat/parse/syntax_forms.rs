//! DuckDB syntax forms the parser does not take, written in the text before parsing:
//! `FILTER (cond)` without `WHERE`, `FROM VALUES (1), (2) AS t(x)` without parentheses, `x IN [1, 2]` (membership in a list),
//! digit separators (`1_000_000`), `WITH t AS [NOT] MATERIALIZED (...)`, `* EXCEPT (...)`,
//! `* LIKE 'pattern'` and a FROM-first query's clauses without SELECT (`FROM t WHERE ...`).

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{Edit, is_word, offsets, opening_paren};
use crate::error::Result;

/// An aggregate's `FILTER (cond)` written `FILTER (WHERE cond)`, as DuckDB also accepts.
pub(crate) fn filter_where(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("filter") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let mut edits = Vec::new();
    for window in tokens.windows(4) {
        let [close, filter, open, next] = window else { continue };
        let is_filter = matches!(&filter.token, Token::Word(w) if w.keyword == Keyword::FILTER);
        let has_where = matches!(&next.token, Token::Word(w) if w.keyword == Keyword::WHERE);
        if close.token == Token::RParen && is_filter && open.token == Token::LParen && !has_where {
            let at = offset(next.span.start);
            edits.push((at, at, "WHERE ".into()));
        }
    }
    Ok(edits)
}

/// DuckDB's `FROM VALUES (1), (2) AS t(x)` with the VALUES in parentheses, as the parser takes it.
pub(crate) fn bare_values(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("values") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let keyword =
        |i: usize, k: Keyword| matches!(tokens.get(i).map(|t| &t.token), Some(Token::Word(w)) if w.keyword == k);
    let mut edits = Vec::new();
    for i in 1..tokens.len() {
        let follows_from = keyword(i - 1, Keyword::FROM) || keyword(i - 1, Keyword::JOIN);
        if !follows_from || !keyword(i, Keyword::VALUES) || tokens.get(i + 1).map(|t| &t.token) != Some(&Token::LParen)
        {
            continue;
        }
        // The rows: parenthesised groups separated by commas.
        let (mut at, mut depth, mut end) = (i + 1, 0usize, None);
        while let Some(token) = tokens.get(at).map(|t| &t.token) {
            match token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth = depth.saturating_sub(1);
                    let next_row = tokens.get(at + 1).map(|t| &t.token) == Some(&Token::Comma)
                        && tokens.get(at + 2).map(|t| &t.token) == Some(&Token::LParen);
                    if depth == 0 && !next_row {
                        end = Some(offset(tokens[at].span.end));
                        break;
                    }
                }
                _ => {}
            }
            at += 1;
        }
        if let Some(end) = end {
            let start = offset(tokens[i].span.start);
            edits.push((start, start, "(".into()));
            edits.push((end, end, ")".into()));
        }
    }
    Ok(edits)
}

/// DuckDB's `x IN [1, 2]` (membership in a list) as `x = ANY([1, 2])`, `NOT IN` as `<> ALL`.
pub(crate) fn in_lists(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.contains('[') {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let mut edits: Vec<Edit> = Vec::new();
    for i in 0..tokens.len().saturating_sub(1) {
        let is_in = matches!(&tokens[i].token, Token::Word(w) if w.keyword == Keyword::IN && w.quote_style.is_none());
        if !is_in || tokens[i + 1].token != Token::LBracket {
            continue;
        }
        let mut depth = 0usize;
        let Some(close) = (i + 1..tokens.len()).find(|&j| {
            match tokens[j].token {
                Token::LBracket => depth += 1,
                Token::RBracket => depth -= 1,
                _ => {}
            }
            depth == 0
        }) else {
            continue;
        };
        let negated = i > 0 && matches!(&tokens[i - 1].token, Token::Word(w) if w.keyword == Keyword::NOT);
        let start = if negated { tokens[i - 1].span.start } else { tokens[i].span.start };
        let operator = if negated { "<> ALL(" } else { "= ANY(" };
        edits.push((offset(start), offset(tokens[i].span.end), operator.into()));
        let after = offset(tokens[close].span.end);
        edits.push((after, after, ")".into()));
    }
    Ok(edits)
}

/// DuckDB's `1_000_000` (underscores between digits) as `1000000`: the tokenizer reads a number
/// and then a word `_000_000`.
pub(crate) fn digit_separators(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.contains('_') {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let mut edits = Vec::new();
    for pair in tokens.windows(2) {
        let (Token::Number(digits, _), Token::Word(word)) = (&pair[0].token, &pair[1].token) else { continue };
        let grouped = word.quote_style.is_none()
            && word.value.starts_with('_')
            && word.value.split('_').skip(1).all(|g| !g.is_empty() && g.chars().all(|c| c.is_ascii_digit()));
        if grouped && pair[0].span.end == pair[1].span.start && !digits.contains(['e', 'E']) {
            edits.push((
                offset(pair[0].span.start),
                offset(pair[1].span.end),
                format!("{digits}{}", word.value.replace('_', "")),
            ));
        }
    }
    Ok(edits)
}

/// `WITH t AS MATERIALIZED (...)` (and `NOT MATERIALIZED`): a hint DuckDB takes and the parser
/// does not; the CTE means the same without it.
pub(crate) fn materialized_hints(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("materialized") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let word = |i: usize, k: Keyword| matches!(tokens.get(i).map(|t| &t.token), Some(Token::Word(w)) if w.keyword == k);
    let mut edits = Vec::new();
    for i in 1..tokens.len() {
        if !word(i - 1, Keyword::AS) {
            continue;
        }
        let hint = if word(i, Keyword::MATERIALIZED) {
            1
        } else if word(i, Keyword::NOT) && word(i + 1, Keyword::MATERIALIZED) {
            2
        } else {
            continue;
        };
        if tokens.get(i + hint).map(|t| &t.token) == Some(&Token::LParen) {
            edits.push((offset(tokens[i].span.start), offset(tokens[i + hint - 1].span.end), String::new()));
        }
    }
    Ok(edits)
}

/// `EXTRACT(YEARWEEK FROM t)`, a part the parser does not take, as DuckDB's `yearweek(t)`.
pub(crate) fn extract_parts(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("yearweek") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let mut edits = Vec::new();
    for i in 0..tokens.len().saturating_sub(3) {
        let extract = is_word(tokens, i, "extract") && tokens[i + 1].token == Token::LParen;
        if extract && is_word(tokens, i + 2, "yearweek") && is_word(tokens, i + 3, "from") {
            edits.push((offset(tokens[i].span.start), offset(tokens[i + 3].span.end), "yearweek(".to_string()));
        }
    }
    Ok(edits)
}

/// `TABLE t` as a query (`TABLE t ORDER BY x`, `... UNION TABLE t`), written `SELECT * FROM t`,
/// which the parser takes with the clauses after it.
pub(crate) fn table_queries(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("table") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let starts_query = |i: usize| {
        i == 0
            || matches!(tokens[i - 1].token, Token::LParen | Token::RParen)
            || ["union", "intersect", "except", "all", "distinct"].iter().any(|w| is_word(tokens, i - 1, w))
    };
    let mut edits = Vec::new();
    for i in 0..tokens.len().saturating_sub(1) {
        let named = matches!(&tokens[i + 1].token, Token::Word(_));
        if is_word(tokens, i, "table") && named && starts_query(i) {
            edits.push((offset(tokens[i].span.start), offset(tokens[i].span.end), "SELECT * FROM".to_string()));
        }
    }
    Ok(edits)
}

/// DuckDB's FROM-first query without SELECT but with a WHERE, GROUP BY, HAVING, QUALIFY or
/// WINDOW (`FROM t WHERE x > 1`): `SELECT *` written before that clause, as the parser takes it
/// (`FROM t SELECT * WHERE x > 1`; it takes `FROM t` alone).
pub(crate) fn from_first_clauses(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("from") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let significant: Vec<usize> =
        (0..tokens.len()).filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_))).collect();
    let word = |i: usize, words: &[&str]| words.iter().any(|w| is_word(tokens, i, w));
    let mut edits = Vec::new();
    for (k, &i) in significant.iter().enumerate() {
        if !is_word(tokens, i, "from") {
            continue;
        }
        // A query starts here: the statement's start, after `(`, after a set operation, or after
        // a CTE's body (`AS (...)`).
        let starts_query = match k.checked_sub(1).map(|p| significant[p]) {
            None => true,
            Some(p) => match &tokens[p].token {
                Token::LParen => true,
                Token::RParen => opening_paren(tokens, p)
                    .and_then(|open| significant.iter().rev().find(|&&q| q < open))
                    .is_some_and(|&q| word(q, &["as", "materialized"])),
                // `UNION ALL FROM t`, not `a IS [NOT] DISTINCT FROM b`.
                _ => {
                    word(p, &["union", "intersect", "except"])
                        || (word(p, &["all", "distinct"])
                            && k >= 2
                            && word(significant[k - 2], &["union", "intersect", "except"]))
                }
            },
        };
        if !starts_query {
            continue;
        }
        let mut depth = 0usize;
        for &j in &significant[k + 1..] {
            match &tokens[j].token {
                Token::LParen => depth += 1,
                Token::RParen if depth == 0 => break,
                Token::RParen => depth -= 1,
                Token::SemiColon if depth == 0 => break,
                Token::Word(_) if depth == 0 => {
                    if word(j, &["select", "union", "intersect", "except", "order", "limit"]) {
                        break;
                    }
                    if word(j, &["where", "group", "having", "qualify", "window"]) {
                        let at = offset(tokens[j].span.start);
                        edits.push((at, at, "SELECT * ".to_string()));
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::parse::prepared;

    #[test]
    fn from_first_queries_with_clauses_select_every_column() {
        assert_eq!(prepared("FROM t WHERE x > 1"), "FROM t SELECT * WHERE x > 1");
        assert_eq!(
            prepared("WITH c AS (FROM t WHERE x IN (SELECT 1)) FROM c GROUP BY ALL"),
            "WITH c AS (FROM t SELECT * WHERE x IN (SELECT 1)) FROM c SELECT * GROUP BY ALL"
        );
        for kept in [
            "FROM t SELECT x WHERE x > 1",
            "SELECT count(*) FROM t WHERE x > 1",
            "FROM t ORDER BY x",
            "SELECT a IS DISTINCT FROM b FROM t WHERE x > 1",
        ] {
            assert_eq!(prepared(kept), kept);
        }
    }

    #[test]
    fn membership_in_a_list_is_a_quantified_comparison() {
        assert_eq!(prepared("SELECT 1 IN [1, [2][1]], 2 NOT IN []"), "SELECT 1 = ANY( [1, [2][1]]), 2 <> ALL( [])");
        assert_eq!(prepared("SELECT 1 IN (1, 2)"), "SELECT 1 IN (1, 2)");
    }

    #[test]
    fn materialized_hints_are_dropped() {
        assert_eq!(
            prepared("WITH a AS MATERIALIZED (SELECT 1), b AS NOT MATERIALIZED (SELECT 2) SELECT 1 AS materialized"),
            "WITH a AS  (SELECT 1), b AS  (SELECT 2) SELECT 1 AS materialized"
        );
    }

    #[test]
    fn extracted_year_weeks_are_yearweek_calls() {
        assert_eq!(prepared("SELECT EXTRACT(YEARWEEK FROM d) FROM t"), "SELECT yearweek( d) FROM t");
    }

    #[test]
    fn table_queries_select_every_column() {
        assert_eq!(
            prepared("WITH t AS (SELECT 1 AS x) TABLE t ORDER BY x"),
            "WITH t AS (SELECT 1 AS x) SELECT * FROM t ORDER BY x"
        );
        assert_eq!(prepared("SELECT 1 AS table_x"), "SELECT 1 AS table_x");
    }

    #[test]
    fn digit_groups_lose_their_underscores() {
        assert_eq!(prepared("SELECT 1_000_000 + 2_5, 'a_1', x_1 FROM t"), "SELECT 1000000 + 25, 'a_1', x_1 FROM t");
    }

    #[test]
    fn bare_values_get_their_parentheses() {
        assert_eq!(
            prepared("SELECT * FROM VALUES (0), (1, (2)) AS t(x) JOIN VALUES ('a') v ON true"),
            "SELECT * FROM (VALUES (0), (1, (2))) AS t(x) JOIN (VALUES ('a')) v ON true"
        );
        assert_eq!(prepared("SELECT * FROM (VALUES (1)) t"), "SELECT * FROM (VALUES (1)) t");
    }

    #[test]
    fn a_filter_clause_gets_its_where() {
        assert_eq!(
            prepared("SELECT count(*) FILTER (type LIKE 'M%'), sum(x) FILTER (WHERE x > 0), filter(l, x -> x > 1)"),
            "SELECT count(*) FILTER (WHERE type LIKE 'M%'), sum(x) FILTER (WHERE x > 0), filter(l, x -> ( x > 1))"
        );
    }
}
