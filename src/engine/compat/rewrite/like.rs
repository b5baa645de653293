//! DuckDB's LIKE patterns: no escape character unless `ESCAPE` names one (DataFusion's is always
//! the backslash). A literal pattern is rewritten for DataFusion: its backslashes escaped, and
//! the named escape character turned into a backslash; a pattern computed per row (a column) is
//! rewritten the same way by replacements.

use datafusion::sql::sqlparser::ast::{Expr, Value, ValueWithSpan};

use crate::engine::compat::ast::{call, text};
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
    let escape = match escape_char.as_ref().map(|v| &v.value) {
        None => None,
        Some(Value::SingleQuotedString(e)) if e.is_empty() => None,
        Some(Value::SingleQuotedString(e)) if e.chars().count() == 1 => e.chars().next(),
        Some(Value::SingleQuotedString(_)) => {
            return Err(Error::Query("a LIKE's ESCAPE must be a single character (or '')".into()));
        }
        Some(_) => return Ok(()),
    };
    let Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(text), .. }) = pattern.as_mut() else {
        // A pattern computed per row is rewritten the same way, by replacements.
        let computed = std::mem::replace(pattern.as_mut(), Expr::value(Value::Null));
        **pattern = escaped_at_run_time(computed, escape);
        *escape_char = None;
        return Ok(());
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

/// A pattern's backslashes made literal (`\\`), then its escape character turned into the
/// backslash — an escaped escape character (`**`) kept as itself through a stand-in.
fn escaped_at_run_time(pattern: Expr, escape: Option<char>) -> Expr {
    let replace = |e: Expr, from: &str, to: &str| call("replace", vec![e, text(from), text(to)]);
    if escape == Some('\\') {
        return pattern;
    }
    let literal_backslashes = replace(pattern, "\\", "\\\\");
    let Some(escape) = escape else { return literal_backslashes };
    const STAND_IN: &str = "\u{1}";
    let (single, double) = (escape.to_string(), format!("{escape}{escape}"));
    let itself = if matches!(escape, '%' | '_') { format!("\\{escape}") } else { single.clone() };
    let stood_in = replace(literal_backslashes, &double, STAND_IN);
    replace(replace(stood_in, &single, "\\"), STAND_IN, &itself)
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
        assert_eq!(
            rewritten(r"x LIKE p ESCAPE '$'"),
            "x LIKE replace(replace(replace(replace(p, '\\', '\\\\'), '$$', '\u{1}'), '$', '\\'), '\u{1}', '$')"
        );
    }
}
