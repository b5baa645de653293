//! A correlated aggregate subquery that reads the outer row other than by equality —
//! `(SELECT count(*) FROM a WHERE a.ts < u.created_at)`, `(SELECT max(x) FROM t WHERE t.k = o.k
//! OR t.j > o.j)`, a condition on the outer row alone (`WHERE o.x = 5`) — which DataFusion cannot
//! decorrelate. Computed as DuckDB computes it, once per distinct value of the outer columns it
//! reads (their domain): the subquery grouped by the domain, joined back to the outer row by
//! equality, which DataFusion decorrelates; a row with no match gets the aggregate over no rows
//! (0 for a count):
//!
//! `coalesce((SELECT first_value(s.v) FROM (SELECT d.k, <agg> AS v FROM (SELECT DISTINCT u.c AS k
//! FROM <u>) d, <from> WHERE <where, u.c read as d.k> GROUP BY d.k) s WHERE s.k = u.c),
//! (SELECT <agg> FROM <from> WHERE false))`

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Query, Select, SelectItem, SetExpr, Statement, TableFactor, TableWithJoins,
};
use datafusion::sql::sqlparser::parser::Parser;

use super::correlation::{Side, relation_name, relation_names, side};
use super::subqueries::aggregates;
use crate::engine::compat::ast::{conjuncts, each_expr, each_expr_mut, for_each_select};
use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

pub(crate) fn decorrelated(statement: &mut Statement) {
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut Selects);
}

struct Selects;

impl crate::engine::compat::ast::WalkMut for Selects {
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        for_each_select(&mut query.body, &mut |select| {
            if select.from.is_empty() {
                return;
            }
            let from = select.from.clone();
            let mut items = std::mem::take(&mut select.projection);
            for item in &mut items {
                if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item {
                    let _ = crate::engine::compat::ast::walk_mut(e, &mut OwnSubqueries { from: &from, depth: 0 });
                }
            }
            select.projection = items;
            if let Some(selection) = select.selection.as_mut() {
                let _ = crate::engine::compat::ast::walk_mut(selection, &mut OwnSubqueries { from: &from, depth: 0 });
            }
        });
        ControlFlow::Continue(())
    }
}

/// The subqueries of one SELECT's expressions (not those nested in them), with its FROM.
struct OwnSubqueries<'a> {
    from: &'a [TableWithJoins],
    depth: usize,
}

impl crate::engine::compat::ast::WalkMut for OwnSubqueries<'_> {
    fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if self.depth == 0
            && let Expr::Subquery(query) = expr
            && let Some(rewritten) = over_domain(query, self.from)
        {
            *expr = rewritten;
        }
        ControlFlow::Continue(())
    }
}

/// The subquery as computed over its outer columns' domain; `None` when it is not an aggregate
/// of one SELECT correlated other than by equalities.
fn over_domain(query: &Query, outer_from: &[TableWithJoins]) -> Option<Expr> {
    let plain_query =
        query.with.is_none() && query.order_by.is_none() && query.limit_clause.is_none() && query.fetch.is_none();
    let SetExpr::Select(select) = query.body.as_ref() else { return None };
    let plain_select = plain_query
        && !select.from.is_empty()
        && select.having.is_none()
        && select.qualify.is_none()
        && select.distinct.is_none()
        && select.named_window.is_empty()
        && matches!(&select.group_by, GroupByExpr::Expressions(keys, modifiers) if keys.is_empty() && modifiers.is_empty());
    let [item @ (SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. })] = select.projection.as_slice() else {
        return None;
    };
    let condition = select.selection.as_ref()?;
    if !plain_select || !aggregates(item) || nests_subqueries(select) {
        return None;
    }
    let inner = relation_names(&select.from);
    let outer: HashSet<String> = relation_names(outer_from).difference(&inner).cloned().collect();
    let (SelectItem::UnnamedExpr(value) | SelectItem::ExprWithAlias { expr: value, .. }) = item else { return None };
    if !matches!(side(value, &inner, &outer), Side::Inner | Side::Constant) {
        return None;
    }
    let conjuncts = conjuncts(condition);
    let by_equality = |c: &Expr| match c {
        Expr::BinaryOp { left, op: BinaryOperator::Eq, right } => {
            let sides = (side(left, &inner, &outer), side(right, &inner, &outer));
            matches!(sides, (Side::Inner, Side::Outer) | (Side::Outer, Side::Inner))
        }
        _ => false,
    };
    let hard =
        conjuncts.iter().any(|c| matches!(side(c, &inner, &outer), Side::Mixed | Side::Outer) && !by_equality(c));
    if !hard {
        return None;
    }
    // The outer columns read, and the outer FROM items they come from.
    let mut reads: Vec<Expr> = Vec::new();
    let _ = each_expr(condition, |e| {
        if let Expr::CompoundIdentifier(parts) = e
            && parts.len() >= 2
            && outer.contains(&parts[parts.len() - 2].value.to_lowercase())
            && !reads.contains(e)
        {
            reads.push(e.clone());
        }
        ControlFlow::Continue(())
    });
    let qualifiers: HashSet<String> = reads
        .iter()
        .filter_map(|e| match e {
            Expr::CompoundIdentifier(parts) => Some(parts[parts.len() - 2].value.to_lowercase()),
            _ => None,
        })
        .collect();
    let factors: Vec<String> = outer_factors(outer_from)
        .into_iter()
        .filter(|f| relation_name(f).is_some_and(|n| qualifiers.contains(&n)))
        .map(ToString::to_string)
        .collect();
    if factors.len() != qualifiers.len() {
        return None;
    }
    let keys: Vec<String> = (1..=reads.len()).map(|i| format!("__k{i}")).collect();
    let domain = format!(
        "SELECT DISTINCT {} FROM {}",
        reads.iter().zip(&keys).map(|(r, k)| format!("{r} AS {k}")).collect::<Vec<_>>().join(", "),
        factors.join(", ")
    );
    let mut condition = condition.clone();
    let _ = each_expr_mut(&mut condition, |e: &mut Expr| {
        if let Some(i) = reads.iter().position(|r| r == e) {
            *e = Expr::CompoundIdentifier(vec!["__domain".into(), keys[i].as_str().into()]);
        }
        ControlFlow::Continue(())
    });
    let inner_from: Vec<String> = select.from.iter().map(ToString::to_string).collect();
    let inner_from = inner_from.join(", ");
    let domain_keys: Vec<String> = keys.iter().map(|k| format!("__domain.{k}")).collect();
    let grouped = format!(
        "SELECT {}, {value} AS __value FROM ({domain}) AS __domain, {inner_from} WHERE {condition} GROUP BY {}",
        domain_keys.join(", "),
        domain_keys.join(", ")
    );
    let joined_back: Vec<String> = reads.iter().zip(&keys).map(|(r, k)| format!("__grouped.{k} = {r}")).collect();
    let text = format!(
        "coalesce((SELECT first_value(__grouped.__value) FROM ({grouped}) AS __grouped WHERE {}), \
         (SELECT {value} FROM {inner_from} WHERE false))",
        joined_back.join(" AND ")
    );
    Parser::new(&DuckDbCompatDialect).try_with_sql(&text).ok()?.parse_expr().ok()
}

/// The FROM items of a FROM clause, joined or not; none when one is LATERAL (it reads others).
fn outer_factors(from: &[TableWithJoins]) -> Vec<&TableFactor> {
    let factors: Vec<&TableFactor> =
        from.iter().flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation))).collect();
    if factors.iter().any(|f| matches!(f, TableFactor::Derived { lateral: true, .. })) { Vec::new() } else { factors }
}

fn nests_subqueries(select: &Select) -> bool {
    each_expr(select, |e| match e {
        Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => ControlFlow::Break(None),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        crate::engine::compat::rewrite::rewritten_by(decorrelated, sql)
    }

    #[test]
    fn an_aggregate_read_by_inequality_is_computed_over_the_domain() {
        assert_eq!(
            rewritten("SELECT u.e, (SELECT count(*) FROM a WHERE a.ts < u.t) AS n FROM u"),
            "SELECT u.e, coalesce((SELECT first_value(__grouped.__value) FROM (SELECT __domain.__k1, count(*) AS \
             __value FROM (SELECT DISTINCT u.t AS __k1 FROM u) AS __domain, a WHERE a.ts < __domain.__k1 GROUP BY \
             __domain.__k1) AS __grouped WHERE __grouped.__k1 = u.t), (SELECT count(*) FROM a WHERE false)) AS n FROM u"
        );
        assert_ne!(
            rewritten("SELECT (SELECT first_value(y) FROM test t2 WHERE t1.x = 5) AS c FROM test t1"),
            "SELECT (SELECT first_value(y) FROM test t2 WHERE t1.x = 5) AS c FROM test t1"
        );
        for kept in [
            "SELECT (SELECT count(*) FROM a WHERE a.k = u.k) FROM u",
            "SELECT (SELECT a.x FROM a WHERE a.ts < u.t) FROM u",
            "SELECT (SELECT count(*) FROM a WHERE a.ts < 5) FROM u",
            "SELECT (SELECT count(*) FROM a WHERE a.ts < u.t AND a.k IN (SELECT k FROM b)) FROM u",
        ] {
            assert_eq!(rewritten(kept), kept);
        }
    }
}
