//! DuckDB's `agg(x) EXPORT_STATE`, prepared in the text before parsing (the parser does not take
//! it): written as `aggregate_state('agg', agg(x))`, which the aggregate-state functions read.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{Edit, offsets, opening_paren};
use crate::error::Result;

/// `f(args) EXPORT_STATE` written as `aggregate_state('f', f(args))`; where the aggregate's name
/// cannot be found (after a FILTER clause), as `f(args)`.
pub(crate) fn exported_states(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("export_state") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let mut edits: Vec<Edit> = Vec::new();
    for k in 1..tokens.len() {
        let exported = matches!(&tokens[k].token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("export_state"));
        if !exported || tokens[k - 1].token != Token::RParen {
            continue;
        }
        let (state_start, state_end) = (offset(tokens[k].span.start), offset(tokens[k].span.end));
        let name = opening_paren(tokens, k - 1).and_then(|open| {
            // An ordered aggregate's state (`list(x ORDER BY y)`) is named apart: its order would
            // not survive combining.
            let ordered =
                tokens[open..k].iter().any(|t| matches!(&t.token, Token::Word(w) if w.keyword == Keyword::ORDER));
            match &tokens[open.checked_sub(1)?].token {
                Token::Word(w) if !w.value.eq_ignore_ascii_case("filter") => {
                    let name = w.value.to_lowercase();
                    let start = offset(tokens[open - 1].span.start);
                    Some((start, if ordered { format!("{name} (ordered)") } else { name }))
                }
                _ => None,
            }
        });
        match name {
            Some((start, name)) => {
                edits.push((state_start, state_end, ")".into()));
                edits.push((start, start, format!("aggregate_state('{}', ", name.replace('\'', "''"))));
            }
            None => edits.push((state_start, state_end, String::new())),
        }
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use super::exported_states;
    use crate::engine::compat::parse::tokens::after;

    fn prepared(sql: &str) -> String {
        after(exported_states, false, sql).unwrap()
    }

    #[test]
    fn an_exported_state_names_its_aggregate() {
        assert_eq!(
            prepared("SELECT finalize(sum(x) EXPORT_STATE), count(*) export_state FROM t"),
            "SELECT finalize(aggregate_state('sum', sum(x) )), aggregate_state('count', count(*) ) FROM t"
        );
        assert_eq!(prepared("SELECT 'export_state' AS s"), "SELECT 'export_state' AS s");
    }
}
