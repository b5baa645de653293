//! DuckDB's exported aggregate states: `agg(x) EXPORT_STATE` and `finalize(state)`. Here a state
//! is the aggregate's result itself, so `finalize(agg(x) EXPORT_STATE)` is `agg(x)` as in DuckDB;
//! DuckDB's own state layouts (what a state prints as, casts to STRUCT) and `combine()` of states
//! are not reproduced, and `combine` is refused by name.

use std::borrow::Cow;

use datafusion::logical_expr::ScalarUDF;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::udf::row_udf;

/// `finalize(state)`: the aggregate's result a state holds.
pub(super) fn finalize() -> ScalarUDF {
    row_udf(
        "finalize",
        "one argument: finalize(agg(x) EXPORT_STATE)",
        1..=1,
        |t| Ok(t[0].clone()),
        |a| Ok(a[0].clone()),
    )
}

/// `f(args) EXPORT_STATE` written as `f(args)`, the state this layer keeps.
pub(super) fn exported_states(sql: &str) -> Cow<'_, str> {
    if !sql.to_ascii_lowercase().contains("export_state") {
        return Cow::Borrowed(sql);
    }
    let Some(tokens) = super::tokens::significant_tokens(sql) else { return Cow::Borrowed(sql) };
    let offset = super::tokens::offsets(sql);
    let mut cuts = Vec::new();
    for pair in tokens.windows(2) {
        let exported = matches!(&pair[1].token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("export_state"));
        if exported && pair[0].token == Token::RParen {
            cuts.push((offset(pair[1].span.start), offset(pair[1].span.end)));
        }
    }
    if cuts.is_empty() {
        return Cow::Borrowed(sql);
    }
    let mut text = sql.to_string();
    for (start, end) in cuts.into_iter().rev() {
        text.replace_range(start..end, "");
    }
    Cow::Owned(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exported_state_is_the_aggregate() {
        assert_eq!(exported_states("SELECT finalize(sum(x) EXPORT_STATE) FROM t"), "SELECT finalize(sum(x) ) FROM t");
        assert_eq!(exported_states("SELECT 'export_state' AS s"), "SELECT 'export_state' AS s");
    }
}
