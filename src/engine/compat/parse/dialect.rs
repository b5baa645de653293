//! The SQL dialect: DuckDB's, as the parser knows it, with the differences DuckDB itself has.

use std::any::TypeId;

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, UnaryOperator};
use datafusion::sql::sqlparser::dialect::{Dialect, DuckDbDialect, Precedence};
use datafusion::sql::sqlparser::keywords::{Keyword, RESERVED_FOR_COLUMN_ALIAS, RESERVED_FOR_TABLE_ALIAS};
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

/// DuckDB's dialect without lambdas: DuckDB itself reads `data->'x'` as JSON access, while the
/// parser's DuckDB dialect would take it for a lambda.
#[derive(Debug, Default)]
pub(crate) struct DuckDbCompatDialect;

impl Dialect for DuckDbCompatDialect {
    // Parse exactly as DuckDB does wherever the parser asks "is this DuckDB?".
    fn dialect(&self) -> TypeId {
        TypeId::of::<DuckDbDialect>()
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        DuckDbDialect.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        DuckDbDialect.is_identifier_part(ch)
    }
    fn supports_trailing_commas(&self) -> bool {
        true
    }
    // Words DuckDB does not reserve, which the parser would refuse as a table's alias (`JOIN t
    // top`), take for the end of a list after a trailing comma (`f(a, top)`) or refuse as a
    // column's alias (`SELECT 1 top`).
    fn is_table_alias(&self, kw: &Keyword, _parser: &mut Parser) -> bool {
        !RESERVED_FOR_TABLE_ALIAS.contains(kw)
            || matches!(kw, Keyword::TOP | Keyword::SORT | Keyword::VIEW | Keyword::MINUS)
    }
    fn is_column_alias(&self, kw: &Keyword, _parser: &mut Parser) -> bool {
        !RESERVED_FOR_COLUMN_ALIAS.contains(kw)
            || matches!(
                kw,
                Keyword::TOP | Keyword::SORT | Keyword::VIEW | Keyword::MINUS | Keyword::CLUSTER | Keyword::DISTRIBUTE
            )
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        true
    }
    fn supports_group_by_expr(&self) -> bool {
        true
    }
    fn supports_bitwise_shift_operators(&self) -> bool {
        true
    }
    // `bool_or(type = 'x')` is a comparison, not a named argument.
    fn supports_named_fn_args_with_eq_operator(&self) -> bool {
        false
    }
    fn supports_named_fn_args_with_assignment_operator(&self) -> bool {
        true
    }
    fn supports_dictionary_syntax(&self) -> bool {
        true
    }
    fn support_map_literal_syntax(&self) -> bool {
        true
    }
    fn supports_lambda_functions(&self) -> bool {
        false
    }
    // `first_value(x IGNORE NULLS) OVER (...)`.
    fn supports_window_function_null_treatment_arg(&self) -> bool {
        true
    }
    // In DuckDB `data->>'k' = x` and `data->>'k' IS NULL` apply the arrow first.
    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        match parser.peek_token().token {
            Token::Arrow | Token::LongArrow => Some(Ok(ARROW_PRECEDENCE)),
            _ if power_operator(parser).is_some() => Some(Ok(POWER_PRECEDENCE)),
            Token::CaretAt | Token::Overlap => Some(Ok(self.prec_value(Precedence::Like))),
            _ => None,
        }
    }
    // A sign binds tighter than a power, as in DuckDB (`-2 ** 2` is 4); the parser's sign took
    // everything above `*`.
    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        let op = match parser.peek_token_ref().token {
            Token::Minus => UnaryOperator::Minus,
            Token::Plus => UnaryOperator::Plus,
            _ => return None,
        };
        parser.next_token();
        Some(parser.parse_subexpr(POWER_PRECEDENCE).map(|operand| Expr::UnaryOp { op, expr: Box::new(operand) }))
    }
    // The parser reads everything after `IS [NOT] DISTINCT FROM` as its right side, so that
    // `a IS NOT DISTINCT FROM b AND c = d` compared `a` with `b AND c = d`; the right side ends
    // where an operator of IS's precedence would end it.
    // DuckDB's `^` and `**` are powers (a DOUBLE), above `*` (the parser reads `^` as XOR, below `+`).
    fn parse_infix(&self, parser: &mut Parser, expr: &Expr, _precedence: u8) -> Option<Result<Expr, ParserError>> {
        // Kept as an operator until the result columns are named (`(2 ** 10)`), then a call of
        // power (`rewrite::expression_forms::powers`).
        if let Some(tokens) = power_operator(parser) {
            let spelling = if tokens == 1 { "^" } else { "**" };
            for _ in 0..tokens {
                parser.next_token();
            }
            return Some(parser.parse_subexpr(POWER_PRECEDENCE).map(|exponent| Expr::BinaryOp {
                left: Box::new(expr.clone()),
                op: BinaryOperator::Custom(spelling.into()),
                right: Box::new(exponent),
            }));
        }
        // `s ^@ prefix` is starts_with, `l && m` list_has_any.
        if let Some(function) = match &parser.peek_token_ref().token {
            Token::CaretAt => Some("starts_with"),
            Token::Overlap => Some("list_has_any"),
            _ => None,
        } {
            parser.next_token();
            return Some(
                parser
                    .parse_subexpr(self.prec_value(Precedence::Like))
                    .map(|right| crate::engine::compat::ast::call(function, vec![expr.clone(), right])),
            );
        }
        let negated = if parser.parse_keywords(&[Keyword::IS, Keyword::DISTINCT, Keyword::FROM]) {
            false
        } else if parser.parse_keywords(&[Keyword::IS, Keyword::NOT, Keyword::DISTINCT, Keyword::FROM]) {
            true
        } else {
            return None;
        };
        let (left, right) = match parser.parse_subexpr(self.prec_value(Precedence::Is)) {
            Ok(right) => (Box::new(expr.clone()), Box::new(right)),
            Err(e) => return Some(Err(e)),
        };
        Some(Ok(if negated { Expr::IsNotDistinctFrom(left, right) } else { Expr::IsDistinctFrom(left, right) }))
    }
    fn allow_extract_single_quotes(&self) -> bool {
        true
    }
    fn supports_array_typedef_with_brackets(&self) -> bool {
        true
    }
    fn supports_from_first_select(&self) -> bool {
        true
    }
    fn supports_order_by_all(&self) -> bool {
        true
    }
    fn supports_select_wildcard_exclude(&self) -> bool {
        true
    }
    fn supports_select_wildcard_replace(&self) -> bool {
        true
    }
    fn supports_select_wildcard_rename(&self) -> bool {
        true
    }
    fn supports_notnull_operator(&self) -> bool {
        true
    }
    fn supports_comma_separated_trim(&self) -> bool {
        true
    }
    // `E'a\nb'`.
    fn supports_string_escape_constant(&self) -> bool {
        true
    }
}

/// Above arithmetic (40), below `::` (50).
const ARROW_PRECEDENCE: u8 = 45;
/// Above `*` (40), below the JSON arrows.
const POWER_PRECEDENCE: u8 = 42;

/// How many tokens the power operator next in the text takes: `^` one, `**` two.
fn power_operator(parser: &Parser) -> Option<usize> {
    match (&parser.peek_nth_token_ref(0).token, &parser.peek_nth_token_ref(1).token) {
        (Token::Caret, _) => Some(1),
        (Token::Mul, Token::Mul) => Some(2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powers_bind_above_products() {
        let parsed = Parser::parse_sql(&DuckDbCompatDialect, "SELECT 2 * 3 ^ 2 + 1").unwrap();
        let product = Parser::new(&DuckDbCompatDialect).try_with_sql("2 * 3 ^ 2 + 1").unwrap().parse_expr().unwrap();
        let Expr::BinaryOp { left, op: BinaryOperator::Plus, .. } = &product else { panic!("{product}") };
        let Expr::BinaryOp { right, op: BinaryOperator::Multiply, .. } = left.as_ref() else { panic!("{product}") };
        assert!(matches!(right.as_ref(), Expr::BinaryOp { op: BinaryOperator::Custom(op), .. } if op == "^"));
        assert_eq!(parsed[0].to_string(), "SELECT 2 * 3 ^ 2 + 1");
        let signed = Parser::new(&DuckDbCompatDialect).try_with_sql("-x ** 2 * 3").unwrap().parse_expr().unwrap();
        assert_eq!(signed.to_string(), "-x ** 2 * 3");
        let Expr::BinaryOp { left, op: BinaryOperator::Multiply, .. } = &signed else { panic!("{signed}") };
        assert!(matches!(left.as_ref(), Expr::BinaryOp { left, .. } if matches!(left.as_ref(), Expr::UnaryOp { .. })));
    }

    #[test]
    fn is_distinct_from_ends_before_and() {
        let sql = "SELECT a IS NOT DISTINCT FROM b AND c = d, a IS DISTINCT FROM b + 1 OR e";
        let parsed = Parser::parse_sql(&DuckDbCompatDialect, sql).unwrap();
        assert_eq!(parsed[0].to_string(), "SELECT a IS NOT DISTINCT FROM b AND c = d, a IS DISTINCT FROM b + 1 OR e");
        let datafusion::sql::sqlparser::ast::Statement::Query(query) = &parsed[0] else { panic!("a query") };
        let datafusion::sql::sqlparser::ast::SetExpr::Select(select) = query.body.as_ref() else { panic!("a select") };
        let datafusion::sql::sqlparser::ast::SelectItem::UnnamedExpr(Expr::BinaryOp { left, .. }) =
            &select.projection[0]
        else {
            panic!("an AND at the top")
        };
        assert!(matches!(left.as_ref(), Expr::IsNotDistinctFrom(..)));
    }
}
