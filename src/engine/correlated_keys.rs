//! Correlated subqueries whose equality compares an expression of the subquery's rows with the
//! outer row: `(SELECT count(*) FROM activity a WHERE a.ts::DATE = d.day)`,
//! `WHERE lower(a.email) = u.email`. DataFusion decorrelates such an equality only over a plain
//! column of the subquery: an expression it refuses, and a cast it groups by the column under it
//! (one count per timestamp, not per day: wrong answers). Each such expression is first computed
//! as a column below the filter, which the decorrelation then groups and joins by.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::Result;
use datafusion::logical_expr::utils::{conjunction, split_conjunction_owned};
use datafusion::logical_expr::{BinaryExpr, Expr, Filter, LogicalPlan, Operator, Projection, col};
use datafusion::optimizer::AnalyzerRule;

#[derive(Debug)]
pub(super) struct CorrelatedKeysAsColumns;

impl AnalyzerRule for CorrelatedKeysAsColumns {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        let mut keys = 0;
        Ok(plan.transform_up_with_subqueries(|node| keyed_filter(node, &mut keys))?.data)
    }
    fn name(&self) -> &str {
        "correlated_keys_as_columns"
    }
}

/// Whether `e` reads the outer row and nothing of its own.
fn outer_only(e: &Expr) -> bool {
    let (mut outer, mut inner) = (false, false);
    let _ = e.apply(|e| {
        match e {
            Expr::OuterReferenceColumn(..) => outer = true,
            Expr::Column(_) | Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_) => inner = true,
            _ => {}
        }
        Ok(TreeNodeRecursion::Continue)
    });
    outer && !inner
}

/// Whether `e` is an expression (not a bare column) of the subquery's own columns alone, which
/// may be computed once per row.
fn own_expression(e: &Expr) -> bool {
    if matches!(e, Expr::Column(_)) {
        return false;
    }
    let (mut own, mut other) = (false, false);
    let _ = e.apply(|e| {
        match e {
            Expr::Column(_) => own = true,
            Expr::OuterReferenceColumn(..)
            | Expr::ScalarSubquery(_)
            | Expr::Exists(_)
            | Expr::InSubquery(_)
            | Expr::AggregateFunction(_)
            | Expr::WindowFunction(_) => other = true,
            Expr::ScalarFunction(f)
                if f.func.signature().volatility == datafusion::logical_expr::Volatility::Volatile =>
            {
                other = true
            }
            _ => {}
        }
        Ok(TreeNodeRecursion::Continue)
    });
    own && !other
}

/// A filter with `own_expression = outer_only` conjuncts, over a projection that computes each
/// expression as a column; the filter's own columns are kept above it.
fn keyed_filter(node: LogicalPlan, keys: &mut usize) -> Result<Transformed<LogicalPlan>> {
    let LogicalPlan::Filter(filter) = node else { return Ok(Transformed::no(node)) };
    let mut computed: Vec<Expr> = Vec::new();
    let conjuncts: Vec<Expr> = split_conjunction_owned(filter.predicate.clone())
        .into_iter()
        .map(|conjunct| match conjunct {
            Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right }) => {
                let (mut left, mut right) = (*left, *right);
                let mut key = |own: &mut Expr| {
                    *keys += 1;
                    let name = format!("__correlated_key_{keys}");
                    computed.push(own.clone().alias(&name));
                    *own = col(name);
                };
                if own_expression(&left) && outer_only(&right) {
                    key(&mut left);
                } else if own_expression(&right) && outer_only(&left) {
                    key(&mut right);
                }
                Expr::BinaryExpr(BinaryExpr { left: Box::new(left), op: Operator::Eq, right: Box::new(right) })
            }
            other => other,
        })
        .collect();
    if computed.is_empty() {
        return Ok(Transformed::no(LogicalPlan::Filter(filter)));
    }
    let columns: Vec<Expr> = filter.input.schema().columns().into_iter().map(Expr::Column).collect();
    let with_keys = Projection::try_new(columns.iter().cloned().chain(computed).collect(), filter.input.clone())?;
    let Some(predicate) = conjunction(conjuncts) else { return Ok(Transformed::no(LogicalPlan::Filter(filter))) };
    let keyed = Filter::try_new(predicate, Arc::new(LogicalPlan::Projection(with_keys)))?;
    let kept = Projection::try_new(columns, Arc::new(LogicalPlan::Filter(keyed)))?;
    Ok(Transformed::yes(LogicalPlan::Projection(kept)))
}
