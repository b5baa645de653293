//! `SELECT DISTINCT ON (k) ... ORDER BY x`: DuckDB keeps, of each `k`, the first row in the
//! order `x` gives, and returns them in that order; DataFusion takes only an ORDER BY that
//! starts with `k`. Written as DataFusion's form inside and sorted again outside:
//! `SELECT * FROM (SELECT DISTINCT ON (k) ... ORDER BY k, x) ORDER BY x`.
//!
//! `SELECT DISTINCT a ... ORDER BY b`, with `b` not selected, DuckDB reads as `DISTINCT ON (a)`:
//! of each distinct row the first in the order, in that order. Written as that DISTINCT ON with
//! the order's keys as hidden columns, sorted outside and left out of the result.

use datafusion::sql::sqlparser::ast::{
    Distinct, Expr, OrderBy, OrderByExpr, OrderByKind, OrderByOptions, Query, SelectItem, SetExpr, Value,
};
use datafusion::sql::sqlparser::parser::Parser;

use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

pub(crate) fn ordered(query: &mut Query) {
    if let Some(rewritten) = distinct_ordered_by_others(query).or_else(|| rewritten(query)) {
        *query = rewritten;
        return;
    }
    // `ON (1)`, `ORDER BY 2` with an order that already starts with the distinct keys: the
    // positions named, as DataFusion compares the expressions.
    let SetExpr::Select(select) = query.body.as_mut() else { return };
    let Some(Distinct::On(on)) = &select.distinct else { return };
    if on.iter().any(crate::engine::compat::ast::mentions_columns) {
        return;
    }
    let Some(named) = on.iter().map(|e| projected(&select.projection, e)).collect::<Option<Vec<_>>>() else {
        return;
    };
    if let Some(OrderByKind::Expressions(order)) = query.order_by.as_mut().map(|o| &mut o.kind) {
        for o in order.iter_mut() {
            if let Some(e) = projected(&select.projection, &o.expr) {
                o.expr = e;
            }
        }
    }
    select.distinct = Some(Distinct::On(named));
}

/// `e`, or the result column at its position when it is a number (`ON (1)`, `ORDER BY 2`).
fn projected(projection: &[SelectItem], e: &Expr) -> Option<Expr> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => {
                n.parse::<usize>().ok().and_then(|i| i.checked_sub(1)).and_then(|i| match projection.get(i)? {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e.clone()),
                    _ => None,
                })
            }
            _ => None,
        },
        other => Some(other.clone()),
    }
}

/// What a key names, for telling the same column apart from another: `t.i` and `i` are one.
fn key(expr: &Expr) -> String {
    match expr {
        Expr::Identifier(ident) => ident.value.to_lowercase(),
        Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.to_lowercase()).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// `SELECT DISTINCT a ... ORDER BY b` (b not a result column) as `DISTINCT ON (a)`, sorted by `b`
/// carried as a hidden column (`DISTINCT ON (k)` the same way, over its own keys); `None` for other
/// queries.
fn distinct_ordered_by_others(query: &Query) -> Option<Query> {
    let SetExpr::Select(select) = query.body.as_ref() else { return None };
    let on = match &select.distinct {
        Some(Distinct::Distinct) => None,
        Some(Distinct::On(on)) => Some(on),
        _ => return None,
    };
    let OrderByKind::Expressions(order) = &query.order_by.as_ref()?.kind else { return None };
    let items: Vec<(&Expr, Option<String>)> = select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(e) => Some((e, None)),
            SelectItem::ExprWithAlias { expr, alias } => Some((expr, Some(alias.value.to_lowercase()))),
            _ => None,
        })
        .collect::<Option<_>>()?;
    if items.iter().any(|(e, _)| crate::engine::compat::ast::mentions_columns(*e))
        || on.is_some_and(|on| on.iter().any(crate::engine::compat::ast::mentions_columns))
    {
        return None;
    }
    // Each order key as the expression it sorts by: a position or an alias is that item's.
    let resolved = |e: &Expr| -> Expr {
        match e {
            Expr::Identifier(ident) => items
                .iter()
                .find(|(_, alias)| alias.as_deref() == Some(ident.value.to_lowercase().as_str()))
                .map_or_else(|| e.clone(), |(item, _)| (*item).clone()),
            other => projected(&select.projection, other).unwrap_or_else(|| other.clone()),
        }
    };
    let selected: Vec<String> = items.iter().map(|(e, _)| key(e)).collect();
    let order_keys: Vec<Expr> = order.iter().map(|o| resolved(&o.expr)).collect();
    if order_keys.iter().all(|k| selected.contains(&key(k))) {
        return None;
    }
    // The distinct keys: DISTINCT ON's, or every selected item.
    let distinct_keys: Vec<Expr> = match on {
        Some(on) => on.iter().map(resolved).collect(),
        None => items.iter().map(|(e, _)| (*e).clone()).collect(),
    };
    let mut inner = query.clone();
    inner.limit_clause = None;
    inner.with = None;
    let hidden: Vec<String> = (1..=order.len()).map(|i| format!("__order_{i}")).collect();
    if let SetExpr::Select(inner_select) = inner.body.as_mut() {
        inner_select.distinct = Some(Distinct::On(distinct_keys.clone()));
        let extra = order_keys.iter().zip(&hidden).map(|(k, name)| format!("{k} AS {name}")).collect::<Vec<_>>();
        let parsed = crate::engine::compat::parse::parsed_select(&format!("SELECT {}", extra.join(", "))).ok()?;
        inner_select.projection.extend(parsed.projection);
    }
    inner.order_by = Some(distinct_keys_first(&distinct_keys, order, &order_keys));
    let outer: Vec<String> = order
        .iter()
        .zip(&hidden)
        .map(|(o, name)| {
            let mut o = o.clone();
            o.expr = Expr::Identifier(datafusion::sql::sqlparser::ast::Ident::new(name));
            o.to_string()
        })
        .collect();
    sorted_outside(query, &inner, &format!("* EXCLUDE ({})", hidden.join(", ")), "__distinct", &outer)
}

/// The inner query's order: the distinct keys first, then the order's other keys (as `resolved`
/// spells them), each once — a key twice makes DataFusion's first_value fail.
fn distinct_keys_first(distinct: &[Expr], order: &[OrderByExpr], resolved: &[Expr]) -> OrderBy {
    let mut keys: Vec<OrderByExpr> = distinct
        .iter()
        .map(|e| OrderByExpr { expr: e.clone(), options: OrderByOptions::default(), with_fill: None })
        .collect();
    let mut seen: Vec<String> = distinct.iter().map(key).collect();
    for (o, resolved) in order.iter().zip(resolved) {
        if !seen.contains(&key(resolved)) {
            seen.push(key(resolved));
            keys.push(OrderByExpr { expr: resolved.clone(), ..o.clone() });
        }
    }
    OrderBy { kind: OrderByKind::Expressions(keys), interpolate: None }
}

/// `WITH ... SELECT <items> FROM (<inner>) AS <alias> ORDER BY <outer> LIMIT ...`, with the
/// query's own WITH and LIMIT.
fn sorted_outside(query: &Query, inner: &Query, items: &str, alias: &str, outer: &[String]) -> Option<Query> {
    let limit = query.limit_clause.as_ref().map(|l| format!(" {l}")).unwrap_or_default();
    let with = query.with.as_ref().map(|w| format!("{w} ")).unwrap_or_default();
    let text = format!("{with}SELECT {items} FROM ({inner}) AS {alias} ORDER BY {}{limit}", outer.join(", "));
    Parser::new(&DuckDbCompatDialect).try_with_sql(&text).ok()?.parse_query().ok().map(|q| *q)
}

fn rewritten(query: &Query) -> Option<Query> {
    let SetExpr::Select(select) = query.body.as_ref() else { return None };
    let Some(Distinct::On(on)) = &select.distinct else { return None };
    // `ON (COLUMNS(...))` is expanded when planned, where the order is matched with it.
    if on.iter().any(crate::engine::compat::ast::mentions_columns) {
        return None;
    }
    let OrderByKind::Expressions(order) = &query.order_by.as_ref()?.kind else { return None };
    let projected = |e: &Expr| projected(&select.projection, e);
    let on: Vec<Expr> = on.iter().map(projected).collect::<Option<_>>()?;
    let order_keys: Vec<Expr> = order.iter().map(|o| projected(&o.expr)).collect::<Option<_>>()?;
    let on_keys: Vec<String> = on.iter().map(key).collect();
    if order_keys.len() >= on.len() && on_keys.iter().zip(&order_keys).all(|(k, o)| *k == key(o)) {
        return None;
    }
    // The outer sort reads the result: its keys must be result columns (named or by position).
    let outputs: Option<Vec<String>> = select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(e) => Some(key(e)),
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_lowercase()),
            _ => None,
        })
        .collect();
    let readable = |o: &&datafusion::sql::sqlparser::ast::OrderByExpr| match &o.expr {
        Expr::Value(_) => true,
        Expr::Identifier(ident) => outputs.as_ref().is_none_or(|names| names.contains(&ident.value.to_lowercase())),
        _ => false,
    };
    if !order.iter().all(|o| readable(&o)) {
        return None;
    }
    let mut inner = query.clone();
    inner.limit_clause = None;
    inner.with = None;
    if let SetExpr::Select(select) = inner.body.as_mut() {
        select.distinct = Some(Distinct::On(on.clone()));
    }
    inner.order_by = Some(distinct_keys_first(&on, order, &order_keys));
    let outer: Vec<String> = order.iter().map(ToString::to_string).collect();
    sorted_outside(query, &inner, "*", "__distinct_on", &outer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten_sql(sql: &str) -> String {
        let mut query = *Parser::new(&DuckDbCompatDialect).try_with_sql(sql).unwrap().parse_query().unwrap();
        ordered(&mut query);
        query.to_string()
    }

    #[test]
    fn the_order_starts_with_the_distinct_keys_inside_and_is_kept_outside() {
        assert_eq!(
            rewritten_sql("SELECT DISTINCT ON (i) i, j FROM t ORDER BY j DESC LIMIT 3"),
            "SELECT * FROM (SELECT DISTINCT ON (i) i, j FROM t ORDER BY i, j DESC) AS __distinct_on ORDER BY j DESC LIMIT 3"
        );
        assert_eq!(
            rewritten_sql("SELECT DISTINCT ON (1) i, j FROM t ORDER BY j"),
            "SELECT * FROM (SELECT DISTINCT ON (i) i, j FROM t ORDER BY i, j) AS __distinct_on ORDER BY j"
        );
        assert_eq!(
            rewritten_sql("SELECT DISTINCT ON (2) i, j FROM t ORDER BY 2, 1"),
            "SELECT DISTINCT ON (j) i, j FROM t ORDER BY j, i"
        );
        let kept = "SELECT DISTINCT ON (i) i, j FROM t ORDER BY i, j";
        assert_eq!(rewritten_sql(kept), kept, "already DataFusion's form");
    }

    #[test]
    fn distinct_ordered_by_a_column_not_selected_is_a_distinct_on() {
        assert_eq!(
            rewritten_sql("SELECT DISTINCT i % 2 AS m FROM t ORDER BY i DESC, m LIMIT 2"),
            "SELECT * EXCLUDE (__order_1, __order_2) FROM (SELECT DISTINCT ON (i % 2) i % 2 AS m, i AS __order_1, \
             i % 2 AS __order_2 FROM t ORDER BY i % 2, i DESC) AS __distinct ORDER BY __order_1 DESC, __order_2 LIMIT 2"
        );
        assert_eq!(
            rewritten_sql("SELECT DISTINCT ON (i) i, j FROM t ORDER BY k"),
            "SELECT * EXCLUDE (__order_1) FROM (SELECT DISTINCT ON (i) i, j, k AS __order_1 FROM t ORDER BY i, k) AS \
             __distinct ORDER BY __order_1"
        );
        for kept in ["SELECT DISTINCT i AS k FROM t ORDER BY k", "SELECT DISTINCT i, j FROM t ORDER BY 2, t.i"] {
            assert_eq!(rewritten_sql(kept), kept);
        }
    }
}
