//! Rows compared with a subquery's rows: `(a, b) IN (SELECT x, y ...)`, `(a, b) < ANY (...)`,
//! `(a, b) >= ALL (...)`. DataFusion compares one column with a subquery, never a row; DuckDB
//! compares rows as SQL does, field by field (`(a, b) < (x, y)` is `a < x OR (a = x AND b < y)`),
//! with three-valued answers. Each becomes counts of the subquery's rows for which the
//! comparison holds, fails or is NULL, anywhere in the statement:
//!
//! - `ANY`: TRUE when it holds for a row, else NULL when it is NULL for one, else FALSE;
//! - `ALL`: FALSE when it fails for a row, else NULL when it is NULL for one, else TRUE.
//!
//! A condition of a WHERE clause keeps only its TRUE rows, so there `(a, b) IN (SELECT ...)` is
//! `EXISTS` of a matching row, and `NOT IN` is `NOT EXISTS` of a row that matches or may (NULL):
//! DataFusion joins those once (semi and anti joins) instead of counting the subquery's rows for
//! each outer row.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Query, Select, SelectItem, SetExpr,
    Statement,
};
use datafusion::sql::sqlparser::parser::Parser;

use crate::engine::compat::ast::{self, WalkMut, and, each_expr_mut};
use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

/// Rewrites every row compared with a subquery in `statement`.
pub(crate) fn rows_compared(statement: &mut Statement) {
    struct Filters;
    impl WalkMut for Filters {
        fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
            let rows_in = |c: &&Expr| matches!(c, Expr::InSubquery { .. });
            if select.selection.as_ref().is_some_and(|s| ast::conjuncts(s).iter().any(rows_in))
                && let Some(condition) = select.selection.take()
            {
                select.selection =
                    Some(and(ast::into_conjuncts(condition).into_iter().map(|c| matched(&c).unwrap_or(c))));
            }
            ControlFlow::Continue(())
        }
    }
    let _ = ast::walk_mut(statement, &mut Filters);
    let _ = each_expr_mut(statement, |expr: &mut Expr| {
        if let Some(counted) = counted(expr) {
            *expr = counted;
        }
        ControlFlow::Continue(())
    });
}

fn counted(expr: &Expr) -> Option<Expr> {
    let text = match expr {
        Expr::InSubquery { expr: row, subquery, negated } => {
            let answer = quantified(&fields(row)?, subquery, &BinaryOperator::Eq, false)?;
            if *negated { format!("NOT ({answer})") } else { answer }
        }
        Expr::AnyOp { left, compare_op, right, .. } => {
            let Expr::Subquery(subquery) = right.as_ref() else { return None };
            quantified(&fields(left)?, subquery, compare_op, false)?
        }
        Expr::AllOp { left, compare_op, right } => {
            let Expr::Subquery(subquery) = right.as_ref() else { return None };
            quantified(&fields(left)?, subquery, compare_op, true)?
        }
        _ => return None,
    };
    Parser::new(&DuckDbCompatDialect).try_with_sql(&text).ok()?.parse_expr().ok()
}

/// `(a, b) [NOT] IN (SELECT x, y ...)` as a filter: [NOT] `EXISTS` of a row of the subquery
/// equal to it (or, for NOT IN, not known to differ).
fn matched(condition: &Expr) -> Option<Expr> {
    let Expr::InSubquery { expr: row, subquery, negated } = condition else { return None };
    let row = fields(row)?;
    let subquery = fields_selected(subquery);
    if selects_one_column(&subquery) {
        return None;
    }
    let names: Vec<String> = (1..=row.len()).map(|i| format!("subquery_rows.row_{i}")).collect();
    let columns: Vec<String> = (1..=row.len()).map(|i| format!("row_{i}")).collect();
    let equal = compared(&row, &names, &BinaryOperator::Eq)?;
    let (not, condition) = if *negated { ("NOT ", format!("({equal}) IS NOT FALSE")) } else { ("", equal) };
    let text =
        format!("{not}EXISTS (SELECT 1 FROM ({subquery}) AS subquery_rows({}) WHERE {condition})", columns.join(", "));
    Parser::new(&DuckDbCompatDialect).try_with_sql(&text).ok()?.parse_expr().ok()
}

/// The fields of a row of two or more: `(a, b)` or `ROW(a, b)`.
fn fields(expr: &Expr) -> Option<Vec<Expr>> {
    let fields = match expr {
        Expr::Tuple(fields) => fields.clone(),
        Expr::Nested(inner) => return fields(inner),
        Expr::Function(function) if function.name.to_string().eq_ignore_ascii_case("row") => {
            let FunctionArguments::List(list) = &function.args else { return None };
            let plain = |arg: &FunctionArg| match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            };
            list.args.iter().map(plain).collect::<Option<Vec<_>>>()?
        }
        _ => return None,
    };
    (fields.len() >= 2).then_some(fields)
}

/// The subquery, a row it selects as one column (`SELECT (a, b) FROM t`) selected as its fields.
fn fields_selected(subquery: &Query) -> Query {
    let mut subquery = subquery.clone();
    if let SetExpr::Select(select) = subquery.body.as_mut()
        && let [SelectItem::UnnamedExpr(row) | SelectItem::ExprWithAlias { expr: row, .. }] =
            select.projection.as_slice()
        && let Some(fields) = fields(row)
    {
        select.projection = fields.into_iter().map(SelectItem::UnnamedExpr).collect();
    }
    subquery
}

fn selects_one_column(subquery: &Query) -> bool {
    let SetExpr::Select(select) = subquery.body.as_ref() else { return false };
    matches!(select.projection.as_slice(), [SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }]
        if !matches!(e, Expr::Wildcard(_) | Expr::QualifiedWildcard(..)))
}

/// The three counts of [the module](self) over the subquery's rows, named `row_1`, `row_2`, ....
fn quantified(row: &[Expr], subquery: &Query, op: &BinaryOperator, all: bool) -> Option<String> {
    let names: Vec<String> = (1..=row.len()).map(|i| format!("subquery_rows.row_{i}")).collect();
    let holds = compared(row, &names, op)?;
    let subquery = fields_selected(subquery);
    if selects_one_column(&subquery) {
        // A row against one column (a struct): DuckDB compares them as values.
        return None;
    }
    let columns: Vec<String> = (1..=row.len()).map(|i| format!("row_{i}")).collect();
    let count = |condition: &str| {
        format!(
            "coalesce((SELECT count(*) FROM ({subquery}) AS subquery_rows({}) WHERE {condition}), 0) > 0",
            columns.join(", ")
        )
    };
    let (decided, decisive) = if all { (false, count(&format!("NOT ({holds})"))) } else { (true, count(&holds)) };
    Some(format!(
        "CASE WHEN {decisive} THEN {decided} WHEN {} THEN NULL ELSE {} END",
        count(&format!("({holds}) IS NULL")),
        !decided
    ))
}

/// `(left...) op (right...)` field by field, as SQL compares rows.
fn compared(left: &[Expr], right: &[String], op: &BinaryOperator) -> Option<String> {
    let pairs = || left.iter().zip(right);
    Some(match op {
        BinaryOperator::Eq => pairs().map(|(l, r)| format!("({l}) = {r}")).collect::<Vec<_>>().join(" AND "),
        BinaryOperator::NotEq => pairs().map(|(l, r)| format!("({l}) <> {r}")).collect::<Vec<_>>().join(" OR "),
        BinaryOperator::Lt | BinaryOperator::LtEq | BinaryOperator::Gt | BinaryOperator::GtEq => {
            let (strict, last) = match op {
                BinaryOperator::Lt => ("<", "<"),
                BinaryOperator::LtEq => ("<", "<="),
                BinaryOperator::Gt => (">", ">"),
                _ => (">", ">="),
            };
            // From the last field back: a_n last b_n, then a_i strict b_i OR (a_i = b_i AND rest).
            let mut fields = pairs().rev();
            let (l, r) = fields.next()?;
            let mut text = format!("({l}) {last} {r}");
            for (l, r) in fields {
                text = format!("(({l}) {strict} {r} OR (({l}) = {r} AND ({text})))");
            }
            text
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statements = Parser::parse_sql(&DuckDbCompatDialect, sql).unwrap();
        rows_compared(&mut statements[0]);
        statements[0].to_string()
    }

    #[test]
    fn rows_are_compared_field_by_field_with_three_valued_counts() {
        let any = rewritten("SELECT (0, 0) < ANY (SELECT a, b FROM t)");
        assert!(
            any.contains("((0) < subquery_rows.row_1 OR ((0) = subquery_rows.row_1 AND ((0) < subquery_rows.row_2)))"),
            "{any}"
        );
        assert!(any.contains("FROM (SELECT a, b FROM t) AS subquery_rows (row_1, row_2)"), "{any}");
        let member = rewritten("SELECT (u.a, u.b) NOT IN (SELECT a, b FROM t) FROM u");
        assert!(member.starts_with("SELECT NOT (CASE WHEN coalesce("), "{member}");
        assert!(member.contains("(u.a) = subquery_rows.row_1 AND (u.b) = subquery_rows.row_2"), "{member}");
        let all = rewritten("SELECT (1, 2) >= ALL (SELECT a, b FROM t)");
        assert!(all.starts_with("SELECT CASE WHEN coalesce((SELECT count(*) FROM (SELECT a, b FROM t) AS subquery_rows (row_1, row_2) WHERE NOT ("), "{all}");
        assert!(all.contains("THEN false WHEN") && all.ends_with("THEN NULL ELSE true END"), "{all}");
        let fields = rewritten("SELECT ROW(1, 2) IN (SELECT (i, i + 1) FROM t)");
        assert!(fields.contains("FROM (SELECT i, i + 1 FROM t) AS subquery_rows"), "{fields}");
        // A filter keeps the TRUE rows only: there, a match is enough.
        let filter = rewritten("SELECT * FROM u WHERE u.c > 0 AND (u.a, u.b) IN (SELECT a, b FROM t)");
        assert_eq!(
            filter,
            "SELECT * FROM u WHERE u.c > 0 AND EXISTS (SELECT 1 FROM (SELECT a, b FROM t) AS subquery_rows (row_1, row_2) \
             WHERE (u.a) = subquery_rows.row_1 AND (u.b) = subquery_rows.row_2)"
        );
        let excluded = rewritten("SELECT * FROM u WHERE (u.a, u.b) NOT IN (SELECT a, b FROM t)");
        assert!(excluded.starts_with("SELECT * FROM u WHERE NOT EXISTS (SELECT 1 FROM"), "{excluded}");
        assert!(
            excluded.ends_with("WHERE ((u.a) = subquery_rows.row_1 AND (u.b) = subquery_rows.row_2) IS NOT FALSE)"),
            "{excluded}"
        );
        // One column is left to the other rewrites.
        assert_eq!(rewritten("SELECT 1 IN (SELECT a FROM t)"), "SELECT 1 IN (SELECT a FROM t)");
    }
}
