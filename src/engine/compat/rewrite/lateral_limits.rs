//! A LATERAL subquery that keeps the first rows for each outer row — `LEFT JOIN LATERAL (SELECT
//! a.type FROM activity a WHERE a.data->>'userId' = u.user_id ORDER BY a.ts DESC LIMIT 1) l ON
//! true`, each user's latest event — which DataFusion cannot decorrelate (a LIMIT per outer row).
//! When the subquery meets the outer row by equalities only, it is the first rows of each key
//! over its whole table: `QUALIFY row_number() OVER (PARTITION BY key ORDER BY ...) <= n`, the key
//! selected as `__lateral_key_N` and joined to the outer side (left out of the stars).
//!
//! Names: a column qualified by a table of the subquery (or not qualified) is the subquery's; one
//! qualified by another table of the outer FROM is the outer row's. Subqueries that read the
//! outer row otherwise, aggregate, or have an OFFSET are left as written.

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Ident, LimitClause, OrderByKind, SelectItem, SetExpr, Statement, TableFactor,
    TableWithJoins, Value, ValueWithSpan,
};
use datafusion::sql::sqlparser::parser::Parser;

use super::correlation::{Decorrelated, Side, relation_names, rewrite_laterals, side};
use super::subqueries::aggregates;
use crate::engine::compat::ast::and;
use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

pub(crate) fn top_rows_per_key(statement: &mut Statement) {
    rewrite_laterals(statement, decorrelated);
}

/// The lateral subquery rewritten, with its alias, the join conditions on its keys and the keys'
/// names; `None` (and the relation untouched) when it is not of that form.
fn decorrelated(factor: &mut TableFactor, before: &[TableWithJoins]) -> Option<Decorrelated> {
    let TableFactor::Derived { lateral: true, subquery, alias: Some(alias), .. } = factor else { return None };
    let alias_name = alias.name.value.clone();
    let outer = relation_names(before);
    let limit = match &subquery.limit_clause {
        Some(LimitClause::LimitOffset {
            limit: Some(Expr::Value(ValueWithSpan { value: Value::Number(n, _), .. })),
            offset: None,
            limit_by,
        }) if limit_by.is_empty() => n.clone(),
        _ => return None,
    };
    if subquery.with.is_some() || subquery.fetch.is_some() || !alias.columns.is_empty() {
        return None;
    }
    let SetExpr::Select(body) = subquery.body.as_ref() else { return None };
    let plain = body.having.is_none()
        && body.qualify.is_none()
        && body.distinct.is_none()
        && body.named_window.is_empty()
        && matches!(&body.group_by, GroupByExpr::Expressions(keys, modifiers) if keys.is_empty() && modifiers.is_empty())
        && !body.projection.iter().any(aggregates)
        && body.projection.iter().all(|i| matches!(i, SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }));
    if !plain {
        return None;
    }
    let inner = relation_names(&body.from);
    // The WHERE: equalities with the outer row, and conditions of the subquery's own.
    let mut own = Vec::new();
    let mut pairs = Vec::new();
    for conjunct in body.selection.clone().map(crate::engine::compat::ast::into_conjuncts).unwrap_or_default() {
        match &conjunct {
            Expr::BinaryOp { left, op: BinaryOperator::Eq, right } => {
                match (side(left, &inner, &outer), side(right, &inner, &outer)) {
                    (Side::Inner, Side::Outer) => pairs.push(((**left).clone(), (**right).clone())),
                    (Side::Outer, Side::Inner) => pairs.push(((**right).clone(), (**left).clone())),
                    (Side::Inner | Side::Constant, Side::Inner | Side::Constant) => own.push(conjunct),
                    _ => return None,
                }
            }
            other if matches!(side(other, &inner, &outer), Side::Inner | Side::Constant) => own.push(conjunct),
            _ => return None,
        }
    }
    if pairs.is_empty() {
        return None;
    }
    // Nothing else may read the outer row.
    let reads_outer = |e: &Expr| side(e, &inner, &outer) == Side::Outer || side(e, &inner, &outer) == Side::Mixed;
    let order: Vec<_> = match &subquery.order_by {
        Some(order) => match &order.kind {
            OrderByKind::Expressions(keys) => keys.clone(),
            OrderByKind::All(_) => return None,
        },
        None => Vec::new(),
    };
    let items: Vec<&Expr> = body
        .projection
        .iter()
        .filter_map(|i| match i {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
            _ => None,
        })
        .collect();
    if items.iter().any(|e| reads_outer(e)) || order.iter().any(|k| reads_outer(&k.expr)) {
        return None;
    }
    // ORDER BY a select item's alias orders by its expression.
    let order: Vec<String> = order
        .into_iter()
        .map(|mut key| {
            if let Expr::Identifier(name) = &key.expr
                && let Some(SelectItem::ExprWithAlias { expr, .. }) = body.projection.iter().find(
                    |i| matches!(i, SelectItem::ExprWithAlias { alias, .. } if alias.value.eq_ignore_ascii_case(&name.value)),
                )
            {
                key.expr = expr.clone();
            }
            key.to_string()
        })
        .collect();
    let names: Vec<String> = (1..=pairs.len()).map(|i| format!("__lateral_key_{i}")).collect();
    let partition: Vec<String> = pairs.iter().map(|(inner, _)| inner.to_string()).collect();
    let order_by = if order.is_empty() { String::new() } else { format!(" ORDER BY {}", order.join(", ")) };
    let qualify = format!("row_number() OVER (PARTITION BY {}{order_by}) <= {limit}", partition.join(", "));
    let qualify = Parser::new(&DuckDbCompatDialect).try_with_sql(&qualify).ok()?.parse_expr().ok()?;
    let SetExpr::Select(body) = subquery.body.as_mut() else { return None };
    for ((key, _), name) in pairs.iter().zip(&names) {
        body.projection.push(SelectItem::ExprWithAlias { expr: key.clone(), alias: Ident::new(name) });
    }
    body.selection = (!own.is_empty()).then(|| and(own));
    body.qualify = Some(qualify);
    subquery.order_by = None;
    subquery.limit_clause = None;
    if let TableFactor::Derived { lateral, .. } = factor {
        *lateral = false;
    }
    let conditions = pairs
        .into_iter()
        .zip(&names)
        .map(|((_, outer_side), name)| Expr::BinaryOp {
            left: Box::new(Expr::CompoundIdentifier(vec![Ident::new(&alias_name), Ident::new(name)])),
            op: BinaryOperator::Eq,
            right: Box::new(outer_side),
        })
        .collect();
    Some((alias_name, conditions, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        crate::engine::compat::rewrite::rewritten_by(top_rows_per_key, sql)
    }

    #[test]
    fn first_rows_per_outer_row_are_first_rows_per_key() {
        assert_eq!(
            rewritten(
                "SELECT * FROM u LEFT JOIN LATERAL (SELECT a.t AS x FROM a WHERE a.k = u.k AND a.v > 0 ORDER BY x DESC LIMIT 2) l ON true"
            ),
            "SELECT * EXCLUDE (__lateral_key_1) FROM u LEFT JOIN (SELECT a.t AS x, a.k AS __lateral_key_1 FROM a \
             WHERE a.v > 0 QUALIFY row_number() OVER (PARTITION BY a.k ORDER BY a.t DESC) <= 2) l \
             ON true AND l.__lateral_key_1 = u.k"
        );
        assert_eq!(
            rewritten("SELECT l.* FROM u, LATERAL (SELECT a.t FROM a WHERE u.k = a.k LIMIT 1) l"),
            "SELECT l.* EXCLUDE (__lateral_key_1) FROM u, (SELECT a.t, a.k AS __lateral_key_1 FROM a \
             QUALIFY row_number() OVER (PARTITION BY a.k) <= 1) l WHERE l.__lateral_key_1 = u.k"
        );
        // Another comparison with the outer row, an aggregate, or an OFFSET: left as written.
        for kept in [
            "SELECT * FROM u, LATERAL (SELECT a.t FROM a WHERE a.k < u.k LIMIT 1) AS l",
            "SELECT * FROM u, LATERAL (SELECT count(*) FROM a WHERE a.k = u.k LIMIT 1) AS l",
            "SELECT * FROM u, LATERAL (SELECT a.t FROM a WHERE a.k = u.k LIMIT 1 OFFSET 1) AS l",
        ] {
            assert_eq!(rewritten(kept), kept);
        }
    }
}
