//! Arrow values as text, the one encoding of every output: JSON values (query --json, NDJSON,
//! the report's tables), CSV cells and DuckDB-style table cells ([`text`]). Printing is elsewhere.

mod csv_cells;
mod text;

pub use csv_cells::{write_csv_header, write_csv_rows};
pub use text::{display_text, unnamed_struct};
use text::{interval_text, non_finite};

use chrono::{DateTime, SecondsFormat, Utc};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Schema, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Number, Value};

/// The field metadata key of Arrow's extension types, and the extension name of JSON text, which
/// marks DuckDB's JSON values.
pub(crate) const EXTENSION_KEY: &str = "ARROW:extension:name";
pub(crate) const JSON_EXTENSION: &str = "arrow.json";

/// Whether a field holds DuckDB's JSON (text written as it is, not quoted, inside lists).
pub fn is_json(field: &datafusion::arrow::datatypes::Field) -> bool {
    field.metadata().get(EXTENSION_KEY).is_some_and(|v| v == JSON_EXTENSION)
}

/// Rows as NDJSON, with the same encoding as `--format ndjson` (timestamps ISO 8601 UTC).
pub fn write_ndjson_rows(out: &mut Vec<u8>, batch: &RecordBatch) -> serde_json::Result<()> {
    let keys = object_keys(&batch.schema());
    for row in 0..batch.num_rows() {
        write_json_row(out, &keys, batch.columns(), row)?;
        out.push(b'\n');
    }
    Ok(())
}

/// One row as a JSON object, every value exact as DuckDB writes it: DECIMALs with all their
/// digits, `NaN`, `Infinity` and `-Infinity` bare (as DuckDB's JSON output does), the rest as
/// [`json_value`] encodes it.
pub(crate) fn write_json_row(
    out: &mut Vec<u8>,
    keys: &[String],
    columns: &[ArrayRef],
    row: usize,
) -> serde_json::Result<()> {
    out.push(b'{');
    for (i, (key, column)) in keys.iter().zip(columns).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, key)?;
        out.push(b':');
        write_json_cell(out, column.as_ref(), row)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_json_cell(out: &mut Vec<u8>, array: &dyn Array, row: usize) -> serde_json::Result<()> {
    if array.is_null(row) || array.data_type().is_null() {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    let list = |out: &mut Vec<u8>, values: ArrayRef| -> serde_json::Result<()> {
        out.push(b'[');
        for i in 0..values.len() {
            if i > 0 {
                out.push(b',');
            }
            write_json_cell(out, values.as_ref(), i)?;
        }
        out.push(b']');
        Ok(())
    };
    if let Some(special) = non_finite(array, row) {
        let text = match special.as_str() {
            "nan" => "NaN",
            "inf" => "Infinity",
            _ => "-Infinity",
        };
        out.extend_from_slice(text.as_bytes());
        return Ok(());
    }
    match array.data_type() {
        DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => {
            out.extend_from_slice(formatted(array, row, "null").as_bytes());
        }
        DataType::List(_) => list(out, array.as_list::<i32>().value(row))?,
        DataType::LargeList(_) => list(out, array.as_list::<i64>().value(row))?,
        DataType::FixedSizeList(_, _) => list(out, array.as_fixed_size_list().value(row))?,
        // A tuple is an array, as in `to_json`.
        DataType::Struct(fields) if unnamed_struct(fields) => {
            out.push(b'[');
            for (i, column) in array.as_struct().columns().iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_cell(out, column.as_ref(), row)?;
            }
            out.push(b']');
        }
        DataType::Struct(fields) => {
            out.push(b'{');
            for (i, (field, column)) in fields.iter().zip(array.as_struct().columns()).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, field.name())?;
                out.push(b':');
                write_json_cell(out, column.as_ref(), row)?;
            }
            out.push(b'}');
        }
        _ => serde_json::to_writer(&mut *out, &json_value(array, row))?,
    }
    Ok(())
}

/// The keys of a row's JSON object: the column names, a repeated name suffixed `_1`, `_2`, ...
/// (as DuckDB names the columns of a table made from such a result), so that no value is lost.
pub(crate) fn object_keys(schema: &Schema) -> Vec<String> {
    unique_keys(&schema.fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>())
}

/// [`object_keys`] of a list of names.
pub(crate) fn unique_keys(names: &[String]) -> Vec<String> {
    let mut taken: std::collections::HashSet<String> = names.iter().map(|n| n.to_string()).collect();
    let mut seen = std::collections::HashSet::new();
    names
        .iter()
        .map(|name| {
            if seen.insert(name.as_str()) {
                return name.to_string();
            }
            let mut n = 1;
            while taken.contains(&format!("{name}_{n}")) {
                n += 1;
            }
            let key = format!("{name}_{n}");
            taken.insert(key.clone());
            key
        })
        .collect()
}

fn utc(unit: &TimeUnit, value: i64) -> Option<DateTime<Utc>> {
    match unit {
        TimeUnit::Second => DateTime::from_timestamp(value, 0),
        TimeUnit::Millisecond => DateTime::from_timestamp_millis(value),
        TimeUnit::Microsecond => DateTime::from_timestamp_micros(value),
        TimeUnit::Nanosecond => Some(DateTime::from_timestamp_nanos(value)),
    }
}

pub(super) fn timestamp_at(array: &dyn Array, unit: &TimeUnit, row: usize) -> Option<DateTime<Utc>> {
    let value = match unit {
        TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row),
        TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().value(row),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(row),
        TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
    };
    utc(unit, value)
}

/// The timestamp encoding of JSON and CSV output: ISO 8601, an instant (TIMESTAMP WITH TIME ZONE)
/// in UTC with `Z`, a TIMESTAMP (a wall-clock time, e.g. `ts AT TIME ZONE 'Europe/Madrid'`)
/// without any offset, as DuckDB writes it with none; fractions of 0, 3 or 6 digits.
pub fn iso_timestamp(t: DateTime<Utc>, zoned: bool) -> String {
    let text = t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    if zoned { text } else { text.trim_end_matches('Z').to_string() }
}

fn date_at(array: &dyn Array, row: usize) -> Option<chrono::NaiveDate> {
    match array.data_type() {
        DataType::Date32 => crate::dates::from_epoch_day(array.as_primitive::<Date32Type>().value(row) as i64),
        DataType::Date64 => {
            DateTime::from_timestamp_millis(array.as_primitive::<Date64Type>().value(row)).map(|t| t.date_naive())
        }
        _ => None,
    }
}

/// A date as DuckDB writes it: years past 9999 without a sign, years before 1 as `1994-08-14 (BC)`
/// (the year before 1 AD is 1 BC).
pub(super) fn duckdb_date(date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    if date.year() > 0 {
        return date.format("%Y-%m-%d").to_string().trim_start_matches('+').to_string();
    }
    format!("{:04}-{:02}-{:02} (BC)", 1 - date.year(), date.month(), date.day())
}

fn number(n: Option<Number>) -> Value {
    n.map_or(Value::Null, Value::Number)
}

/// A value as JSON: numbers as numbers, timestamps as ISO 8601 (see [`iso_timestamp`]), lists and structs nested.
pub fn json_value(array: &dyn Array, row: usize) -> Value {
    styled_json(array, row, Timestamps::Iso)
}

/// A value as DuckDB's `to_json` writes it inside SQL: as [`json_value`], but timestamps as
/// DuckDB's text (`2025-01-01 10:00:00`, `+00` for a TIMESTAMPTZ).
pub fn sql_json_value(array: &dyn Array, row: usize) -> Value {
    styled_json(array, row, Timestamps::DuckDb)
}

#[derive(Clone, Copy)]
enum Timestamps {
    Iso,
    DuckDb,
}

fn styled_json(array: &dyn Array, row: usize, style: Timestamps) -> Value {
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
        // As DuckDB writes them: a BLOB as its text (`\xAA` for a byte that is no character), a
        // TIME without trailing zeros; in SQL, timestamps too.
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_)
        | DataType::Time32(_)
        | DataType::Time64(_) => Value::String(display_text(array, row)),
        DataType::Timestamp(..) if matches!(style, Timestamps::DuckDb) => Value::String(display_text(array, row)),
        DataType::Timestamp(unit, zone) => {
            timestamp_at(array, unit, row).map_or(Value::Null, |t| Value::String(iso_timestamp(t, zone.is_some())))
        }
        // ISO 8601, as timestamps: a year before 1 is 0 or negative (1 BC is 0000).
        DataType::Date32 | DataType::Date64 => date_at(array, row).map_or(Value::Null, |d| {
            Value::String(d.format("%Y-%m-%d").to_string().trim_start_matches('+').to_string())
        }),
        DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => {
            let text = formatted(array, row, "");
            text.parse::<f64>().ok().and_then(Number::from_f64).map_or(Value::String(text), Value::Number)
        }
        DataType::Interval(_) => Value::String(interval_text(array, row).unwrap_or_default()),
        DataType::Map(_, _) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let mut object = Map::new();
            for i in 0..entries.len() {
                // A float key that JSON has no number for, as its values are written.
                let key = match (non_finite(keys.as_ref(), i).as_deref(), styled_json(keys.as_ref(), i, style)) {
                    (Some("nan"), _) => "NaN".to_string(),
                    (Some("inf"), _) => "Infinity".to_string(),
                    (Some(_), _) => "-Infinity".to_string(),
                    (None, Value::String(s)) => s,
                    (None, other) => other.to_string(),
                };
                object.insert(key, styled_json(values.as_ref(), i, style));
            }
            Value::Object(object)
        }
        DataType::List(_) => list_json(array.as_list::<i32>().value(row).as_ref(), style),
        DataType::LargeList(_) => list_json(array.as_list::<i64>().value(row).as_ref(), style),
        DataType::FixedSizeList(_, _) => list_json(array.as_fixed_size_list().value(row).as_ref(), style),
        // An unnamed struct (a tuple) is a JSON array in DuckDB.
        DataType::Struct(fields) if unnamed_struct(fields) => {
            Value::Array(array.as_struct().columns().iter().map(|c| styled_json(c.as_ref(), row, style)).collect())
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut object = Map::new();
            for (field, column) in fields.iter().zip(s.columns()) {
                object.insert(field.name().clone(), styled_json(column.as_ref(), row, style));
            }
            Value::Object(object)
        }
        DataType::Dictionary(_, _) => {
            let d = array.as_any_dictionary();
            let key = d.normalized_keys()[row];
            styled_json(d.values().as_ref(), key, style)
        }
        _ => Value::String(formatted(array, row, "")),
    }
}

fn list_json(values: &dyn Array, style: Timestamps) -> Value {
    Value::Array((0..values.len()).map(|i| styled_json(values, i, style)).collect())
}

pub(super) fn formatted(array: &dyn Array, row: usize, null: &str) -> String {
    let options = FormatOptions::new().with_null(null);
    match ArrayFormatter::try_new(array, &options) {
        Ok(f) => f.value(row).to_string(),
        Err(_) => String::from("?"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use csv_cells::csv_text;
    use datafusion::arrow::array::{
        Float64Array, Int64Array, ListBuilder, StringArray, StringBuilder, TimestampMicrosecondArray,
    };
    use std::sync::Arc;

    pub(crate) fn batch() -> RecordBatch {
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
    fn nan_and_infinities_print_as_duckdb_prints_them() {
        let values: ArrayRef = Arc::new(Float64Array::from(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.5]));
        let shown: Vec<String> = (0..4).map(|i| display_text(values.as_ref(), i)).collect();
        assert_eq!(shown, ["nan", "inf", "-inf", "1.5"]);
        let cells: Vec<String> = (0..4).map(|i| csv_text(values.as_ref(), i)).collect();
        assert_eq!(cells, ["nan", "inf", "-inf", "1.5"]);
    }

    #[test]
    fn dates_before_the_common_era_print_as_duckdb_prints_them() {
        let dates: ArrayRef = Arc::new(datafusion::arrow::array::Date32Array::from(vec![-1_447_231, 0]));
        let shown: Vec<String> = (0..2).map(|i| display_text(dates.as_ref(), i)).collect();
        assert_eq!(shown, ["1994-08-14 (BC)", "1970-01-01"]);
    }

    #[test]
    fn repeated_column_names_keep_every_value() {
        let schema = Schema::new(vec![
            datafusion::arrow::datatypes::Field::new("a", DataType::Int64, true),
            datafusion::arrow::datatypes::Field::new("a", DataType::Int64, true),
            datafusion::arrow::datatypes::Field::new("a_1", DataType::Int64, true),
            datafusion::arrow::datatypes::Field::new("a", DataType::Int64, true),
        ]);
        assert_eq!(object_keys(&schema), ["a", "a_2", "a_1", "a_3"]);
    }

    #[test]
    fn json_values_keep_their_types() {
        let b = batch();
        let keys = object_keys(&b.schema());
        let row = |r| {
            let mut out = Vec::new();
            write_json_row(&mut out, &keys, b.columns(), r).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(row(0), r#"{"name":"a,\"b\"","n":7,"x":3.5,"ts":"2025-10-01T08:15:02.311Z","g":["g1"]}"#);
        assert_eq!(row(1), r#"{"name":null,"n":null,"x":0.1,"ts":"2025-10-01T08:15:02Z","g":null}"#);
    }

    #[test]
    fn csv_cells_are_machine_readable() {
        let b = batch();
        assert_eq!(csv_text(b.column(3).as_ref(), 0), "2025-10-01T08:15:02.311Z");
        assert_eq!(csv_text(b.column(4).as_ref(), 0), r#"["g1"]"#);
        assert_eq!(csv_text(b.column(1).as_ref(), 1), "");
    }

    /// A TIMESTAMP (no zone) is a wall-clock time: written with no `Z` or offset, which would
    /// make every reader shift it; a TIMESTAMPTZ is an instant, in UTC with `Z`.
    #[test]
    fn only_instants_carry_a_zone() {
        let naive: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![1_759_306_492_192_813]));
        assert_eq!(csv_text(naive.as_ref(), 0), "2025-10-01T08:14:52.192813");
        assert_eq!(json_value(naive.as_ref(), 0), Value::from("2025-10-01T08:14:52.192813"));
        let zoned: ArrayRef =
            Arc::new(TimestampMicrosecondArray::from(vec![1_759_306_492_192_813]).with_timezone("UTC"));
        assert_eq!(csv_text(zoned.as_ref(), 0), "2025-10-01T08:14:52.192813Z");
    }
}
