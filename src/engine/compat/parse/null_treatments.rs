//! `IGNORE NULLS` and `RESPECT NULLS` after a call's argument ORDER BY
//! (`first_value(x ORDER BY y IGNORE NULLS)`), where DuckDB takes them and the parser does not:
//! moved before the ORDER BY, where it takes them.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{Edit, offsets, opening_paren};
use crate::error::Result;

pub(crate) fn null_treatments_first(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("nulls") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let keyword = |i: usize| match &tokens[i].token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
        _ => None,
    };
    let mut edits = Vec::new();
    for i in 1..tokens.len().saturating_sub(2) {
        let treatment = matches!(keyword(i), Some(Keyword::IGNORE | Keyword::RESPECT));
        if !treatment || keyword(i + 1) != Some(Keyword::NULLS) || tokens[i + 2].token != Token::RParen {
            continue;
        }
        let Some(open) = opening_paren(tokens, i + 2) else { continue };
        let mut depth = 0;
        let order = (open + 1..i).find(|&j| {
            match tokens[j].token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                _ => {}
            }
            depth == 0 && keyword(j) == Some(Keyword::ORDER) && keyword(j + 1) == Some(Keyword::BY)
        });
        let Some(order) = order else { continue };
        let words = &sql[offset(tokens[i].span.start)..offset(tokens[i + 1].span.end)];
        let at = offset(tokens[order].span.start);
        edits.push((at, at, format!("{words} ")));
        edits.push((offset(tokens[i - 1].span.end), offset(tokens[i + 1].span.end), String::new()));
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::parse::prepared;

    #[test]
    fn null_treatments_go_before_the_order_by() {
        assert_eq!(
            prepared("SELECT first_value(x ORDER BY y DESC IGNORE NULLS) OVER (), lag(x IGNORE NULLS) OVER () FROM t"),
            "SELECT first_value(x IGNORE NULLS ORDER BY y DESC) OVER (), lag(x IGNORE NULLS) OVER () FROM t"
        );
    }
}
