//! A correlated scalar subquery that selects a row rather than an aggregate —
//! `(SELECT a.type FROM activity a WHERE a.data->>'userId' = u.user_id ORDER BY a.ts DESC LIMIT
//! 1)`, each user's latest event type — which DataFusion refuses ("must be aggregated"): its first
//! row's value is the aggregate `first_value(a.type ORDER BY a.ts DESC)` over the same rows, NULL
//! when there is none. (Where DuckDB would fail on a second row, this takes the first.)

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Distinct, Expr, GroupByExpr, LimitClause, OrderByKind, Query, SelectItem, SetExpr, Statement, Value, ValueWithSpan,
};
use datafusion::sql::sqlparser::parser::Parser;

use super::correlation::{Side, relation_names, side};
use super::subqueries::aggregates;
use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

pub(crate) fn first_rows(statement: &mut Statement) {
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut ScalarSubqueries { compared: Vec::new() });
}

/// The scalar subqueries: not those compared with ANY or ALL, which are sets of rows.
struct ScalarSubqueries {
    /// The subqueries of `x op ANY (...)` and `ALL`, by address while the walk passes them.
    compared: Vec<*const Query>,
}

impl crate::engine::compat::ast::WalkMut for ScalarSubqueries {
    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::AnyOp { right, .. } | Expr::AllOp { right, .. } => {
                if let Expr::Subquery(query) = right.as_ref() {
                    self.compared.push(std::ptr::from_ref(query.as_ref()));
                }
            }
            Expr::Subquery(query) if !self.compared.contains(&std::ptr::from_ref(query.as_ref())) => {
                first_row(query);
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn first_row(query: &mut Query) -> Option<()> {
    let one_row = match &query.limit_clause {
        None => true,
        Some(LimitClause::LimitOffset {
            limit: Some(Expr::Value(ValueWithSpan { value: Value::Number(n, _), .. })),
            offset: None,
            limit_by,
        }) => n == "1" && limit_by.is_empty(),
        _ => false,
    };
    if !one_row || query.with.is_some() || query.fetch.is_some() {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_mut() else { return None };
    let plain = !select.from.is_empty()
        && select.having.is_none()
        && select.qualify.is_none()
        && !matches!(select.distinct, Some(Distinct::Distinct | Distinct::On(_)))
        && select.named_window.is_empty()
        && matches!(&select.group_by, GroupByExpr::Expressions(keys, modifiers) if keys.is_empty() && modifiers.is_empty())
        && !select.projection.iter().any(aggregates);
    let one_item =
        matches!(select.projection.as_slice(), [SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }]);
    if !plain || !one_item {
        return None;
    }
    let keys = match &query.order_by {
        None => Vec::new(),
        Some(order) => match &order.kind {
            OrderByKind::Expressions(keys) => keys.clone(),
            OrderByKind::All(_) => return None,
        },
    };
    // Correlated: it names a table outside its FROM.
    let inner = relation_names(&select.from);
    let outer = std::collections::HashSet::new();
    let mut correlated = false;
    let _ = crate::engine::compat::ast::each_expr(select.as_ref(), |e| {
        if side(e, &inner, &outer) == Side::Mixed {
            correlated = true;
        }
        ControlFlow::Continue(())
    });
    let reads_outer = keys.iter().any(|k| side(&k.expr, &inner, &outer) == Side::Mixed);
    if !correlated && !reads_outer {
        return None;
    }
    let order = if keys.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY {}", keys.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
    };
    let (SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }) =
        select.projection.first_mut()?
    else {
        return None;
    };
    let first = format!("first_value({item}{order})");
    *item = Parser::new(&DuckDbCompatDialect).try_with_sql(&first).ok()?.parse_expr().ok()?;
    query.order_by = None;
    query.limit_clause = None;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        crate::engine::compat::rewrite::rewritten_by(first_rows, sql)
    }

    #[test]
    fn a_correlated_row_is_its_first_value() {
        assert_eq!(
            rewritten("SELECT (SELECT a.t FROM a WHERE a.k = u.k ORDER BY a.ts DESC LIMIT 1) AS last FROM u"),
            "SELECT (SELECT first_value(a.t ORDER BY a.ts DESC) FROM a WHERE a.k = u.k) AS last FROM u"
        );
        assert_eq!(
            rewritten("SELECT (SELECT y FROM test t2 WHERE t1.x = 5) FROM test t1"),
            "SELECT (SELECT first_value(y) FROM test t2 WHERE t1.x = 5) FROM test t1"
        );
        // Uncorrelated, aggregated, more than one row, or a set compared with ANY: left as written.
        for kept in [
            "SELECT * FROM l WHERE l.b = ANY(SELECT s.b FROM s WHERE s.a = l.a)",
            "SELECT (SELECT a.t FROM a LIMIT 1) FROM u",
            "SELECT (SELECT max(a.t) FROM a WHERE a.k = u.k) FROM u",
            "SELECT (SELECT a.t FROM a WHERE a.k = u.k LIMIT 2) FROM u",
        ] {
            assert_eq!(rewritten(kept), kept);
        }
    }
}
