//! Printing results on stdout, the one place that does: DuckDB-like tables, CSV, JSON, NDJSON
//! and Markdown, each result as its batches arrive. A closed stdout ends the command quietly.

use std::io::Write;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;

use crate::encode::{display_text, object_keys, write_csv_header, write_csv_rows, write_json_row};
use crate::error::{Error, Result};
use crate::printer::Printer;

mod table;

use table::{render_fitted_table, render_markdown, visible};
pub use table::{render_table, terminal_width};

/// Rows printed per result when the format is a table and --max-rows is not given.
pub const DEFAULT_TABLE_ROWS: usize = 40;

pub struct Output<W: Write> {
    out: W,
    format: OutputFormat,
    max_rows: Option<usize>,
    printer: Printer,
    /// Written before the next output: what separates one statement's result from the last
    /// (held back so that a statement that fails before printing leaves no dangling comma).
    separator: Option<&'static str>,
    /// Tables wider than this have columns left out in the middle, as DuckDB's box mode does.
    width: Option<usize>,
    /// How the user raises the row limit: the flag, or the shell's dot command.
    limit_setting: &'static str,
}

impl<W: Write> Output<W> {
    pub fn new(out: W, format: OutputFormat, max_rows: Option<usize>, printer: Printer) -> Self {
        let max_rows = match (format, max_rows) {
            (_, Some(n)) => Some(n),
            (OutputFormat::Table, None) => Some(DEFAULT_TABLE_ROWS),
            (_, None) => None,
        };
        Output { out, format, max_rows, printer, separator: None, width: None, limit_setting: "--max-rows" }
    }

    /// Tables fitted to a terminal `width` characters wide; `limit_setting` is named when rows
    /// are left out.
    pub fn fitted(mut self, width: Option<usize>, limit_setting: &'static str) -> Self {
        self.width = width;
        self.limit_setting = limit_setting;
        self
    }

    /// Prints the results of several statements: each in turn, or for JSON one array of arrays.
    /// A statement that fails while printing ends what it printed so that JSON stays valid JSON
    /// (the error and exit status say it is incomplete); later statements do not run.
    pub async fn write_all<S>(&mut self, results: S, count: usize) -> Result<()>
    where
        S: futures::Stream<Item = Result<SendableRecordBatchStream>>,
    {
        let nested = self.format == OutputFormat::Json && count > 1;
        if nested {
            self.raw("[")?;
        }
        futures::pin_mut!(results);
        let mut index = 0;
        let mut outcome = Ok(());
        while let Some(stream) = results.next().await {
            if index > 0 {
                self.separator = match self.format {
                    OutputFormat::Json if nested => Some(",\n"),
                    OutputFormat::Table | OutputFormat::Markdown | OutputFormat::Csv | OutputFormat::Line => Some("\n"),
                    _ => None,
                };
            }
            outcome = match stream {
                Ok(stream) => self.write_result(stream).await,
                Err(e) => Err(e),
            };
            if outcome.is_err() {
                break;
            }
            index += 1;
        }
        if matches!(outcome, Err(Error::OutputClosed)) {
            return outcome;
        }
        self.separator = None;
        if nested {
            self.raw("]\n")?;
        }
        self.out.flush().map_err(Error::stdout)?;
        outcome
    }

    fn raw(&mut self, text: &str) -> Result<()> {
        if let Some(separator) = self.separator.take() {
            self.out.write_all(separator.as_bytes()).map_err(Error::stdout)?;
        }
        self.out.write_all(text.as_bytes()).map_err(Error::stdout)
    }

    /// Prints one result as its batches arrive; tables wait for their shown rows only.
    pub async fn write_result(&mut self, mut stream: SendableRecordBatchStream) -> Result<()> {
        let schema = stream.schema();
        let limit = self.max_rows.unwrap_or(usize::MAX);
        let mut shown: Vec<RecordBatch> = Vec::new();
        let (mut total, mut printed) = (0usize, 0usize);
        let mut started = false;
        while let Some(batch) = stream.next().await {
            let batch = match batch {
                Ok(batch) => batch,
                Err(e) => {
                    if started && self.format == OutputFormat::Json {
                        self.raw("\n]\n")?;
                    }
                    return Err(Error::query(e));
                }
            };
            total += batch.num_rows();
            let take = batch.num_rows().min(limit - printed);
            if take == 0 {
                continue;
            }
            let batch = batch.slice(0, take);
            printed += take;
            match self.format {
                OutputFormat::Table | OutputFormat::Markdown => shown.push(batch),
                OutputFormat::Csv => {
                    self.write_csv(&schema, &batch, !started)?;
                    started = true;
                }
                OutputFormat::Json => {
                    self.write_json_rows(&batch, !started, true)?;
                    started = true;
                }
                OutputFormat::Ndjson => self.write_json_rows(&batch, false, false)?,
                OutputFormat::Line => {
                    self.write_lines(&schema, &batch, !started)?;
                    started = true;
                }
            }
        }
        let left_out = total - printed;
        match self.format {
            OutputFormat::Table => {
                let text = render_fitted_table(&schema, &shown, self.width);
                self.raw(&text)?;
                self.raw("\n")?;
                if left_out > 0 {
                    self.raw(&format!("{total} rows ({printed} shown; {} N shows more)\n", self.limit_setting))?;
                }
            }
            OutputFormat::Markdown => {
                let text = render_markdown(&schema, &shown);
                self.raw(&text)?;
            }
            OutputFormat::Csv if !started => self.write_csv(&schema, &RecordBatch::new_empty(schema.clone()), true)?,
            OutputFormat::Json => self.raw(if started { "\n]\n" } else { "[]\n" })?,
            _ => {}
        }
        if left_out > 0 && self.format != OutputFormat::Table {
            self.printer.warn(&format!("{left_out} of {total} rows left out by {}", self.limit_setting));
        }
        Ok(())
    }

    fn write_csv(&mut self, schema: &Schema, batch: &RecordBatch, header: bool) -> Result<()> {
        self.raw("")?;
        let mut writer = csv::Writer::from_writer(&mut self.out);
        // A closed pipe is an I/O error inside the CSV writer's error.
        let csv_error = |e: csv::Error| match e.into_kind() {
            csv::ErrorKind::Io(e) => Error::stdout(e),
            other => Error::internal("printing CSV")(format!("{other:?}")),
        };
        if header {
            write_csv_header(&mut writer, schema).map_err(csv_error)?;
        }
        write_csv_rows(&mut writer, batch).map_err(csv_error)?;
        writer.flush().map_err(Error::stdout)
    }

    /// DuckDB's line mode: a row per paragraph, one `name = value` line per column, the names
    /// right-aligned.
    fn write_lines(&mut self, schema: &Schema, batch: &RecordBatch, first: bool) -> Result<()> {
        let names: Vec<String> = schema.fields().iter().map(|f| visible(f.name())).collect();
        let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        for row in 0..batch.num_rows() {
            let mut text = String::new();
            if !(first && row == 0) {
                text.push('\n');
            }
            for (name, column) in names.iter().zip(batch.columns()) {
                text.push_str(&format!("{name:>width$} = {}\n", visible(&display_text(column.as_ref(), row))));
            }
            self.raw(&text)?;
        }
        Ok(())
    }

    fn write_json_rows(&mut self, batch: &RecordBatch, first: bool, array: bool) -> Result<()> {
        let keys = object_keys(&batch.schema());
        for row in 0..batch.num_rows() {
            let mut bytes = Vec::new();
            write_json_row(&mut bytes, &keys, batch.columns(), row)
                .map_err(|e| Error::internal("printing a row as JSON")(e.to_string()))?;
            let text = String::from_utf8_lossy(&bytes);
            if array {
                self.raw(if first && row == 0 { "[\n  " } else { ",\n  " })?;
                self.raw(&text)?;
            } else {
                self.raw(&text)?;
                self.raw("\n")?;
            }
        }
        Ok(())
    }
}

/// A finished text (a listing, a path) on stdout.
pub fn print_text(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|_| out.write_all(b"\n")).and_then(|_| out.flush()).map_err(Error::stdout)
}

/// A small result, known whole, as a table on stdout.
pub fn print_table(batch: &RecordBatch) -> Result<()> {
    print_text(&render_table(&batch.schema(), std::slice::from_ref(batch)))
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
    Ndjson,
    Markdown,
    Line,
}

impl crate::choice::Named for OutputFormat {
    const NAMES: &'static [(&'static str, Self, &'static str)] = &[
        ("table", OutputFormat::Table, "Box drawing with column names and types, as DuckDB prints"),
        ("csv", OutputFormat::Csv, ""),
        ("json", OutputFormat::Json, "A JSON array of row objects"),
        ("ndjson", OutputFormat::Ndjson, "A JSON object per line"),
        ("markdown", OutputFormat::Markdown, ""),
        ("line", OutputFormat::Line, "A paragraph per row, `column = value` per line (DuckDB's `.mode line`)"),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use table::widest_line;

    #[test]
    fn tables_look_like_duckdb() {
        let b = crate::encode::tests::batch();
        let text = render_table(&b.schema(), std::slice::from_ref(&b));
        assert!(text.contains("varchar"), "{text}");
        assert!(text.contains("timestamp with time zone"));
        assert!(text.contains("2025-10-01 08:15:02.311+00"));
        assert!(text.contains("NULL"));
        assert!(text.starts_with('┌'));
    }

    #[test]
    fn wide_tables_leave_out_middle_columns() {
        let columns: Vec<(String, datafusion::arrow::array::ArrayRef)> = (0..12)
            .map(|i| {
                (format!("column_{i}"), std::sync::Arc::new(datafusion::arrow::array::Int64Array::from(vec![i])) as _)
            })
            .collect();
        let b = RecordBatch::try_from_iter(columns).unwrap();
        let full = render_fitted_table(&b.schema(), std::slice::from_ref(&b), None);
        assert!(widest_line(&full) > 80 && !full.contains('…'));
        let fitted = render_fitted_table(&b.schema(), std::slice::from_ref(&b), Some(80));
        assert!(widest_line(&fitted) <= 80, "{fitted}");
        assert!(fitted.contains("column_0") && fitted.contains("column_11") && fitted.contains('…'), "{fitted}");
        assert!(!fitted.contains("column_6"), "the middle goes first: {fitted}");
        let narrow = render_fitted_table(&b.schema(), std::slice::from_ref(&b), Some(5));
        assert!(narrow.contains("column_0") && narrow.contains('…'), "one column is always shown: {narrow}");
    }

    #[test]
    fn line_mode_writes_a_paragraph_per_row() {
        let b = RecordBatch::try_from_iter(vec![
            ("a", std::sync::Arc::new(datafusion::arrow::array::Int64Array::from(vec![1, 2])) as _),
            ("bb", std::sync::Arc::new(datafusion::arrow::array::StringArray::from(vec!["x", "y"])) as _),
        ])
        .unwrap();
        let mut out = Vec::new();
        let mut output = Output::new(&mut out, OutputFormat::Line, None, Printer::new(true, 0));
        output.write_lines(&b.schema(), &b, true).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), " a = 1\nbb = x\n\n a = 2\nbb = y\n");
    }

    /// A reader that went away (`| head -1`) is not an error to report.
    #[test]
    fn a_closed_stdout_ends_quietly() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut output = Output::new(Closed, OutputFormat::Csv, None, Printer::new(true, 0));
        let err = output.raw("a,b\n").unwrap_err();
        assert!(matches!(err, Error::OutputClosed), "{err}");
        assert_eq!(err.exit_code(), 0);
        let b = crate::encode::tests::batch();
        let err = output.write_csv(&b.schema(), &b, true).unwrap_err();
        assert!(matches!(err, Error::OutputClosed), "through the CSV writer too: {err}");
    }
}
