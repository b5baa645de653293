//! HAVING as DuckDB reads it: a name that is a select alias is that expression (a grouped
//! column keeps its name), and a HAVING over no grouping and no column filters the one row as a
//! WHERE would.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Select, SelectItem};

/// A name in HAVING that is one of the SELECT's aliases is that expression, as in DuckDB, even
/// where a column of the table has that name (`sum(a) AS a ... HAVING a > 0`); a grouped column
/// keeps its name.
pub(super) fn having_aliases(select: &mut Select) {
    use datafusion::sql::sqlparser::ast::GroupByExpr;
    let Some(having) = &mut select.having else { return };
    let grouped: Vec<String> = match &select.group_by {
        GroupByExpr::Expressions(exprs, _) => exprs
            .iter()
            .filter_map(|e| match e {
                Expr::Identifier(i) => Some(i.value.to_lowercase()),
                _ => None,
            })
            .collect(),
        GroupByExpr::All(_) => return,
    };
    // A column grouped through an alias of it (`a AS b ... GROUP BY b`) is grouped too: in
    // HAVING, DuckDB reads its name as the column before any alias.
    let through_aliases: Vec<String> = select
        .projection
        .iter()
        .filter_map(|item| match item {
            SelectItem::ExprWithAlias { expr: Expr::Identifier(column), alias }
                if grouped.contains(&alias.value.to_lowercase()) =>
            {
                Some(column.value.to_lowercase())
            }
            _ => None,
        })
        .collect();
    let grouped: Vec<String> = grouped.into_iter().chain(through_aliases).collect();
    let aliases: Vec<(String, Expr)> = select
        .projection
        .iter()
        .filter_map(|item| match item {
            SelectItem::ExprWithAlias { expr, alias }
                if !matches!(expr, Expr::Identifier(i) if i.value.eq_ignore_ascii_case(&alias.value)) =>
            {
                Some((alias.value.to_lowercase(), expr.clone()))
            }
            _ => None,
        })
        .filter(|(alias, _)| !grouped.contains(alias))
        .collect();
    if aliases.is_empty() {
        return;
    }
    let _ = crate::engine::compat::ast::each_expr_mut(having, |e: &mut Expr| {
        if let Expr::Identifier(i) = e
            && let Some((_, aliased)) = aliases.iter().find(|(alias, _)| *alias == i.value.to_lowercase())
        {
            *e = Expr::Nested(Box::new(aliased.clone()));
        }
        ControlFlow::Continue(())
    });
}

/// `SELECT 42 HAVING 42 > 20`: a HAVING with no grouping, and no call or column in it or in the
/// projection, filters the one row the query makes as a WHERE would (DataFusion asks for a GROUP
/// BY). With a FROM the query is still an aggregate of one row, whatever the table holds, so the
/// table goes.
pub(super) fn having_as_where(select: &mut Select) {
    use datafusion::sql::sqlparser::ast::{BinaryOperator, GroupByExpr};
    let ungrouped = matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty());
    let Some(having) = &select.having else { return };
    let mut calls = false;
    let _ = crate::engine::compat::ast::each_expr(having, |e: &Expr| {
        calls |= matches!(e, Expr::Function(_) | Expr::Subquery(_));
        ControlFlow::Continue(())
    });
    let mut columns = false;
    if !select.from.is_empty() {
        let mut look = |e: &Expr| {
            columns |=
                matches!(e, Expr::Function(_) | Expr::Subquery(_) | Expr::Identifier(_) | Expr::CompoundIdentifier(_));
            ControlFlow::Continue(())
        };
        let _ = crate::engine::compat::ast::each_expr(having, &mut look);
        let _ = crate::engine::compat::ast::each_expr(&select.projection, &mut look);
        columns |= select
            .projection
            .iter()
            .any(|item| matches!(item, SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)));
    }
    if !ungrouped || calls || columns {
        return;
    }
    let having = select.having.take().map(Box::new).expect("checked above");
    if !select.from.is_empty() {
        select.from.clear();
        select.selection = None;
    }
    select.selection = Some(match select.selection.take() {
        Some(existing) => Expr::BinaryOp { left: Box::new(existing), op: BinaryOperator::And, right: having },
        None => *having,
    });
}
