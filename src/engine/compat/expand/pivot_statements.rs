//! The PIVOT statement's text (`PIVOT t ON col [IN (...)] [USING ...] [GROUP BY ...]`, and
//! UNPIVOT's through [`super::unpivots`]) as a SELECT of markers the parser takes:
//! `__pivot_on(col, ...)`, `__pivot_in(i, values...)` for the `i`-th ON column's listed values
//! (`__pivot_named(v, 'name')` for a renamed one), `__pivot_using(agg, 'name', aliased)`.
//! [`super::pivots`] writes them out once the engine has found the values.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::markers::{Clauses, split_top_level};
use crate::engine::compat::parse::tokens::{Edit, offsets};
use crate::error::{Error, Result};

pub(super) const ON: &str = "__pivot_on";
pub(super) const IN: &str = "__pivot_in";
pub(super) const USING: &str = "__pivot_using";
pub(super) const NAMED: &str = "__pivot_named";

/// `sql` with each PIVOT and UNPIVOT (a statement's first word, or just after a `(`) written as
/// a SELECT of markers; `sql` itself when it has none.
pub(crate) fn pivots_as_selects(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("pivot") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let is_pivot =
        |i: usize| matches!(&tokens[i].token, Token::Word(w) if matches!(w.keyword, Keyword::PIVOT | Keyword::UNPIVOT));
    // A PIVOT starts a statement (or its query, after the CTEs: `WITH u AS (...) PIVOT u ...`)
    // or a subquery.
    let after_cte = |i: usize| {
        let mut depth = 0;
        for j in (0..i).rev() {
            match tokens[j].token {
                Token::RParen => depth += 1,
                Token::LParen if depth == 1 => {
                    return j > 0 && matches!(&tokens[j - 1].token, Token::Word(w) if w.keyword == Keyword::AS);
                }
                Token::LParen => depth -= 1,
                _ if depth == 0 => return false,
                _ => {}
            }
        }
        false
    };
    let starts = |i: usize| i == 0 || matches!(tokens[i - 1].token, Token::LParen | Token::SemiColon) || after_cte(i);
    let pivots: Vec<usize> = (0..tokens.len()).filter(|&i| is_pivot(i) && starts(i)).collect();
    let mut edits: Vec<Edit> = Vec::new();
    for &i in &pivots {
        // The pivot ends at the `)` closing the bracket it opens in, or at the statement's end.
        let mut depth = 0i32;
        let mut end = sql.len();
        for t in &tokens[i + 1..] {
            match t.token {
                Token::LParen => depth += 1,
                Token::RParen if depth == 0 => {
                    end = offset(t.span.start);
                    break;
                }
                Token::RParen => depth -= 1,
                Token::SemiColon if depth == 0 => {
                    end = offset(t.span.start);
                    break;
                }
                _ => {}
            }
        }
        let start = offset(tokens[i].span.start);
        // A pivot of a pivot (`UNPIVOT (PIVOT ...) ON ...`) waits for the inner one's SELECT.
        if pivots.iter().any(|&j| j > i && offset(tokens[j].span.start) < end) {
            continue;
        }
        let select = match &tokens[i].token {
            Token::Word(w) if w.keyword == Keyword::UNPIVOT => {
                super::unpivots::marked_select(&sql[start + "unpivot".len()..end])?
            }
            _ => marked_select(&sql[start + "pivot".len()..end])?,
        };
        edits.push((start, end, select));
    }
    Ok(edits)
}

/// The clauses of one PIVOT (the text after the word) as a SELECT of markers; without ON, the
/// aggregates grouped by the GROUP BY columns, a plain SELECT.
fn marked_select(pivot: &str) -> Result<String> {
    let bad = |why: &str| Error::Query(format!("PIVOT: {why} (write PIVOT table ON column USING sum(x) GROUP BY y)"));
    let clauses = Clauses::read(pivot, |word, by, seen| match word {
        Keyword::ON if seen.is_empty() => Some("ON"),
        Keyword::USING => Some("USING"),
        Keyword::GROUP if by => Some("GROUP BY"),
        Keyword::ORDER if by => Some("ORDER BY"),
        Keyword::LIMIT => Some("LIMIT"),
        _ => None,
    })
    .ok_or_else(|| bad("the text does not read as SQL"))?;
    let source = clauses.lead();
    if source.is_empty() {
        return Err(bad("it needs the table to pivot"));
    }
    let body = |name: &str| clauses.body(name);
    let groups = body("GROUP BY");
    let mut items: Vec<String> = Vec::new();
    items.extend(groups.clone());
    match body("ON") {
        Some(on) => {
            let mut columns = Vec::new();
            for (i, item) in split_top_level(&on).iter().enumerate() {
                let (column, values) = listed(item);
                columns.push(column);
                if let Some(values) = values {
                    let values = values
                        .strip_prefix('(')
                        .and_then(|v| v.strip_suffix(')'))
                        .ok_or_else(|| bad("IN takes a list in parentheses"))?;
                    let values: Vec<String> = if values.trim_start().to_ascii_lowercase().starts_with("select") {
                        vec![format!("({values})")]
                    } else {
                        split_top_level(values).iter().map(|v| named_value(v)).collect()
                    };
                    items.push(format!("{IN}({i}, {})", values.join(", ")));
                }
            }
            items.push(format!("{ON}({})", columns.join(", ")));
            let using = body("USING").unwrap_or_else(|| "count(*)".into());
            for aggregate in split_top_level(&using) {
                let (expr, name, aliased) = named(&aggregate);
                items.push(format!("{USING}({expr}, '{}', {aliased})", name.replace('\'', "''")));
            }
        }
        None => items.extend(body("USING")),
    }
    if items.is_empty() {
        return Err(bad("it needs ON, USING or GROUP BY"));
    }
    let mut select = format!("SELECT {} FROM {source}", items.join(", "));
    for clause in ["GROUP BY", "ORDER BY", "LIMIT"] {
        if let Some(text) = body(clause) {
            select.push_str(&format!(" {clause} {text}"));
        }
    }
    Ok(select)
}

/// An ON item, `column [IN (values)]`: the column and the bracketed values.
fn listed(item: &str) -> (String, Option<String>) {
    let tokens = crate::engine::compat::parse::tokens::significant_tokens(item).unwrap_or_default();
    let offset = offsets(item);
    let mut depth = 0;
    for t in &tokens {
        match &t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Word(w) if depth == 0 && w.keyword == Keyword::IN && w.quote_style.is_none() => {
                let at = offset(t.span.start);
                return (item[..at].trim().to_string(), Some(item[offset(t.span.end)..].trim().to_string()));
            }
            _ => {}
        }
    }
    (item.trim().to_string(), None)
}

/// A listed value, `v` or `v AS name` (as `__pivot_named(v, 'name')`).
fn named_value(value: &str) -> String {
    let value = value.trim();
    match value.to_ascii_lowercase().rfind(" as ") {
        Some(at) if !value[at + 4..].contains(['\'', '(', ')']) => {
            let name = value[at + 4..].trim().trim_matches('"');
            format!("{NAMED}({}, '{}')", value[..at].trim(), name.replace('\'', "''"))
        }
        _ => value.to_string(),
    }
}

/// An aggregate and the name of its columns: its alias, or the aggregate as written
/// (whether the name is an alias: a lone unnamed aggregate's columns are the values alone).
fn named(aggregate: &str) -> (String, String, bool) {
    let lower = aggregate.to_ascii_lowercase();
    match lower.rfind(" as ") {
        Some(at) if !aggregate[at + 4..].contains(')') => {
            let alias = aggregate[at + 4..].trim().trim_matches('"').to_string();
            (aggregate[..at].trim().to_string(), alias, true)
        }
        _ => (aggregate.to_string(), aggregate.to_string(), false),
    }
}

/// What the engine runs before a pivot can be written: each `ON` column's values (as text, in
#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compat::parse::tokens::after;

    fn selects(sql: &str) -> Result<String> {
        after(pivots_as_selects, false, sql)
    }

    #[test]
    fn a_pivot_reads_as_a_select_of_markers() {
        assert_eq!(
            selects("PIVOT activity ON type USING count(*) AS n GROUP BY ts::DATE ORDER BY 1").unwrap(),
            "SELECT ts::DATE, __pivot_on(type), __pivot_using(count(*), 'n', true) FROM activity GROUP BY ts::DATE ORDER BY 1"
        );
        assert_eq!(
            selects("SELECT * FROM (PIVOT t ON y IN (2020, 2021) USING sum(x)) p").unwrap(),
            "SELECT * FROM (SELECT __pivot_in(0, 2020, 2021), __pivot_on(y), __pivot_using(sum(x), 'sum(x)', false) FROM t) p"
        );
        assert_eq!(selects("SELECT 'pivot' AS p").unwrap(), "SELECT 'pivot' AS p");
        // Several ON columns, values listed for some, renamed, or read by a subquery.
        assert_eq!(
            selects("PIVOT t ON a IN (1 AS one, NULL), b, c IN (SELECT 2) USING max(x)").unwrap(),
            "SELECT __pivot_in(0, __pivot_named(1, 'one'), NULL), __pivot_in(2, (SELECT 2)), __pivot_on(a, b, c), __pivot_using(max(x), 'max(x)', false) FROM t"
        );
        // Without ON: the aggregates by the groups.
        assert_eq!(selects("PIVOT activity USING count(*)").unwrap(), "SELECT count(*) FROM activity");
        assert_eq!(selects("PIVOT t GROUP BY k").unwrap(), "SELECT k FROM t GROUP BY k");
        assert!(selects("PIVOT activity").is_err());
    }
}
