//! Values as DuckDB prints them in its tables (and casts them to VARCHAR): `NULL`, timestamps as
//! `2025-10-01 08:15:02.311+00`, doubles as `1.0`, `1e+20`, `nan`, lists as `[a, 'b, c', NULL]`,
//! structs as `{'a': 1, 'b': x}`, unnamed structs as `(1, x)`, maps as `{k=1}`, intervals as
//! `1 year 2 months 3 days 01:30:00`.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Float16Type, Float32Type, Float64Type, IntervalDayTimeType, IntervalMonthDayNanoType, IntervalUnit,
    IntervalYearMonthType,
};

use super::{date_at, formatted, timestamp_at};

/// Table cells as DuckDB prints them.
pub fn display_text(array: &dyn Array, row: usize) -> String {
    cell(array, row, false)
}

/// A value; `nested` inside a list, struct or map, where DuckDB quotes strings that need it.
fn cell(array: &dyn Array, row: usize, nested: bool) -> String {
    if array.is_null(row) || array.data_type().is_null() {
        return "NULL".into();
    }
    // JSON inside a list is written as it is, not quoted.
    let json_items = matches!(array.data_type(), DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) if super::is_json(f));
    let items =
        |values: &dyn Array| (0..values.len()).map(|i| cell(values, i, !json_items)).collect::<Vec<_>>().join(", ");
    let text = match array.data_type() {
        DataType::Timestamp(unit, tz) => timestamp_at(array, unit, row).map_or_else(String::new, |t| {
            // chrono writes years past 9999 as `+56858`; DuckDB without the sign, and years before
            // 1 as `1001-03-15 (BC) 20:38:40` (the year before 1 AD is 1 BC).
            let mut text = format!("{} {}", super::duckdb_date(t.date_naive()), t.format("%H:%M:%S%.f"));
            if text.contains('.') {
                let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
                text.truncate(trimmed);
            }
            if tz.is_some() {
                text.push_str("+00");
            }
            text
        }),
        DataType::Date32 | DataType::Date64 => date_at(array, row).map(super::duckdb_date).unwrap_or_default(),
        // DuckDB writes a TIME's fraction without trailing zeros (`10:11:12.5`).
        DataType::Time32(_) | DataType::Time64(_) => {
            let text = formatted(array, row, "NULL");
            if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            non_finite(array, row).unwrap_or_else(|| match array.data_type() {
                // A FLOAT prints its own shortest digits (0.9925834), not those of the double it widens to.
                DataType::Float32 => float32_text(array.as_primitive::<Float32Type>().value(row)),
                _ => float_text(float_at(array, row)),
            })
        }
        DataType::Interval(_) => interval_text(array, row).unwrap_or_default(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            blob_text(array, row)
        }
        DataType::List(_) => return format!("[{}]", items(array.as_list::<i32>().value(row).as_ref())),
        DataType::LargeList(_) => return format!("[{}]", items(array.as_list::<i64>().value(row).as_ref())),
        DataType::FixedSizeList(_, _) => return format!("[{}]", items(array.as_fixed_size_list().value(row).as_ref())),
        DataType::Struct(fields) => {
            let columns = array.as_struct().columns();
            let values = columns.iter().map(|c| cell(c.as_ref(), row, true));
            return if unnamed_struct(fields) {
                let values: Vec<String> = values.collect();
                // A tuple of one is written `(x,)`.
                if values.len() == 1 { format!("({},)", values[0]) } else { format!("({})", values.join(", ")) }
            } else {
                let pairs: Vec<String> = fields
                    .iter()
                    .zip(values)
                    .map(|(f, v)| format!("'{}': {v}", f.name().replace('\'', "\\'")))
                    .collect();
                format!("{{{}}}", pairs.join(", "))
            };
        }
        DataType::Map(_, _) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let pairs: Vec<String> = (0..entries.len())
                .map(|i| format!("{}={}", cell(keys.as_ref(), i, true), cell(values.as_ref(), i, true)))
                .collect();
            return format!("{{{}}}", pairs.join(", "));
        }
        DataType::Dictionary(_, _) => {
            let d = array.as_any_dictionary();
            return cell(d.values().as_ref(), d.normalized_keys()[row], nested);
        }
        _ => formatted(array, row, "NULL"),
    };
    // Inside a list, struct or map DuckDB quotes any value whose text needs it ('10:00:00').
    if nested { quoted_if_needed(&text) } else { text }
}

/// A BLOB as DuckDB prints it: printable ASCII as it is, other bytes (and `\\`, quotes) as `\\xAA`.
fn blob_text(array: &dyn Array, row: usize) -> String {
    let bytes: &[u8] = match array.data_type() {
        DataType::Binary => array.as_binary::<i32>().value(row),
        DataType::LargeBinary => array.as_binary::<i64>().value(row),
        DataType::BinaryView => array.as_binary_view().value(row),
        _ => array.as_fixed_size_binary().value(row),
    };
    let mut text = String::with_capacity(bytes.len());
    for &byte in bytes {
        match byte {
            32..=126 if !matches!(byte, b'\\' | b'\'' | b'"') => text.push(byte as char),
            _ => text.push_str(&format!("\\x{byte:02X}")),
        }
    }
    text
}

/// DataFusion names the fields of `row(...)` and `struct(...)` c0, c1, ..., and those of
/// `list_zip` 1, 2, ...: DuckDB's unnamed structs (tuples).
pub fn unnamed_struct(fields: &datafusion::arrow::datatypes::Fields) -> bool {
    fields.iter().enumerate().all(|(i, f)| f.name().is_empty() || *f.name() == format!("c{i}"))
        || fields.iter().enumerate().all(|(i, f)| *f.name() == (i + 1).to_string())
}

/// DuckDB quotes a string inside a list or struct when it is empty, spells NULL, has outer
/// spaces or a character of its nested syntax.
fn quoted_if_needed(text: &str) -> String {
    let needs = text.is_empty()
        || text.eq_ignore_ascii_case("null")
        || text.starts_with(char::is_whitespace)
        || text.ends_with(char::is_whitespace)
        || text.contains([',', '\'', '"', '[', ']', '{', '}', '(', ')', ':', '=', '\\']);
    if needs { format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'")) } else { text.to_string() }
}

fn float_at(array: &dyn Array, row: usize) -> f64 {
    match array.data_type() {
        DataType::Float16 => array.as_primitive::<Float16Type>().value(row).to_f64(),
        DataType::Float32 => array.as_primitive::<Float32Type>().value(row) as f64,
        _ => array.as_primitive::<Float64Type>().value(row),
    }
}

/// The shortest text that reads back as the same double, written as DuckDB writes it: `1.0`,
/// `0.0001`, `1e-05`, `1e+16`.
fn float_text(value: f64) -> String {
    if value == 0.0 || (1e-4..1e16).contains(&value.abs()) {
        return serde_json::Number::from_f64(value).map_or_else(|| value.to_string(), |n| n.to_string());
    }
    let text = format!("{value:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let (sign, digits) = exponent.strip_prefix('-').map_or(("+", exponent), |d| ("-", d));
    format!("{mantissa}e{sign}{digits:0>2}")
}

/// A FLOAT as DuckDB writes it: the shortest digits that read back as the same single.
fn float32_text(value: f32) -> String {
    if value == 0.0 || (1e-4..1e16).contains(&value.abs()) {
        let text = value.to_string();
        return if text.contains('.') { text } else { format!("{text}.0") };
    }
    let text = format!("{value:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let (sign, digits) = exponent.strip_prefix('-').map_or(("+", exponent), |d| ("-", d));
    format!("{mantissa}e{sign}{digits:0>2}")
}

/// NaN and the infinities as DuckDB writes them in tables and CSV: `nan`, `inf`, `-inf`.
pub(super) fn non_finite(array: &dyn Array, row: usize) -> Option<String> {
    if !matches!(array.data_type(), DataType::Float16 | DataType::Float32 | DataType::Float64) {
        return None;
    }
    match float_at(array, row) {
        v if v.is_nan() => Some("nan".into()),
        v if v == f64::INFINITY => Some("inf".into()),
        v if v == f64::NEG_INFINITY => Some("-inf".into()),
        _ => None,
    }
}

/// An interval as DuckDB prints it: `1 year 2 months 3 days 01:30:00`, `-1 year`, `36:00:00`,
/// `00:00:00` for none.
pub(super) fn interval_text(array: &dyn Array, row: usize) -> Option<String> {
    let (months, days, micros) = match array.data_type() {
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = array.as_primitive::<IntervalMonthDayNanoType>().value(row);
            (v.months as i64, v.days as i64, v.nanoseconds / 1000)
        }
        DataType::Interval(IntervalUnit::DayTime) => {
            let v = array.as_primitive::<IntervalDayTimeType>().value(row);
            (0, v.days as i64, v.milliseconds as i64 * 1000)
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            (array.as_primitive::<IntervalYearMonthType>().value(row) as i64, 0, 0)
        }
        _ => return None,
    };
    let mut parts = Vec::new();
    let unit = |n: i64, name: &str| format!("{n} {name}{}", if n == 1 || n == -1 { "" } else { "s" });
    let (years, months) = (months / 12, months % 12);
    if years != 0 {
        parts.push(unit(years, "year"));
    }
    if months != 0 {
        parts.push(unit(months, "month"));
    }
    if days != 0 {
        parts.push(unit(days, "day"));
    }
    if micros != 0 || parts.is_empty() {
        let sign = if micros < 0 { "-" } else { "" };
        let m = micros.unsigned_abs();
        let (hours, minutes, seconds, fraction) =
            (m / 3_600_000_000, m / 60_000_000 % 60, m / 1_000_000 % 60, m % 1_000_000);
        let mut time = format!("{sign}{hours:02}:{minutes:02}:{seconds:02}");
        if fraction != 0 {
            time.push_str(format!(".{fraction:06}").trim_end_matches('0'));
        }
        parts.push(time);
    }
    Some(parts.join(" "))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Float64Array, IntervalMonthDayNanoArray, StringArray, StructArray};
    use datafusion::arrow::datatypes::{Field, IntervalMonthDayNano};

    use super::*;

    #[test]
    fn doubles_print_as_duckdb_prints_them() {
        let values = [1.0, 0.0001, 1e-5, 1e16, 1e15, 123456789.125, -0.0, 1e20];
        let shown: Vec<String> = values.iter().map(|v| float_text(*v)).collect();
        assert_eq!(shown, ["1.0", "0.0001", "1e-05", "1e+16", "1000000000000000.0", "123456789.125", "-0.0", "1e+20"]);
        let specials: ArrayRef = Arc::new(Float64Array::from(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY]));
        let shown: Vec<String> = (0..3).map(|i| display_text(specials.as_ref(), i)).collect();
        assert_eq!(shown, ["nan", "inf", "-inf"]);
    }

    #[test]
    fn intervals_print_as_duckdb_prints_them() {
        let micros = |m: i64| m * 1000;
        let intervals = IntervalMonthDayNanoArray::from(vec![
            IntervalMonthDayNano::new(14, 3, 0),
            IntervalMonthDayNano::new(0, 0, micros(5_400_000_000)),
            IntervalMonthDayNano::new(-12, -2, 0),
            IntervalMonthDayNano::new(0, 1, micros(-3_600_000_000)),
            IntervalMonthDayNano::new(0, 0, micros(129_600_000_000)),
            IntervalMonthDayNano::new(0, 0, micros(1_500_000)),
            IntervalMonthDayNano::new(0, 0, 0),
        ]);
        let shown: Vec<String> = (0..7).map(|i| display_text(&intervals, i)).collect();
        assert_eq!(
            shown,
            [
                "1 year 2 months 3 days",
                "01:30:00",
                "-1 year -2 days",
                "1 day -01:00:00",
                "36:00:00",
                "00:00:01.5",
                "00:00:00"
            ]
        );
    }

    #[test]
    fn nested_values_print_as_duckdb_prints_them() {
        let names: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), Some("a, b")]));
        let named = StructArray::from(vec![(Arc::new(Field::new("a", DataType::Utf8, true)), names.clone())]);
        assert_eq!(display_text(&named, 0), "{'a': x}");
        assert_eq!(display_text(&named, 1), "{'a': 'a, b'}");
        let unnamed = StructArray::from(vec![
            (Arc::new(Field::new("c0", DataType::Utf8, true)), names.clone()),
            (Arc::new(Field::new("c1", DataType::Utf8, true)), names),
        ]);
        assert_eq!(display_text(&unnamed, 0), "(x, x)");
    }
}
