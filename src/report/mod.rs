//! `report`: a self-contained HTML page of adoption and quota panels, each computed by SQL
//! through the same engine as `query`, with charts as inline SVG.
//!
//! A [`ReportPlan`] checks every panel's SQL and says which tables and ranges it reads; the
//! caller brings engines over those ranges, and the plan runs its panels on them.

mod charts;
pub mod format;
mod html;
pub(crate) use html::SIGNATURE;
pub(crate) mod spec;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::sql::sqlparser::ast::Statement;
use serde_json::Value;

use crate::category::Category;
use crate::dates::DateRange;
use crate::encode::json_value;
use crate::engine::{Engine, Prepared};
use crate::error::{Error, Result};
use spec::{ChartKind, Panel, Spec};

/// A panel's answer: column names and rows of values exactly as `query --json` prints them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    fn from_batches(columns: Vec<String>, batches: &[RecordBatch]) -> Table {
        let mut rows = Vec::new();
        for batch in batches {
            for row in 0..batch.num_rows() {
                rows.push(batch.columns().iter().map(|c| json_value(c.as_ref(), row)).collect());
            }
        }
        Table { columns, rows }
    }
}

struct PanelResult {
    panel: Panel,
    /// The SQL as run, dates filled in.
    sql: String,
    table: Table,
    /// The same SQL over the previous period of the same length (figure panels).
    previous: Option<Table>,
}

struct Report {
    title: String,
    range: DateRange,
    source: String,
    generated_at: String,
    panels: Vec<PanelResult>,
}

/// A report whose SQL has been checked, not yet run.
pub(crate) struct ReportPlan {
    title: String,
    range: DateRange,
    /// The period just before, for the change shown on figure panels.
    previous: Option<DateRange>,
    panels: Vec<(Panel, String, Statement)>,
}

impl ReportPlan {
    /// Every panel's SQL is checked here, before anything is fetched.
    pub(crate) fn new(spec: &Spec, range: DateRange) -> Result<ReportPlan> {
        let mut panels = Vec::new();
        for panel in spec.all_panels()? {
            let sql = fill_dates(&panel.sql, &range);
            let statements = Prepared::new(&sql).map_err(|e| in_panel(&panel, e))?.statements;
            let [statement] = <[Statement; 1]>::try_from(statements).map_err(|s| {
                Error::Query(format!("panel '{}' has {} SQL statements: give each panel one", panel.title, s.len()))
            })?;
            panels.push((panel, sql, statement));
        }
        let has_figures = panels.iter().any(|p| p.0.chart == ChartKind::Figure);
        Ok(ReportPlan {
            title: spec.title.clone().unwrap_or_else(|| "CARTO activity report".into()),
            range,
            previous: previous_period(&range).filter(|_| has_figures),
            panels,
        })
    }

    /// The tables the panels read.
    pub(crate) fn categories(&self) -> Vec<Category> {
        Prepared::categories_of(&self.panels.iter().map(|p| p.2.clone()).collect::<Vec<_>>())
    }

    /// The ranges to bring engines over, in this order: the report's, then the previous period.
    pub(crate) fn ranges(&self) -> Vec<DateRange> {
        std::iter::once(self.range).chain(self.previous).collect()
    }

    /// Runs every panel on the engines of [`ReportPlan::ranges`] and renders the page.
    pub(crate) async fn render(self, engines: &[Engine], source: String) -> Result<(String, usize)> {
        let (Some(engine), previous_engine) = (engines.first(), engines.get(1)) else {
            return Err(Error::Internal("a report was run without an engine".into()));
        };
        let mut panels = Vec::with_capacity(self.panels.len());
        for (panel, sql, statement) in self.panels {
            let table = run_panel(engine, &panel, statement.clone()).await?;
            let previous = match previous_engine {
                Some(engine) if panel.chart == ChartKind::Figure => Some(run_panel(engine, &panel, statement).await?),
                _ => None,
            };
            panels.push(PanelResult { panel, sql, table, previous });
        }
        let count = panels.len();
        let report = Report {
            title: self.title,
            range: self.range,
            source,
            generated_at: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            panels,
        };
        // Drawing is the report's one long piece of computing: off the async workers, so that
        // Ctrl-C and SIGTERM are heard while it runs.
        let page = tokio::task::spawn_blocking(move || html::render(&report))
            .await
            .map_err(|e| Error::internal("drawing the report")(e.to_string()))?;
        Ok((page, count))
    }
}

/// Panel SQL may name the report's first and last day as `{start_date}` and `{end_date}`.
fn fill_dates(sql: &str, range: &DateRange) -> String {
    sql.replace("{start_date}", &range.start.to_string()).replace("{end_date}", &range.end.to_string())
}

/// The period of the same length just before `range`, when the data can reach it.
fn previous_period(range: &DateRange) -> Option<DateRange> {
    let days = chrono::Days::new(range.len_days() as u64);
    let start = range.start.checked_sub_days(days)?;
    let end = range.start.pred_opt()?;
    (start >= crate::dates::EARLIEST).then(|| DateRange::new(start, end).ok()).flatten()
}

/// A panel's failure, named after the panel.
fn in_panel(panel: &Panel, error: Error) -> Error {
    match error {
        Error::Query(message) => Error::Query(format!("panel '{}': {message}", panel.title)),
        Error::WriteRefused(_) => Error::Query(format!("panel '{}': {error}", panel.title)),
        other => other,
    }
}

async fn run_panel(engine: &Engine, panel: &Panel, statement: Statement) -> Result<Table> {
    let frame = engine.plan(statement).await.map_err(|e| in_panel(panel, e))?;
    let typed: Vec<(String, DataType)> =
        frame.schema().fields().iter().map(|f| (f.name().clone(), f.data_type().clone())).collect();
    panel.chart.check_columns(&typed).map_err(|why| in_panel(panel, Error::Query(why)))?;
    let columns = typed.into_iter().map(|(name, _)| name).collect();
    let batches = frame.collect().await.map_err(|e| in_panel(panel, Error::query(e)))?;
    Ok(Table::from_batches(columns, &batches))
}
