//! DuckDB's string and regular-expression functions that DataFusion lacks, with DuckDB's rules
//! (byte-wise where DuckDB counts bytes) and its error messages.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, ListBuilder, StringArray, StringBuilder, UInt64Array,
};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{doubles, integers, invalid, map_texts, row_udf, shared, texts};

pub(crate) fn text_functions() -> Vec<ScalarUDF> {
    let utf8 = |_: &[DataType]| Ok(DataType::Utf8);
    let int64 = |_: &[DataType]| Ok(DataType::Int64);
    let utf8_list = |_: &[DataType]| Ok(DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))));
    vec![
        row_udf(
            "regexp_extract_all",
            "regexp_extract_all(string, pattern [, group [, options]])",
            2..=4,
            utf8_list,
            regexp_extract_all,
        ),
        row_udf("string_split", "string_split(text, separator)", 2..=2, utf8_list, |a| string_split(a, false))
            .with_aliases(["str_split", "split", "string_to_array"]),
        row_udf("string_split_regex", "string_split_regex(text, pattern [, options])", 2..=3, utf8_list, |a| {
            string_split(a, true)
        })
        .with_aliases(["str_split_regex", "regexp_split_to_array"]),
        row_udf("regexp_escape", "one argument: regexp_escape(string)", 1..=1, utf8, |a| {
            map_texts(&a[0], |s| Ok(quote_meta(s)))
        }),
        row_udf("damerau_levenshtein", "damerau_levenshtein(a, b)", 2..=2, int64, |a| {
            pairs(a, |x, y| {
                let (x, y): (Vec<char>, Vec<char>) = (x.chars().collect(), y.chars().collect());
                Ok(damerau_levenshtein(&x, &y) as i64)
            })
        }),
        row_udf("mismatches", "mismatches(a, b)", 2..=2, int64, mismatches),
        row_udf("hamming", "hamming(a, b)", 2..=2, int64, mismatches),
        row_udf("jaccard", "jaccard(a, b)", 2..=2, |_| Ok(DataType::Float64), jaccard),
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
        row_udf("bar", "bar(x, min, max [, width])", 3..=4, utf8, bar),
        row_udf("to_base", "to_base(number, radix [, min_length])", 2..=3, utf8, to_base),
    ]
}

fn pairs(arrays: &[ArrayRef], f: impl Fn(&str, &str) -> Result<i64>) -> Result<ArrayRef> {
    let (a, b) = (texts(&arrays[0])?, texts(&arrays[1])?);
    let out: Vec<Option<i64>> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| x.as_deref().zip(y.as_deref()).map(|(x, y)| f(x, y)).transpose())
        .collect::<Result<_>>()?;
    Ok(shared(Int64Array::from(out)))
}

/// RE2's `QuoteMeta`: every byte but ASCII letters, digits, `_` and UTF-8 continuation escaped.
fn quote_meta(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' => out.push(c),
            '\0' => out.push_str("\\x00"),
            c if !c.is_ascii() => out.push(c),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out
}

/// A regular expression with DuckDB's option letters (`i` insensitive, `c` sensitive, `s`/`n`/`p`
/// newline-sensitive, `m`, `l` literal, `g` global: ignored as every match is taken).
pub(crate) fn compile(pattern: &str, options: Option<&str>) -> Result<regex::Regex> {
    let options = options.unwrap_or_default();
    // `l` reads the pattern literally; the other options still apply to it.
    let pattern = if options.contains('l') { regex::escape(pattern) } else { pattern.to_string() };
    let mut builder = regex::RegexBuilder::new(&pattern);
    for option in options.chars() {
        match option {
            'i' => {
                builder.case_insensitive(true);
            }
            'c' => {
                builder.case_insensitive(false);
            }
            'm' | 'n' | 'p' => {
                builder.multi_line(true);
            }
            's' => {
                builder.dot_matches_new_line(true);
            }
            'g' | 'l' | 'k' => {}
            other => return Err(invalid(format!("Unrecognized Regex option {other}"))),
        }
    }
    builder.build().map_err(|e| invalid(format!("Invalid Input Error: {e}")))
}

fn regexp_extract_all(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let subjects = texts(&arrays[0])?;
    let patterns = texts(&arrays[1])?;
    let groups = arrays.get(2).map(integers).transpose()?;
    let options = arrays.get(3).map(texts).transpose()?;
    let mut compiled: HashMap<(String, Option<String>), regex::Regex> = HashMap::new();
    let mut out = ListBuilder::new(StringBuilder::new());
    for row in 0..subjects.len() {
        let group = groups.as_ref().map_or(Some(0), |g| g[row]);
        let option = options.as_ref().and_then(|o| o[row].clone());
        let (Some(subject), Some(pattern), Some(group)) = (&subjects[row], &patterns[row], group) else {
            out.append(false);
            continue;
        };
        let key = (pattern.clone(), option.clone());
        if !compiled.contains_key(&key) {
            compiled.insert(key.clone(), compile(pattern, option.as_deref())?);
        }
        let re = &compiled[&key];
        if group >= 0 {
            for_each_match(re, subject, |captures| {
                if group as usize >= re.captures_len() {
                    return Err(invalid(format!(
                        "Invalid Input Error: Pattern has {} groups. Cannot access group {group}",
                        re.captures_len() - 1
                    )));
                }
                // A group that took no part in the match is NULL.
                out.values().append_option(captures.get(group as usize).map(|m| m.as_str()));
                Ok(())
            })?;
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

/// DuckDB's walk over the matches: the next search starts where the match ended, or one
/// character further when that is where it started.
pub(crate) fn for_each_match(
    re: &regex::Regex,
    subject: &str,
    mut emit: impl FnMut(&regex::Captures) -> Result<()>,
) -> Result<()> {
    let mut start = 0;
    while start <= subject.len() {
        let Some(captures) = re.captures_at(subject, start) else { break };
        emit(&captures)?;
        let end = captures.get(0).map_or(start, |m| m.end());
        start = if end == start { start + next_char_len(subject, start) } else { end };
    }
    Ok(())
}

fn next_char_len(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(1, char::len_utf8)
}

/// DuckDB's `string_split` (and `string_split_regex`): the text between the separator's matches;
/// an empty match splits off one character; no separator keeps the text whole.
fn split_by(text: &str, mut find: impl FnMut(&str) -> Option<(usize, usize)>) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let Some((mut at, length)) = find(rest) else { break };
        if length == 0 && at == 0 {
            at = next_char_len(rest, 0);
            if at >= rest.len() {
                break;
            }
        }
        pieces.push(rest[..at].to_string());
        rest = &rest[at + length..];
    }
    pieces.push(rest.to_string());
    pieces
}

fn string_split(arrays: &[ArrayRef], regex: bool) -> Result<ArrayRef> {
    let (values, separators) = (texts(&arrays[0])?, texts(&arrays[1])?);
    let options = arrays.get(2).map(texts).transpose()?;
    let mut compiled: HashMap<(String, Option<String>), regex::Regex> = HashMap::new();
    let mut out = ListBuilder::new(StringBuilder::new());
    for (row, value) in values.iter().enumerate() {
        let Some(value) = value else {
            out.append(false);
            continue;
        };
        let pieces = match &separators[row] {
            None => vec![value.clone()],
            Some(separator) if regex => {
                let key = (separator.clone(), options.as_ref().and_then(|o| o[row].clone()));
                if !compiled.contains_key(&key) {
                    compiled.insert(key.clone(), compile(separator, key.1.as_deref())?);
                }
                let re = &compiled[&key];
                split_by(value, |rest| re.find(rest).map(|m| (m.start(), m.len())))
            }
            // An empty separator splits into characters, of which '' has none.
            Some(separator) if separator.is_empty() && value.is_empty() => vec![],
            Some(separator) if separator.is_empty() => split_by(value, |_| Some((0, 0))),
            Some(separator) => split_by(value, |rest| rest.find(separator.as_str()).map(|at| (at, separator.len()))),
        };
        for piece in pieces {
            out.values().append_value(piece);
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

/// The Lowrance–Wagner distance over characters, as DuckDB computes it.
fn damerau_levenshtein(source: &[char], target: &[char]) -> usize {
    let (n, m) = (source.len(), target.len());
    if n == 0 || m == 0 {
        return n + m;
    }
    let inf = n + m + 1;
    let mut d = vec![vec![inf; m + 2]; n + 2];
    for i in 0..=n {
        d[i + 1][1] = i;
    }
    for j in 1..=m {
        d[1][j + 1] = j;
    }
    let mut last_row: HashMap<char, usize> = HashMap::new();
    for i in 0..n {
        let mut last_match_col = 0;
        for j in 0..m {
            let i1 = last_row.get(&target[j]).copied().unwrap_or(0);
            let j1 = last_match_col;
            let cost = if source[i] == target[j] {
                last_match_col = j + 1;
                0
            } else {
                1
            };
            let transposition = d[i1][j1] + (i - i1) + 1 + (j - j1);
            d[i + 2][j + 2] =
                (d[i + 1][j + 1] + cost).min(d[i + 2][j + 1] + 1).min(d[i + 1][j + 2] + 1).min(transposition);
        }
        last_row.insert(source[i], i + 1);
    }
    d[n + 1][m + 1]
}

fn mismatches(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    pairs(arrays, |a, b| {
        if a.len() != b.len() {
            return Err(invalid("Invalid Input Error: Mismatch Function: Strings must be of equal length!".into()));
        }
        if a.is_empty() {
            return Err(invalid("Invalid Input Error: Mismatch Function: Strings must be of length > 0!".into()));
        }
        Ok(a.bytes().zip(b.bytes()).filter(|(x, y)| x != y).count() as i64)
    })
}

fn jaccard(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (a, b) = (texts(&arrays[0])?, texts(&arrays[1])?);
    let set = |s: &str| {
        let mut bits = [false; 256];
        s.bytes().for_each(|b| bits[b as usize] = true);
        bits
    };
    let mut out = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(&b) {
        out.push(match (x, y) {
            (Some(x), Some(y)) => {
                if x.is_empty() || y.is_empty() {
                    return Err(invalid("Invalid Input Error: Jaccard Function: An argument too short!".into()));
                }
                let (sx, sy) = (set(x), set(y));
                let both = (0..256).filter(|&i| sx[i] && sy[i]).count();
                let either = (0..256).filter(|&i| sx[i] || sy[i]).count();
                Some(both as f64 / either as f64)
            }
            _ => None,
        });
    }
    Ok(shared(Float64Array::from(out)))
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

const PARTIAL_BLOCKS: [&str; 8] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

fn bar_of(x: f64, min: f64, max: f64, max_width: f64) -> std::result::Result<String, String> {
    if !max_width.is_finite() {
        return Err("Max bar width must not be NaN or infinity".into());
    }
    if max_width < 1.0 {
        return Err("Max bar width must be >= 1".into());
    }
    if max_width > 1000.0 {
        return Err("Max bar width must be <= 1000".into());
    }
    let width = if x.is_nan() || min.is_nan() || max.is_nan() || x <= min {
        0.0
    } else if x >= max {
        max_width
    } else {
        max_width * (x - min) / (max - min)
    };
    if !width.is_finite() {
        return Err("Bar width must not be NaN or infinity".into());
    }
    let eighths = (width * 8.0) as u32;
    let (full, remaining) = ((eighths / 8) as usize, (eighths % 8) as usize);
    let mut out = "█".repeat(full);
    let mut used = full;
    if remaining > 0 {
        used += 1;
        out.push_str(PARTIAL_BLOCKS[remaining]);
    }
    out.push_str(&" ".repeat((max_width as usize).saturating_sub(used)));
    Ok(out)
}

fn bar(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let columns: Vec<Vec<Option<f64>>> = arrays.iter().map(doubles).collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(columns[0].len());
    for row in 0..columns[0].len() {
        let width = columns.get(3).map_or(Some(80.0), |w| w[row]);
        out.push(match (columns[0][row], columns[1][row], columns[2][row], width) {
            (Some(x), Some(min), Some(max), Some(width)) => {
                Some(bar_of(x, min, max, width).map_err(|e| invalid(format!("Out of Range Error: {e}")))?)
            }
            _ => None,
        });
    }
    Ok(shared(StringArray::from(out)))
}

fn to_base(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let (numbers, radixes) = (integers(&arrays[0])?, integers(&arrays[1])?);
    let lengths = arrays.get(2).map(integers).transpose()?;
    let mut out = Vec::with_capacity(numbers.len());
    for row in 0..numbers.len() {
        let length = lengths.as_ref().map_or(Some(0), |l| l[row]);
        let (Some(mut number), Some(radix), Some(length)) = (numbers[row], radixes[row], length) else {
            out.push(None);
            continue;
        };
        if number < 0 {
            return Err(invalid("Invalid Input Error: 'to_base' number must be greater than or equal to 0".into()));
        }
        if !(2..=36).contains(&radix) {
            return Err(invalid("Invalid Input Error: 'to_base' radix must be between 2 and 36".into()));
        }
        if !(0..=64).contains(&length) {
            return Err(invalid("Invalid Input Error: 'to_base' min_length must be between 0 and 64".into()));
        }
        let mut digits = Vec::new();
        loop {
            digits.push(ALPHABET[(number % radix) as usize]);
            number /= radix;
            if number == 0 {
                break;
            }
        }
        while digits.len() < length as usize {
            digits.push(b'0');
        }
        digits.reverse();
        out.push(Some(String::from_utf8_lossy(&digits).into_owned()));
    }
    Ok(shared(StringArray::from(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_sizes_are_duckdbs() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(damerau_levenshtein(&chars("hello"), &chars("ehlo")), 2);
        assert_eq!(damerau_levenshtein(&chars("ca"), &chars("abc")), 2);
        assert_eq!(damerau_levenshtein(&chars(""), &chars("ñandú")), 5);
        assert_eq!(human_bytes(16384, 1024), "16.0 KiB");
        assert_eq!(human_bytes(1, 1024), "1 byte");
        assert_eq!(human_bytes(16000, 1000), "16.0 kB");
        assert_eq!(parse_bytes("1.5GB"), Ok(1_500_000_000));
        assert!(parse_bytes("1024").unwrap_err().starts_with("Unknown unit for memory: ''"));
        assert_eq!(bar_of(5.0, 0.0, 20.0, 10.0).unwrap(), "██▌       ");
        assert_eq!(quote_meta("a.b*c ñ"), "a\\.b\\*c\\ ñ");
    }
}
