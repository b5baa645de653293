//! Sorting by a list or a struct: DuckDB orders a NULL inside one as the largest value, so that
//! `ORDER BY s DESC` puts `{'a': NULL}` before `{'a': 2}`; Arrow's sort places nested NULLs where
//! it places NULL values (last for `DESC NULLS LAST`). Where the two differ the key is sorted by
//! its DuckDB-ordered sort key (`create_sort_key(s, 'DESC NULLS LAST')`, ascending), which places
//! both as DuckDB does.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::error::Result;
use datafusion::logical_expr::expr::{ScalarFunction, Sort};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, lit};
use datafusion::optimizer::AnalyzerRule;

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
    let LogicalPlan::Sort(mut sort) = node else { return Ok(Transformed::no(node)) };
    let schema = sort.input.schema().clone();
    let mut changed = false;
    for key in &mut sort.expr {
        let nested =
            matches!(key.expr.get_type(&schema), Ok(DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_)));
        // Arrow puts nested NULLs where NULL values go; DuckDB puts them last ascending, first
        // descending.
        if nested && key.nulls_first == key.asc {
            let modifier = format!(
                "{} NULLS {}",
                if key.asc { "ASC" } else { "DESC" },
                if key.nulls_first { "FIRST" } else { "LAST" }
            );
            let udf = crate::engine::compat::sort_key_function();
            let keyed =
                Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(udf), vec![key.expr.clone(), lit(modifier)]));
            *key = Sort { expr: keyed, asc: true, nulls_first: false };
            changed = true;
        }
    }
    let node = LogicalPlan::Sort(sort);
    Ok(if changed { Transformed::yes(node) } else { Transformed::no(node) })
}
