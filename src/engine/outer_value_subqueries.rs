//! Correlated subqueries DataFusion cannot decorrelate — a LIMIT, a join, a UNION or another
//! subquery between the subquery and the outer row it reads, a subquery in a join condition or
//! in the select list of a grouped query — computed as DuckDB defines them: once for each
//! distinct value of the outer columns they read. Each value's subquery reads literals in place
//! of the outer row and runs as a query of its own; the subquery expression becomes a CASE over
//! those values. Used only when DataFusion's own plan fails, and for at most
//! [`MOST_VALUES`] values.

use std::cell::RefCell;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, ScalarValue};
use datafusion::execution::SessionState;
use datafusion::functions_aggregate::expr_fn::{bool_and, bool_or, count};
use datafusion::logical_expr::expr::{Exists, InSubquery, SetComparison, SetQuantifier};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Case, Expr, LogicalPlan, LogicalPlanBuilder, Operator, Subquery, binary_expr, lit};
use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};

/// The distinct outer values one subquery is computed for.
const MOST_VALUES: usize = 1024;

/// Whether `plan` holds a subquery that DataFusion's optimizer fails on or leaves in place
/// (its physical planner runs none).
pub(super) fn unplannable(state: &SessionState, plan: &LogicalPlan) -> bool {
    // (An EXPLAIN shows DataFusion's own plan: it holds the plan unoptimized.)
    !matches!(plan, LogicalPlan::Explain(_) | LogicalPlan::Analyze(_))
        && holds_subquery(plan)
        && !state.optimize(plan).is_ok_and(|optimized| !holds_subquery(&optimized))
}

/// `plan` with each subquery expression of its own nodes computed per outer value, or `None`
/// when one is of a form this does not compute (DataFusion's error then stands).
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
    if targets.is_empty() {
        return Ok(None);
    }
    let mut replacements = Vec::with_capacity(targets.len());
    for (position, target, inputs) in targets {
        let Some(replacement) = replacement(ctx, &target, &inputs).await? else { return Ok(None) };
        replacements.push((position, target, replacement));
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

/// `node` with `f` applied down each of its expressions, each keeping the name it had (a
/// node above reads an aggregate's or a projection's output by name).
fn map_named(
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

/// The subquery of a subquery expression.
fn subquery_of(e: &Expr) -> Option<&Subquery> {
    match e {
        Expr::ScalarSubquery(s) => Some(s),
        Expr::Exists(Exists { subquery, .. })
        | Expr::InSubquery(InSubquery { subquery, .. })
        | Expr::SetComparison(SetComparison { subquery, .. }) => Some(subquery),
        _ => None,
    }
}

/// Whether a node of `plan` (not of its subqueries) holds a subquery or an outer reference.
fn holds_subquery(plan: &LogicalPlan) -> bool {
    plan.exists(|node| {
        Ok(node.expressions().iter().any(|e| {
            e.exists(|e| Ok(subquery_of(e).is_some() || matches!(e, Expr::OuterReferenceColumn(..)))).unwrap_or(true)
        }))
    })
    .unwrap_or(true)
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
    let mut results = Vec::with_capacity(tuples.len());
    for tuple in &tuples {
        let (compared_value, outer) = match compared {
            Some(_) => (tuple.first().cloned(), &tuple[1..]),
            None => (None, &tuple[..]),
        };
        let plan = with_outer_values(&subquery.subquery, &|c: &Column| {
            columns.iter().position(|k| k == c).map(|i| outer[i].clone())
        })
        .map_err(Error::query)?;
        results.push(value_of(ctx, target, plan, compared_value, &result_type).await?);
    }
    Ok(Some(lookup(keys, tuples, results, &result_type)?))
}

/// Whether DuckDB reads an outer reference of `plan` otherwise than DataFusion planned it: an
/// aggregate of outer columns alone is the outer query's aggregate (not `first_value`, which
/// is this layer's reading of a subquery that selects a row), and a derived table joined
/// after another sees that one's columns first (DuckDB joins it laterally).
fn duckdb_binds_otherwise(plan: &LogicalPlan) -> bool {
    let outer_names = |plan: &LogicalPlan| {
        let mut names = Vec::new();
        let _ = plan.apply_with_subqueries(|node| {
            for expr in node.expressions() {
                let _ = expr.apply(|e| {
                    if let Expr::OuterReferenceColumn(_, c) = e {
                        names.push(c.name.clone());
                    }
                    Ok(TreeNodeRecursion::Continue)
                });
            }
            Ok(TreeNodeRecursion::Continue)
        });
        names
    };
    let reads_outer_only = |e: &Expr| {
        let (mut outer, mut own) = (false, false);
        let _ = e.apply(|e| {
            match e {
                Expr::OuterReferenceColumn(..) => outer = true,
                Expr::Column(_) => own = true,
                _ => {}
            }
            Ok(TreeNodeRecursion::Continue)
        });
        outer && !own
    };
    let mut otherwise = false;
    let walked = plan.apply_with_subqueries(|node| {
        otherwise = match node {
            LogicalPlan::Aggregate(aggregate) => aggregate.aggr_expr.iter().any(|e| {
                !matches!(e, Expr::AggregateFunction(f) if f.func.name() == "first_value") && reads_outer_only(e)
            }),
            LogicalPlan::Join(join) => {
                let left = join.left.schema();
                outer_names(&join.right).iter().any(|name| left.fields().iter().any(|f| f.name() == name))
            }
            _ => false,
        };
        Ok(if otherwise { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    });
    otherwise || walked.is_err()
}

/// The distinct values of `keys` over the node's inputs (joined, for a join's condition).
async fn distinct_values(ctx: &SessionContext, inputs: &[LogicalPlan], keys: &[Expr]) -> Result<Vec<Vec<ScalarValue>>> {
    let Some((first, rest)) = inputs.split_first() else { return Ok(Vec::new()) };
    let named = keys.iter().enumerate().map(|(i, k)| k.clone().alias(format!("__outer_{i}")));
    let plan = rest
        .iter()
        .try_fold(LogicalPlanBuilder::from(first.clone()), |b, input| b.cross_join(input.clone()))
        .and_then(|b| b.aggregate(named, Vec::<Expr>::new()))
        .and_then(|b| b.limit(0, Some(MOST_VALUES + 1)))
        .and_then(|b| b.build())
        .map_err(Error::query)?;
    let batches = rows(ctx, plan).await?;
    let mut tuples = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            let tuple = batch
                .columns()
                .iter()
                .map(|c| ScalarValue::try_from_array(c, row))
                .collect::<std::result::Result<_, _>>();
            tuples.push(tuple.map_err(Error::query)?);
        }
    }
    if tuples.len() > MOST_VALUES {
        return Err(Error::Query(format!(
            "a correlated subquery here reads more than {MOST_VALUES} distinct values of the outer query's columns, and carto-activity computes a subquery of this form once per value: join the subquery's table and aggregate instead (LEFT JOIN t ON ... GROUP BY ...)"
        )));
    }
    Ok(tuples)
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

/// Runs `plan`, computing its subqueries per outer value first when DataFusion cannot.
async fn rows(ctx: &SessionContext, plan: LogicalPlan) -> Result<Vec<RecordBatch>> {
    let plan = match unplannable(&ctx.state(), &plan) {
        true => Box::pin(computed(ctx, &plan)).await?.unwrap_or(plan),
        false => plan,
    };
    ctx.execute_logical_plan(plan).await.map_err(Error::query)?.collect().await.map_err(Error::query)
}

/// The outer columns `plan` reads: its own outer references, and those of its nested
/// subqueries that no nearer query has.
fn outer_columns(plan: &LogicalPlan) -> Result<Vec<Column>> {
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
fn with_outer_values(
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

#[cfg(test)]
mod tests {
    use crate::engine::{Engine, EngineOptions};

    async fn texts(sql: &str) -> crate::error::Result<Vec<String>> {
        Engine::new(EngineOptions::new(1, false), None).unwrap().first_column_texts(sql).await
    }

    const T: &str = "WITH t(k) AS (VALUES (1), (2), (3), (NULL)) ";

    /// Each form under a LIMIT (which DataFusion does not decorrelate), as DuckDB 2.0 answers.
    #[tokio::test]
    async fn subqueries_under_a_limit_are_computed_per_outer_value() {
        let rows = |select: &str| {
            let sql = format!("{T}SELECT coalesce(CAST(({select}) AS VARCHAR), 'NULL') FROM t ORDER BY k");
            async move { texts(&sql).await.unwrap() }
        };
        let scalar = "SELECT sum(v) FROM (SELECT u.k AS v FROM t u WHERE u.k <= t.k ORDER BY u.k LIMIT 2)";
        assert_eq!(rows(scalar).await, ["1", "3", "3", "NULL"]);
        let any = "k > ANY (SELECT u.k FROM t u WHERE u.k IS NULL OR u.k < t.k - 1 LIMIT 3)";
        assert_eq!(rows(any).await, ["NULL", "NULL", "true", "NULL"]);
        let all = "k >= ALL (SELECT u.k FROM t u WHERE u.k IS NOT NULL AND u.k <> t.k LIMIT 3)";
        assert_eq!(rows(all).await, ["false", "false", "true", "true"]);
        let within = "k IN (SELECT u.k + 1 FROM t u WHERE u.k IS DISTINCT FROM t.k LIMIT 3)";
        assert_eq!(rows(within).await, ["NULL", "true", "true", "NULL"]);
        let exists = "EXISTS (SELECT 1 FROM t u WHERE u.k > t.k LIMIT 1)";
        assert_eq!(rows(exists).await, ["true", "true", "false", "false"]);
    }

    #[tokio::test]
    async fn a_scalar_subquery_of_two_rows_fails_as_in_duckdb() {
        let sql = format!("{T}SELECT (SELECT u.k FROM t u WHERE u.k > t.k LIMIT 2) FROM t");
        let message = texts(&sql).await.unwrap_err().to_string();
        assert!(message.contains("More than one row returned by a subquery"), "{message}");
    }

    #[tokio::test]
    async fn too_many_outer_values_are_refused_in_one_line() {
        let sql = "SELECT (SELECT v FROM (SELECT r.range AS v LIMIT 1)) FROM range(2000) r";
        let message = texts(sql).await.unwrap_err().to_string();
        assert!(message.contains("more than 1024 distinct values"), "{message}");
    }

    /// DuckDB reads `q2` in the second derived table as the first one's column (a lateral
    /// join), where DataFusion planned the outer row's: not computed, refused as before.
    #[tokio::test]
    async fn an_outer_reference_duckdb_binds_otherwise_is_not_computed() {
        let sql =
            "WITH i(q1, q2) AS (VALUES (1, 2)) SELECT (SELECT r FROM (SELECT q1 AS q2) x, (SELECT q2 AS r) y) FROM i";
        assert!(texts(sql).await.is_err());
        let sql = "WITH i(c) AS (VALUES (1), (2)) SELECT (SELECT (SELECT max(c))) FROM i";
        assert!(texts(sql).await.is_err());
    }
}
