//! DuckDB lets a SELECT item (and WHERE) use an alias defined earlier in the same SELECT:
//! `count(*) AS n, n / sum(n) OVER () AS share`. DataFusion does not; when planning fails on a
//! name that is such an alias, the alias is replaced by its expression and planning is tried
//! again. A query that plans as it is never changes.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, Query, Select, SelectItem, SetExpr, Statement, TableFactor, VisitMut,
};

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
            // In a subquery, the alias's columns are the outer query's, so they are qualified by
            // its one relation (a subquery's own `email` would otherwise be read); over several
            // relations they cannot be, and the alias is left unresolved there.
            let qualified = one_relation(select).map(|relation| qualified(&replacement, &relation));
            for item in select.projection.iter_mut().skip(defined_at + 1) {
                if let SelectItem::ExprWithAlias { expr, .. } | SelectItem::UnnamedExpr(expr) = item {
                    changed |= replace(expr, name, &replacement, qualified.as_ref());
                }
            }
            if let Some(selection) = &mut select.selection {
                changed |= replace(selection, name, &replacement, qualified.as_ref());
            }
            changed
        }
        SetExpr::Query(query) => in_query(query, name),
        SetExpr::SetOperation { left, right, .. } => in_set(left, name) | in_set(right, name),
        _ => false,
    }
}

/// Replaces `name` in `expr` by `replacement`, and inside its subqueries by `in_subqueries`
/// (when there is none, it is left there as written).
fn replace(expr: &mut Expr, name: &str, replacement: &Expr, in_subqueries: Option<&Expr>) -> bool {
    // A name inside a subquery is first replaced (or hidden), so that the pass over the whole
    // expression after it only meets the outer query's own uses.
    let hidden = Expr::Identifier(Ident::new(format!("{name}\u{1}")));
    let mut changed = false;
    let _ = crate::engine::compat::ast::each_expr_mut(expr, |e: &mut Expr| {
        if let Expr::Subquery(query) | Expr::Exists { subquery: query, .. } | Expr::InSubquery { subquery: query, .. } =
            e
        {
            // (Hiding changes nothing: it must not count, or planning would be retried for ever.)
            let replaced = replace_identifiers(query.as_mut(), name, in_subqueries.unwrap_or(&hidden));
            changed |= replaced && in_subqueries.is_some();
        }
        ControlFlow::Continue(())
    });
    changed |= replace_identifiers(expr, name, replacement);
    replace_identifiers(expr, &format!("{name}\u{1}"), &Expr::Identifier(Ident::new(name)));
    changed
}

fn replace_identifiers<N: VisitMut>(node: &mut N, name: &str, replacement: &Expr) -> bool {
    let mut changed = false;
    let _ = crate::engine::compat::ast::each_expr_mut(node, |e: &mut Expr| {
        if matches!(e, Expr::Identifier(ident) if ident.value.eq_ignore_ascii_case(name)) {
            *e = replacement.clone();
            changed = true;
        }
        ControlFlow::Continue(())
    });
    changed
}

/// The name of a SELECT's one relation (its alias, or the table's name), when it reads one.
fn one_relation(select: &Select) -> Option<Ident> {
    use datafusion::sql::sqlparser::ast::JoinOperator;
    let [from] = select.from.as_slice() else { return None };
    // A SEMI or ANTI join's right side gives no columns.
    let filtering = |op: &JoinOperator| {
        matches!(
            op,
            JoinOperator::Semi(_) | JoinOperator::LeftSemi(_) | JoinOperator::Anti(_) | JoinOperator::LeftAnti(_)
        )
    };
    if !from.joins.iter().all(|join| filtering(&join.join_operator)) {
        return None;
    }
    match &from.relation {
        TableFactor::Table { alias: Some(alias), .. } | TableFactor::Derived { alias: Some(alias), .. } => {
            Some(alias.name.clone())
        }
        TableFactor::Table { name, alias: None, .. } => name.0.last().and_then(|part| part.as_ident()).cloned(),
        _ => None,
    }
}

/// `expr` with its unqualified column names qualified by `relation`.
fn qualified(expr: &Expr, relation: &Ident) -> Expr {
    let mut expr = expr.clone();
    let _ = crate::engine::compat::ast::each_expr_mut(&mut expr, |e: &mut Expr| {
        if let Expr::Identifier(ident) = e {
            *e = Expr::CompoundIdentifier(vec![relation.clone(), ident.clone()]);
        }
        ControlFlow::Continue(())
    });
    expr
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
        // Inside a subquery, the alias's columns are the outer relation's.
        let [mut correlated] = <[Statement; 1]>::try_from(
            crate::engine::compat::prepare(
                "SELECT email AS e, (SELECT count(*) FROM userList v WHERE v.email <> e) AS n FROM userList u",
            )
            .unwrap(),
        )
        .unwrap();
        assert!(expand_alias(&mut correlated, "e"));
        let text = correlated.to_string();
        assert!(text.contains("WHERE v.email <> (u.email)"), "{text}");
        // Over two relations it stays unresolved, and nothing is said to have changed.
        let [mut joined] = <[Statement; 1]>::try_from(
            crate::engine::compat::prepare("SELECT email AS e, (SELECT count(*) FROM userList v WHERE v.email <> e) AS n FROM userList u, groupList g")
                .unwrap(),
        )
        .unwrap();
        assert!(!expand_alias(&mut joined, "e"));
        assert!(joined.to_string().contains("v.email <> e)"));
    }
}
