//! DuckDB's `GLOB` operator, written before parsing as the regular-expression match it means
//! (a pattern read from a column converted per row by `glob_regex`).

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::functions::regex::globs::glob_regex;
use crate::engine::compat::parse::tokens::{Edit, closing_paren, offsets};
use crate::error::Result;

/// `x GLOB 'a*'` (and `NOT GLOB`) as the regular expression match `x ~ '^a.*$'`.
pub(crate) fn globs_as_regexes(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("glob") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let mut edits = Vec::new();
    for (i, window) in tokens.windows(2).enumerate() {
        let [glob, pattern] = window else { continue };
        let is_glob =
            matches!(&glob.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("glob"));
        if !is_glob || i == 0 {
            continue;
        }
        let negated = matches!(&tokens[i - 1].token, Token::Word(w) if w.keyword == Keyword::NOT);
        let start = if negated { tokens[i - 1].span.start } else { glob.span.start };
        let operator = if negated { "!~" } else { "~" };
        match &pattern.token {
            Token::SingleQuotedString(pattern_text) => {
                let regex = glob_regex(pattern_text).replace('\'', "''");
                edits.push((offset(start), offset(pattern.span.end), format!("{operator} '{regex}'")));
            }
            // A pattern read from a column (`t.pat`) or a bracketed expression: converted per row.
            Token::Word(_) | Token::LParen => {
                let Some(last) = operand_end(tokens, i + 1) else { continue };
                let operand = &sql[offset(pattern.span.start)..offset(tokens[last].span.end)];
                edits.push((offset(start), offset(tokens[last].span.end), format!("{operator} glob_regex({operand})")));
            }
            _ => {}
        }
    }
    Ok(edits)
}

/// The last token of the operand that starts at `start`: a dotted name or a bracketed expression.
fn operand_end(tokens: &[TokenWithSpan], start: usize) -> Option<usize> {
    if tokens[start].token == Token::LParen {
        return closing_paren(tokens, start);
    }
    let mut end = start;
    while tokens.get(end + 1).is_some_and(|t| t.token == Token::Period)
        && tokens.get(end + 2).is_some_and(|t| matches!(t.token, Token::Word(_)))
    {
        end += 2;
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::parse::prepared;

    #[test]
    fn globs_become_anchored_regexes() {
        assert_eq!(
            prepared("SELECT type GLOB 'Map*', type NOT GLOB '[!A-C]?.x' FROM activity"),
            "SELECT type ~ '(?s)^Map.*$', type !~ '(?s)^[^\\x{41}-\\x{43}].\\.x$' FROM activity"
        );
        assert_eq!(prepared("SELECT 'glob' AS glob"), "SELECT 'glob' AS glob");
        assert_eq!(
            prepared("SELECT s GLOB t.pat, s NOT GLOB (p || '*') FROM t"),
            "SELECT s ~ glob_regex(t.pat), s !~ glob_regex((p || '*')) FROM t"
        );
    }
}
