//! Subqueries without a FROM clause that read the outer query's columns — `(SELECT t.a)`,
//! `(SELECT DISTINCT ON (i) j)`, `EXISTS (SELECT 1 WHERE t.d < 100)`, `x IN (SELECT t.b)` —
//! are one row or none, decided by their WHERE: they are written as the expressions they are
//! (`CASE WHEN w THEN e END`, `coalesce(w, false)`, `x = e`). DataFusion cannot plan them: a
//! correlated subquery needs a table to join. Names in such a subquery can only be the outer
//! query's (it has no table of its own), and those without any name are left to DataFusion.
//!
//! As a conjunct of a filter (WHERE, HAVING, ON), `EXISTS (SELECT ... WHERE w)` is `w` itself,
//! so that the subqueries `w` holds stay where DataFusion decorrelates them.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Join, JoinConstraint, JoinOperator, Query, Select, SelectItem, SetExpr,
    Statement, UnaryOperator, Value,
};

use super::subqueries::aggregates;
use crate::engine::compat::ast::{call, case_when, each_expr, each_expr_mut, for_each_select};

/// The SELECT of a subquery with no FROM and nothing that makes more or fewer rows than its
/// WHERE says (aggregates, windows, GROUP BY, LIMIT), when it names a column.
fn fromless(query: &Query) -> Option<&Select> {
    if query.with.is_some() || query.limit_clause.is_some() || query.fetch.is_some() {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_ref() else { return None };
    let plain = select.from.is_empty()
        && select.having.is_none()
        && select.qualify.is_none()
        && select.top.is_none()
        && select.lateral_views.is_empty()
        && select.named_window.is_empty()
        && matches!(&select.group_by, GroupByExpr::Expressions(keys, modifiers) if keys.is_empty() && modifiers.is_empty())
        && !select.projection.iter().any(aggregates)
        && select
            .projection
            .iter()
            .all(|item| matches!(item, SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }));
    let names_a_column = each_expr(select, |e| match e {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => ControlFlow::Break(None),
        _ => ControlFlow::Continue(()),
    })
    .is_break();
    (plain && names_a_column).then_some(select)
}

/// The one item such a SELECT selects.
fn only_item(select: &Select) -> Option<&Expr> {
    match select.projection.as_slice() {
        [SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }] => Some(e),
        _ => None,
    }
}

fn boolean(value: bool) -> Expr {
    Expr::value(Value::Boolean(value))
}

/// Whether the subquery has a row: its WHERE, never NULL.
fn has_row(select: &Select) -> Expr {
    match &select.selection {
        Some(w) => call("coalesce", vec![Expr::Nested(Box::new(w.clone())), boolean(false)]),
        None => boolean(true),
    }
}

/// The expression such a subquery is, where it is one.
fn inlined(expr: &Expr) -> Option<Expr> {
    let negate = |e: Expr, negated: bool| {
        if negated { Expr::UnaryOp { op: UnaryOperator::Not, expr: Box::new(Expr::Nested(Box::new(e))) } } else { e }
    };
    match expr {
        Expr::Subquery(query) => {
            let select = fromless(query)?;
            let item = Expr::Nested(Box::new(only_item(select)?.clone()));
            Some(match &select.selection {
                Some(w) => case_when(w.clone(), item, None),
                None => item,
            })
        }
        Expr::Exists { subquery, negated } => Some(negate(has_row(fromless(subquery)?), *negated)),
        Expr::InSubquery { expr: x, subquery, negated } => {
            let select = fromless(subquery)?;
            let equal = Expr::BinaryOp {
                left: Box::new(Expr::Nested(x.clone())),
                op: BinaryOperator::Eq,
                right: Box::new(Expr::Nested(Box::new(only_item(select)?.clone()))),
            };
            let member = match &select.selection {
                Some(w) => case_when(w.clone(), equal, Some(boolean(false))),
                None => equal,
            };
            Some(negate(member, *negated))
        }
        _ => None,
    }
}

/// A filter's conjuncts, each `EXISTS (SELECT ... WHERE w)` of them replaced by `w`.
fn unwrap_in_filter(condition: &mut Expr) {
    match condition {
        Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
            unwrap_in_filter(left);
            unwrap_in_filter(right);
        }
        Expr::Nested(inner) => unwrap_in_filter(inner),
        Expr::Exists { subquery, negated: false } => {
            if let Some(select) = fromless(subquery) {
                let mut w = select.selection.clone().unwrap_or_else(|| boolean(true));
                unwrap_in_filter(&mut w);
                *condition = Expr::Nested(Box::new(w));
            }
        }
        _ => {}
    }
}

struct Filters;

impl crate::engine::compat::ast::WalkMut for Filters {
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        for_each_select(&mut query.body, &mut |select| {
            select.selection.iter_mut().chain(select.having.iter_mut()).for_each(unwrap_in_filter);
            for join in select.from.iter_mut().flat_map(|from| from.joins.iter_mut()) {
                if let Some(condition) = on_condition(join) {
                    unwrap_in_filter(condition);
                }
            }
        });
        ControlFlow::Continue(())
    }
}

fn on_condition(join: &mut Join) -> Option<&mut Expr> {
    match &mut join.join_operator {
        JoinOperator::Join(JoinConstraint::On(c))
        | JoinOperator::Inner(JoinConstraint::On(c))
        | JoinOperator::Left(JoinConstraint::On(c))
        | JoinOperator::LeftOuter(JoinConstraint::On(c))
        | JoinOperator::Right(JoinConstraint::On(c))
        | JoinOperator::RightOuter(JoinConstraint::On(c))
        | JoinOperator::FullOuter(JoinConstraint::On(c)) => Some(c),
        _ => None,
    }
}

pub(crate) fn inline(statement: &mut Statement) {
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut Filters);
    let _ = each_expr_mut(statement, |expr| {
        if let Some(inlined) = inlined(expr) {
            *expr = inlined;
        }
        ControlFlow::Continue(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn inlined_sql(sql: &str) -> String {
        let mut statement = Parser::parse_sql(&DuckDbCompatDialect, sql).unwrap().remove(0);
        inline(&mut statement);
        statement.to_string()
    }

    #[test]
    fn fromless_subqueries_become_their_expressions() {
        assert_eq!(inlined_sql("SELECT (SELECT t.a) FROM t"), "SELECT (t.a) FROM t");
        assert_eq!(
            inlined_sql("SELECT EXISTS (SELECT t.c WHERE t.d < 100), t.a NOT IN (SELECT t.b WHERE t.c) FROM t"),
            "SELECT coalesce((t.d < 100), false), NOT (CASE WHEN t.c THEN (t.a) = (t.b) ELSE false END) FROM t"
        );
        // In a filter, EXISTS is its WHERE, and the subqueries there stay conjuncts.
        assert_eq!(
            inlined_sql(
                "SELECT 1 FROM t WHERE EXISTS (SELECT 1 WHERE EXISTS (SELECT 1 FROM u WHERE u.a = t.a)) AND t.b"
            ),
            "SELECT 1 FROM t WHERE (EXISTS (SELECT 1 FROM u WHERE u.a = t.a)) AND t.b"
        );
        // Without a name, or with a FROM or an aggregate, a subquery is left as it is.
        for kept in ["SELECT (SELECT 1)", "SELECT (SELECT t.a FROM u) FROM t", "SELECT (SELECT sum(t.a)) FROM t"] {
            assert_eq!(inlined_sql(kept), kept);
        }
    }
}
