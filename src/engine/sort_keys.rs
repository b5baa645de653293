//! ORDER BY keys kept over an UNNEST. DataFusion drops the sort keys that a unique key before
//! them determines (`ORDER BY k, x` is `ORDER BY k` when `k` is a GROUP BY key), and an UNNEST
//! passes its input's keys on although it repeats their rows: `SELECT k, unnest(l) AS x FROM
//! (SELECT k, list(v) AS l ... GROUP BY k) ORDER BY k, x` came back unordered within each `k`.
//! Over an UNNEST only repeated keys are dropped; elsewhere DataFusion's rule does its work.

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::logical_expr::{LogicalPlan, Sort, SortExpr};
use datafusion::optimizer::eliminate_duplicated_expr::EliminateDuplicatedExpr;
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

/// DataFusion's `eliminate_duplicated_expr`, which keeps sort keys over an UNNEST.
#[derive(Debug, Default)]
pub(super) struct SortKeysOverUnnest {
    inner: EliminateDuplicatedExpr,
}

impl OptimizerRule for SortKeysOverUnnest {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::TopDown)
    }
    fn supports_rewrite(&self) -> bool {
        true
    }
    fn rewrite(&self, plan: LogicalPlan, config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Sort(sort) = plan else { return self.inner.rewrite(plan, config) };
        if !sort.input.exists(|node| Ok(matches!(node, LogicalPlan::Unnest(_))))? {
            return self.inner.rewrite(LogicalPlan::Sort(sort), config);
        }
        let mut kept: Vec<SortExpr> = Vec::with_capacity(sort.expr.len());
        for key in &sort.expr {
            if !kept.iter().any(|k| k.expr == key.expr) {
                kept.push(key.clone());
            }
        }
        let changed = kept.len() != sort.expr.len();
        let plan = LogicalPlan::Sort(Sort { expr: kept, input: sort.input, fetch: sort.fetch });
        Ok(if changed { Transformed::yes(plan) } else { Transformed::no(plan) })
    }
}

/// DataFusion's optimizer rules, with [`SortKeysOverUnnest`] in the place of the rule it wraps.
pub(super) fn optimizer_rules() -> Vec<std::sync::Arc<dyn OptimizerRule + Send + Sync>> {
    datafusion::optimizer::Optimizer::new()
        .rules
        .into_iter()
        .map(|rule| {
            if rule.name() == "eliminate_duplicated_expr" {
                std::sync::Arc::new(SortKeysOverUnnest::default()) as std::sync::Arc<dyn OptimizerRule + Send + Sync>
            } else {
                rule
            }
        })
        .collect()
}
