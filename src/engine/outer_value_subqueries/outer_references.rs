//! The outer references of a subquery's plan: which it reads, and the plan with literals in
//! their place.

use std::cell::RefCell;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::expr::{Exists, InSubquery, SetComparison};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{Expr, LogicalPlan, Subquery, lit};

use crate::error::{Error, Result};

/// `node` with `f` applied down each of its expressions, each keeping the name it had (a
/// node above reads an aggregate's or a projection's output by name).
pub(super) fn map_named(
    node: LogicalPlan,
    mut f: impl FnMut(Expr) -> datafusion::error::Result<Transformed<Expr>>,
) -> datafusion::error::Result<Transformed<LogicalPlan>> {
    let names = NamePreserver::new(&node);
    node.map_expressions(|expr| {
        let name = names.save(&expr);
        let replaced = expr.transform_down(&mut f)?;
        Ok(if replaced.transformed { replaced.update_data(|e| name.restore(e)) } else { replaced })
    })
}

/// The outer columns `plan` reads: its own outer references, and those of its nested
/// subqueries that no nearer query has.
pub(super) fn outer_columns(plan: &LogicalPlan) -> Result<Vec<Column>> {
    let seen = RefCell::new(Vec::<Column>::new());
    with_outer_values(plan, &|c: &Column| {
        let mut seen = seen.borrow_mut();
        if !seen.contains(c) {
            seen.push(c.clone());
        }
        None
    })
    .map_err(Error::query)?;
    Ok(seen.into_inner())
}

/// `plan` with the outer references `value` gives a literal for replaced by it. Inside a nested
/// subquery an outer reference to a column of the node that holds it means that column, so
/// only the others are given.
pub(super) fn with_outer_values(
    plan: &LogicalPlan,
    value: &dyn Fn(&Column) -> Option<ScalarValue>,
) -> datafusion::error::Result<LogicalPlan> {
    let rewritten = plan.clone().transform_up(|node| {
        let schemas: Vec<_> = node.inputs().iter().map(|input| input.schema().clone()).collect();
        let nearer = |c: &Column| if schemas.iter().any(|s| s.has_column(c)) { None } else { value(c) };
        let mapped = map_named(node, |e| match e {
            Expr::OuterReferenceColumn(field, column) => Ok(match value(&column) {
                Some(v) => Transformed::yes(lit(v)),
                None => Transformed::no(Expr::OuterReferenceColumn(field, column)),
            }),
            Expr::ScalarSubquery(s) => Ok(Transformed::yes(Expr::ScalarSubquery(nested(s, &nearer)?))),
            Expr::Exists(e) => {
                Ok(Transformed::yes(Expr::Exists(Exists { subquery: nested(e.subquery, &nearer)?, ..e })))
            }
            Expr::InSubquery(i) => {
                Ok(Transformed::yes(Expr::InSubquery(InSubquery { subquery: nested(i.subquery, &nearer)?, ..i })))
            }
            Expr::SetComparison(s) => {
                Ok(Transformed::yes(Expr::SetComparison(SetComparison { subquery: nested(s.subquery, &nearer)?, ..s })))
            }
            other => Ok(Transformed::no(other)),
        })?;
        mapped.map_data(LogicalPlan::recompute_schema)
    })?;
    Ok(rewritten.data)
}

/// A nested subquery with the outer values given, and without them in its outer references.
fn nested(subquery: Subquery, value: &dyn Fn(&Column) -> Option<ScalarValue>) -> datafusion::error::Result<Subquery> {
    let plan = with_outer_values(&subquery.subquery, value)?;
    let outer_ref_columns = subquery
        .outer_ref_columns
        .into_iter()
        .filter(|e| !matches!(e, Expr::OuterReferenceColumn(_, c) if value(c).is_some()))
        .collect();
    Ok(Subquery { subquery: std::sync::Arc::new(plan), outer_ref_columns, spans: subquery.spans })
}
