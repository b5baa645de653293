//! JSON shredding, the engine side: the `activity` table over the cache's shredded files, and
//! the analyzer rule that reads a hidden column where a plan extracts its path from `data`
//! (the ingest side is `crate::shred`).
//!
//! A hidden column is known by its exact name (`__data_userId`, ...): a user's column that only
//! starts alike, or differs in case (unquoted aliases are folded to lower case), is an ordinary
//! column. (Field metadata cannot mark them instead: an alias of a rewritten read inherits it,
//! and DataFusion's physical plan then disagrees with the logical one under a UNION.)

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Field, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema};
use datafusion::datasource::{TableType, provider_as_source, source_as_provider};
use datafusion::error::Result as DFResult;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    Expr, LogicalPlan, Projection, TableProviderFilterPushDown, TableScan, TableScanBuilder,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::physical_plan::ExecutionPlan;

use super::known_files::KnownFilesTable;
use crate::category::Category;
use crate::shred::{SOURCE_COLUMN, hidden_column, hidden_columns};

/// The `activity` table over shredded cache files: it shows only `type`, `ts` and `data`, and
/// keeps the table with the hidden columns for [`ReadShreddedColumns`].
#[derive(Debug)]
pub(crate) struct ShreddedTable {
    full: Arc<KnownFilesTable>,
    visible: SchemaRef,
}

impl ShreddedTable {
    /// `full` must be a table over cached activity files, in the cached schema.
    pub(crate) fn new(full: KnownFilesTable) -> ShreddedTable {
        ShreddedTable { full: Arc::new(full), visible: Category::Activity.schema() }
    }

    fn visible_projection(&self, projection: Option<&Vec<usize>>) -> Vec<usize> {
        projection.cloned().unwrap_or_else(|| (0..self.visible.fields().len()).collect())
    }
}

#[async_trait]
impl TableProvider for ShreddedTable {
    fn schema(&self) -> SchemaRef {
        self.visible.clone()
    }
    fn table_type(&self) -> TableType {
        TableType::Base
    }
    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        // The visible columns come first in the full schema, so their indices carry over.
        let projection = self.visible_projection(projection);
        self.full.scan(state, Some(&projection), filters, limit).await
    }
    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DFResult<Vec<TableProviderFilterPushDown>> {
        self.full.supports_filters_pushdown(filters)
    }
}

/// Rewrites `json_as_text(<activity>.data, 'path'...)` into a read of the hidden column, for the
/// shredded paths. Runs after type coercion, before the optimizer (which then prunes the hidden
/// columns nobody reads and pushes filters on them into the Parquet scan).
///
/// The hidden columns enter at the scan of `activity` and travel up through the nodes that pass
/// their input's columns on (filters, sorts, limits, aliases, joins, windows, projections that
/// keep `data` as it is); any other node gets inputs without them, and so does the plan's root,
/// so no result ever shows them.
#[derive(Debug, Default)]
pub(crate) struct ReadShreddedColumns;

impl AnalyzerRule for ReadShreddedColumns {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> DFResult<LogicalPlan> {
        rewrite_plan(plan)
    }
    fn name(&self) -> &str {
        "read_shredded_columns"
    }
}

fn rewrite_plan(plan: LogicalPlan) -> DFResult<LogicalPlan> {
    let rewritten = plan.transform_up(|node| rewrite_node(node).map(Transformed::yes))?.data;
    without_hidden(Arc::new(rewritten))
}

fn is_hidden(field: &Field) -> bool {
    hidden_columns().any(|name| name == field.name())
}

fn has_hidden(schema: &DFSchema) -> bool {
    schema.fields().iter().any(|f| is_hidden(f))
}

/// The plan's output without the hidden columns.
fn without_hidden(plan: Arc<LogicalPlan>) -> DFResult<LogicalPlan> {
    if !has_hidden(plan.schema()) {
        return Ok(Arc::unwrap_or_clone(plan));
    }
    let columns = plan
        .schema()
        .iter()
        .filter(|(_, field)| !is_hidden(field))
        .map(|(qualifier, field)| Expr::Column(Column::new(qualifier.cloned(), field.name())))
        .collect();
    Ok(LogicalPlan::Projection(Projection::try_new(columns, plan)?))
}

fn rewrite_node(node: LogicalPlan) -> DFResult<LogicalPlan> {
    // Subqueries in expressions are plans of their own: rewritten whole, their roots cleaned.
    let node = node.map_subqueries(|sub| rewrite_plan(sub).map(Transformed::yes))?.data;
    // Nodes above no hidden column stay exactly as planned (recomputing a schema is not free of
    // checks the planner skipped, such as duplicate names under a cross join).
    if !matches!(node, LogicalPlan::TableScan(_)) && !node.inputs().iter().any(|i| has_hidden(i.schema())) {
        return Ok(node);
    }
    match node {
        LogicalPlan::TableScan(scan) => widen_scan(scan),
        LogicalPlan::Projection(_) => {
            let available = hidden_inputs(&node);
            let LogicalPlan::Projection(projection) = rewrite_expressions(node, &available)? else {
                unreachable!("rewriting expressions keeps the node's kind")
            };
            pass_hidden_through(projection, &available)
        }
        LogicalPlan::Filter(_)
        | LogicalPlan::Sort(_)
        | LogicalPlan::Limit(_)
        | LogicalPlan::SubqueryAlias(_)
        | LogicalPlan::Join(_)
        | LogicalPlan::Window(_)
        | LogicalPlan::Repartition(_)
        | LogicalPlan::Aggregate(_) => {
            let available = hidden_inputs(&node);
            rewrite_expressions(node, &available)?.recompute_schema()
        }
        // Any other node reads its inputs without the hidden columns; its own expressions stay
        // as they are (`with_new_exprs` cannot rebuild some, such as DISTINCT ON's ordering).
        other => {
            other.map_children(|input| without_hidden(Arc::new(input)).map(Transformed::yes))?.data.recompute_schema()
        }
    }
}

/// The scan of `activity` reads the hidden columns too (the optimizer drops the unread ones).
fn widen_scan(scan: TableScan) -> DFResult<LogicalPlan> {
    let shredded = source_as_provider(&scan.source)
        .ok()
        .and_then(|p| p.downcast_ref::<ShreddedTable>().map(|t| (t.full.clone(), t.visible_projection(None))));
    let Some((full, visible)) = shredded else {
        return Ok(LogicalPlan::TableScan(scan));
    };
    let mut projection = scan.projection.unwrap_or(visible);
    let full_schema = full.schema();
    projection.extend(full_schema.fields().iter().enumerate().filter(|(_, f)| is_hidden(f)).map(|(index, _)| index));
    let source = provider_as_source(full);
    TableScanBuilder::new(scan.table_name, source)
        .with_projection(Some(projection))
        .with_filters(scan.filters)
        .with_fetch(scan.fetch)
        .build()
        .map(LogicalPlan::TableScan)
}

fn hidden_inputs(node: &LogicalPlan) -> HashSet<Column> {
    node.inputs()
        .iter()
        .flat_map(|input| input.schema().iter())
        .filter(|(_, field)| is_hidden(field))
        .map(|(qualifier, field)| Column::new(qualifier.cloned(), field.name()))
        .collect()
}

fn rewrite_expressions(node: LogicalPlan, available: &HashSet<Column>) -> DFResult<LogicalPlan> {
    // Names are kept where they make the node's output (projections, aggregates, windows).
    let names = matches!(node, LogicalPlan::Projection(_) | LogicalPlan::Aggregate(_) | LogicalPlan::Window(_))
        .then(|| NamePreserver::new(&node));
    Ok(node
        .map_expressions(|expr| {
            let saved = names.as_ref().map(|n| n.save(&expr));
            let rewritten = expr.transform_up(|e| Ok(shredded_read(e, available)))?;
            Ok(match saved {
                Some(saved) if rewritten.transformed => Transformed::yes(saved.restore(rewritten.data)),
                _ => rewritten,
            })
        })?
        .data)
}

/// `json_as_text(q.data, 'a'[, 'b'])` → `q.__data_a[_b]`, when the input carries that column.
fn shredded_read(expr: Expr, available: &HashSet<Column>) -> Transformed<Expr> {
    let Expr::ScalarFunction(ScalarFunction { func, args }) = &expr else {
        return Transformed::no(expr);
    };
    if func.name() != "json_as_text" {
        return Transformed::no(expr);
    }
    let Some((Expr::Column(data), path)) = args.split_first() else {
        return Transformed::no(expr);
    };
    let path: Option<Vec<&str>> = path
        .iter()
        .map(|p| match p {
            Expr::Literal(value, _) => value.try_as_str().flatten(),
            _ => None,
        })
        .collect();
    let hidden = path.and_then(|path| hidden_column(&path));
    match hidden {
        Some(name) if data.name == SOURCE_COLUMN => {
            let column = Column::new(data.relation.clone(), name);
            if available.contains(&column) { Transformed::yes(Expr::Column(column)) } else { Transformed::no(expr) }
        }
        _ => Transformed::no(expr),
    }
}

/// A projection that keeps `q.data` unchanged keeps `q`'s hidden columns too.
fn pass_hidden_through(projection: Projection, available: &HashSet<Column>) -> DFResult<LogicalPlan> {
    let Projection { mut expr, input, .. } = projection;
    let mut kept: Vec<Expr> = Vec::new();
    for e in &expr {
        if let Expr::Column(c) = e
            && c.name == SOURCE_COLUMN
        {
            for name in hidden_columns() {
                let hidden = Column::new(c.relation.clone(), name);
                let column = Expr::Column(hidden.clone());
                if available.contains(&hidden) && !kept.contains(&column) && !expr.contains(&column) {
                    kept.push(column);
                }
            }
        }
    }
    expr.extend(kept);
    Projection::try_new(expr, input).map(LogicalPlan::Projection)
}
