//! DuckDB lets a SELECT item (and WHERE) use an alias defined earlier in the same SELECT:
//! `count(*) AS n, n / sum(n) OVER () AS share`. DataFusion does not; when planning fails on a
//! name that is such an alias, the alias is replaced by its expression and planning is tried
//! again. A query that plans as it is never changes.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Query, SelectItem, SetExpr, Statement, TableFactor};

/// Replaces `name`, where it is an earlier select item's alias, by that item's expression.
/// Whether anything was replaced.
pub(crate) fn expand_alias(statement: &mut Statement, name: &str) -> bool {
    match statement {
        Statement::Query(query) => in_query(query, name),
        _ => false,
    }
}

fn in_query(query: &mut Query, name: &str) -> bool {
    let mut changed = false;
    if let Some(with) = &mut query.with {
        for cte in &mut with.cte_tables {
            changed |= in_query(&mut cte.query, name);
        }
    }
    changed | in_set(&mut query.body, name)
}

fn in_set(set: &mut SetExpr, name: &str) -> bool {
    match set {
        SetExpr::Select(select) => {
            let mut changed = false;
            for table in &mut select.from {
                if let TableFactor::Derived { subquery, .. } = &mut table.relation {
                    changed |= in_query(subquery, name);
                }
            }
            let definition = select.projection.iter().position(|item| {
                matches!(item, SelectItem::ExprWithAlias { alias, .. } if alias.value.eq_ignore_ascii_case(name))
            });
            let Some(defined_at) = definition else { return changed };
            let SelectItem::ExprWithAlias { expr: definition, .. } = &select.projection[defined_at] else {
                return changed;
            };
            let replacement = Expr::Nested(Box::new(definition.clone()));
            for item in select.projection.iter_mut().skip(defined_at + 1) {
                if let SelectItem::ExprWithAlias { expr, .. } | SelectItem::UnnamedExpr(expr) = item {
                    changed |= replace(expr, name, &replacement);
                }
            }
            if let Some(selection) = &mut select.selection {
                changed |= replace(selection, name, &replacement);
            }
            changed
        }
        SetExpr::Query(query) => in_query(query, name),
        SetExpr::SetOperation { left, right, .. } => in_set(left, name) | in_set(right, name),
        _ => false,
    }
}

fn replace(expr: &mut Expr, name: &str, replacement: &Expr) -> bool {
    let mut changed = false;
    let _ = crate::engine::compat::ast::each_expr_mut(expr, |e: &mut Expr| {
        if matches!(e, Expr::Identifier(ident) if ident.value.eq_ignore_ascii_case(name)) {
            *e = replacement.clone();
            changed = true;
        }
        ControlFlow::Continue(())
    });
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earlier_alias_is_replaced_by_its_expression() {
        let [mut statement] = <[Statement; 1]>::try_from(crate::engine::compat::prepare(
            "SELECT type, count(*) AS n, round(100.0 * n / sum(n) OVER (), 2) AS pct FROM activity WHERE true GROUP BY type",
        ).unwrap())
        .unwrap();
        assert!(expand_alias(&mut statement, "n"));
        let text = statement.to_string();
        assert!(text.contains("100.0 * (count(*)) / sum((count(*))) OVER ()"), "{text}");
        assert!(!expand_alias(&mut statement, "nothing"));
    }
}
