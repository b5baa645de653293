//! DuckDB's string functions over graphemes (`length_grapheme`, `substring_grapheme`,
//! `left_grapheme`, `right_grapheme`), URLs (`url_encode`, `url_decode`), paths (`parse_path`,
//! `parse_dirname`, `parse_dirpath`, `parse_filename`) and similarity (`jaro_similarity`,
//! `jaro_winkler_similarity`); `to_hex` of integers, text and blobs; and `nextafter`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array, Int64Array, ListBuilder, StringArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;
use unicode_segmentation::UnicodeSegmentation;

use super::udf::{doubles, integers, invalid, map_texts, row_udf, shared, texts};

pub(super) fn string_tools() -> Vec<ScalarUDF> {
    let utf8 = |_: &[DataType]| Ok(DataType::Utf8);
    let double = |_: &[DataType]| Ok(DataType::Float64);
    vec![
        row_udf(
            "length_grapheme",
            "one argument: length_grapheme(text)",
            1..=1,
            |_| Ok(DataType::Int64),
            |a| {
                let values = texts(&a[0])?;
                Ok(shared(Int64Array::from_iter(
                    values.iter().map(|v| v.as_ref().map(|t| t.graphemes(true).count() as i64)),
                )))
            },
        ),
        row_udf("substring_grapheme", "substring_grapheme(text, start [, length])", 2..=3, utf8, substring_grapheme),
        row_udf("left_grapheme", "left_grapheme(text, count)", 2..=2, utf8, |a| side_graphemes(a, true)),
        row_udf("right_grapheme", "right_grapheme(text, count)", 2..=2, utf8, |a| side_graphemes(a, false)),
        row_udf("url_encode", "one argument: url_encode(text)", 1..=1, utf8, |a| {
            map_texts(&a[0], |t| Ok(url_encode(t)))
        }),
        row_udf("url_decode", "one argument: url_decode(text)", 1..=1, utf8, |a| map_texts(&a[0], url_decode)),
        row_udf("parse_dirname", "parse_dirname(path [, separator])", 1..=2, utf8, |a| path_part(a, PathPart::Top)),
        row_udf("parse_dirpath", "parse_dirpath(path [, separator])", 1..=2, utf8, |a| path_part(a, PathPart::Head)),
        row_udf("parse_filename", "parse_filename(path [, trim_extension [, separator]])", 1..=3, utf8, parse_filename),
        row_udf(
            "parse_path",
            "parse_path(path [, separator])",
            1..=2,
            |_| Ok(DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))),
            parse_path,
        ),
        row_udf("jaro_similarity", "jaro_similarity(a, b [, cutoff])", 2..=3, double, |a| similarity(a, strsim::jaro)),
        row_udf("jaro_winkler_similarity", "jaro_winkler_similarity(a, b [, cutoff])", 2..=3, double, |a| {
            similarity(a, strsim::jaro_winkler)
        }),
        row_udf("nextafter", "nextafter(x, toward)", 2..=2, double, nextafter),
        row_udf("to_hex", "one argument: to_hex(value)", 1..=1, |_| Ok(DataType::Utf8), to_hex),
    ]
}

fn substring_grapheme(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (values, starts) = (texts(&arrays[0])?, integers(&arrays[1])?);
    let lengths = arrays.get(2).map(integers).transpose()?;
    let out: Vec<Option<String>> = (0..values.len())
        .map(|r| {
            let (Some(text), Some(start)) = (&values[r], starts[r]) else { return None };
            let graphemes: Vec<&str> = text.graphemes(true).collect();
            let count = graphemes.len() as i64;
            // 1-based; a negative start counts from the end, as DuckDB's substring does.
            let from = if start > 0 {
                start - 1
            } else if start < 0 {
                (count + start).max(0)
            } else {
                0
            };
            let length = match &lengths {
                Some(l) => l[r]?,
                None => count,
            };
            let to = (from + length.max(0)).min(count);
            Some(graphemes[(from.min(count)) as usize..to.max(from.min(count)) as usize].concat())
        })
        .collect();
    Ok(shared(StringArray::from(out)))
}

fn side_graphemes(arrays: &[ArrayRef], left: bool) -> Result<ArrayRef> {
    let (values, counts) = (texts(&arrays[0])?, integers(&arrays[1])?);
    let out: Vec<Option<String>> = (0..values.len())
        .map(|r| {
            let (Some(text), Some(n)) = (&values[r], counts[r]) else { return None };
            let graphemes: Vec<&str> = text.graphemes(true).collect();
            let len = graphemes.len() as i64;
            // A negative count keeps all but that many from the other side.
            let take = if n >= 0 { n.min(len) } else { (len + n).max(0) } as usize;
            Some(if left { graphemes[..take].concat() } else { graphemes[graphemes.len() - take..].concat() })
        })
        .collect();
    Ok(shared(StringArray::from(out)))
}

/// Every byte but ASCII letters, digits and `-_.~` as `%XX`.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn url_decode(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| invalid(format!("Invalid Input Error: Failed to decode '{text}': not UTF-8")))
}

/// The separators a path splits on: `forward_slash`, `backslash`, or (DuckDB's default, for any
/// other option) both.
fn separators(option: Option<&str>) -> Vec<char> {
    match option.map(str::to_lowercase).as_deref() {
        Some("forward_slash") => vec!['/'],
        Some("backslash") => vec!['\\'],
        _ => vec!['/', '\\'],
    }
}

#[derive(Clone, Copy)]
enum PathPart {
    /// The first component (`/` for an absolute path).
    Top,
    /// Everything before the last component.
    Head,
}

fn path_part(arrays: &[ArrayRef], part: PathPart) -> Result<ArrayRef> {
    let (values, options) = (texts(&arrays[0])?, arrays.get(1).map(texts).transpose()?);
    let mut out = Vec::with_capacity(values.len());
    for (r, value) in values.iter().enumerate() {
        let separators = separators(options.as_ref().and_then(|o| o[r].as_deref()));
        out.push(value.as_ref().map(|path| {
            let trimmed = path.trim_end_matches(separators.as_slice());
            match part {
                PathPart::Top => match trimmed.find(separators.as_slice()) {
                    Some(0) => trimmed[..1].to_string(),
                    Some(at) => trimmed[..at].to_string(),
                    None => String::new(),
                },
                PathPart::Head => match trimmed.rfind(separators.as_slice()) {
                    Some(0) => trimmed[..1].to_string(),
                    Some(at) => trimmed[..at].to_string(),
                    None => String::new(),
                },
            }
        }));
    }
    Ok(shared(StringArray::from(out)))
}

fn parse_filename(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let values = texts(&arrays[0])?;
    // The second argument is the trim flag, or (as in DuckDB) the separator when it is text.
    let (trim, option) = match arrays.get(1) {
        Some(a) if a.data_type() == &DataType::Boolean => (Some(texts(a)?), arrays.get(2).map(texts).transpose()?),
        Some(a) => (None, Some(texts(a)?)),
        None => (None, None),
    };
    let mut out = Vec::with_capacity(values.len());
    for (r, value) in values.iter().enumerate() {
        let separators = separators(option.as_ref().and_then(|o| o[r].as_deref()));
        let trim_extension = trim.as_ref().and_then(|t| t[r].as_deref()) == Some("true");
        out.push(value.as_ref().map(|path| {
            let name = path.rsplit(separators.as_slice()).next().unwrap_or_default();
            match name.rfind('.') {
                Some(dot) if trim_extension && dot > 0 => name[..dot].to_string(),
                _ => name.to_string(),
            }
        }));
    }
    Ok(shared(StringArray::from(out)))
}

fn parse_path(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (values, options) = (texts(&arrays[0])?, arrays.get(1).map(texts).transpose()?);
    let mut out = ListBuilder::new(StringBuilder::new());
    for (r, value) in values.iter().enumerate() {
        let separators = separators(options.as_ref().and_then(|o| o[r].as_deref()));
        let Some(path) = value else {
            out.append(false);
            continue;
        };
        if path.starts_with(separators.as_slice()) {
            out.values().append_value(&path[..1]);
        }
        for component in path.split(separators.as_slice()).filter(|c| !c.is_empty()) {
            out.values().append_value(component);
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

fn similarity(arrays: &[ArrayRef], measure: fn(&str, &str) -> f64) -> Result<ArrayRef> {
    let (a, b) = (texts(&arrays[0])?, texts(&arrays[1])?);
    let cutoffs = arrays.get(2).map(doubles).transpose()?;
    let out: Vec<Option<f64>> = (0..a.len())
        .map(|r| {
            let (Some(x), Some(y)) = (&a[r], &b[r]) else { return None };
            // Two empty texts are not alike in DuckDB (0.0); below the cutoff is 0.
            let score = if x.is_empty() && y.is_empty() { 0.0 } else { measure(x, y) };
            let cutoff = match &cutoffs {
                Some(c) => c[r]?,
                None => 0.0,
            };
            Some(if score >= cutoff { score } else { 0.0 })
        })
        .collect();
    Ok(shared(Float64Array::from(out)))
}

/// DuckDB's `to_hex`: an integer in upper-case hexadecimal (two's complement when negative), text
/// and blobs byte by byte.
fn to_hex(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let array = &arrays[0];
    let hex_bytes = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02X}")).collect::<String>();
    let out: Vec<Option<String>> = match array.data_type() {
        DataType::UInt64 | DataType::UInt32 | DataType::UInt16 | DataType::UInt8 => {
            let values = datafusion::arrow::compute::cast(array, &DataType::UInt64)?;
            values
                .as_primitive::<datafusion::arrow::datatypes::UInt64Type>()
                .iter()
                .map(|v| v.map(|v| format!("{v:X}")))
                .collect()
        }
        t if t.is_integer() || t.is_null() => integers(array)?.iter().map(|v| v.map(|v| format!("{v:X}"))).collect(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let values = datafusion::arrow::compute::cast(array, &DataType::Binary)?;
            values.as_binary::<i32>().iter().map(|v| v.map(hex_bytes)).collect()
        }
        _ => texts(array)?.iter().map(|v| v.as_deref().map(|t| hex_bytes(t.as_bytes()))).collect(),
    };
    Ok(shared(StringArray::from(out)))
}

/// The next double after `x` toward `toward`.
fn nextafter(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (x, toward) = (doubles(&arrays[0])?, doubles(&arrays[1])?);
    let step = |x: f64, y: f64| -> f64 {
        if x.is_nan() || y.is_nan() {
            return f64::NAN;
        }
        if x == y {
            return y;
        }
        if x == 0.0 {
            let tiny = f64::from_bits(1);
            return if y > 0.0 { tiny } else { -tiny };
        }
        let bits = x.to_bits();
        let up = (y > x) == (x > 0.0);
        f64::from_bits(if up { bits + 1 } else { bits - 1 })
    };
    Ok(shared(Float64Array::from_iter((0..x.len()).map(|r| x[r].zip(toward[r]).map(|(a, b)| step(a, b))))))
}
