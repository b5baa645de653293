//! DuckDB's list comprehensions, `[expr FOR x IN list IF cond]`, written as the lambda calls
//! they mean: `list_transform(list_filter(list, x -> (cond)), x -> (expr))`.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{Edit, offsets};
use crate::error::Result;

/// The first list comprehension that holds no other, as a lambda call; run until there is none,
/// it reaches nested ones.
pub(crate) fn comprehensions_as_lambdas(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("for") {
        return Ok(Vec::new());
    }
    Ok(innermost(sql, tokens).into_iter().collect())
}

fn is_keyword(token: &TokenWithSpan, keyword: Keyword) -> bool {
    matches!(&token.token, Token::Word(w) if w.keyword == keyword && w.quote_style.is_none())
}

fn innermost(sql: &str, tokens: &[TokenWithSpan]) -> Option<Edit> {
    let offset = offsets(sql);
    for (open, token) in tokens.iter().enumerate() {
        if token.token != Token::LBracket {
            continue;
        }
        // The bracket's contents at its own depth: where FOR, IN and IF are, and where it closes.
        let (mut depth, mut close, mut marks) = (0i32, None, (None, None, None));
        let mut nested_for = false;
        for (i, t) in tokens.iter().enumerate().skip(open) {
            match t.token {
                Token::LBracket | Token::LParen | Token::LBrace => depth += 1,
                Token::RBracket | Token::RParen | Token::RBrace => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                close = Some(i);
                break;
            }
            if is_keyword(t, Keyword::FOR) {
                if depth == 1 && marks.0.is_none() {
                    marks.0 = Some(i);
                } else {
                    nested_for = true;
                }
            } else if depth == 1 && marks.0.is_some() && marks.1.is_none() && is_keyword(t, Keyword::IN) {
                marks.1 = Some(i);
            } else if depth == 1 && marks.1.is_some() && marks.2.is_none() && is_keyword(t, Keyword::IF) {
                marks.2 = Some(i);
            }
        }
        let (Some(close), (Some(for_at), Some(in_at), if_at)) = (close, marks) else { continue };
        if nested_for {
            continue;
        }
        let text = |from: usize, to: usize| sql[offset(tokens[from].span.end)..offset(tokens[to].span.start)].trim();
        let (expr, variable) = (text(open, for_at), text(for_at, in_at));
        if expr.is_empty() || variable.is_empty() {
            continue;
        }
        let list = text(in_at, if_at.unwrap_or(close));
        // `x, i`: the element and its position in the list, which a filter must not renumber.
        if variable.contains(',') {
            let replacement = match if_at {
                None => format!("list_transform({list}, lambda {variable}: ({expr}))"),
                Some(if_at) => {
                    let cond = text(if_at, close);
                    let each = |body: &str| {
                        format!(
                            "__c -> (invoke(lambda {variable}: ({body}), get_field(__c, '1'), get_field(__c, '2')))"
                        )
                    };
                    format!(
                        "list_transform(list_filter(arrays_zip({list}, generate_series(1, cardinality({list}))), {}), {})",
                        each(cond),
                        each(expr)
                    )
                }
            };
            return Some((offset(token.span.start), offset(tokens[close].span.end), replacement));
        }
        let source = match if_at {
            Some(if_at) => format!("list_filter({list}, {variable} -> ({}))", text(if_at, close)),
            None => list.to_string(),
        };
        let replacement = format!("list_transform({source}, {variable} -> ({expr}))");
        return Some((offset(token.span.start), offset(tokens[close].span.end), replacement));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::comprehensions_as_lambdas;
    use crate::engine::compat::parse::tokens::after;

    fn prepared(sql: &str) -> String {
        after(comprehensions_as_lambdas, true, sql).unwrap()
    }

    #[test]
    fn comprehensions_become_transforms_and_filters() {
        assert_eq!(
            prepared("SELECT [x + 1 FOR x IN [1, 2, 3] IF x > 1]"),
            "SELECT list_transform(list_filter([1, 2, 3], x -> (x > 1)), x -> (x + 1))"
        );
        assert_eq!(
            prepared("SELECT [[y FOR y IN x] FOR x IN l]"),
            "SELECT list_transform(l, x -> (list_transform(x, y -> (y))))"
        );
        assert_eq!(prepared("SELECT [1, 2] FROM t FOR UPDATE"), "SELECT [1, 2] FROM t FOR UPDATE");
    }
}
