//! DuckDB keeps the order of the subquery or CTE a query reads: `WITH x AS (SELECT ... ORDER BY
//! created_at DESC) SELECT * FROM x LIMIT 3` gives the three latest rows. DataFusion drops a sort
//! that nothing above it asks for, so that query would give any three. A query that reads one
//! ordered subquery or CTE (no join, no grouping, no order of its own) is therefore sorted by the
//! same keys: the subquery's columns they name, or (for a derived table) hidden columns it adds.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Function, FunctionArgumentClause, FunctionArguments, GroupByExpr, Ident, OrderBy, OrderByExpr, OrderByKind,
    Query, Select, SelectItem, SetExpr, Statement, TableFactor, Value, With,
};

use super::subqueries::aggregates;
use crate::engine::compat::ast::hide_from_stars;

pub(crate) fn kept(statement: &mut Statement) {
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut Queries);
}

struct Queries;

impl crate::engine::compat::ast::WalkMut for Queries {
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let Query { with, body, order_by, .. } = query;
        if order_by.is_none() {
            *order_by = outer_order(body, with.as_ref());
        }
        aggregated_in_order(body, with.as_ref());
        ControlFlow::Continue(())
    }
}

/// Aggregates whose answer follows the order of their rows (DuckDB's lists and texts of them).
const IN_ROW_ORDER: &[&str] = &[
    "array_agg",
    "first",
    "group_concat",
    "json_group_array",
    "json_group_object",
    "last",
    "list",
    "listagg",
    "string_agg",
];

/// The order the query inherits from the one ordered source it reads, if it does.
fn outer_order(body: &mut SetExpr, with: Option<&With>) -> Option<OrderBy> {
    let SetExpr::Select(select) = body else { return None };
    let plain = one_source(select)
        && select.distinct.is_none()
        && select.having.is_none()
        && matches!(&select.group_by, GroupByExpr::Expressions(keys, _) if keys.is_empty())
        && !select.projection.iter().any(aggregates);
    if !plain {
        return None;
    }
    source_order(select, with)
}

fn one_source(select: &Select) -> bool {
    select.from.len() == 1 && select.from[0].joins.is_empty()
}

/// An aggregate of the select list that follows the order of its rows, and has none of its own,
/// over one ordered source: DuckDB aggregates the rows in the source's order
/// (`SELECT string_agg(t, ',') FROM (... ORDER BY t)`), which becomes the aggregate's `ORDER BY`.
fn aggregated_in_order(body: &mut SetExpr, with: Option<&With>) {
    let SetExpr::Select(select) = body else { return };
    let unordered = |f: &Function| {
        IN_ROW_ORDER.contains(&f.name.to_string().to_ascii_lowercase().as_str())
            && f.over.is_none()
            && matches!(&f.args, FunctionArguments::List(list)
                if !list.clauses.iter().any(|c| matches!(c, FunctionArgumentClause::OrderBy(_))))
    };
    let wanted = |item: &SelectItem| {
        let mut found = false;
        let _ = crate::engine::compat::ast::each_expr(item, |e: &Expr| {
            found |= matches!(e, Expr::Function(f) if unordered(f));
            ControlFlow::Continue(())
        });
        found
    };
    if !one_source(select) || !select.projection.iter().any(wanted) {
        return;
    }
    let Some(OrderBy { kind: OrderByKind::Expressions(keys), .. }) = source_order(select, with) else { return };
    let _ = crate::engine::compat::ast::each_expr_mut(&mut select.projection, |e: &mut Expr| {
        if let Expr::Function(f) = e
            && unordered(f)
            && let FunctionArguments::List(list) = &mut f.args
        {
            list.clauses.push(FunctionArgumentClause::OrderBy(keys.clone()));
        }
        ControlFlow::Continue(())
    });
}

/// The order of the select's one source as keys the select can read (adding hidden columns to a
/// derived table where its keys are no column of it), if the source is ordered.
fn source_order(select: &mut Select, with: Option<&With>) -> Option<OrderBy> {
    let (source, qualifier) = match &mut select.from[0].relation {
        TableFactor::Derived { lateral: false, subquery, alias, .. } => {
            // Columns renamed by the alias (`t(a, b)`) carry the order under their new names.
            if let Some(alias) = alias.as_ref().filter(|a| !a.columns.is_empty()) {
                let renamed: Vec<Ident> = alias.columns.iter().map(|c| c.name.clone()).collect();
                return order_by_columns(subquery, Some(alias.name.clone()), &renamed);
            }
            (subquery.as_mut(), alias.as_ref().map(|a| a.name.clone()))
        }
        TableFactor::Table { name, alias, args: None, .. } => {
            let table = name.to_string().trim_matches('"').to_lowercase();
            let cte = with?.cte_tables.iter().find(|c| c.alias.name.value.eq_ignore_ascii_case(&table))?;
            let qualifier = alias.as_ref().map_or_else(|| Ident::new(table.clone()), |a| a.name.clone());
            // A CTE is read where it is defined; only the columns it already has can carry its order.
            let renamed: Vec<Ident> = alias.iter().flat_map(|a| a.columns.iter().map(|c| c.name.clone())).collect();
            return order_by_columns(&cte.query, Some(qualifier), &renamed);
        }
        _ => return None,
    };
    if let Some(order) = order_by_columns(source, qualifier.clone(), &[]) {
        return Some(order);
    }
    // Keys that are no column of the subquery: hidden columns it adds, left out of the stars.
    let OrderByKind::Expressions(keys) = &source.order_by.as_ref()?.kind else { return None };
    let keys = keys.clone();
    let SetExpr::Select(inner) = source.body.as_mut() else { return None };
    if inner.projection.is_empty() {
        return None;
    }
    let hidden: Vec<String> = (1..=keys.len()).map(|i| format!("__source_order_{i}")).collect();
    for (key, name) in keys.iter().zip(&hidden) {
        inner.projection.push(SelectItem::ExprWithAlias { expr: key.expr.clone(), alias: Ident::new(name) });
    }
    let relation = qualifier.as_ref().map(|q| q.value.clone());
    hide_from_stars(select, relation.as_deref(), &hidden);
    let outer = keys
        .iter()
        .zip(&hidden)
        .map(|(key, name)| OrderByExpr { expr: reference(qualifier.as_ref(), Ident::new(name)), ..key.clone() })
        .collect();
    Some(OrderBy { kind: OrderByKind::Expressions(outer), interpolate: None })
}

/// The source's order as keys over its output columns, if every key is one (by name or position),
/// named as `renamed` renames the first of them.
fn order_by_columns(source: &Query, qualifier: Option<Ident>, renamed: &[Ident]) -> Option<OrderBy> {
    let SetExpr::Select(inner) = source.body.as_ref() else { return None };
    let keys = match &source.order_by.as_ref()?.kind {
        OrderByKind::Expressions(keys) => keys.clone(),
        // ORDER BY ALL: every column, in order, when the select list names each.
        OrderByKind::All(options) => inner
            .projection
            .iter()
            .map(|item| {
                let name = match item {
                    SelectItem::ExprWithAlias { alias, .. } => alias.clone(),
                    SelectItem::UnnamedExpr(Expr::Identifier(i)) => i.clone(),
                    _ => return None,
                };
                Some(OrderByExpr { expr: Expr::Identifier(name), options: *options, with_fill: None })
            })
            .collect::<Option<Vec<_>>>()?,
    };
    // A FROM-first source without SELECT (`FROM t ORDER BY x`) has every column.
    let star = inner.projection.is_empty()
        || inner.projection.iter().any(|i| matches!(i, SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)));
    let output = |name: &str| {
        inner.projection.iter().any(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => alias.value.eq_ignore_ascii_case(name),
            SelectItem::UnnamedExpr(Expr::Identifier(i)) => i.value.eq_ignore_ascii_case(name),
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => {
                parts.last().is_some_and(|i| i.value.eq_ignore_ascii_case(name))
            }
            _ => false,
        })
    };
    let mut outer = Vec::with_capacity(keys.len());
    for key in &keys {
        // The column as the source names it (quoted or not, as written there).
        let column = match &key.expr {
            Expr::Identifier(i) if star || output(&i.value) => i.clone(),
            Expr::CompoundIdentifier(parts) if star || parts.last().is_some_and(|i| output(&i.value)) => {
                parts.last()?.clone()
            }
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => match inner.projection.get(n.parse::<usize>().ok()?.checked_sub(1)?)? {
                    SelectItem::ExprWithAlias { alias, .. } => alias.clone(),
                    SelectItem::UnnamedExpr(Expr::Identifier(i)) => i.clone(),
                    _ => return None,
                },
                _ => return None,
            },
            _ => return None,
        };
        let column = match renamed {
            [] => column,
            _ if star => return None,
            _ => {
                let position = inner.projection.iter().position(|item| match item {
                    SelectItem::ExprWithAlias { alias, .. } => alias.value.eq_ignore_ascii_case(&column.value),
                    SelectItem::UnnamedExpr(Expr::Identifier(i)) => i.value.eq_ignore_ascii_case(&column.value),
                    SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => {
                        parts.last().is_some_and(|i| i.value.eq_ignore_ascii_case(&column.value))
                    }
                    _ => false,
                })?;
                renamed.get(position).cloned().unwrap_or(column)
            }
        };
        outer.push(OrderByExpr { expr: reference(qualifier.as_ref(), column), ..key.clone() });
    }
    Some(OrderBy { kind: OrderByKind::Expressions(outer), interpolate: None })
}

fn reference(qualifier: Option<&Ident>, column: Ident) -> Expr {
    match qualifier {
        Some(q) => Expr::CompoundIdentifier(vec![q.clone(), column]),
        None => Expr::Identifier(column),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        crate::engine::compat::rewrite::rewritten_by(kept, sql)
    }

    #[test]
    fn a_query_keeps_the_order_of_its_source() {
        assert_eq!(
            rewritten("WITH x AS (SELECT email, t FROM u ORDER BY t DESC) SELECT * FROM x LIMIT 3"),
            "WITH x AS (SELECT email, t FROM u ORDER BY t DESC) SELECT * FROM x ORDER BY x.t DESC LIMIT 3"
        );
        assert_eq!(
            rewritten("SELECT e FROM (SELECT email AS e FROM u ORDER BY lower(t)) s"),
            "SELECT e FROM (SELECT email AS e, lower(t) AS __source_order_1 FROM u ORDER BY lower(t)) s ORDER BY s.__source_order_1"
        );
        assert_eq!(
            rewritten(
                "WITH c AS (SELECT a, count(*) AS n FROM u GROUP BY a ORDER BY ALL DESC) SELECT * FROM c LIMIT 2"
            ),
            "WITH c AS (SELECT a, count(*) AS n FROM u GROUP BY a ORDER BY ALL DESC) SELECT * FROM c ORDER BY c.a DESC, c.n DESC LIMIT 2"
        );
        for kept_as_is in [
            "SELECT count(*) FROM (SELECT * FROM u ORDER BY t) s",
            "SELECT * FROM (SELECT * FROM u ORDER BY t) s ORDER BY e",
            "SELECT * FROM (SELECT * FROM u ORDER BY t) s JOIN v ON true",
            "SELECT * FROM (FROM u ORDER BY lower(t)) s",
        ] {
            assert_eq!(rewritten(kept_as_is), kept_as_is);
        }
    }

    #[test]
    fn aggregates_in_row_order_take_the_order_of_their_source() {
        assert_eq!(
            rewritten("SELECT string_agg(t, ','), count(*) FROM (SELECT t FROM u ORDER BY t DESC) s"),
            "SELECT string_agg(t, ',' ORDER BY s.t DESC), count(*) FROM (SELECT t FROM u ORDER BY t DESC) s"
        );
        assert_eq!(
            rewritten("WITH c AS (SELECT a, n FROM u ORDER BY n) SELECT a > 1, list(n) FROM c GROUP BY 1"),
            "WITH c AS (SELECT a, n FROM u ORDER BY n) SELECT a > 1, list(n ORDER BY c.n) FROM c GROUP BY 1"
        );
        // An aggregate's own order stands.
        let own = "SELECT list(n ORDER BY a) FROM (SELECT a, n FROM u ORDER BY n) s";
        assert_eq!(rewritten(own), own);
    }
}
