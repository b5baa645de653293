//! A LATERAL subquery without a FROM clause — `FROM t, LATERAL (SELECT t.a + 1 AS b) s`,
//! `LEFT JOIN LATERAL (SELECT x, y.q) v ON ...`, `LATERAL (VALUES (x)) s(y)` — one row per outer
//! row, computed from it, which DataFusion cannot plan (every name in it is the outer row's).
//! It is computed once per distinct value of the names it reads, over the relations before it
//! (`SELECT DISTINCT t.a AS __lateral_outer_1, t.a + 1 AS b FROM t`), and joined back by those
//! values (`IS NOT DISTINCT FROM`, a NULL meets a NULL); the added columns stay out of the stars.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, GroupByExpr, Ident, SelectItem, SetExpr, Statement, TableFactor, TableWithJoins,
};

use super::correlation::{Decorrelated, relation_names, rewrite_laterals};
use super::subqueries::aggregates;
use crate::engine::compat::ast::each_expr;

pub(crate) fn computed_once_per_value(statement: &mut Statement) {
    rewrite_laterals(statement, implicitly_lateral);
    rewrite_laterals(statement, once_per_value);
}

/// DuckDB binds a derived table without FROM after another FROM item laterally (`FROM (SELECT
/// q1 AS q2) x, (SELECT q2 AS r) y`: `q2` is x's): such a table that reads names, each unqualified
/// or qualified by an item before it, is marked LATERAL, for the rewrite below (one that names
/// an outer query's table stays a correlated subquery). Nothing is joined back here.
fn implicitly_lateral(factor: &mut TableFactor, before: &[TableWithJoins]) -> Option<Decorrelated> {
    let TableFactor::Derived { lateral: lateral @ false, subquery, .. } = factor else { return None };
    let SetExpr::Select(select) = subquery.body.as_ref() else { return None };
    if !select.from.is_empty() {
        return None;
    }
    let earlier = relation_names(before);
    let (mut names, mut elsewhere) = (0, false);
    let _ = each_expr(&select.projection, |e| {
        match e {
            Expr::Identifier(_) => names += 1,
            Expr::CompoundIdentifier(parts) => {
                names += 1;
                elsewhere |= !earlier.contains(&parts[0].value.to_lowercase());
            }
            _ => {}
        }
        ControlFlow::Continue(())
    });
    if names > 0 && !elsewhere {
        *lateral = true;
    }
    None
}

/// The lateral subquery computed over `before`, with its alias, the conditions that join it back
/// and the names of the columns added; `None` (the relation untouched) when it is not of that form.
fn once_per_value(factor: &mut TableFactor, before: &[TableWithJoins]) -> Option<Decorrelated> {
    let TableFactor::Derived { lateral: true, subquery, alias: Some(alias), .. } = factor else { return None };
    if subquery.with.is_some() || subquery.limit_clause.is_some() || subquery.order_by.is_some() {
        return None;
    }
    // `VALUES (x, y)` is `SELECT x, y`, its columns named as the alias names them.
    let select = match subquery.body.as_ref() {
        SetExpr::Select(select) => (**select).clone(),
        SetExpr::Values(values) if values.rows.len() == 1 && !alias.columns.is_empty() => {
            let mut select = crate::engine::compat::parse::parsed_select("SELECT 1").ok()?;
            select.projection = values.rows[0].iter().cloned().map(SelectItem::UnnamedExpr).collect();
            select
        }
        _ => return None,
    };
    let plain = select.from.is_empty()
        && select.selection.is_none()
        && select.having.is_none()
        && select.qualify.is_none()
        && select.distinct.is_none()
        && matches!(&select.group_by, GroupByExpr::Expressions(keys, modifiers) if keys.is_empty() && modifiers.is_empty())
        && !select.projection.iter().any(aggregates)
        && select.projection.iter().all(|i| matches!(i, SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }));
    if !plain {
        return None;
    }
    // The outer names it reads (every name: it has no table of its own), each a table's before it.
    let known = relation_names(before);
    let mut names: Vec<Expr> = Vec::new();
    let mut foreign = false;
    let _ = each_expr(&select, |e| {
        match e {
            Expr::Identifier(_) => names.push(e.clone()),
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                foreign |= !known.contains(&parts[parts.len() - 2].value.to_lowercase());
                names.push(e.clone());
            }
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => foreign = true,
            _ => {}
        }
        ControlFlow::Continue(())
    });
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.to_string()));
    // A bare name the subquery also gives as a column would be ambiguous where they meet.
    let outputs: Vec<String> = if alias.columns.is_empty() {
        select
            .projection
            .iter()
            .filter_map(|i| crate::engine::compat::ast::output_name(i).map(|n| n.to_lowercase()))
            .collect()
    } else {
        alias.columns.iter().map(|c| c.name.value.to_lowercase()).collect()
    };
    let ambiguous = names.iter().any(|n| matches!(n, Expr::Identifier(i) if outputs.contains(&i.value.to_lowercase())));
    if names.is_empty() || foreign || ambiguous {
        return None;
    }
    let added: Vec<String> = (1..=names.len()).map(|i| format!("__lateral_outer_{i}")).collect();
    let mut computed = select;
    computed.distinct = Some(datafusion::sql::sqlparser::ast::Distinct::Distinct);
    computed.from = before.to_vec();
    for (name, column) in names.iter().zip(&added) {
        computed.projection.push(SelectItem::ExprWithAlias { expr: name.clone(), alias: Ident::new(column) });
    }
    if !alias.columns.is_empty() {
        let given = alias.columns.len();
        if given != computed.projection.len() - added.len() {
            return None;
        }
        alias.columns.extend(
            added
                .iter()
                .map(|c| datafusion::sql::sqlparser::ast::TableAliasColumnDef { name: Ident::new(c), data_type: None }),
        );
    }
    let alias_name = alias.name.value.clone();
    *subquery.body = SetExpr::Select(Box::new(computed));
    if let TableFactor::Derived { lateral, .. } = factor {
        *lateral = false;
    }
    let conditions = names
        .into_iter()
        .zip(&added)
        .map(|(name, column)| {
            Expr::IsNotDistinctFrom(
                Box::new(Expr::CompoundIdentifier(vec![Ident::new(&alias_name), Ident::new(column)])),
                Box::new(name),
            )
        })
        .collect();
    Some((alias_name, conditions, added))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        crate::engine::compat::rewrite::rewritten_by(computed_once_per_value, sql)
    }

    #[test]
    fn a_fromless_lateral_is_computed_once_per_value() {
        assert_eq!(
            rewritten("SELECT * FROM t, LATERAL (SELECT t.a + 1 AS b) s"),
            "SELECT * EXCLUDE (__lateral_outer_1) FROM t, (SELECT DISTINCT t.a + 1 AS b, t.a AS __lateral_outer_1 \
             FROM t) s WHERE s.__lateral_outer_1 IS NOT DISTINCT FROM t.a"
        );
        assert_eq!(
            rewritten("SELECT s.y FROM t LEFT JOIN LATERAL (VALUES (t.a)) s(y) ON s.y > 1"),
            "SELECT s.y FROM t LEFT JOIN (SELECT DISTINCT t.a, t.a AS __lateral_outer_1 FROM t) s (y, __lateral_outer_1) \
             ON s.y > 1 AND s.__lateral_outer_1 IS NOT DISTINCT FROM t.a"
        );
        // A table of another FROM item in a join's ON, a bare name it also gives: left as written.
        for kept in [
            "SELECT * FROM u, t LEFT JOIN LATERAL (SELECT u.a) AS s ON true",
            "SELECT * FROM t, LATERAL (SELECT a) AS s",
        ] {
            assert_eq!(rewritten(kept), kept);
        }
    }
}
