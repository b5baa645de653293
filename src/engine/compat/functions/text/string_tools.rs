//! DuckDB's string functions over graphemes (`length_grapheme`, `substring_grapheme`,
//! `left_grapheme`, `right_grapheme`), URLs (`url_encode`, `url_decode`) and similarity
//! (`jaro_similarity`, `jaro_winkler_similarity`); `to_hex` of integers, text and blobs; and
//! `nextafter`; `overlay`, `split_part` and `strip_accents` as DuckDB answers them.

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;
use unicode_segmentation::UnicodeSegmentation;

use crate::engine::compat::functions::common::{doubles, integers, invalid, map_texts, row_udf, shared, texts};

pub(crate) fn functions() -> Vec<ScalarUDF> {
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
        row_udf("jaro_similarity", "jaro_similarity(a, b [, cutoff])", 2..=3, double, |a| similarity(a, strsim::jaro)),
        row_udf("jaro_winkler_similarity", "jaro_winkler_similarity(a, b [, cutoff])", 2..=3, double, |a| {
            similarity(a, strsim::jaro_winkler)
        }),
        row_udf("nextafter", "nextafter(x, toward)", 2..=2, double, nextafter),
        row_udf("to_hex", "one argument: to_hex(value)", 1..=1, |_| Ok(DataType::Utf8), to_hex),
        row_udf("overlay", "overlay(text, replacement, from [, count])", 3..=4, utf8, overlay),
        row_udf("text_element", "text[index]", 2..=2, utf8, text_element),
        row_udf("text_slice", "text[begin:end]", 3..=3, utf8, text_slice),
        row_udf("split_part", "split_part(text, separator, index)", 3..=3, utf8, split_part),
        row_udf("strip_accents", "one argument: strip_accents(text)", 1..=1, utf8, |a| {
            use unicode_normalization::UnicodeNormalization;
            map_texts(&a[0], |t| Ok(t.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).collect()))
        }),
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

/// `overlay(s PLACING r FROM from [FOR count])` over characters: the characters before `from`, `r`,
/// and those from `from + count` on (`count` defaults to, and when negative is, r's length; a
/// start before 1 keeps nothing in front).
fn overlay(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (values, replacements, starts) = (texts(&arrays[0])?, texts(&arrays[1])?, integers(&arrays[2])?);
    let counts = arrays.get(3).map(integers).transpose()?;
    let out: Vec<Option<String>> = (0..values.len())
        .map(|r| {
            let (Some(text), Some(replacement), Some(start)) = (&values[r], &replacements[r], starts[r]) else {
                return None;
            };
            let replaced = replacement.chars().count() as i64;
            let count = match &counts {
                Some(c) => c[r]?,
                None => replaced,
            };
            let count = if count < 0 { replaced } else { count };
            let chars: Vec<char> = text.chars().collect();
            let keep_before = (start - 1).clamp(0, chars.len() as i64) as usize;
            let resume = (start.saturating_add(count) - 1).clamp(0, chars.len() as i64) as usize;
            let mut out: String = chars[..keep_before].iter().collect();
            out.push_str(replacement);
            out.extend(&chars[resume..]);
            Some(out)
        })
        .collect();
    Ok(shared(StringArray::from(out)))
}

/// The `index`th part (1-based, negative from the end) of the text split on `separator` (an empty
/// one splits into characters); '' outside the parts.
fn split_part(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (values, separators, indexes) = (texts(&arrays[0])?, texts(&arrays[1])?, integers(&arrays[2])?);
    let out: Vec<Option<String>> = (0..values.len())
        .map(|r| {
            let (Some(text), Some(separator), Some(index)) = (&values[r], &separators[r], indexes[r]) else {
                return None;
            };
            let parts: Vec<String> = if text.is_empty() {
                vec![String::new()]
            } else if separator.is_empty() {
                text.chars().map(String::from).collect()
            } else {
                text.split(separator.as_str()).map(str::to_string).collect()
            };
            let at = if index > 0 { index - 1 } else { parts.len() as i64 + index };
            Some(if index == 0 || at < 0 { String::new() } else { parts.get(at as usize).cloned().unwrap_or_default() })
        })
        .collect();
    Ok(shared(StringArray::from(out)))
}

/// `'abc'[i]`: the i-th character (1-based, negative from the end); '' outside the text.
fn text_element(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (values, indexes) = (texts(&arrays[0])?, integers(&arrays[1])?);
    let out: Vec<Option<String>> = (0..values.len())
        .map(|r| {
            let (Some(text), Some(index)) = (&values[r], indexes[r]) else { return None };
            let chars: Vec<char> = text.chars().collect();
            let at = if index < 0 { chars.len() as i64 + index } else { index - 1 };
            let found = if index == 0 || at < 0 { None } else { chars.get(at as usize) };
            Some(found.map(char::to_string).unwrap_or_default())
        })
        .collect();
    Ok(shared(StringArray::from(out)))
}

/// `'hello'[b:e]`: the characters from b to e, both included (1-based, negative from the end,
/// clamped to the text).
fn text_slice(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (values, begins, ends) = (texts(&arrays[0])?, integers(&arrays[1])?, integers(&arrays[2])?);
    let out: Vec<Option<String>> = (0..values.len())
        .map(|r| {
            let (Some(text), Some(begin), Some(end)) = (&values[r], begins[r], ends[r]) else { return None };
            let chars: Vec<char> = text.chars().collect();
            let n = chars.len() as i64;
            let position = |i: i64| if i < 0 { n + i + 1 } else { i };
            let (from, to) = (position(begin).max(1), position(end).min(n));
            Some(if from > to { String::new() } else { chars[(from - 1) as usize..to as usize].iter().collect() })
        })
        .collect();
    Ok(shared(StringArray::from(out)))
}
