//! `report`: a self-contained HTML page of adoption and quota panels, each computed by SQL
//! through the same engine as `query`, with charts as inline SVG.

pub mod charts;
pub mod html;
pub mod spec;

use datafusion::arrow::array::RecordBatch;
use serde_json::Value;

use crate::dates::DateRange;
use crate::output::json_value;
use spec::Panel;

/// A panel's answer: column names and rows of values exactly as `query --json` prints them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    pub fn from_batches(columns: Vec<String>, batches: &[RecordBatch]) -> Table {
        let mut rows = Vec::new();
        for batch in batches {
            for row in 0..batch.num_rows() {
                rows.push(batch.columns().iter().map(|c| json_value(c.as_ref(), row)).collect());
            }
        }
        Table { columns, rows }
    }
}

pub struct PanelResult {
    pub panel: Panel,
    /// The SQL as run, dates filled in.
    pub sql: String,
    pub table: Table,
    /// The same SQL over the previous period of the same length (figure panels).
    pub previous: Option<Table>,
}

pub struct Report {
    pub title: String,
    pub range: DateRange,
    pub source: String,
    pub generated_at: String,
    pub panels: Vec<PanelResult>,
}

/// Panel SQL may name the report's first and last day as `{start_date}` and `{end_date}`.
pub fn fill_dates(sql: &str, range: &DateRange) -> String {
    sql.replace("{start_date}", &range.start.to_string()).replace("{end_date}", &range.end.to_string())
}

/// The text of a value as a chart label.
pub fn label_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".to_string(),
        other => other.to_string(),
    }
}

/// The value as a number, when it is one.
pub fn number_of(value: &Value) -> Option<f64> {
    value.as_f64()
}
