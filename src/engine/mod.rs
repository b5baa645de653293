//! The SQL engine: a DataFusion `SessionContext` with the four tables registered over the
//! cached Parquet files of one range, and the DuckDB compatibility layer in front. An engine
//! holds its cache lease: the files it reads stay in place for as long as it lives.

mod compat;
mod correlated_keys;
mod day_filter;
pub(crate) mod explore;
#[cfg(test)]
mod harness;
mod held_types;
mod known_files;

pub(crate) use known_files::check_cache_path;
mod listing;
mod nested_order;
mod options;
mod outer_value_subqueries;
mod output_names;
mod planning_errors;
mod recursions;
mod shredded;
mod sort_keys;
mod union_order;
mod yielding;

pub(crate) use day_filter::DaySpan;
pub(crate) use options::EngineOptions;

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{DescribeAlias, Statement};

pub(crate) use compat::types::{duckdb_type_name, sql_type_name};
pub(crate) use listing::all_columns;

use crate::cache::{KnownFile, SourceLock};
use crate::category::Category;
use crate::error::{Error, Result};
use crate::shred;
use known_files::KnownFilesTable;
use shredded::{ReadShreddedColumns, ShreddedTable};

pub(crate) struct Engine {
    ctx: SessionContext,
    /// The shared cache lock the registered files are read under (none for a session over no
    /// cached files).
    _lease: Option<Arc<SourceLock>>,
    /// The event types of the `activity` files registered, when they all list theirs.
    held_types: std::sync::Mutex<Option<std::collections::BTreeSet<String>>>,
}

/// What a statement is planned for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// To be run: subqueries DataFusion cannot plan are computed first.
    Running,
    /// To learn the days it reads, from its filters on `ts`.
    ReadingDays,
}

/// The name a category's table is registered under. Unquoted identifiers are folded to lower
/// case by the planner; the compatibility layer folds quoted ones that name a table.
pub(crate) fn table_name(category: Category) -> String {
    category.name().to_lowercase()
}

/// SQL read as DuckDB's dialect, rewritten for this engine and checked read-only: the
/// statements to plan, and the tables they read (the categories to fetch).
pub(crate) struct Prepared {
    pub(crate) statements: Vec<Statement>,
    pub(crate) categories: Vec<Category>,
}

impl Prepared {
    pub(crate) fn new(sql: &str) -> Result<Prepared> {
        let statements = compat::prepare(sql)?;
        let categories = compat::referenced_categories(&statements);
        Ok(Prepared { statements, categories })
    }

    /// The tables any of `statements` read.
    pub(crate) fn categories_of(statements: &[Statement]) -> Vec<Category> {
        compat::referenced_categories(statements)
    }
}

impl Engine {
    pub(crate) fn new(options: EngineOptions, lease: Option<Arc<SourceLock>>) -> Result<Engine> {
        let mut config = SessionConfig::new().with_target_partitions(options.partitions.max(1));
        let settings = config.options_mut();
        // Evaluate selective filters (and the JSON functions in them) inside the Parquet scan.
        settings.execution.parquet.pushdown_filters = true;
        settings.execution.parquet.reorder_filters = true;
        // DuckDB's rules: NULLs sort last in both directions; `2.5` is a DECIMAL, not a DOUBLE.
        settings.sql_parser.default_null_ordering = "nulls_last".into();
        settings.sql_parser.parse_float_as_decimal = true;
        let mut runtime =
            datafusion::execution::runtime_env::RuntimeEnvBuilder::new().with_memory_limit(options.memory_limit, 1.0);
        if let Some(dir) = &options.spill_dir {
            runtime = runtime.with_temp_file_path(dir);
        }
        let runtime = runtime.build_arc().map_err(Error::query)?;
        let state = datafusion::execution::SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_default_features()
            .with_expr_planners(compat::expr_planners())
            .with_optimizer_rules(sort_keys::optimizer_rules())
            .with_physical_optimizer_rule(Arc::new(yielding::YieldAfterJoins))
            .with_physical_optimizer_rule(Arc::new(union_order::UnionInputsInOrder))
            .build();
        let mut ctx = SessionContext::new_with_state(state);
        compat::register(&mut ctx).map_err(Error::query)?;
        listing::register_information_schema(&ctx)?;
        if options.shredding {
            ctx.add_analyzer_rule(Arc::new(ReadShreddedColumns));
        }
        // After the shredded columns: a JSON key read from one is a column already.
        ctx.add_analyzer_rule(Arc::new(correlated_keys::CorrelatedKeysAsColumns));
        ctx.add_analyzer_rule(Arc::new(nested_order::NestedOrderAsDuckDb));
        Ok(Engine { ctx, _lease: lease, held_types: std::sync::Mutex::new(None) })
    }

    /// Registers `category` as a table over exactly these cached files (none: an empty table,
    /// so that `DESCRIBE` and `SHOW TABLES` work without data, and a plan over it shows the
    /// filters its scans take, as over files).
    pub(crate) fn register(&self, category: Category, files: &[KnownFile]) -> Result<()> {
        let table = KnownFilesTable::new(shred::cached_schema(category), files)?;
        let table: Arc<dyn TableProvider> =
            if category == Category::Activity { Arc::new(ShreddedTable::new(table)) } else { Arc::new(table) };
        self.ctx.register_table(table_name(category), table).map_err(Error::query)?;
        if category == Category::Activity
            && let Ok(mut held) = self.held_types.lock()
        {
            *held = held_types::of_files(files);
        }
        Ok(())
    }

    /// Warnings for the names `statement` reads that the data never holds: event types it
    /// compares `type` with that the days registered lack (when the cache says which types its
    /// files hold), payload keys in another case than the payloads'.
    pub(crate) fn names_not_held(&self, statement: &Statement) -> Vec<String> {
        if !compat::referenced_categories(std::slice::from_ref(statement)).contains(&Category::Activity) {
            return Vec::new();
        }
        let mut warnings = held_types::miscased_keys(statement);
        if let Ok(Some(held)) = self.held_types.lock().as_deref() {
            warnings.extend(held_types::warnings(statement, held));
        }
        warnings
    }

    /// Plans one prepared (read-only, rewritten) statement, without running it.
    pub(crate) async fn plan(&self, statement: Statement) -> Result<DataFrame> {
        self.plan_for(statement, Purpose::Running).await
    }

    async fn plan_for(&self, statement: Statement, purpose: Purpose) -> Result<DataFrame> {
        if let Some(batch) = listing::duckdb_listing(&statement)? {
            return self.ctx.read_batch(batch).map_err(Error::query);
        }
        // `DESCRIBE <query>`: the columns of the query as planned here, named as DuckDB names them.
        if let Statement::Explain {
            describe_alias: DescribeAlias::Describe | DescribeAlias::Desc,
            statement: inner,
            ..
        } = &statement
            && matches!(inner.as_ref(), Statement::Query(_))
        {
            let described = Box::pin(self.plan((**inner).clone())).await?;
            let batch = listing::describe_result(described.schema().as_arrow())?;
            return self.ctx.read_batch(batch).map_err(Error::query);
        }
        let mut statement = statement;
        // Recursive CTEs DataFusion cannot run: computed first (not to learn the days read),
        // their rows registered until the plan is built.
        let _computed = match purpose {
            Purpose::Running => Some(recursions::computed(self, &mut statement).await?),
            Purpose::ReadingDays => None,
        };
        let state = self.ctx.state();
        let aliases = compat::written_aliases(&statement);
        // DuckDB's COLUMNS(...), UNPIVOT and PIVOT: expanded once probes say which columns and
        // values they cover.
        let aggregates = state.aggregate_functions().keys().cloned().collect::<std::collections::HashSet<_>>();
        // A name DuckDB matches in another case: spelled as the column is, and planned again.
        let respelled = |statement: &mut Statement, e: &datafusion::error::DataFusionError| {
            planning_errors::field_in_other_case(e)
                .is_some_and(|(written, actual)| compat::spell_as(statement, &written, &actual))
        };
        // Each expansion writes out one construct; a bound keeps one that finds its own output
        // again from expanding for ever.
        let mut expansions_left = 256;
        'expanding: while let Some(expansion) = compat::next_expansion(&statement) {
            expansions_left -= 1;
            if expansions_left == 0 {
                return Err(Error::Query(
                    "the query has more than 256 constructs to write out (stars, PIVOTs, joins computed apart): split it into several queries".into(),
                ));
            }
            let mut planned = Vec::with_capacity(expansion.plans.len());
            for probe in &expansion.plans {
                let plan = match state.statement_to_plan(DFStatement::Statement(Box::new(probe.clone()))).await {
                    Ok(plan) => plan,
                    Err(e) if respelled(&mut statement, &e) => continue 'expanding,
                    Err(e) => return Err(compat::explained(Error::query(e))),
                };
                planned.push(
                    plan.schema().iter().map(|(q, f)| (q.map(|q| q.table().to_string()), f.name().clone())).collect(),
                );
            }
            let mut texts = Vec::with_capacity(expansion.runs.len());
            for probe in &expansion.runs {
                let plan = match state.statement_to_plan(DFStatement::Statement(Box::new(probe.clone()))).await {
                    Ok(plan) => plan,
                    Err(e) if respelled(&mut statement, &e) => continue 'expanding,
                    Err(e) => return Err(compat::explained(Error::query(e))),
                };
                texts.push(self.plan_texts(plan).await?);
            }
            compat::expand(&mut statement, expansion, &planned, &texts, &|name| aggregates.contains(name))?;
        }
        // Each retry below rewrites the statement once; a bound keeps a rewrite that feeds
        // itself (an alias defined by its own name) from retrying for ever.
        let mut retries_left = 64;
        let plan = loop {
            // An ORDER BY ALL over a `*`: DataFusion's would order by nothing; by position instead.
            let attempt = match compat::ordered_by_all(&statement) {
                Some(options) => {
                    match state.statement_to_plan(DFStatement::Statement(Box::new(compat::unordered(&statement)))).await
                    {
                        Ok(plan) => {
                            compat::order_by_positions(&mut statement, plan.schema().fields().len(), options);
                            continue;
                        }
                        Err(e) => Err(e),
                    }
                }
                None => state.statement_to_plan(DFStatement::Statement(Box::new(statement.clone()))).await,
            };
            let error = match attempt {
                Ok(plan) => break plan,
                Err(e) if retries_left == 0 => return Err(compat::explained(Error::query(e))),
                Err(e) => e,
            };
            retries_left -= 1;
            // An alias naming fewer columns than its table has: the others keep their names.
            let message = error.to_string();
            if let Some(given) = compat::partial_aliases::names_given(&message) {
                let mut columns = Vec::new();
                for probe in compat::partial_aliases::probes(&statement, given) {
                    let planned = match probe {
                        Some(probe) => state.statement_to_plan(DFStatement::Statement(Box::new(probe))).await.ok(),
                        None => None,
                    };
                    columns.push(planned.map(|p| p.schema().fields().iter().map(|f| f.name().clone()).collect()));
                }
                if compat::partial_aliases::complete(&mut statement, given, &columns) {
                    continue;
                }
            }
            // DuckDB's aliases used later in the same SELECT: replaced, and planned again.
            if planning_errors::missing_field(&error).is_some_and(|name| compat::expand_alias(&mut statement, &name))
                || respelled(&mut statement, &error)
                // A table's name as a column: DuckDB's row of that table.
                || planning_errors::missing_table_row(&error)
                    .is_some_and(|(table, columns)| compat::table_as_row(&mut statement, &table, &columns))
                // A condition that is a number: DuckDB's cast to BOOLEAN.
                || compat::boolean_filters::refused(&message)
                    && compat::boolean_filters::cast_to_booleans(&mut statement)
                // Two result columns of one name, as DuckDB gives them: the later numbered.
                || compat::duplicated_name(&message)
                    .is_some_and(|name| compat::renumber(&mut statement, &name))
            {
                continue;
            }
            return Err(compat::explained(Error::query(error)));
        };
        // (Computing them runs queries: not to learn which days a statement reads.)
        let plan = match purpose == Purpose::Running && outer_value_subqueries::unplannable(&state, &plan).await {
            true => outer_value_subqueries::computed(&self.ctx, &plan).await?.unwrap_or(plan),
            false => plan,
        };
        SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false)
            .verify_plan(&plan)
            .map_err(Error::query)?;
        let plan = output_names::as_written(plan, &aliases)?;
        self.ctx.execute_logical_plan(plan).await.map_err(Error::query)
    }

    /// The days `statements` can read of `activity` and `apiUsage`, by their filters on `ts`
    /// (see [`day_filter`]); `None` when one reads every day, or cannot be planned here.
    pub(crate) async fn days_read(&self, statements: &[Statement]) -> Option<Vec<DaySpan>> {
        let mut spans = Vec::new();
        for statement in statements {
            let plan = self.plan_for(statement.clone(), Purpose::ReadingDays).await.ok()?.into_optimized_plan().ok()?;
            spans.extend(day_filter::days_read(&plan)?);
        }
        Some(spans)
    }

    /// The names of the functions SQL can call here, sorted (for completion).
    pub(crate) fn function_names(&self) -> Vec<String> {
        let state = self.ctx.state();
        let mut names: Vec<String> = state
            .scalar_functions()
            .keys()
            .chain(state.aggregate_functions().keys())
            .chain(state.window_functions().keys())
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Runs one statement and collects its first column as text (NULLs left out).
    pub(crate) async fn first_column_texts(&self, sql: &str) -> Result<Vec<String>> {
        let [statement] =
            <[_; 1]>::try_from(compat::prepare(sql)?).map_err(|_| Error::Usage("give one statement".into()))?;
        let batches = self.plan(statement).await?.collect().await.map_err(Error::query)?;
        first_column(batches)
    }

    /// Runs a planned probe, and collects its first column.
    async fn plan_texts(&self, plan: LogicalPlan) -> Result<Vec<String>> {
        let batches =
            self.ctx.execute_logical_plan(plan).await.map_err(Error::query)?.collect().await.map_err(Error::query)?;
        first_column(batches)
    }

    /// Plans one statement and starts running it.
    pub(crate) async fn execute(&self, statement: Statement) -> Result<SendableRecordBatchStream> {
        self.plan(statement).await?.execute_stream().await.map_err(Error::query)
    }
}

#[async_trait::async_trait]
impl recursions::Planner for Engine {
    fn session(&self) -> &SessionContext {
        &self.ctx
    }

    async fn planned(&self, statement: Statement) -> Result<DataFrame> {
        self.plan_for(statement, Purpose::Running).await
    }
}

/// The first column of the batches as text (NULLs left out).
fn first_column(batches: Vec<datafusion::arrow::array::RecordBatch>) -> Result<Vec<String>> {
    let mut texts = Vec::new();
    for batch in batches {
        let column = datafusion::arrow::compute::cast(batch.column(0), &datafusion::arrow::datatypes::DataType::Utf8)
            .map_err(|e| Error::query(e.into()))?;
        let column = datafusion::arrow::array::AsArray::as_string::<i32>(&column);
        texts.extend(column.iter().flatten().map(str::to_string));
    }
    Ok(texts)
}

#[cfg(test)]
mod tests;
