//! Recursive CTEs DataFusion cannot run (see `compat::recursions` for which), computed here
//! iteration by iteration as DuckDB defines them: each iteration runs the step over the rows
//! the one before gave (`t`) and the rows kept so far (`recurring.t`), until one gives none.
//! With DuckDB's `USING KEY`, the rows kept are one per key — each other column the latest
//! value, or the aggregate the key list names, over every row the key had — and with UNION (not
//! ALL) an iteration reads only the kept rows that changed. Without a key, UNION ALL keeps every
//! row and UNION each new one once. The rows are registered as tables for as long as the
//! statement's plan is built (a plan holds the tables it reads).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;

use super::compat::recursions::{self, Recursion, new_rows_sql};
use crate::error::{Error, Result};

/// What plans the statements of the iterations: the engine, as it plans any statement (to be
/// run), so that they go through the whole compatibility layer.
#[async_trait::async_trait]
pub(super) trait Planner: Sync {
    fn session(&self) -> &SessionContext;
    async fn planned(&self, statement: Statement) -> Result<datafusion::prelude::DataFrame>;
}

/// Iterations one recursive CTE may take; DuckDB takes as many as it needs, so a step that
/// never ends would run for ever.
const MOST_ITERATIONS: usize = 100_000;

/// Rows one recursive CTE may keep (they are held in memory).
const MOST_ROWS: usize = 10_000_000;

/// Recursive CTEs one statement may hold.
const MOST_RECURSIONS: usize = 64;

/// Numbers the tables of computed rows, so that statements planned inside others (and sessions
/// that plan one statement after another) never share a name.
static TABLES: AtomicUsize = AtomicUsize::new(0);

/// The tables of computed rows; they leave the session when this is dropped.
pub(super) struct Computed {
    ctx: SessionContext,
    names: Vec<String>,
}

impl Drop for Computed {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = self.ctx.deregister_table(name.as_str());
        }
    }
}

impl Computed {
    fn table(&mut self, rows: &Rows) -> Result<String> {
        let name = format!("__recursion_{}", TABLES.fetch_add(1, Ordering::Relaxed));
        let table = MemTable::try_new(rows.schema.clone(), vec![rows.batches.clone()]).map_err(Error::query)?;
        self.ctx.register_table(name.as_str(), Arc::new(table)).map_err(Error::query)?;
        self.names.push(name.clone());
        Ok(name)
    }

    fn release(&mut self, name: &str) {
        let _ = self.ctx.deregister_table(name);
        self.names.retain(|n| n != name);
    }
}

/// Computes the recursive CTEs of `statement` that DataFusion cannot run, and makes each read
/// the table of its rows.
pub(super) async fn computed(engine: &dyn Planner, statement: &mut Statement) -> Result<Computed> {
    let mut computed = Computed { ctx: engine.session().clone(), names: Vec::new() };
    for _ in 0..MOST_RECURSIONS {
        let Some(found) = recursions::next(statement) else { return Ok(computed) };
        let recursion = found?;
        let rows = iterated(engine, &recursion, &mut computed).await?;
        let table = computed.table(&rows)?;
        recursions::replace(statement, &recursion, &table);
    }
    Err(Error::Query(format!(
        "the query has more than {MOST_RECURSIONS} recursive CTEs to compute: split it into several queries"
    )))
}

/// Rows of one schema.
#[derive(Clone)]
struct Rows {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl Rows {
    fn len(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// These rows in `schema`'s columns (by position) and types.
    fn conformed(self, schema: &SchemaRef, cte: &str) -> Result<Rows> {
        let options = CastOptions { safe: false, ..CastOptions::default() };
        let mut batches = Vec::with_capacity(self.batches.len());
        for batch in self.batches {
            if batch.num_columns() != schema.fields().len() {
                return Err(Error::Query(format!(
                    "the step of the recursive CTE {cte} gives {} columns and its start {}: give both the same columns",
                    batch.num_columns(),
                    schema.fields().len()
                )));
            }
            let columns = batch
                .columns()
                .iter()
                .zip(schema.fields())
                .map(|(column, field)| {
                    cast_with_options(column, field.data_type(), &options).map_err(|e| {
                        Error::Query(format!(
                            "the recursive CTE {cte} gives its column {} ({}) a value of another type: {}",
                            field.name(),
                            super::compat::types::duckdb_type_name(field.data_type()),
                            crate::error::one_line(&e.to_string())
                        ))
                    })
                })
                .collect::<Result<Vec<ArrayRef>>>()?;
            batches.push(RecordBatch::try_new(schema.clone(), columns).map_err(|e| Error::query(e.into()))?);
        }
        Ok(Rows { schema: schema.clone(), batches })
    }

    /// These rows followed by `more`.
    fn append(&mut self, more: &Rows) {
        self.batches.extend(more.batches.iter().cloned());
    }

    /// These rows with their order in `__seq`, from `first`.
    fn numbered(&self, first: usize) -> Result<Rows> {
        let mut fields: Vec<Field> = self.schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new("__seq", DataType::Int64, false));
        let schema = Arc::new(Schema::new(fields));
        let mut next = first as i64;
        let mut batches = Vec::with_capacity(self.batches.len());
        for batch in &self.batches {
            let rows = batch.num_rows() as i64;
            let mut columns = batch.columns().to_vec();
            columns.push(Arc::new(Int64Array::from_iter_values(next..next + rows)));
            next += rows;
            batches.push(RecordBatch::try_new(schema.clone(), columns).map_err(|e| Error::query(e.into()))?);
        }
        Ok(Rows { schema, batches })
    }
}

async fn run(engine: &dyn Planner, statement: Statement) -> Result<Rows> {
    let frame = engine.planned(statement).await?;
    let schema = Arc::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await.map_err(Error::query)?;
    Ok(Rows { schema, batches })
}

/// The rows of the statement `written` makes of the names `rows` are registered under, which
/// leave the session again once it has run.
async fn run_over(
    engine: &dyn Planner,
    computed: &mut Computed,
    rows: &[&Rows],
    written: impl FnOnce(&[String]) -> Result<Statement>,
) -> Result<Rows> {
    let mut names = Vec::with_capacity(rows.len());
    for table in rows {
        names.push(computed.table(table)?);
    }
    let ran = match written(&names) {
        Ok(statement) => run(engine, statement).await,
        Err(e) => Err(e),
    };
    for name in &names {
        computed.release(name);
    }
    ran
}

/// The one statement of DuckDB SQL `sql`, prepared.
fn prepared(sql: &str) -> Result<Statement> {
    let statement = super::compat::prepare(sql)?.into_iter().next();
    statement.ok_or_else(|| Error::Query(format!("no statement in {sql}")))
}

async fn iterated(engine: &dyn Planner, recursion: &Recursion, computed: &mut Computed) -> Result<Rows> {
    let rows = iterations(engine, recursion, computed).await;
    // The CTE is computed on its own, before the query around it: a column of that query (a
    // LATERAL's outer row) is not found.
    rows.map_err(|e| match e {
        Error::Query(message) if message.contains("not found") => Error::Query(format!(
            "the recursive CTE {} is computed on its own, and reads a column it does not have ({message}): it cannot read the row of a query around it, join that query inside it instead",
            recursion.name
        )),
        other => other,
    })
}

async fn iterations(engine: &dyn Planner, recursion: &Recursion, computed: &mut Computed) -> Result<Rows> {
    let start = run(engine, recursion.start()).await?;
    // The start's types, named as the CTE's column list says; every column may be NULL.
    let fields: Vec<Field> = start
        .schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| Field::new(recursion.columns.get(i).unwrap_or(f.name()), f.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let start = start.conformed(&schema, &recursion.name)?;
    if recursion.keyed() {
        keyed(engine, recursion, computed, start).await
    } else {
        unkeyed(engine, recursion, computed, start).await
    }
}

/// Whether iteration `iteration` (from 0) is to run, given the rows it would read; an error once
/// the bounds are passed.
fn goes_on(recursion: &Recursion, iteration: usize, working: &Rows, kept: usize) -> Result<bool> {
    if working.len() == 0 || (iteration > 0 && !recursion.reads_itself) {
        return Ok(false);
    }
    if iteration >= MOST_ITERATIONS {
        return Err(Error::Query(format!(
            "the recursive CTE {} did not end after {MOST_ITERATIONS} iterations: give its step a condition that ends it",
            recursion.name
        )));
    }
    if kept > MOST_ROWS {
        return Err(Error::Query(format!(
            "the recursive CTE {} kept more than {MOST_ROWS} rows: give its step a condition that ends it sooner",
            recursion.name
        )));
    }
    Ok(true)
}

/// One iteration's rows: the step over `working` and `recurring`, in the start's columns
/// (`schema`).
async fn step(
    engine: &dyn Planner,
    recursion: &Recursion,
    computed: &mut Computed,
    (working, recurring): (&Rows, &Rows),
    schema: &SchemaRef,
) -> Result<Rows> {
    let ran =
        run_over(engine, computed, &[working, recurring], |names| Ok(recursion.step(&names[0], &names[1]))).await?;
    ran.conformed(schema, &recursion.name)
}

/// The rows of `rows` that `before` does not hold, each once.
async fn new_rows(
    engine: &dyn Planner,
    recursion: &Recursion,
    computed: &mut Computed,
    rows: &Rows,
    before: &Rows,
) -> Result<Rows> {
    let new =
        run_over(engine, computed, &[rows, before], |names| prepared(&new_rows_sql(&names[0], &names[1]))).await?;
    new.conformed(&rows.schema, &recursion.name)
}

async fn unkeyed(engine: &dyn Planner, recursion: &Recursion, computed: &mut Computed, start: Rows) -> Result<Rows> {
    let start_schema = start.schema.clone();
    let nothing = Rows { schema: start.schema.clone(), batches: Vec::new() };
    let mut kept =
        if recursion.union_all { start } else { new_rows(engine, recursion, computed, &start, &nothing).await? };
    let mut working = kept.clone();
    let mut iteration = 0;
    while goes_on(recursion, iteration, &working, kept.len())? {
        let rows = step(engine, recursion, computed, (&working, &kept), &start_schema).await?;
        working = if recursion.union_all { rows } else { new_rows(engine, recursion, computed, &rows, &kept).await? };
        kept.append(&working);
        iteration += 1;
    }
    Ok(kept)
}

async fn keyed(engine: &dyn Planner, recursion: &Recursion, computed: &mut Computed, start: Rows) -> Result<Rows> {
    let start_schema = start.schema.clone();
    let columns: Vec<String> = start.schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut history = start.numbered(0)?;
    let mut kept = kept_rows(engine, recursion, computed, &history, &columns).await?;
    let mut working = if recursion.union_all { start } else { kept.clone() };
    let mut iteration = 0;
    while goes_on(recursion, iteration, &working, history.len())? {
        let rows = step(engine, recursion, computed, (&working, &kept), &start_schema).await?;
        history.append(&rows.numbered(history.len())?);
        let now_kept = kept_rows(engine, recursion, computed, &history, &columns).await?;
        working =
            if recursion.union_all { rows } else { new_rows(engine, recursion, computed, &now_kept, &kept).await? };
        kept = now_kept;
        // Without aggregates, the latest row of each key is all later iterations need.
        if recursion.latest_values_only() {
            history = kept.clone().conformed(&start_schema, &recursion.name)?.numbered(0)?;
        }
        iteration += 1;
    }
    Ok(kept)
}

async fn kept_rows(
    engine: &dyn Planner,
    recursion: &Recursion,
    computed: &mut Computed,
    history: &Rows,
    columns: &[String],
) -> Result<Rows> {
    run_over(engine, computed, &[history], |names| prepared(&recursion.kept_rows_sql(&names[0], columns)?)).await
}
