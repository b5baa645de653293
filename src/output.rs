//! Printing query results to stdout: DuckDB-like tables, CSV, JSON, NDJSON and Markdown.
//! This is the one place that turns Arrow values into text.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Field, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, Schema, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use futures::StreamExt;
use serde_json::{Map, Number, Value};

use crate::cli::OutputFormat;
use crate::error::{Error, Result};
use crate::printer::Printer;
use datafusion::execution::SendableRecordBatchStream;

/// Rows printed per result when the format is a table and --max-rows is not given.
pub const DEFAULT_TABLE_ROWS: usize = 40;
/// Table cells longer than this are cut, as DuckDB cuts them, so that a row fits a screen.
const TABLE_CELL_CHARS: usize = 60;
/// DuckDB's box: light lines, a light rule under the header, no rules between rows.
const DUCKDB_BOX: &str = "││──├─┼┤│    ┬┴┌┐└┘";

pub struct Output<W: Write> {
    out: W,
    format: OutputFormat,
    max_rows: Option<usize>,
    printer: Printer,
}

impl<W: Write> Output<W> {
    pub fn new(out: W, format: OutputFormat, max_rows: Option<usize>, printer: Printer) -> Self {
        let max_rows = match (format, max_rows) {
            (_, Some(n)) => Some(n),
            (OutputFormat::Table, None) => Some(DEFAULT_TABLE_ROWS),
            (_, None) => None,
        };
        Output { out, format, max_rows, printer }
    }

    /// Prints the results of several statements: each in turn, or for JSON one array of arrays.
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
        while let Some(stream) = results.next().await {
            if index > 0 {
                match self.format {
                    OutputFormat::Json if nested => self.raw(",\n")?,
                    OutputFormat::Table | OutputFormat::Markdown | OutputFormat::Csv => self.raw("\n")?,
                    _ => {}
                }
            }
            self.write_result(stream?).await?;
            index += 1;
        }
        if nested {
            self.raw("]\n")?;
        }
        self.out.flush().map_err(stdout_error)
    }

    fn raw(&mut self, text: &str) -> Result<()> {
        self.out.write_all(text.as_bytes()).map_err(stdout_error)
    }

    /// Prints one result as its batches arrive; tables wait for their shown rows only.
    pub async fn write_result(&mut self, mut stream: SendableRecordBatchStream) -> Result<()> {
        let schema = stream.schema();
        let limit = self.max_rows.unwrap_or(usize::MAX);
        let mut shown: Vec<RecordBatch> = Vec::new();
        let (mut total, mut printed) = (0usize, 0usize);
        let mut started = false;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(Error::query)?;
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
            }
        }
        let left_out = total - printed;
        match self.format {
            OutputFormat::Table => {
                let text = render_table(&schema, &shown);
                self.raw(&text)?;
                self.raw("\n")?;
                if left_out > 0 {
                    self.raw(&format!("{total} rows ({printed} shown; --max-rows N shows more)\n"))?;
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
            self.printer.warn(&format!("{left_out} of {total} rows left out by --max-rows"));
        }
        Ok(())
    }

    fn write_csv(&mut self, schema: &Schema, batch: &RecordBatch, header: bool) -> Result<()> {
        let mut writer = csv::Writer::from_writer(&mut self.out);
        let csv_error = |e: csv::Error| stdout_error(e.into());
        if header {
            write_csv_header(&mut writer, schema).map_err(csv_error)?;
        }
        write_csv_rows(&mut writer, batch).map_err(csv_error)?;
        writer.flush().map_err(stdout_error)
    }

    fn write_json_rows(&mut self, batch: &RecordBatch, first: bool, array: bool) -> Result<()> {
        let schema = batch.schema();
        for row in 0..batch.num_rows() {
            let object = row_object(&schema, batch.columns(), row);
            let text =
                serde_json::to_string(&object).map_err(|e| Error::Query(format!("cannot print a row as JSON: {e}")))?;
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

fn stdout_error(source: std::io::Error) -> Error {
    Error::Io { action: "cannot write to", path: "standard output".into(), source }
}

/// Rows as NDJSON, with the same encoding as `--format ndjson` (timestamps ISO 8601 UTC).
pub fn write_ndjson_rows(out: &mut Vec<u8>, batch: &RecordBatch) -> serde_json::Result<()> {
    let schema = batch.schema();
    for row in 0..batch.num_rows() {
        serde_json::to_writer(&mut *out, &row_object(&schema, batch.columns(), row))?;
        out.push(b'\n');
    }
    Ok(())
}

fn row_object(schema: &Schema, columns: &[ArrayRef], row: usize) -> Value {
    let mut object = Map::with_capacity(columns.len());
    for (field, column) in schema.fields().iter().zip(columns) {
        object.insert(field.name().clone(), json_value(column.as_ref(), row));
    }
    Value::Object(object)
}

fn utc(unit: &TimeUnit, value: i64) -> Option<DateTime<Utc>> {
    match unit {
        TimeUnit::Second => DateTime::from_timestamp(value, 0),
        TimeUnit::Millisecond => DateTime::from_timestamp_millis(value),
        TimeUnit::Microsecond => DateTime::from_timestamp_micros(value),
        TimeUnit::Nanosecond => Some(DateTime::from_timestamp_nanos(value)),
    }
}

fn timestamp_at(array: &dyn Array, unit: &TimeUnit, row: usize) -> Option<DateTime<Utc>> {
    let value = match unit {
        TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row),
        TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().value(row),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(row),
        TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
    };
    utc(unit, value)
}

/// ISO 8601 in UTC with `Z`, the one timestamp encoding of JSON and CSV output.
pub fn iso_utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn date_at(array: &dyn Array, row: usize) -> Option<String> {
    let date = match array.data_type() {
        DataType::Date32 => crate::dates::from_epoch_day(array.as_primitive::<Date32Type>().value(row) as i64),
        DataType::Date64 => {
            DateTime::from_timestamp_millis(array.as_primitive::<Date64Type>().value(row)).map(|t| t.date_naive())
        }
        _ => None,
    }?;
    Some(date.format("%Y-%m-%d").to_string())
}

fn number(n: Option<Number>) -> Value {
    n.map_or(Value::Null, Value::Number)
}

/// A value as JSON: numbers as numbers, timestamps as ISO 8601 UTC, lists and structs nested.
pub fn json_value(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    macro_rules! int {
        ($t:ty) => {
            Value::from(array.as_primitive::<$t>().value(row))
        };
    }
    match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => int!(UInt64Type),
        DataType::Float16 => number(Number::from_f64(array.as_primitive::<Float16Type>().value(row).to_f64())),
        DataType::Float32 => number(Number::from_f64(array.as_primitive::<Float32Type>().value(row) as f64)),
        DataType::Float64 => number(Number::from_f64(array.as_primitive::<Float64Type>().value(row))),
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Value::String(array.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Value::String(array.as_string_view().value(row).to_string()),
        DataType::Timestamp(unit, _) => {
            timestamp_at(array, unit, row).map_or(Value::Null, |t| Value::String(iso_utc(t)))
        }
        DataType::Date32 | DataType::Date64 => date_at(array, row).map_or(Value::Null, Value::String),
        DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => {
            let text = formatted(array, row, "");
            text.parse::<f64>().ok().and_then(Number::from_f64).map_or(Value::String(text), Value::Number)
        }
        DataType::List(_) => list_json(array.as_list::<i32>().value(row).as_ref()),
        DataType::LargeList(_) => list_json(array.as_list::<i64>().value(row).as_ref()),
        DataType::FixedSizeList(_, _) => list_json(array.as_fixed_size_list().value(row).as_ref()),
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut object = Map::new();
            for (field, column) in fields.iter().zip(s.columns()) {
                object.insert(field.name().clone(), json_value(column.as_ref(), row));
            }
            Value::Object(object)
        }
        DataType::Dictionary(_, _) => {
            let d = array.as_any_dictionary();
            let key = d.normalized_keys()[row];
            json_value(d.values().as_ref(), key)
        }
        _ => Value::String(formatted(array, row, "")),
    }
}

fn list_json(values: &dyn Array) -> Value {
    Value::Array((0..values.len()).map(|i| json_value(values, i)).collect())
}

fn formatted(array: &dyn Array, row: usize, null: &str) -> String {
    let options = FormatOptions::new().with_null(null);
    match ArrayFormatter::try_new(array, &options) {
        Ok(f) => f.value(row).to_string(),
        Err(_) => String::from("?"),
    }
}

pub fn write_csv_header<W: Write>(writer: &mut csv::Writer<W>, schema: &Schema) -> csv::Result<()> {
    writer.write_record(schema.fields().iter().map(|f| f.name()))
}

/// Rows as CSV, with the same cell encoding for query output and exports.
pub fn write_csv_rows<W: Write>(writer: &mut csv::Writer<W>, batch: &RecordBatch) -> csv::Result<()> {
    let columns: Vec<&ArrayRef> = batch.columns().iter().collect();
    for row in 0..batch.num_rows() {
        writer.write_record(columns.iter().map(|c| csv_text(c.as_ref(), row)))?;
    }
    Ok(())
}

/// CSV cells: empty for NULL, ISO 8601 UTC timestamps, lists and structs as JSON.
fn csv_text(array: &dyn Array, row: usize) -> String {
    if array.is_null(row) {
        return String::new();
    }
    match array.data_type() {
        DataType::Timestamp(unit, _) => timestamp_at(array, unit, row).map(iso_utc).unwrap_or_default(),
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(_, _)
        | DataType::Struct(_)
        | DataType::Map(_, _) => json_value(array, row).to_string(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _) => {
            match json_value(array, row) {
                Value::String(s) => s,
                other => other.to_string(),
            }
        }
        _ => formatted(array, row, ""),
    }
}

/// Table cells as DuckDB prints them: NULL, `2025-10-01 08:15:02.311+00`, lists as `[a, b]`.
pub fn display_text(array: &dyn Array, row: usize) -> String {
    if array.is_null(row) {
        return "NULL".into();
    }
    match array.data_type() {
        DataType::Timestamp(unit, tz) => timestamp_at(array, unit, row).map_or_else(String::new, |t| {
            let mut text = t.format("%Y-%m-%d %H:%M:%S%.f").to_string();
            if text.contains('.') {
                let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
                text.truncate(trimmed);
            }
            if tz.is_some() {
                text.push_str("+00");
            }
            text
        }),
        DataType::Date32 | DataType::Date64 => date_at(array, row).unwrap_or_default(),
        DataType::Float32 | DataType::Float64 => match json_value(array, row) {
            Value::Number(n) => n.to_string(),
            _ => formatted(array, row, "NULL"),
        },
        _ => formatted(array, row, "NULL"),
    }
}

/// DuckDB's names for types, as its table header shows them.
pub fn duckdb_type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Null => "\"null\"".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "int8".into(),
        DataType::Int16 => "int16".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt8 => "uint8".into(),
        DataType::UInt16 => "uint16".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Float16 | DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "varchar".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => "blob".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, Some(_)) => "timestamp with time zone".into(),
        DataType::Timestamp(_, None) => "timestamp".into(),
        DataType::Time32(_) | DataType::Time64(_) => "time".into(),
        DataType::Interval(_) | DataType::Duration(_) => "interval".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f) => {
            format!("{}[]", duckdb_type_name(f.data_type()))
        }
        DataType::Struct(fields) => format!(
            "struct({})",
            fields
                .iter()
                .map(|f| format!("{} {}", f.name(), duckdb_type_name(f.data_type())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DataType::Dictionary(_, value) => duckdb_type_name(value),
        DataType::Map(_, _) => "map".into(),
        other => other.to_string().to_lowercase(),
    }
}

fn is_numeric(field: &Field) -> bool {
    field.data_type().is_numeric()
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
    let mut table = Table::new();
    table.load_preset(DUCKDB_BOX).set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(schema.fields().iter().map(|f| {
        Cell::new(format!("{}\n{}", f.name(), duckdb_type_name(f.data_type()))).set_alignment(CellAlignment::Center)
    }));
    for batch in batches {
        for row in 0..batch.num_rows() {
            table.add_row(schema.fields().iter().zip(batch.columns()).map(|(field, column)| {
                let cell = Cell::new(cut(display_text(column.as_ref(), row).replace('\n', "\\n")));
                if is_numeric(field) { cell.set_alignment(CellAlignment::Right) } else { cell }
            }));
        }
    }
    table.to_string()
}

fn render_markdown(schema: &Schema, batches: &[RecordBatch]) -> String {
    let escape = |s: String| s.replace('|', "\\|").replace('\n', " ");
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        Float64Array, Int64Array, ListBuilder, StringArray, StringBuilder, TimestampMicrosecondArray,
    };
    use std::sync::Arc;

    fn batch() -> RecordBatch {
        let mut list = ListBuilder::new(StringBuilder::new());
        list.values().append_value("g1");
        list.append(true);
        list.append(false);
        RecordBatch::try_from_iter(vec![
            ("name", Arc::new(StringArray::from(vec![Some("a,\"b\""), None])) as ArrayRef),
            ("n", Arc::new(Int64Array::from(vec![Some(7), None]))),
            ("x", Arc::new(Float64Array::from(vec![3.5, 0.1]))),
            (
                "ts",
                Arc::new(
                    TimestampMicrosecondArray::from(vec![1_759_306_502_311_000, 1_759_306_502_000_000])
                        .with_timezone("UTC"),
                ),
            ),
            ("g", Arc::new(list.finish())),
        ])
        .unwrap()
    }

    #[test]
    fn json_values_keep_their_types() {
        let b = batch();
        let row = row_object(&b.schema(), b.columns(), 0);
        assert_eq!(row.to_string(), r#"{"name":"a,\"b\"","n":7,"x":3.5,"ts":"2025-10-01T08:15:02.311Z","g":["g1"]}"#);
        let row = row_object(&b.schema(), b.columns(), 1);
        assert_eq!(row.to_string(), r#"{"name":null,"n":null,"x":0.1,"ts":"2025-10-01T08:15:02Z","g":null}"#);
    }

    #[test]
    fn tables_look_like_duckdb() {
        let b = batch();
        let text = render_table(&b.schema(), std::slice::from_ref(&b));
        assert!(text.contains("varchar"), "{text}");
        assert!(text.contains("timestamp with time zone"));
        assert!(text.contains("2025-10-01 08:15:02.311+00"));
        assert!(text.contains("NULL"));
        assert!(text.starts_with('┌'));
    }

    #[test]
    fn csv_cells_are_machine_readable() {
        let b = batch();
        assert_eq!(csv_text(b.column(3).as_ref(), 0), "2025-10-01T08:15:02.311Z");
        assert_eq!(csv_text(b.column(4).as_ref(), 0), r#"["g1"]"#);
        assert_eq!(csv_text(b.column(1).as_ref(), 1), "");
    }
}
