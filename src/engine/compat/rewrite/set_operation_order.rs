//! The ORDER BY of a UNION, INTERSECT or EXCEPT naming a column as a later branch names it —
//! `SELECT a - 10 AS k FROM t UNION SELECT a - 10 AS l FROM t ORDER BY l` — or repeating a
//! branch's expression (`ORDER BY a - 10`), which DuckDB reads as that result column and
//! DataFusion refuses (it knows the first branch's names only): the key becomes the column's
//! position.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, OrderBy, OrderByKind, Query, SelectItem, SetExpr, Statement, Value};

use crate::engine::compat::ast::output_name;

pub(crate) fn by_position(statement: &mut Statement) {
    struct Queries;
    impl crate::engine::compat::ast::WalkMut for Queries {
        fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            positions(query);
            ControlFlow::Continue(())
        }
    }
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut Queries);
}

fn positions(query: &mut Query) {
    let Some(OrderBy { kind: OrderByKind::Expressions(keys), .. }) = &mut query.order_by else { return };
    let SetExpr::SetOperation { .. } = query.body.as_ref() else { return };
    let mut branches = Vec::new();
    selects(&query.body, &mut branches);
    let Some(first) = branches.first() else { return };
    let first_names: Vec<String> = first.iter().filter_map(output_name).collect();
    for key in keys.iter_mut() {
        let position = match &key.expr {
            // A name of the first branch is DataFusion's too.
            Expr::Identifier(i) if first_names.iter().any(|n| n.eq_ignore_ascii_case(&i.value)) => continue,
            Expr::Identifier(i) => branches.iter().find_map(|items| {
                items.iter().position(|item| output_name(item).is_some_and(|n| n.eq_ignore_ascii_case(&i.value)))
            }),
            Expr::Value(_) => continue,
            key => branches.iter().find_map(|items| {
                items.iter().position(|item| match item {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e == key,
                    _ => false,
                })
            }),
        };
        if let Some(position) = position {
            key.expr = Expr::value(Value::Number((position + 1).to_string(), false));
        }
    }
}

/// The select lists of a set operation's branches, left to right.
fn selects<'a>(body: &'a SetExpr, out: &mut Vec<&'a [SelectItem]>) {
    match body {
        SetExpr::Select(select) => out.push(&select.projection),
        SetExpr::SetOperation { left, right, .. } => {
            selects(left, out);
            selects(right, out);
        }
        SetExpr::Query(q) => selects(&q.body, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::rewrite::rewritten_by;

    #[test]
    fn keys_of_later_branches_are_positions() {
        assert_eq!(
            rewritten_by(super::by_position, "SELECT a - 10 AS k FROM t UNION SELECT a - 10 AS l FROM t ORDER BY l"),
            "SELECT a - 10 AS k FROM t UNION SELECT a - 10 AS l FROM t ORDER BY 1"
        );
        assert_eq!(
            rewritten_by(
                super::by_position,
                "SELECT a - 10 AS k FROM t UNION SELECT a - 11 AS l FROM t ORDER BY a - 11"
            ),
            "SELECT a - 10 AS k FROM t UNION SELECT a - 11 AS l FROM t ORDER BY 1"
        );
        let kept = "SELECT a AS k FROM t UNION SELECT b FROM u ORDER BY k";
        assert_eq!(rewritten_by(super::by_position, kept), kept);
    }
}
