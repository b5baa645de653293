//! Results drawn as text: DuckDB's box tables (cells cut, wide tables elided in the middle) and
//! Markdown.

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Field, Schema};

use crate::encode::display_text;
use crate::engine::duckdb_type_name;

/// Table cells longer than this are cut, as DuckDB cuts them, so that a row fits a screen.
const TABLE_CELL_CHARS: usize = 60;

/// DuckDB's box: light lines, a light rule under the header, no rules between rows.
const DUCKDB_BOX: &str = "││──├─┼┤│    ┬┴┌┐└┘";

fn is_numeric(field: &Field) -> bool {
    field.data_type().is_numeric()
}

/// Control characters written as escapes: data must not move the cursor, recolour or clear the
/// terminal it is printed on (an ESC in an event payload would).
pub(super) fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn cut(text: String) -> String {
    if text.chars().count() <= TABLE_CELL_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(TABLE_CELL_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// A box-drawn table with each column's name and type in the header, as DuckDB draws it.
pub fn render_table(schema: &Schema, batches: &[RecordBatch]) -> String {
    render_fitted_table(schema, batches, None)
}

/// [`render_table`] within `width` characters: while the table is wider, the middle column
/// left is replaced by one `…` column (the first and last columns stay).
pub(super) fn render_fitted_table(schema: &Schema, batches: &[RecordBatch], width: Option<usize>) -> String {
    let all: Vec<usize> = (0..schema.fields().len()).collect();
    let mut text = render_columns(schema, batches, &all, false);
    let Some(width) = width else { return text };
    let (mut head, mut tail) = (all.len().div_ceil(2), all.len() / 2);
    while widest_line(&text) > width && head + tail > 1 {
        if head > tail {
            head -= 1
        } else {
            tail -= 1
        }
        let kept: Vec<usize> = all[..head].iter().chain(&all[all.len() - tail..]).copied().collect();
        text = render_columns(schema, batches, &kept, true);
    }
    text
}

pub(super) fn widest_line(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// The table of the columns `kept` (in order); with `elided`, a `…` column after the first half.
fn render_columns(schema: &Schema, batches: &[RecordBatch], kept: &[usize], elided: bool) -> String {
    let gap = elided.then(|| kept.len().div_ceil(2));
    let with_gap = |cells: Vec<Cell>| -> Vec<Cell> {
        let mut cells = cells;
        if let Some(at) = gap {
            cells.insert(at, Cell::new("…").set_alignment(CellAlignment::Center));
        }
        cells
    };
    let mut table = Table::new();
    table.load_preset(DUCKDB_BOX).set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(with_gap(
        kept.iter()
            .map(|&i| {
                let f = schema.field(i);
                Cell::new(format!("{}\n{}", visible(f.name()), duckdb_type_name(f.data_type())))
                    .set_alignment(CellAlignment::Center)
            })
            .collect(),
    ));
    for batch in batches {
        for row in 0..batch.num_rows() {
            table.add_row(with_gap(
                kept.iter()
                    .map(|&i| {
                        let cell = Cell::new(cut(visible(&display_text(batch.column(i).as_ref(), row))));
                        if is_numeric(schema.field(i)) { cell.set_alignment(CellAlignment::Right) } else { cell }
                    })
                    .collect(),
            ));
        }
    }
    table.to_string()
}

pub(super) fn render_markdown(schema: &Schema, batches: &[RecordBatch]) -> String {
    let escape = |s: String| visible(&s).replace('|', "\\|");
    let mut text = String::new();
    text.push_str(&format!(
        "| {} |\n",
        schema.fields().iter().map(|f| escape(f.name().clone())).collect::<Vec<_>>().join(" | ")
    ));
    text.push_str(&format!(
        "|{}|\n",
        schema.fields().iter().map(|f| if is_numeric(f) { "---:" } else { "---" }).collect::<Vec<_>>().join("|")
    ));
    for batch in batches {
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = batch.columns().iter().map(|c| escape(display_text(c.as_ref(), row))).collect();
            text.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
    }
    text
}

/// The width of the terminal standard output is, if it is one.
pub fn terminal_width() -> Option<usize> {
    Table::new().width().map(usize::from)
}
