//! `LIMIT 10%` and `LIMIT 10 PERCENT`: DuckDB keeps that share of the rows (of all of them, before
//! any OFFSET; the count truncated). The parser reads `%` as an operator, so the bound is written
//! as a marker call, `LIMIT __limit_percent(10)`, for `expand::limit_subqueries` to compute.
//! `LIMIT 5 % 3` stays a modulo: the `%` must end the bound.

use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{Edit, clause_end, is_word, offsets};
use crate::error::Result;

/// The marker's name.
pub(crate) const LIMIT_PERCENT: &str = "__limit_percent";

pub(crate) fn limit_percents(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.contains('%') && !sql.to_ascii_lowercase().contains("percent") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let mut edits = Vec::new();
    for limit in 0..tokens.len() {
        if !is_word(tokens, limit, "limit") {
            continue;
        }
        // The bound: to the first token at its own depth that ends it (PERCENT included).
        let end = clause_end(tokens, limit + 1, |j| {
            ["offset", "union", "except", "intersect", "percent"].iter().any(|w| is_word(tokens, j, w))
        });
        let end = if is_word(tokens, end, "percent") { end + 1 } else { end };
        let last = end - 1;
        let percent = tokens[last].token == Token::Mod || is_word(tokens, last, "percent");
        if !percent || last <= limit + 1 {
            continue;
        }
        let (first, bound_end) = (limit + 1, last - 1);
        let bound = &sql[offset(tokens[first].span.start)..offset(tokens[bound_end].span.end)];
        edits.push((
            offset(tokens[first].span.start),
            offset(tokens[last].span.end),
            format!("{LIMIT_PERCENT}({bound})"),
        ));
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::parse::prepared;

    #[test]
    fn percent_limits_become_markers_and_modulos_stay() {
        assert_eq!(
            prepared("SELECT * FROM t ORDER BY i LIMIT 10%"),
            "SELECT * FROM t ORDER BY i LIMIT __limit_percent(10)"
        );
        assert_eq!(
            prepared("SELECT * FROM t LIMIT (SELECT d FROM u) PERCENT OFFSET 2"),
            "SELECT * FROM t LIMIT __limit_percent((SELECT d FROM u)) OFFSET 2"
        );
        assert_eq!(prepared("SELECT * FROM t LIMIT 5 % 3"), "SELECT * FROM t LIMIT 5 % 3");
        assert_eq!(
            prepared("SELECT (SELECT i FROM t LIMIT 50%) AS x"),
            "SELECT (SELECT i FROM t LIMIT __limit_percent(50)) AS x"
        );
    }
}
