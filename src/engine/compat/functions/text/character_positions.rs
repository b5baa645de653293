//! DuckDB's functions that address a text by character position: `overlay`, `split_part`, and
//! the subscripts `text[i]` and `text[b:e]` (`text_element`, `text_slice`).

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{integers, row_udf, shared, texts};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let utf8 = |_: &[DataType]| Ok(DataType::Utf8);
    vec![
        row_udf("overlay", "overlay(text, replacement, from [, count])", 3..=4, utf8, overlay),
        row_udf("text_element", "text[index]", 2..=2, utf8, text_element),
        row_udf("text_slice", "text[begin:end]", 3..=3, utf8, text_slice),
        row_udf("split_part", "split_part(text, separator, index)", 3..=3, utf8, split_part),
    ]
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
