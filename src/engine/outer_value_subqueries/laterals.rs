//! Lateral joins DataFusion cannot decorrelate, computed per outer value: the derived table is
//! computed once for each distinct value of the left side's columns it reads, the results are
//! put together with those values beside them, and joined to the left side on them.

use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, JoinType, LogicalPlan, LogicalPlanBuilder, Operator, binary_expr, lit};
use datafusion::prelude::SessionContext;

use super::outer_references::{outer_columns, with_outer_values};
use super::{distinct_values, duckdb_binds_otherwise};
use crate::error::{Error, Result};

/// `plan` with each lateral join of a form this computes computed per outer value; `None`
/// when it has none.
pub(super) async fn computed(ctx: &SessionContext, plan: &LogicalPlan) -> Result<Option<LogicalPlan>> {
    let mut inputs = Vec::new();
    let mut changed = false;
    for input in plan.inputs() {
        match Box::pin(computed(ctx, input)).await? {
            Some(joined) => {
                changed = true;
                inputs.push(joined);
            }
            None => inputs.push(input.clone()),
        }
    }
    let plan = match changed {
        true => plan.with_new_exprs(plan.expressions(), inputs).map_err(Error::query)?,
        false => plan.clone(),
    };
    let LogicalPlan::Join(join) = &plan else { return Ok(changed.then_some(plan)) };
    match joined(ctx, join).await? {
        Some(joined) => Ok(Some(joined)),
        None => Ok(changed.then_some(plan)),
    }
}

/// The lateral `join` computed per value of the left side's columns its right side reads.
async fn joined(ctx: &SessionContext, join: &datafusion::logical_expr::Join) -> Result<Option<LogicalPlan>> {
    if !matches!(join.join_type, JoinType::Inner | JoinType::Left) {
        return Ok(None);
    }
    // The derived table: a subquery node (under its alias) that reads the left side's columns.
    let (alias, derived) = match join.right.as_ref() {
        LogicalPlan::SubqueryAlias(aliased) => match aliased.input.as_ref() {
            LogicalPlan::Subquery(s) => (Some(aliased.alias.clone()), s.subquery.as_ref().clone()),
            _ => return Ok(None),
        },
        LogicalPlan::Subquery(s) => (None, s.subquery.as_ref().clone()),
        _ => return Ok(None),
    };
    if duckdb_binds_otherwise(&derived) {
        return Ok(None);
    }
    let columns = outer_columns(&derived)?;
    let left = join.left.as_ref();
    if columns.is_empty() || columns.iter().any(|c| !left.schema().has_column(c)) {
        return Ok(None);
    }
    let keys: Vec<Expr> = columns.iter().cloned().map(Expr::Column).collect();
    let tuples = distinct_values(ctx, std::slice::from_ref(left), &keys).await?;
    let key_name = |i: usize| format!("__lateral_{i}");
    let branch = |values: &[ScalarValue]| -> datafusion::error::Result<LogicalPlan> {
        let plan =
            with_outer_values(&derived, &|c: &Column| columns.iter().position(|k| k == c).map(|i| values[i].clone()))?;
        let own = plan.schema().columns().into_iter().map(Expr::Column);
        let valued = values.iter().enumerate().map(|(i, v)| lit(v.clone()).alias(key_name(i)));
        LogicalPlanBuilder::from(plan).project(own.chain(valued.collect::<Vec<_>>()))?.build()
    };
    let computed = if tuples.is_empty() {
        // No row on the left: the derived table's columns, and no rows.
        let nulls = columns
            .iter()
            .map(|c| {
                left.schema()
                    .qualified_field_from_column(c)
                    .map(|(_, f)| f)
                    .and_then(|f| ScalarValue::try_from(f.data_type()))
            })
            .collect::<datafusion::error::Result<Vec<_>>>()
            .map_err(Error::query)?;
        branch(&nulls).and_then(|p| LogicalPlanBuilder::from(p).limit(0, Some(0))?.build())
    } else {
        let mut branches = tuples.iter().map(|tuple| branch(tuple));
        let first = branches.next().unwrap_or_else(|| branch(&[]));
        first.and_then(|first| {
            branches.try_fold(first, |union, next| LogicalPlanBuilder::from(union).union(next?)?.build())
        })
    }
    .map_err(Error::query)?;
    let computed = match &alias {
        Some(alias) => LogicalPlanBuilder::from(computed).alias(alias.clone()).and_then(|b| b.build()),
        None => Ok(computed),
    }
    .map_err(Error::query)?;
    let computed_key = |i: usize| Expr::Column(Column::new(alias.clone(), key_name(i)));
    let conditions =
        join.on.iter().map(|(l, r)| binary_expr(l.clone(), Operator::Eq, r.clone())).chain(join.filter.clone()).chain(
            keys.iter()
                .enumerate()
                .map(|(i, key)| binary_expr(key.clone(), Operator::IsNotDistinctFrom, computed_key(i))),
        );
    let condition = conjunction(conditions).unwrap_or(lit(true));
    let columns = join.schema.columns().into_iter().map(Expr::Column);
    LogicalPlanBuilder::from(left.clone())
        .join_on(computed, join.join_type, [condition])
        .and_then(|b| b.project(columns))
        .and_then(|b| b.build())
        .map(Some)
        .map_err(Error::query)
}
