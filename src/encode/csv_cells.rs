//! CSV cells: one encoding for query output and exports.

use std::io::Write;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Schema};
use serde_json::Value;

use super::text::{display_text, interval_text, non_finite};
use super::{formatted, iso_timestamp, json_value, timestamp_at};

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

/// CSV cells: empty for NULL, ISO 8601 timestamps (see [`iso_timestamp`]), lists and structs as JSON.
pub(super) fn csv_text(array: &dyn Array, row: usize) -> String {
    if array.is_null(row) {
        return String::new();
    }
    match array.data_type() {
        DataType::Timestamp(unit, zone) => {
            timestamp_at(array, unit, row).map(|t| iso_timestamp(t, zone.is_some())).unwrap_or_default()
        }
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
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            non_finite(array, row).unwrap_or_else(|| formatted(array, row, ""))
        }
        DataType::Interval(_) => interval_text(array, row).unwrap_or_default(),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_)
        | DataType::Time32(_)
        | DataType::Time64(_) => display_text(array, row),
        _ => formatted(array, row, ""),
    }
}
