//! DuckDB's `upper` and `lower`: Unicode's simple case mapping, one character for one (utf8proc's
//! `toupper`/`tolower`), where Rust's `to_uppercase` applies the full mapping (`ß` → `SS`, `İ` →
//! `i̇`) and final-sigma rules (`ΣΑΣ` → `σας`). Checked against DuckDB on every code point by the
//! catalogue's cases.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::row_udf;

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let text = |_: &[DataType]| Ok(DataType::Utf8);
    vec![
        row_udf("upper", "one argument: upper(text)", 1..=1, text, |a| mapped(&a[0], upper_char)),
        row_udf("lower", "one argument: lower(text)", 1..=1, text, |a| mapped(&a[0], lower_char)),
    ]
}

fn mapped(array: &ArrayRef, map: fn(char) -> char) -> Result<ArrayRef> {
    let texts = cast(array, &DataType::Utf8)?;
    let texts = texts.as_string::<i32>();
    let mut out = StringBuilder::with_capacity(texts.len(), texts.value_data().len());
    let mut buffer = String::new();
    for text in texts.iter() {
        match text {
            None => out.append_null(),
            Some(text) => {
                buffer.clear();
                buffer.extend(text.chars().map(map));
                out.append_value(&buffer);
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

/// The simple uppercase of `c`: Rust's mapping where it is one character; else Unicode's simple
/// mapping (the ypogegrammeni letters take their prosgegrammeni capital), and `ß` → `ẞ` as
/// utf8proc maps it.
fn upper_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let mut full = c.to_uppercase();
    match (full.next(), full.next()) {
        (Some(one), None) => one,
        _ => match c {
            'ß' => 'ẞ',
            '\u{1F80}'..='\u{1F87}' | '\u{1F90}'..='\u{1F97}' | '\u{1FA0}'..='\u{1FA7}' => {
                char::from_u32(c as u32 + 8).unwrap_or(c)
            }
            '\u{1FB3}' | '\u{1FC3}' | '\u{1FF3}' => char::from_u32(c as u32 + 9).unwrap_or(c),
            _ => c,
        },
    }
}

/// The simple lowercase of `c`: Rust's mapping where it is one character (no final sigma: that is
/// a rule over words), and `İ` → `i`.
fn lower_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut full = c.to_lowercase();
    match (full.next(), full.next()) {
        (Some(one), None) => one,
        _ if c == 'İ' => 'i',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upper(s: &str) -> String {
        s.chars().map(upper_char).collect()
    }

    fn lower(s: &str) -> String {
        s.chars().map(lower_char).collect()
    }

    #[test]
    fn case_maps_one_character_for_one_as_duckdb() {
        assert_eq!(upper("straße"), "STRAẞE");
        assert_eq!(lower("İ"), "i");
        assert_eq!(lower("ΣΑΣ"), "σασ");
        assert_eq!(upper("ﬀ ŉ ᾳ ᾀ ῳ"), "ﬀ ŉ ᾼ ᾈ ῼ");
        assert_eq!(lower("ᾼ Ǆ"), "ᾳ ǆ");
        assert_eq!(upper("ǅ hello"), "Ǆ HELLO");
    }
}
