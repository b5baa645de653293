//! A subquery in ORDER BY — `ORDER BY (SELECT count(*) FROM activity a WHERE a.user_id =
//! u.user_id) DESC` — which DataFusion plans only in a select list or a filter: the sort keys
//! are computed as hidden columns of the SELECT (`AS __order_1`), and the query sorts a
//! `SELECT * EXCLUDE (__order_1, ...)` of it by them (its LIMIT and OFFSET with it). A key by
//! position (`ORDER BY 1`) stays one.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, OrderBy, OrderByKind, Query, SelectItem, SetExpr, Statement, Value, ValueWithSpan,
};
use datafusion::sql::sqlparser::parser::Parser;

use crate::engine::compat::ast::{each_expr, hide_from_stars};
use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

pub(crate) fn sorted_apart(statement: &mut Statement) {
    struct Queries;
    impl crate::engine::compat::ast::WalkMut for Queries {
        fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            sort_apart(query);
            ControlFlow::Continue(())
        }
    }
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut Queries);
}

fn has_subquery(e: &Expr) -> bool {
    each_expr(e, |e| match e {
        Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => ControlFlow::Break(None),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

fn sort_apart(query: &mut Query) -> Option<()> {
    let Some(OrderBy { kind: OrderByKind::Expressions(keys), .. }) = &query.order_by else { return None };
    if !keys.iter().any(|k| has_subquery(&k.expr)) {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_mut() else { return None };
    if select.distinct.is_some() {
        return None;
    }
    let mut keys = keys.clone();
    let mut hidden = Vec::new();
    for key in &mut keys {
        if matches!(key.expr, Expr::Value(ValueWithSpan { value: Value::Number(..), .. })) {
            continue;
        }
        let name = format!("__order_{}", hidden.len() + 1);
        select.projection.push(SelectItem::ExprWithAlias { expr: key.expr.clone(), alias: Ident::new(&name) });
        key.expr = Expr::Identifier(Ident::new(&name));
        hidden.push(name);
    }
    let mut sorter = Parser::new(&DuckDbCompatDialect)
        .try_with_sql("SELECT * FROM (SELECT 1) AS __sorted")
        .ok()?
        .parse_query()
        .ok()?;
    let SetExpr::Select(outer) = sorter.body.as_mut() else { return None };
    hide_from_stars(outer, Some("__sorted"), &hidden);
    if let Some(datafusion::sql::sqlparser::ast::TableFactor::Derived { subquery, .. }) =
        outer.from.first_mut().map(|f| &mut f.relation)
    {
        std::mem::swap(subquery.body.as_mut(), query.body.as_mut());
    }
    *query.body = *sorter.body;
    query.order_by = Some(OrderBy { kind: OrderByKind::Expressions(keys), interpolate: None });
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        crate::engine::compat::rewrite::rewritten_by(sorted_apart, sql)
    }

    #[test]
    fn subqueries_in_order_by_are_sorted_apart() {
        assert_eq!(
            rewritten(
                "SELECT b, sum(a) AS s FROM t GROUP BY b ORDER BY (SELECT sum(a) FROM t u WHERE u.b = t.b) DESC, 1 LIMIT 2"
            ),
            "SELECT * EXCLUDE (__order_1) FROM (SELECT b, sum(a) AS s, (SELECT sum(a) FROM t u WHERE u.b = t.b) AS __order_1 \
             FROM t GROUP BY b) AS __sorted ORDER BY __order_1 DESC, 1 LIMIT 2"
        );
        let kept = "SELECT b FROM t ORDER BY b";
        assert_eq!(rewritten(kept), kept);
    }
}
