//! DuckDB's `-` for an empty end of a slice (`l[2:-:2]`, `l[:-:-1]`, `l[2:-]`), which the parser
//! does not take: before a step it becomes the marker `__slice_end` (an empty bound for
//! `rewrite::expression_forms`), before the `]` it goes (`l[2:]`).

use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{Edit, offsets};
use crate::error::Result;

pub(crate) const SLICE_END: &str = "__slice_end";

pub(crate) fn empty_slice_ends(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.contains(":-") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let mut edits = Vec::new();
    for i in 1..tokens.len().saturating_sub(1) {
        if tokens[i].token != Token::Minus || tokens[i - 1].token != Token::Colon {
            continue;
        }
        let replacement = match tokens[i + 1].token {
            Token::Colon => SLICE_END,
            Token::RBracket => "",
            _ => continue,
        };
        edits.push((offset(tokens[i].span.start), offset(tokens[i].span.end), replacement.to_string()));
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::parse::prepared;

    #[test]
    fn a_minus_for_an_empty_end_goes() {
        assert_eq!(
            prepared("SELECT l[2:-:2], l[:-:-1], l[1:-1], l[2:-] FROM t"),
            "SELECT l[2:__slice_end:2], l[:__slice_end:-1], l[1:-1], l[2:] FROM t"
        );
    }
}
