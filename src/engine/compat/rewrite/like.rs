//! DuckDB's LIKE patterns: no escape character unless `ESCAPE` names one (DataFusion's is always
//! the backslash). A literal pattern is rewritten for DataFusion: its backslashes escaped, and
//! the named escape character turned into a backslash.

use datafusion::sql::sqlparser::ast::{Expr, Value, ValueWithSpan};

use crate::error::{Error, Result};

/// Rewrites the pattern of a LIKE or ILIKE with a literal pattern and escape, in place.
pub(crate) fn duckdb_like(expr: &mut Expr) -> Result<()> {
    let (Expr::Like { pattern, escape_char, .. } | Expr::ILike { pattern, escape_char, .. }) = expr else {
        return Ok(());
    };
    // `ESCAPE NULL` makes the match NULL, as any NULL operand does.
    if matches!(escape_char.as_ref().map(|v| &v.value), Some(Value::Null)) {
        *expr = crate::engine::compat::ast::cast(
            Expr::value(Value::Null),
            datafusion::sql::sqlparser::ast::DataType::Boolean,
        );
        return Ok(());
    }
    let Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(text), .. }) = pattern.as_mut() else {
        return Ok(());
    };
    let escape = match escape_char.as_ref().map(|v| &v.value) {
        None => None,
        Some(Value::SingleQuotedString(e)) if e.is_empty() => None,
        Some(Value::SingleQuotedString(e)) if e.chars().count() == 1 => e.chars().next(),
        Some(Value::SingleQuotedString(_)) => {
            return Err(Error::Query("a LIKE's ESCAPE must be a single character (or '')".into()));
        }
        Some(_) => return Ok(()),
    };
    let mut rewritten = String::with_capacity(text.len() + 4);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            let Some(escaped) = chars.next() else {
                return Err(Error::Query("a LIKE pattern must not end with its escape character".into()));
            };
            rewritten.push('\\');
            rewritten.push(escaped);
        } else if c == '\\' {
            rewritten.push_str("\\\\");
        } else {
            rewritten.push(c);
        }
    }
    *text = rewritten;
    *escape_char = None;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::parser::Parser;

    fn rewritten(sql: &str) -> String {
        let mut expr = Parser::new(&crate::engine::compat::parse::dialect::DuckDbCompatDialect)
            .try_with_sql(sql)
            .unwrap()
            .parse_expr()
            .unwrap();
        duckdb_like(&mut expr).unwrap();
        expr.to_string()
    }

    #[test]
    fn backslashes_are_literal_unless_they_escape() {
        assert_eq!(rewritten(r"x LIKE 'a\b'"), r"x LIKE 'a\\b'");
        assert_eq!(rewritten(r"x LIKE '*%+' ESCAPE '*'"), r"x LIKE '\%+'");
        assert_eq!(rewritten(r"x LIKE '\\' ESCAPE '\'"), r"x LIKE '\\'");
    }
}
