//! DuckDB's byte sizes as text and back: `format_bytes` (and ClickHouse's names for it) and
//! `parse_formatted_bytes`.

use datafusion::arrow::array::{ArrayRef, StringArray, UInt64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{integers, invalid, row_udf, shared, texts};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let utf8 = |_: &[DataType]| Ok(DataType::Utf8);
    vec![
        row_udf("format_bytes", "one argument: format_bytes(bytes)", 1..=1, utf8, |a| format_bytes(a, 1024)),
        row_udf("formatreadablesize", "one argument: formatReadableSize(bytes)", 1..=1, utf8, |a| {
            format_bytes(a, 1024)
        }),
        row_udf("formatreadabledecimalsize", "one argument: formatReadableDecimalSize(bytes)", 1..=1, utf8, |a| {
            format_bytes(a, 1000)
        }),
        row_udf(
            "parse_formatted_bytes",
            "one argument: parse_formatted_bytes(text)",
            1..=1,
            |_| Ok(DataType::UInt64),
            parse_formatted_bytes,
        ),
    ]
}

/// DuckDB's `BytesToHumanReadableString`: truncated to one decimal, up to PiB / PB.
fn human_bytes(bytes: u64, multiplier: u64) -> String {
    let units: [&str; 6] = if multiplier == 1000 {
        ["bytes", "kB", "MB", "GB", "TB", "PB"]
    } else {
        ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"]
    };
    let mut parts = [0u64; 6];
    parts[0] = bytes;
    for i in 1..6 {
        parts[i] = parts[i - 1] / multiplier;
        parts[i - 1] %= multiplier;
    }
    for i in (1..6).rev() {
        if parts[i] != 0 {
            return format!("{}.{} {}", parts[i], parts[i - 1] * 10 / multiplier, units[i]);
        }
    }
    format!("{} {}", parts[0], if bytes == 1 { "byte" } else { "bytes" })
}

fn format_bytes(arrays: &[ArrayRef], multiplier: u64) -> Result<ArrayRef> {
    let values = integers(&arrays[0])?;
    let out: Vec<Option<String>> = values
        .iter()
        .map(|v| v.map(|b| format!("{}{}", if b < 0 { "-" } else { "" }, human_bytes(b.unsigned_abs(), multiplier))))
        .collect();
    Ok(shared(StringArray::from(out)))
}

/// DuckDB's `ParseFormattedBytes` (the parser of its memory settings).
fn parse_bytes(text: &str) -> std::result::Result<u64, String> {
    let rest = text.trim_start();
    let number_end =
        rest.find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-'))).unwrap_or(rest.len());
    if number_end == 0 {
        return Err("Memory must have a number (e.g. 1GB)".into());
    }
    let number = &rest[..number_end];
    let limit: f64 = number.parse().map_err(|_| format!("Invalid memory limit: '{number}'"))?;
    let unit_text = rest[number_end..].trim_start();
    let unit = unit_text.split(char::is_whitespace).next().unwrap_or_default().to_lowercase();
    if limit < 0.0 {
        return Err("Memory cannot be negative".into());
    }
    let multiplier: u64 = match unit.as_str() {
        "byte" | "bytes" | "b" => 1,
        "kilobyte" | "kilobytes" | "kb" | "k" => 1_000,
        "megabyte" | "megabytes" | "mb" | "m" => 1_000_000,
        "gigabyte" | "gigabytes" | "gb" | "g" => 1_000_000_000,
        "terabyte" | "terabytes" | "tb" | "t" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "Unknown unit for memory: '{unit}' (expected: KB, MB, GB, TB for 1000^i units or KiB, MiB, GiB, TiB for 1024^i units)"
            ));
        }
    };
    if limit > u64::MAX as f64 / multiplier as f64 {
        return Err("Memory value out of range: value is too large".into());
    }
    Ok((multiplier as f64 * limit) as u64)
}

fn parse_formatted_bytes(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let values = texts(&arrays[0])?;
    let out: Vec<Option<u64>> = values
        .iter()
        .map(|v| v.as_deref().map(parse_bytes).transpose().map_err(|e| invalid(format!("Invalid Input Error: {e}"))))
        .collect::<Result<_>>()?;
    Ok(shared(UInt64Array::from(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_duckdbs() {
        assert_eq!(human_bytes(16384, 1024), "16.0 KiB");
        assert_eq!(human_bytes(1, 1024), "1 byte");
        assert_eq!(human_bytes(16000, 1000), "16.0 kB");
        assert_eq!(parse_bytes("1.5GB"), Ok(1_500_000_000));
        assert!(parse_bytes("1024").unwrap_err().starts_with("Unknown unit for memory: ''"));
    }
}
