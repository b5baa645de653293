//! `(DESCRIBE userList)` and `(SHOW userList)` in a query: DuckDB's description of the table as
//! rows to read (`SELECT column_name FROM (DESCRIBE userList)`), which the parser takes only as a
//! statement of its own. Written as the same six columns read from `information_schema.columns`;
//! a description of a query inside another is refused with what to write.

use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::category::Category;
use crate::engine::compat::parse::tokens::{Edit, closing_paren, is_word, offsets};
use crate::error::{Error, Result};

pub(crate) fn described_tables(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    let lower = sql.to_ascii_lowercase();
    if !lower.contains("describe") && !lower.contains("desc") && !lower.contains("show") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let mut edits = Vec::new();
    for open in 0..tokens.len() {
        let described = ["describe", "desc", "show"].iter().any(|w| is_word(tokens, open + 1, w));
        if tokens[open].token != Token::LParen || !described {
            continue;
        }
        let Some(close) = closing_paren(tokens, open) else { continue };
        // (`(show)` is a column of that name.)
        if close <= open + 2 {
            continue;
        }
        let table = match (&tokens[open + 2..close], tokens.get(open + 2).map(|t| &t.token)) {
            ([_], Some(Token::Word(name))) => Category::from_name(&name.value),
            _ => None,
        };
        let Some(table) = table else {
            return Err(Error::Query(
                "DESCRIBE or SHOW of a query inside another query is not supported: run DESCRIBE <query> on its own, or describe a table (SELECT column_name FROM (DESCRIBE userList))".into(),
            ));
        };
        let rows = format!(
            "(SELECT column_name, data_type AS column_type, is_nullable AS \"null\", CAST(NULL AS VARCHAR) AS \"key\", \
             CAST(NULL AS VARCHAR) AS \"default\", CAST(NULL AS VARCHAR) AS extra FROM information_schema.columns \
             WHERE table_name = '{}' ORDER BY ordinal_position)",
            table.name()
        );
        edits.push((offset(tokens[open].span.start), offset(tokens[close].span.end), rows));
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::parse::prepared;

    #[test]
    fn a_described_table_is_read_from_the_information_schema() {
        assert!(
            prepared("SELECT column_name FROM (DESCRIBE userlist)")
                .contains("FROM information_schema.columns WHERE table_name = 'userList' ORDER BY ordinal_position)")
        );
        let mut text = crate::engine::compat::parse::tokens::Text::new("SELECT * FROM (DESCRIBE SELECT 1)");
        assert!(crate::engine::compat::parse::prepare(&mut text).is_err());
        assert_eq!(prepared("SELECT (show) FROM t"), "SELECT (show) FROM t");
    }
}
