//! JSON shredding. DuckDB-style queries read event payloads with
//! `json_extract_string(data, '$.userId')`, which makes an engine parse every payload on every
//! query. Since we write the cache ourselves, ingest parses each payload once and stores the
//! most used paths as hidden text columns beside `data`; an analyzer rule then reads those
//! columns wherever a plan extracts one of these paths from the `activity` table's `data`.
//!
//! A hidden column holds exactly what `json_as_text(data, path...)` returns for its row (the
//! same first-match, null and raw-text rules), so a query gives the same answer with shredding on
//! or off; everything else (other paths, `->`, arrays) is still parsed from `data`.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema};
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::{TableType, provider_as_source, source_as_provider};
use datafusion::error::Result as DFResult;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    Expr, LogicalPlan, Projection, TableProviderFilterPushDown, TableScan, TableScanBuilder,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::physical_plan::ExecutionPlan;
use jiter::{Jiter, JiterError, Peek};

use crate::category::Category;

/// The shredded paths of `activity.data`, each with its hidden column. Part of the cache layout:
/// changing this list means a new layout version.
const SHREDDED: &[(&str, &[&str])] = &[
    ("__data_userId", &["userId"]),
    ("__data_mapId", &["mapId"]),
    ("__data_workflowId", &["workflowId"]),
    ("__data_connectionId", &["connectionId"]),
    ("__data_conversationId", &["conversationId"]),
    ("__data_provider", &["provider"]),
    ("__data_runDuration", &["runDuration"]),
    ("__data_map_id", &["map", "id"]),
    ("__data_map_ownerId", &["map", "ownerId"]),
];

const HIDDEN_PREFIX: &str = "__data_";
/// The column the shredded paths come from.
const SOURCE_COLUMN: &str = "data";

static CACHED_ACTIVITY: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields: Vec<Field> = Category::Activity.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.extend(SHREDDED.iter().map(|(name, _)| Field::new(*name, DataType::Utf8, true)));
    Arc::new(Schema::new(fields))
});

/// The schema of a category's cached files: the category's own, plus the hidden columns.
pub fn cached_schema(category: Category) -> SchemaRef {
    match category {
        Category::Activity => CACHED_ACTIVITY.clone(),
        other => other.schema(),
    }
}

/// Adds the hidden columns to a batch of `category` in its normalised schema.
pub fn shred(category: Category, batch: &RecordBatch) -> Result<RecordBatch, String> {
    if category != Category::Activity {
        return Ok(batch.clone());
    }
    let data = batch
        .column_by_name(SOURCE_COLUMN)
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or_else(|| "activity rows have no text `data` column".to_string())?;
    let mut builders: Vec<StringBuilder> =
        SHREDDED.iter().map(|_| StringBuilder::with_capacity(data.len(), data.len() * 8)).collect();
    let mut filled = vec![false; SHREDDED.len()];
    for row in 0..data.len() {
        filled.fill(false);
        if data.is_valid(row) {
            // A payload that stops parsing keeps what was found before the fault, as
            // `json_as_text` (which reads no further than its key) would.
            let _ = shred_payload(data.value(row), &mut builders, &mut filled);
        }
        for (builder, done) in builders.iter_mut().zip(&filled) {
            if !done {
                builder.append_null();
            }
        }
    }
    let mut columns = batch.columns().to_vec();
    columns.extend(builders.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    RecordBatch::try_new(CACHED_ACTIVITY.clone(), columns).map_err(|e| e.to_string())
}

/// One pass over a payload's top-level object (and the objects under the first segment of
/// nested paths), appending each shredded path's value at its first occurrence.
fn shred_payload(json: &str, builders: &mut [StringBuilder], filled: &mut [bool]) -> Result<(), JiterError> {
    let mut jiter = Jiter::new(json.as_bytes());
    if jiter.peek()? != Peek::Object {
        return Ok(());
    }
    let mut parents_seen: Vec<&str> = Vec::new();
    let mut key = jiter.known_object()?;
    while let Some(k) = key {
        if let Some(slot) = SHREDDED.iter().position(|(_, path)| path.len() == 1 && path[0] == k) {
            if filled[slot] {
                jiter.next_skip()?;
            } else {
                append_value(json, &mut jiter, &mut builders[slot])?;
                filled[slot] = true;
            }
        } else if let Some((_, path)) = SHREDDED.iter().find(|(_, path)| path.len() == 2 && path[0] == k)
            && !parents_seen.contains(&path[0])
        {
            // Only the first object under a key is searched, as `json_as_text` does.
            parents_seen.push(path[0]);
            let parent = path[0];
            if jiter.peek()? == Peek::Object {
                let mut child = jiter.known_object()?;
                while let Some(c) = child {
                    let slot = SHREDDED.iter().position(|(_, p)| p.len() == 2 && p[0] == parent && p[1] == c);
                    match slot {
                        Some(slot) if !filled[slot] => {
                            append_value(json, &mut jiter, &mut builders[slot])?;
                            filled[slot] = true;
                        }
                        _ => jiter.next_skip()?,
                    }
                    child = jiter.next_key()?;
                }
            } else {
                jiter.next_skip()?;
            }
        } else {
            jiter.next_skip()?;
        }
        key = jiter.next_key()?;
    }
    Ok(())
}

/// `json_as_text`'s rendering: strings unescaped, null as NULL, anything else as its JSON text.
fn append_value(json: &str, jiter: &mut Jiter, builder: &mut StringBuilder) -> Result<(), JiterError> {
    match jiter.peek()? {
        Peek::Null => {
            jiter.known_null()?;
            builder.append_null();
        }
        Peek::String => builder.append_value(jiter.known_str()?),
        peek => {
            let start = jiter.current_index();
            jiter.known_skip(peek)?;
            // jiter stops on character boundaries; `get` keeps that an invariant, not an assumption.
            match json.get(start..jiter.current_index()) {
                Some(text) => builder.append_value(text),
                None => builder.append_null(),
            }
        }
    }
    Ok(())
}

/// The `activity` table over shredded cache files: it shows only `type`, `ts` and `data`, and
/// keeps the table with the hidden columns for [`ReadShreddedColumns`].
#[derive(Debug)]
pub struct ShreddedTable {
    full: Arc<ListingTable>,
    visible: SchemaRef,
}

impl ShreddedTable {
    /// `full` must be a table over cached activity files, in [`cached_schema`].
    pub fn new(full: ListingTable) -> ShreddedTable {
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
pub struct ReadShreddedColumns;

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

fn is_hidden(name: &str) -> bool {
    name.starts_with(HIDDEN_PREFIX)
}

fn has_hidden(schema: &DFSchema) -> bool {
    schema.fields().iter().any(|f| is_hidden(f.name()))
}

/// The plan's output without the hidden columns.
fn without_hidden(plan: Arc<LogicalPlan>) -> DFResult<LogicalPlan> {
    if !has_hidden(plan.schema()) {
        return Ok(Arc::unwrap_or_clone(plan));
    }
    let columns = plan
        .schema()
        .iter()
        .filter(|(_, field)| !is_hidden(field.name()))
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
            let available = hidden_columns(&node);
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
            let available = hidden_columns(&node);
            rewrite_expressions(node, &available)?.recompute_schema()
        }
        other => {
            let inputs =
                other.inputs().into_iter().map(|i| without_hidden(Arc::new(i.clone()))).collect::<DFResult<_>>()?;
            other.with_new_exprs(other.expressions(), inputs)
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
    projection
        .extend(full_schema.fields().iter().enumerate().filter(|(_, f)| is_hidden(f.name())).map(|(index, _)| index));
    let source = provider_as_source(full);
    TableScanBuilder::new(scan.table_name, source)
        .with_projection(Some(projection))
        .with_filters(scan.filters)
        .with_fetch(scan.fetch)
        .build()
        .map(LogicalPlan::TableScan)
}

fn hidden_columns(node: &LogicalPlan) -> HashSet<Column> {
    node.inputs()
        .iter()
        .flat_map(|input| input.schema().iter())
        .filter(|(_, field)| is_hidden(field.name()))
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
    let hidden = path.and_then(|path| SHREDDED.iter().find(|(_, p)| *p == path.as_slice()));
    match hidden {
        Some((name, _)) if data.name == SOURCE_COLUMN => {
            let column = Column::new(data.relation.clone(), *name);
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
            for (name, _) in SHREDDED {
                let hidden = Column::new(c.relation.clone(), *name);
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;
    use datafusion::arrow::array::TimestampMicrosecondArray;
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs};
    use proptest::prelude::*;

    fn batch(payloads: Vec<Option<&str>>) -> RecordBatch {
        let n = payloads.len();
        RecordBatch::try_new(
            Category::Activity.schema(),
            vec![
                Arc::new(StringArray::from(vec!["T"; n])),
                Arc::new(TimestampMicrosecondArray::from(vec![0; n]).with_timezone("UTC")),
                Arc::new(StringArray::from(payloads.into_iter().map(|p| p.unwrap_or("")).collect::<Vec<_>>())),
            ],
        )
        .unwrap()
    }

    /// What the engine's own `json_as_text` answers for every row and shredded path.
    fn json_as_text(data: &ArrayRef, path: &[&str]) -> Vec<Option<String>> {
        let udf = datafusion_functions_json::udfs::json_as_text_udf();
        let mut args = vec![ColumnarValue::Array(data.clone())];
        args.extend(path.iter().map(|p| ColumnarValue::Scalar(ScalarValue::Utf8(Some(p.to_string())))));
        let arg_fields = args.iter().map(|a| Arc::new(Field::new("a", a.data_type(), true))).collect();
        let out = udf
            .invoke_with_args(ScalarFunctionArgs {
                args,
                arg_fields,
                number_rows: data.len(),
                return_field: Arc::new(Field::new("r", DataType::Utf8, true)),
                config_options: Arc::new(ConfigOptions::default()),
            })
            .unwrap()
            .into_array(data.len())
            .unwrap();
        out.as_string::<i32>().iter().map(|v| v.map(str::to_string)).collect()
    }

    fn assert_same_as_json_as_text(payloads: Vec<&str>) {
        let input = batch(payloads.iter().copied().map(Some).collect());
        let shredded = shred(Category::Activity, &input).unwrap();
        assert_eq!(shredded.schema(), cached_schema(Category::Activity));
        for (column, path) in SHREDDED {
            let expected = json_as_text(input.column(2), path);
            let got: Vec<Option<String>> = shredded
                .column_by_name(column)
                .unwrap()
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect();
            assert_eq!(got, expected, "{column} over {payloads:?}");
        }
    }

    #[test]
    fn values_render_as_json_as_text_does() {
        assert_same_as_json_as_text(vec![
            r#"{"userId":"u-1","mapId":"m\"1\u00e9","runDuration":12.5,"map":{"id":"m-9","ownerId":null}}"#,
            r#"{"userId":null,"userId":"second","provider":{"a":[1,2]},"map":[1]}"#,
            r#"{"map":{"title":"x"},"map":{"id":"ignored"},"workflowId":true}"#,
            r#"{"connectionId":"c-1","broken": tru"#,
            r#"{"broken": [1, "userId":"u"}"#,
            r#"["userId","u"]"#,
            "not json",
            "",
            r#"{"userId":"ünïcödé ✓","conversationId":"c","map":{"ownerId":7,"id":{"deep":1}}}"#,
        ]);
    }

    #[test]
    fn other_categories_are_left_alone() {
        let b = RecordBatch::try_new(
            Category::GroupList.schema(),
            vec![Arc::new(StringArray::from(vec!["g"])), Arc::new(StringArray::from(vec!["G"]))],
        )
        .unwrap();
        assert_eq!(shred(Category::GroupList, &b).unwrap(), b);
    }

    fn json_value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            any::<i32>().prop_map(|n| n.to_string()),
            "[a-z\"\\\\é ]{0,6}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        ];
        leaf.prop_recursive(2, 12, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(|v| format!("[{}]", v.join(","))),
                proptest::collection::vec((key(), inner), 0..4).prop_map(|kv| {
                    format!("{{{}}}", kv.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(","))
                }),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("userId".to_string()),
            Just("map".to_string()),
            Just("id".to_string()),
            Just("ownerId".to_string()),
            Just("runDuration".to_string()),
            "[a-z]{1,3}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Random payloads (duplicate keys, nesting, every value kind, cut short) shred to what
        /// `json_as_text` answers.
        #[test]
        fn shredding_equals_json_as_text(
            pairs in proptest::collection::vec((key(), json_value()), 0..6),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut payload =
                format!("{{{}}}", pairs.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(","));
            if truncate {
                let mut at = cut.index(payload.len() + 1);
                while !payload.is_char_boundary(at) { at -= 1; }
                payload.truncate(at);
            }
            assert_same_as_json_as_text(vec![&payload]);
        }
    }
}
