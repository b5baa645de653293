//! A window frame's `EXCLUDE`, which the parser does not take. `EXCLUDE NO OTHERS` is the frame as
//! it is, and goes. `EXCLUDE CURRENT ROW`, `GROUP` and `TIES` go too, and a marker takes their
//! place as the window's first partition key (`PARTITION BY "__exclude_ties", ...`), where
//! `rewrite::window_exclusions` finds it and computes the frame without those rows.

use datafusion::sql::sqlparser::ast::{Expr, WindowSpec};
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{Edit, is_word, next_significant, offsets, opening_paren};
use crate::error::Result;

/// Which rows a frame leaves out, as its marker names them and as DuckDB writes them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Exclusion {
    CurrentRow,
    Group,
    Ties,
}

const MARKERS: [(Exclusion, &str, &str); 3] = [
    (Exclusion::CurrentRow, "__exclude_current_row", "CURRENT ROW"),
    (Exclusion::Group, "__exclude_group", "GROUP"),
    (Exclusion::Ties, "__exclude_ties", "TIES"),
];

impl Exclusion {
    /// DuckDB's words for it, after `EXCLUDE`.
    pub(crate) fn words(self) -> &'static str {
        MARKERS.iter().find(|m| m.0 == self).map_or("", |m| m.2)
    }
}

/// The exclusion a window's marker says, if it has one.
pub(crate) fn exclusion(spec: &WindowSpec) -> Option<Exclusion> {
    let Some(Expr::Identifier(first)) = spec.partition_by.first() else { return None };
    MARKERS.iter().find(|m| m.1 == first.value).map(|m| m.0)
}

pub(crate) fn frame_excludes(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("exclude") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let is = |i: usize, text: &str| is_word(tokens, i, text);
    let next = |i: usize| next_significant(tokens, i);
    let mut edits = Vec::new();
    for i in 0..tokens.len() {
        if !is(i, "exclude") {
            continue;
        }
        let Some(first) = next(i) else { continue };
        let (last, marker) = if is(first, "no") && next(first).is_some_and(|j| is(j, "others")) {
            (next(first), None)
        } else if is(first, "current") && next(first).is_some_and(|j| is(j, "row")) {
            (next(first), Some(MARKERS[0].1))
        } else if is(first, "group") {
            (Some(first), Some(MARKERS[1].1))
        } else if is(first, "ties") {
            (Some(first), Some(MARKERS[2].1))
        } else {
            continue;
        };
        let Some(last) = last else { continue };
        let Some(close) = next(last).filter(|&j| tokens[j].token == Token::RParen) else { continue };
        edits.push((offset(tokens[i].span.start), offset(tokens[last].span.end), String::new()));
        let (Some(marker), Some(open)) = (marker, opening_paren(tokens, close)) else { continue };
        let Some(after_open) = next(open) else { continue };
        let (at, text) = if is(after_open, "partition") {
            let Some(by) = next(after_open) else { continue };
            (offset(tokens[by].span.end), format!(" \"{marker}\","))
        } else if ["order", "rows", "range", "groups"].iter().any(|k| is(after_open, k)) {
            (offset(tokens[open].span.end), format!("PARTITION BY \"{marker}\" "))
        } else {
            // A window named first, then refined.
            (offset(tokens[after_open].span.end), format!(" PARTITION BY \"{marker}\""))
        };
        edits.push((at, at, text));
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::parse::prepared;

    #[test]
    fn frame_exclusions_become_markers() {
        assert_eq!(
            prepared(
                "SELECT sum(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE NO OTHERS) FROM t"
            ),
            "SELECT sum(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING ) FROM t"
        );
        assert_eq!(
            prepared("SELECT sum(x) OVER (ORDER BY x ROWS UNBOUNDED PRECEDING EXCLUDE CURRENT ROW) FROM t"),
            "SELECT sum(x) OVER (PARTITION BY \"__exclude_current_row\" ORDER BY x ROWS UNBOUNDED PRECEDING ) FROM t"
        );
        assert_eq!(
            prepared("SELECT 1 FROM t WINDOW w AS (PARTITION BY p ORDER BY x ROWS 2 PRECEDING EXCLUDE TIES)"),
            "SELECT 1 FROM t WINDOW w AS (PARTITION BY \"__exclude_ties\", p ORDER BY x ROWS 2 PRECEDING )"
        );
    }
}
