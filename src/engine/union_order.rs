//! `UNION ALL` answered in its inputs' order, as DuckDB answers it (`SELECT 'total' ... UNION ALL
//! SELECT ...` puts the total first; `(q1 UNION ALL q2) LIMIT n` takes q1's rows first).
//! DataFusion runs a union's inputs as partitions and merges them as they come; where those
//! partitions meet into one stream, this reads them one after the other instead.

use std::fmt;
use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::limit::GlobalLimitExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties, ReplaceChildrenOptions,
};
use futures::StreamExt;

/// Replaces each merge of a union's partitions by a reading in order.
#[derive(Debug)]
pub(super) struct UnionInputsInOrder;

impl PhysicalOptimizerRule for UnionInputsInOrder {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = plan
            .transform_up(|node| {
                if let Some(merge) = node.downcast_ref::<CoalescePartitionsExec>()
                    && from_union(merge.input())
                {
                    return Ok(Transformed::yes(in_order(merge.input().clone(), merge.fetch())));
                }
                Ok(Transformed::no(node))
            })?
            .data;
        // The root's partitions are merged when the plan runs: in order, if they are a union's.
        if plan.output_partitioning().partition_count() > 1 && from_union(&plan) {
            return Ok(in_order(plan, None));
        }
        Ok(plan)
    }

    fn name(&self) -> &str {
        "union_inputs_in_order"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

fn in_order(input: Arc<dyn ExecutionPlan>, fetch: Option<usize>) -> Arc<dyn ExecutionPlan> {
    let concat: Arc<dyn ExecutionPlan> = Arc::new(PartitionsInOrder::new(input));
    match fetch {
        Some(n) => Arc::new(GlobalLimitExec::new(concat, 0, Some(n))),
        None => concat,
    }
}

/// Whether the partitions of `node` are a union's inputs, each still whole and in order.
fn from_union(node: &Arc<dyn ExecutionPlan>) -> bool {
    if node.is::<UnionExec>() {
        return true;
    }
    let keeps_partitions = matches!(
        node.name(),
        "ProjectionExec" | "FilterExec" | "CoalesceBatchesExec" | "LocalLimitExec" | "CooperativeExec"
    );
    match node.children().as_slice() {
        [child] if keeps_partitions => from_union(child),
        _ => false,
    }
}

/// One partition: the input's partitions read one after the other.
#[derive(Debug)]
struct PartitionsInOrder {
    input: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
}

impl PartitionsInOrder {
    fn new(input: Arc<dyn ExecutionPlan>) -> Self {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(input.schema()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        PartitionsInOrder { input, properties: Arc::new(properties) }
    }
}

impl DisplayAs for PartitionsInOrder {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PartitionsInOrder")
    }
}

impl ExecutionPlan for PartitionsInOrder {
    fn name(&self) -> &'static str {
        "PartitionsInOrder"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(PartitionsInOrder::new(children.swap_remove(0))))
    }

    #[allow(deprecated)]
    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn execute(&self, _partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let input = self.input.clone();
        let count = input.output_partitioning().partition_count();
        // Each partition starts only when the one before it is done.
        let batches = futures::stream::iter(0..count).flat_map(move |partition| {
            match input.execute(partition, context.clone()) {
                Ok(stream) => stream,
                Err(e) => {
                    Box::pin(RecordBatchStreamAdapter::new(input.schema(), futures::stream::once(async { Err(e) })))
                }
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.input.schema(), batches)))
    }
}
