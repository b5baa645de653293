//! `SELECT unnest(group_ids) FROM userList ORDER BY email`: DuckDB orders the unnested rows by a
//! column the select list leaves out; DataFusion sorts above the unnest, where only the selected
//! columns are, and finds no `email`. Such a column is selected as well, hidden
//! (`__unnest_order_1`), and a query around that one orders and limits its rows and leaves the
//! hidden columns out.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, GroupByExpr, Ident, OrderByKind, Query, Select, SelectItem, SetExpr, Statement, TableFactor, Value,
};
use datafusion::sql::sqlparser::parser::Parser;

use super::subqueries::{SET_RETURNING, aggregates};
use crate::engine::compat::ast::{self, Walk, WalkMut, plain_args};
use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

pub(crate) fn hidden_order_keys(statement: &mut Statement) {
    struct Queries;
    impl WalkMut for Queries {
        fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            if let Some(wrapped) = ordered_apart(query) {
                *query = wrapped;
            }
            ControlFlow::Continue(())
        }
    }
    let _ = ast::walk_mut(statement, &mut Queries);
}

/// The query wrapped as [the module](self) says, when its select list unnests and it orders by
/// columns the list leaves out (and by nothing else than positions and the list's names).
fn ordered_apart(query: &Query) -> Option<Query> {
    let SetExpr::Select(select) = query.body.as_ref() else { return None };
    let OrderByKind::Expressions(keys) = &query.order_by.as_ref()?.kind else { return None };
    let plain = select.distinct.is_none()
        && select.having.is_none()
        && matches!(&select.group_by, GroupByExpr::Expressions(keys, _) if keys.is_empty())
        && select.projection.iter().any(unnests)
        && !select.projection.iter().any(|item| !unnests(item) && aggregates(item));
    if !plain {
        return None;
    }
    let names = output_names(select)?;
    let mut inner = select.clone();
    let mut order = query.order_by.clone()?;
    let OrderByKind::Expressions(outer_keys) = &mut order.kind else { return None };
    let mut hidden = Vec::new();
    for (key, outer) in keys.iter().zip(outer_keys.iter_mut()) {
        let column = match &key.expr {
            Expr::Value(v) if matches!(v.value, Value::Number(..)) => continue,
            Expr::Identifier(name) if names.iter().any(|n| n.eq_ignore_ascii_case(&name.value)) => continue,
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => key.expr.clone(),
            _ => return None,
        };
        let name = Ident::new(format!("__unnest_order_{}", hidden.len() + 1));
        inner.projection.push(SelectItem::ExprWithAlias { expr: column, alias: name.clone() });
        outer.expr = Expr::Identifier(name.clone());
        hidden.push(name.value);
    }
    if hidden.is_empty() {
        return None;
    }
    let text = format!("SELECT * EXCLUDE ({}) FROM (SELECT 1) AS unnested", hidden.join(", "));
    let mut wrapped = *Parser::new(&DuckDbCompatDialect).try_with_sql(&text).ok()?.parse_query().ok()?;
    let SetExpr::Select(outer) = wrapped.body.as_mut() else { return None };
    let TableFactor::Derived { subquery, .. } = &mut outer.from.first_mut()?.relation else { return None };
    *subquery.body = SetExpr::Select(inner);
    wrapped.with = query.with.clone();
    wrapped.order_by = Some(order);
    wrapped.limit_clause = query.limit_clause.clone();
    wrapped.fetch = query.fetch.clone();
    Some(wrapped)
}

/// The names of the select list's columns, if each has a known one (no star).
fn output_names(select: &Select) -> Option<Vec<String>> {
    select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. } => {
                Some(ast::output_name(item).unwrap_or_default())
            }
            _ => None,
        })
        .collect()
}

/// Whether the item calls a set-returning function (`unnest`, `generate_subscripts`, ...) that
/// makes rows: the unnest of a struct (`unnest({'a': 1})`) makes columns, which DataFusion
/// orders by left-out columns itself.
fn unnests(item: &SelectItem) -> bool {
    struct Finder(bool);
    impl Walk for Finder {
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if let Expr::Function(f) = expr
                && SET_RETURNING.contains(&f.name.to_string().to_ascii_lowercase().as_str())
                && !plain_args(f).is_some_and(|args| args.first().is_some_and(is_struct))
            {
                self.0 = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut finder = Finder(false);
    let _ = ast::walk(item, &mut finder);
    finder.0
}

fn is_struct(expr: &Expr) -> bool {
    match expr {
        Expr::Dictionary(_) | Expr::Struct { .. } => true,
        Expr::Function(f) => {
            ["struct_pack", "row", "named_struct", "struct"].contains(&f.name.to_string().to_ascii_lowercase().as_str())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        crate::engine::compat::rewrite::rewritten_by(hidden_order_keys, sql)
    }

    #[test]
    fn a_column_left_out_of_an_unnesting_select_list_orders_from_a_hidden_column() {
        assert_eq!(
            rewritten(
                "SELECT unnest(group_ids) AS g, user_id FROM userList u ORDER BY u.email DESC, 1, user_id LIMIT 3"
            ),
            "SELECT * EXCLUDE (__unnest_order_1) FROM (SELECT unnest(group_ids) AS g, user_id, u.email AS \
             __unnest_order_1 FROM userList u) AS unnested ORDER BY __unnest_order_1 DESC, 1, user_id LIMIT 3"
        );
        // Columns the list selects, and lists that do not unnest, are left as they are.
        let selected = "SELECT email, unnest(group_ids) FROM userList ORDER BY email";
        assert_eq!(rewritten(selected), selected);
        let fields = "SELECT unnest({'r': role}) FROM userList ORDER BY email";
        assert_eq!(rewritten(fields), fields);
        let plain = "SELECT user_id FROM userList ORDER BY email";
        assert_eq!(rewritten(plain), plain);
    }
}
