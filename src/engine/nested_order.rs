//! Sorting by a list or a struct: DuckDB orders a NULL inside one as the largest value, so that
//! `ORDER BY s DESC` puts `{'a': NULL}` before `{'a': 2}`; Arrow's sort places nested NULLs where
//! it places NULL values (last for `DESC NULLS LAST`). Where the two differ the key is sorted by
//! its DuckDB-ordered sort key (`create_sort_key(s, 'DESC NULLS LAST')`, ascending), which places
//! both as DuckDB does. `max(s)` and `min(s)` of a list or struct are the first value in that
//! order (`first_value(s ORDER BY key DESC) FILTER (WHERE s IS NOT NULL)`), for the same reason.

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::error::Result;
use datafusion::logical_expr::expr::{AggregateFunction, Sort};
use datafusion::logical_expr::{Aggregate, Expr, ExprSchemable, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;

use crate::engine::compat::{is_nested, sort_key_of};

#[derive(Debug)]
pub(super) struct NestedOrderAsDuckDb;

impl AnalyzerRule for NestedOrderAsDuckDb {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        Ok(plan.transform_up_with_subqueries(duckdb_order)?.data)
    }
    fn name(&self) -> &str {
        "nested_order_as_duckdb"
    }
}

fn duckdb_order(node: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    if let LogicalPlan::Aggregate(aggregate) = node {
        return nested_extremes(aggregate);
    }
    let LogicalPlan::Sort(mut sort) = node else { return Ok(Transformed::no(node)) };
    let schema = sort.input.schema().clone();
    let mut changed = false;
    for key in &mut sort.expr {
        let nested = key.expr.get_type(&schema).is_ok_and(|t| is_nested(&t));
        // Arrow puts nested NULLs where NULL values go; DuckDB puts them last ascending, first
        // descending.
        if nested && key.nulls_first == key.asc {
            let modifier = format!(
                "{} NULLS {}",
                if key.asc { "ASC" } else { "DESC" },
                if key.nulls_first { "FIRST" } else { "LAST" }
            );
            *key = Sort { expr: sort_key_of(key.expr.clone(), &modifier), asc: true, nulls_first: false };
            changed = true;
        }
    }
    let node = LogicalPlan::Sort(sort);
    Ok(if changed { Transformed::yes(node) } else { Transformed::no(node) })
}

/// An aggregation's `max` and `min` of lists and structs as the first value in DuckDB's order,
/// under the names they had.
fn nested_extremes(aggregate: Aggregate) -> Result<Transformed<LogicalPlan>> {
    let schema = aggregate.input.schema().clone();
    let mut changed = false;
    let mut exprs = Vec::with_capacity(aggregate.aggr_expr.len());
    for expr in &aggregate.aggr_expr {
        let Expr::AggregateFunction(f) = expr else {
            exprs.push(expr.clone());
            continue;
        };
        let largest = match f.func.name() {
            "max" => true,
            "min" => false,
            _ => {
                exprs.push(expr.clone());
                continue;
            }
        };
        let [x] = f.params.args.as_slice() else {
            exprs.push(expr.clone());
            continue;
        };
        if !x.get_type(&schema).is_ok_and(|t| is_nested(&t)) || f.params.filter.is_some() {
            exprs.push(expr.clone());
            continue;
        }
        let key = Sort { expr: sort_key_of(x.clone(), "ASC NULLS LAST"), asc: !largest, nulls_first: false };
        let first = AggregateFunction::new_udf(
            datafusion::functions_aggregate::first_last::first_value_udaf(),
            vec![x.clone()],
            false,
            Some(Box::new(x.clone().is_not_null())),
            vec![key],
            None,
        );
        exprs.push(Expr::AggregateFunction(first).alias(expr.schema_name().to_string()));
        changed = true;
    }
    if !changed {
        return Ok(Transformed::no(LogicalPlan::Aggregate(aggregate)));
    }
    let rebuilt = Aggregate::try_new(aggregate.input, aggregate.group_expr, exprs)?;
    Ok(Transformed::yes(LogicalPlan::Aggregate(rebuilt)))
}
