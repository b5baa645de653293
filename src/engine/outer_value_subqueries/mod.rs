//! Correlated subqueries DataFusion cannot decorrelate — a LIMIT, a join, a UNION or another
//! subquery between the subquery and the outer row it reads, a subquery in a join condition or
//! in the select list of a grouped query — computed as DuckDB defines them: once for each
//! distinct value of the outer columns they read. Each value's subquery reads literals in place
//! of the outer row and runs as a query of its own; the subquery expression becomes a CASE over
//! those values. Used only when DataFusion's own plan fails, and for at most
//! [`MOST_VALUES`] values.

mod expressions;
mod laterals;
mod outer_references;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::execution::SessionState;
use datafusion::logical_expr::expr::{Exists, InSubquery, SetComparison};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, Subquery};
use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};

/// The distinct outer values one subquery is computed for.
const MOST_VALUES: usize = 1024;

/// The outer values whose subqueries run at the same time.
const CONCURRENT_VALUES: usize = 8;

/// Whether `plan` holds a subquery that DataFusion fails on: its optimizer fails, or its
/// physical planner (which runs uncorrelated scalar subqueries, no other) refuses the result —
/// a subquery left in place, a decorrelation that lost a column.
pub(super) async fn unplannable(state: &SessionState, plan: &LogicalPlan) -> bool {
    // (An EXPLAIN shows DataFusion's own plan: it holds the plan unoptimized.)
    if matches!(plan, LogicalPlan::Explain(_) | LogicalPlan::Analyze(_)) || !holds_subquery(plan) {
        return false;
    }
    if null_filled_correlation(plan).is_some() {
        return true;
    }
    match state.optimize(plan) {
        Ok(optimized) => state.query_planner().create_physical_plan(&optimized, state).await.is_err(),
        Err(_) => true,
    }
}

/// `plan` with the subquery expressions and lateral joins DataFusion cannot plan computed per
/// outer value, or `None` when it holds none of a form this computes (DataFusion's error then
/// stands).
pub(super) async fn computed(ctx: &SessionContext, plan: &LogicalPlan) -> Result<Option<LogicalPlan>> {
    let with_values = expressions::computed(ctx, plan).await?;
    let joined = laterals::computed(ctx, with_values.as_ref().unwrap_or(plan)).await?;
    let computed = joined.or(with_values);
    if let Some(name) = null_filled_correlation(computed.as_ref().unwrap_or(plan)) {
        return Err(Error::Query(format!(
            "the derived table {name} reads the outer query's columns on the side of an outer join that NULLs fill, which cannot be computed here: move its condition on the outer query into the join's ON, or join the outer table into it"
        )));
    }
    Ok(computed)
}

/// A derived table (its name) that reads the outer query's row on the side of an outer join
/// that NULLs fill: DataFusion decorrelates it by lifting the correlation above the join,
/// where it also drops the rows the join filled (a wrong answer), so it is computed per outer
/// value, or refused.
fn null_filled_correlation(plan: &LogicalPlan) -> Option<String> {
    let mut found = None;
    let _ = plan.apply_with_subqueries(|node| {
        let LogicalPlan::Join(join) = node else { return Ok(TreeNodeRecursion::Continue) };
        let sides = match join.join_type {
            datafusion::logical_expr::JoinType::Left => vec![(&join.right, &join.left)],
            datafusion::logical_expr::JoinType::Right => vec![(&join.left, &join.right)],
            datafusion::logical_expr::JoinType::Full => vec![(&join.right, &join.left), (&join.left, &join.right)],
            _ => vec![],
        };
        for (filled, other) in sides {
            // (A lateral side reads the other side's columns: DataFusion joins that right.)
            let outer = outer_references::outer_columns(filled).unwrap_or_default();
            if outer.iter().any(|c| !other.schema().has_column(c)) {
                found = Some(match filled.as_ref() {
                    LogicalPlan::SubqueryAlias(aliased) => aliased.alias.to_string(),
                    _ => "here".to_string(),
                });
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// Runs `plan`, computing its subqueries per outer value first when DataFusion cannot.
pub(super) async fn rows(ctx: &SessionContext, plan: LogicalPlan) -> Result<Vec<RecordBatch>> {
    let plan = match unplannable(&ctx.state(), &plan).await {
        true => Box::pin(computed(ctx, &plan)).await?.unwrap_or(plan),
        false => plan,
    };
    ctx.execute_logical_plan(plan).await.map_err(Error::query)?.collect().await.map_err(Error::query)
}

/// The distinct values of `keys` over the node's inputs (joined, for a join's condition).
pub(super) async fn distinct_values(
    ctx: &SessionContext,
    inputs: &[LogicalPlan],
    keys: &[Expr],
) -> Result<Vec<Vec<ScalarValue>>> {
    let Some((first, rest)) = inputs.split_first() else { return Ok(Vec::new()) };
    let named = keys.iter().enumerate().map(|(i, k)| k.clone().alias(format!("__outer_{i}")));
    let plan = rest
        .iter()
        .try_fold(LogicalPlanBuilder::from(first.clone()), |b, input| b.cross_join(input.clone()))
        // (A count beside the keys: DataFusion's top-k DISTINCT under a LIMIT fails without an
        // order, "Ordering direction required for DISTINCT with limit".)
        .and_then(|b| b.aggregate(named, vec![datafusion::functions_aggregate::count::count_all()]))
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
                .take(keys.len())
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

/// The subquery of a subquery expression.
pub(super) fn subquery_of(e: &Expr) -> Option<&Subquery> {
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

/// Whether DuckDB reads an outer reference of `plan` otherwise than DataFusion planned it: an
/// aggregate of outer columns alone is the outer query's aggregate (not `first_value`, which
/// is this layer's reading of a subquery that selects a row), and a derived table joined
/// after another sees that one's columns first (DuckDB joins it laterally).
pub(super) fn duckdb_binds_otherwise(plan: &LogicalPlan) -> bool {
    let outer_names = |plan: &LogicalPlan| {
        let mut names = Vec::new();
        let _ = plan.apply_with_subqueries(|node| {
            // The layer's pairs of a join condition read the outer row where the condition did.
            if matches!(node, LogicalPlan::SubqueryAlias(a) if a.alias.table().starts_with(crate::engine::compat::JOIN_PAIRS)) {
                return Ok(TreeNodeRecursion::Jump);
            }
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

    /// A LATERAL with a UNION (DataFusion decorrelates neither), as DuckDB 2.0 answers.
    #[tokio::test]
    async fn a_lateral_join_is_computed_per_outer_value() {
        let sql = "WITH l(a) AS (VALUES (1), (2), (NULL)), r(b) AS (VALUES (1), (2), (2)) \
            SELECT coalesce(CAST(l.a AS VARCHAR), 'NULL') || ':' || coalesce(CAST(q.n AS VARCHAR), 'NULL') \
            FROM l LEFT JOIN LATERAL (SELECT r.b AS n FROM r WHERE r.b = l.a UNION ALL SELECT l.a * 10) q ON true ORDER BY 1";
        assert_eq!(texts(sql).await.unwrap(), ["1:1", "1:10", "2:2", "2:2", "2:20", "NULL:NULL"]);
        let none =
            "WITH l(a) AS (SELECT 1 WHERE false) SELECT q.n FROM l, LATERAL (SELECT l.a AS n UNION ALL SELECT 2) q";
        assert!(texts(none).await.unwrap().is_empty());
    }

    /// A correlated derived table on the side of a RIGHT JOIN that NULLs fill: DataFusion's
    /// decorrelation loses the filled rows; per outer value, DuckDB 2.0's answer.
    #[tokio::test]
    async fn a_correlated_table_an_outer_join_fills_is_computed_per_outer_value() {
        let sql = "WITH lists(l) AS (VALUES ([1]), ([2]), ([3]), (NULL)) \
            SELECT coalesce(CAST(l IN (SELECT i1.l FROM (SELECT * FROM lists i1 WHERE i1.l = lists.l) i1 \
            RIGHT JOIN generate_series(1, 2, 1) tbl(s) ON i1.l = [tbl.s]) AS VARCHAR), 'NULL') FROM lists ORDER BY l NULLS LAST";
        assert_eq!(texts(sql).await.unwrap(), ["true", "true", "NULL", "NULL"]);
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
    /// join), and an aggregate of outer columns alone as the outer query's: the layer now
    /// writes both so, and DataFusion plans them as DuckDB binds them.
    #[tokio::test]
    async fn an_outer_reference_duckdb_binds_otherwise_is_not_computed() {
        let sql =
            "WITH i(q1, q2) AS (VALUES (1, 2)) SELECT (SELECT r FROM (SELECT q1 AS q2) x, (SELECT q2 AS r) y) FROM i";
        assert_eq!(texts(sql).await.unwrap(), ["1"]);
        // (Now the layer's rewrites hoist the outer aggregate: DuckDB's one group.)
        let sql = "WITH i(c) AS (VALUES (1), (2)) SELECT (SELECT (SELECT max(c))) FROM i";
        assert_eq!(texts(sql).await.unwrap(), ["2"]);
    }
}
