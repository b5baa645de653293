//! `FROM t1 JOIN t2 ON (i = j), t3 JOIN t4 ON (i + k = j + l)`: DuckDB binds the ON of a join
//! after a comma over the whole FROM clause (every item is in one cross product), where
//! DataFusion sees only that item's tables. An inner join's condition after a comma is the same
//! as a filter of the cross product, so it moves to the WHERE clause (DataFusion pushes it back
//! into the join it can make). Not where a RIGHT or FULL join follows it in its item.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, JoinConstraint, JoinOperator, Select, Statement, Value};

use crate::engine::compat::ast::{and, each_expr};
use crate::engine::compat::parse::join_forms::ASOF_MARKER;

pub(crate) fn conditions_as_filters(statement: &mut Statement) {
    struct Filters;
    impl crate::engine::compat::ast::WalkMut for Filters {
        fn post_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
            moved_to_where(select);
            ControlFlow::Continue(())
        }
    }
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut Filters);
}

fn moved_to_where(select: &mut Select) {
    let mut moved = Vec::new();
    for item in select.from.iter_mut().skip(1) {
        // A RIGHT or FULL join after it would keep rows the filter then drops.
        let last_outer = item.joins.iter().rposition(|join| {
            matches!(
                join.join_operator,
                JoinOperator::Right(_) | JoinOperator::RightOuter(_) | JoinOperator::FullOuter(_)
            )
        });
        let first_movable = last_outer.map_or(0, |at| at + 1);
        for join in item.joins.iter_mut().skip(first_movable) {
            let (JoinOperator::Join(JoinConstraint::On(condition))
            | JoinOperator::Inner(JoinConstraint::On(condition))) = &mut join.join_operator
            else {
                continue;
            };
            if is_movable(condition) {
                moved.push(std::mem::replace(condition, Expr::value(Value::Boolean(true))));
            }
        }
    }
    if !moved.is_empty() {
        select.selection = Some(and(select.selection.take().into_iter().chain(moved)));
    }
}

/// Conditions other rewrites read in place stay: subqueries (joined through pairs of rows) and
/// ASOF's marker.
fn is_movable(condition: &Expr) -> bool {
    each_expr(condition, |e| match e {
        Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => ControlFlow::Break(None),
        Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case(ASOF_MARKER) => ControlFlow::Break(None),
        _ => ControlFlow::Continue(()),
    })
    .is_continue()
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::rewrite::rewritten_by;

    #[test]
    fn inner_join_conditions_after_a_comma_filter_the_whole_from() {
        assert_eq!(
            rewritten_by(
                super::conditions_as_filters,
                "SELECT * FROM t1 JOIN t2 ON (i = j), t3 JOIN t4 ON (i + k = j + l) WHERE k > 0"
            ),
            "SELECT * FROM t1 JOIN t2 ON (i = j), t3 JOIN t4 ON true WHERE k > 0 AND (i + k = j + l)"
        );
        // The first item's joins, outer joins and conditions with subqueries stay.
        let kept = "SELECT * FROM t1 JOIN t2 ON i = j, t3 LEFT JOIN t4 ON i = l JOIN t5 ON EXISTS (SELECT 1)";
        assert_eq!(rewritten_by(super::conditions_as_filters, kept), kept);
        let kept = "SELECT * FROM t1, t3 JOIN t4 ON i = l FULL JOIN t5 ON k = m";
        assert_eq!(rewritten_by(super::conditions_as_filters, kept), kept);
    }
}
