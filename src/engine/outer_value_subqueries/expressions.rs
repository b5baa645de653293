//! Subquery expressions — scalar, EXISTS, IN, ANY and ALL — computed per outer value: each
//! becomes a CASE over the distinct values of the outer columns it reads.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, ScalarValue};
use datafusion::functions_aggregate::expr_fn::{bool_and, bool_or, count};
use datafusion::logical_expr::expr::{Exists, InSubquery, SetComparison, SetQuantifier};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Case, Expr, LogicalPlan, LogicalPlanBuilder, Operator, binary_expr, lit};
use datafusion::prelude::SessionContext;
use futures::{StreamExt, TryStreamExt};

use super::outer_references::{map_named, outer_columns, with_outer_values};
use super::{distinct_values, duckdb_binds_otherwise, rows, subquery_of};
use crate::error::{Error, Result};

/// `plan` with each subquery expression of its own nodes computed per outer value where it is of
/// a form this computes; `None` when none is.
pub(super) async fn computed(ctx: &SessionContext, plan: &LogicalPlan) -> Result<Option<LogicalPlan>> {
    // Pre-order position of the node, the subquery expression, the node's inputs.
    let mut targets: Vec<(usize, Expr, Vec<LogicalPlan>)> = Vec::new();
    let mut position = 0;
    plan.apply(|node| {
        for expr in node.expressions() {
            expr.apply(|e| {
                if subquery_of(e).is_some() {
                    targets.push((position, e.clone(), node.inputs().into_iter().cloned().collect()));
                    return Ok(TreeNodeRecursion::Jump);
                }
                Ok(TreeNodeRecursion::Continue)
            })?;
        }
        position += 1;
        Ok(TreeNodeRecursion::Continue)
    })
    .map_err(Error::query)?;

    let mut replacements = Vec::with_capacity(targets.len());
    for (position, target, inputs) in targets {
        // (One of a form not computed here is left to DataFusion.)
        if let Some(replacement) = replacement(ctx, &target, &inputs).await? {
            replacements.push((position, target, replacement));
        }
    }
    if replacements.is_empty() {
        return Ok(None);
    }
    let mut position = 0;
    let rewritten = plan
        .clone()
        .transform_down(|node| {
            let here: Vec<&(usize, Expr, Expr)> = replacements.iter().filter(|(p, ..)| *p == position).collect();
            position += 1;
            if here.is_empty() {
                return Ok(Transformed::no(node));
            }
            map_named(node, |e| match here.iter().find(|(_, target, _)| *target == e) {
                Some((_, _, replacement)) => Ok(Transformed::new(replacement.clone(), true, TreeNodeRecursion::Jump)),
                None => Ok(Transformed::no(e)),
            })
        })
        .and_then(|t| t.data.transform_up(|node| node.recompute_schema().map(Transformed::yes)))
        .map_err(Error::query)?;
    Ok(Some(rewritten.data))
}

/// The expression that gives `target`'s value from the node's own columns: a CASE over the
/// distinct values of the outer columns it reads (and of what it compares with the subquery).
async fn replacement(ctx: &SessionContext, target: &Expr, inputs: &[LogicalPlan]) -> Result<Option<Expr>> {
    let (subquery, compared) = match target {
        Expr::InSubquery(InSubquery { subquery, expr, .. })
        | Expr::SetComparison(SetComparison { subquery, expr, .. }) => (subquery, Some(expr.as_ref())),
        _ => match subquery_of(target) {
            Some(subquery) => (subquery, None),
            None => return Ok(None),
        },
    };
    if compared.is_some_and(|e| e.exists(|e| Ok(subquery_of(e).is_some())).unwrap_or(true)) {
        return Ok(None);
    }
    if duckdb_binds_otherwise(&subquery.subquery) {
        return Ok(None);
    }
    let columns = outer_columns(&subquery.subquery)?;
    if columns.iter().any(|c| !inputs.iter().any(|input| input.schema().has_column(c))) {
        return Ok(None);
    }
    let keys: Vec<Expr> = compared.cloned().into_iter().chain(columns.iter().cloned().map(Expr::Column)).collect();
    let tuples = if keys.is_empty() { vec![Vec::new()] } else { distinct_values(ctx, inputs, &keys).await? };
    let result_type = match target {
        Expr::ScalarSubquery(_) => subquery.subquery.schema().field(0).data_type().clone(),
        _ => DataType::Boolean,
    };
    // Several values at once: each run is mostly planning, on one thread.
    let results: Vec<ScalarValue> = futures::stream::iter(0..tuples.len())
        .map(|at| {
            let tuple = &tuples[at];
            let (compared_value, outer) = match compared {
                Some(_) => (tuple.first().cloned(), &tuple[1..]),
                None => (None, &tuple[..]),
            };
            let plan = with_outer_values(&subquery.subquery, &|c: &Column| {
                columns.iter().position(|k| k == c).map(|i| outer[i].clone())
            })
            .map_err(Error::query);
            let result_type = &result_type;
            async move { value_of(ctx, target, plan?, compared_value, result_type).await }
        })
        .buffered(super::CONCURRENT_VALUES)
        .try_collect()
        .await?;
    Ok(Some(lookup(keys, tuples, results, &result_type)?))
}

/// The subquery's value for one outer value.
async fn value_of(
    ctx: &SessionContext,
    target: &Expr,
    plan: LogicalPlan,
    compared: Option<ScalarValue>,
    result_type: &DataType,
) -> Result<ScalarValue> {
    let (op, quantifier, negated) = match target {
        Expr::InSubquery(InSubquery { negated, .. }) => (Operator::Eq, SetQuantifier::Any, *negated),
        Expr::SetComparison(SetComparison { op, quantifier, .. }) => (*op, *quantifier, false),
        _ => return one_value(ctx, target, plan, result_type).await,
    };
    let verdict = quantified(ctx, plan, compared.unwrap_or(ScalarValue::Null), op, quantifier).await?;
    Ok(ScalarValue::Boolean(verdict.map(|v| v != negated)))
}

/// An EXISTS, or a scalar subquery's one value.
async fn one_value(
    ctx: &SessionContext,
    target: &Expr,
    plan: LogicalPlan,
    result_type: &DataType,
) -> Result<ScalarValue> {
    match target {
        Expr::Exists(Exists { negated, .. }) => {
            let plan =
                LogicalPlanBuilder::from(plan).limit(0, Some(1)).and_then(|b| b.build()).map_err(Error::query)?;
            let found = rows(ctx, plan).await?.iter().any(|b| b.num_rows() > 0);
            Ok(ScalarValue::Boolean(Some(found != *negated)))
        }
        _ => {
            let plan =
                LogicalPlanBuilder::from(plan).limit(0, Some(2)).and_then(|b| b.build()).map_err(Error::query)?;
            let batches = rows(ctx, plan).await?;
            let mut values = batches.iter().filter(|b| b.num_rows() > 0);
            match (values.next(), batches.iter().map(RecordBatch::num_rows).sum::<usize>()) {
                (Some(batch), 1) => ScalarValue::try_from_array(batch.column(0), 0).map_err(Error::query),
                (_, 0) => ScalarValue::try_from(result_type).map_err(Error::query),
                _ => Err(Error::Query(
                    "More than one row returned by a subquery used as an expression: a scalar subquery gives one row (add LIMIT 1, or an aggregate)".into(),
                )),
            }
        }
    }
}

/// `compared op ANY|ALL (plan)` as SQL defines it: decided by one comparison that is true
/// (ANY) or false (ALL), else unknown when a comparison is, else false (ANY) or true (ALL).
async fn quantified(
    ctx: &SessionContext,
    plan: LogicalPlan,
    compared: ScalarValue,
    op: Operator,
    quantifier: SetQuantifier,
) -> Result<Option<bool>> {
    let (qualifier, field) = plan.schema().qualified_field(0);
    let test = binary_expr(lit(compared), op, Expr::Column(Column::new(qualifier.cloned(), field.name())));
    let verdict = match quantifier {
        SetQuantifier::Any => bool_or(test.clone()),
        SetQuantifier::All => bool_and(test.clone()),
    };
    let plan = LogicalPlanBuilder::from(plan)
        .aggregate(Vec::<Expr>::new(), vec![verdict, count(lit(1)), count(test)])
        .and_then(|b| b.build())
        .map_err(Error::query)?;
    let batches = rows(ctx, plan).await?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() == 1) else {
        return Err(Error::Internal("an aggregate gave no row".into()));
    };
    let verdict = batch.column(0).as_boolean_opt().filter(|v| v.is_valid(0)).map(|v| v.value(0));
    let counted = |i: usize| batch.column(i).as_primitive_opt::<Int64Type>().map_or(0, |c| c.value(0));
    Ok(match (quantifier, verdict) {
        (SetQuantifier::Any, Some(true)) => Some(true),
        (SetQuantifier::All, Some(false)) => Some(false),
        _ if counted(1) == counted(2) => Some(quantifier == SetQuantifier::All),
        _ => None,
    })
}

/// The expression that picks each tuple's result by the keys' values: a CASE on the one key
/// (a lookup table in DataFusion), or on all of them compared IS NOT DISTINCT FROM.
fn lookup(
    keys: Vec<Expr>,
    tuples: Vec<Vec<ScalarValue>>,
    results: Vec<ScalarValue>,
    result_type: &DataType,
) -> Result<Expr> {
    let typed_null = ScalarValue::try_from(result_type).map_err(Error::query)?;
    let mut keys = keys;
    if keys.is_empty() {
        return Ok(lit(results.into_iter().next().unwrap_or(typed_null)));
    }
    let case = if keys.len() == 1 {
        let key = keys.remove(0);
        let mut otherwise = None;
        let mut when_then = Vec::with_capacity(tuples.len());
        for (tuple, result) in tuples.into_iter().zip(results) {
            match tuple.into_iter().next() {
                Some(value) if !value.is_null() => when_then.push((Box::new(lit(value)), Box::new(lit(result)))),
                _ => otherwise = Some(Box::new(lit(result))),
            }
        }
        if when_then.is_empty() {
            return Ok(otherwise.map_or_else(|| lit(typed_null), |e| *e));
        }
        Case::new(Some(Box::new(key)), when_then, otherwise)
    } else {
        let when_then = tuples
            .into_iter()
            .zip(results)
            .filter_map(|(tuple, result)| {
                let matched = keys
                    .iter()
                    .zip(tuple)
                    .map(|(key, value)| binary_expr(key.clone(), Operator::IsNotDistinctFrom, lit(value)));
                Some((Box::new(conjunction(matched)?), Box::new(lit(result))))
            })
            .collect::<Vec<_>>();
        if when_then.is_empty() {
            return Ok(lit(typed_null));
        }
        Case::new(None, when_then, None)
    };
    Ok(Expr::Case(case))
}
