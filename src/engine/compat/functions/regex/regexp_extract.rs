//! DuckDB's `regexp_extract` (a match or one of its groups), `regexp_extract_all` (every match)
//! and `regexp_escape`.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListBuilder, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{integers, invalid, map_texts, row_udf, strings, texts};
use crate::engine::compat::functions::regex::common::{compile, for_each_match};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let utf8 = |_: &[DataType]| Ok(DataType::Utf8);
    let utf8_list = |_: &[DataType]| Ok(DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))));
    vec![
        row_udf("regexp_extract", "regexp_extract(string, pattern [, group [, options]])", 2..=4, utf8, regexp_extract),
        row_udf(
            "regexp_extract_all",
            "regexp_extract_all(string, pattern [, group [, options]])",
            2..=4,
            utf8_list,
            regexp_extract_all,
        ),
        row_udf("regexp_escape", "one argument: regexp_escape(string)", 1..=1, utf8, |a| {
            map_texts(&a[0], |s| Ok(quote_meta(s)))
        }),
    ]
}

/// DuckDB's `regexp_extract`: the match (or a group of it), and '' when nothing matches.
fn regexp_extract(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = strings(&arrays[0])?;
    let patterns = strings(&arrays[1])?;
    // A text third argument is the options (`regexp_extract(s, p, 'i')`).
    let (group_arg, option_arg) = match arrays.get(2) {
        Some(a) if matches!(a.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {
            (None, Some(a))
        }
        third => (third, arrays.get(3)),
    };
    let groups = group_arg.map(|a| cast(a, &DataType::Int64)).transpose()?;
    let options = option_arg.map(strings).transpose()?;
    let (texts, patterns) = (texts.as_string::<i32>(), patterns.as_string::<i32>());
    let mut compiled: HashMap<(String, Option<String>), regex::Regex> = HashMap::new();
    let mut out = StringBuilder::new();
    for r in 0..texts.len() {
        if texts.is_null(r) || patterns.is_null(r) || groups.as_ref().is_some_and(|g| g.is_null(r)) {
            out.append_null();
            continue;
        }
        let option = options.as_ref().filter(|o| o.is_valid(r)).map(|o| o.as_string::<i32>().value(r).to_string());
        let key = (patterns.value(r).to_string(), option);
        if !compiled.contains_key(&key) {
            let re = crate::engine::compat::functions::regex::common::compile(&key.0, key.1.as_deref())?;
            compiled.insert(key.clone(), re);
        }
        let group = groups.as_ref().map_or(0, |g| g.as_primitive::<datafusion::arrow::datatypes::Int64Type>().value(r))
            as usize;
        let captures = compiled[&key].captures(texts.value(r));
        // Option `k` keeps the text where the pattern does not match.
        let keep = key.1.as_deref().is_some_and(|o| o.contains('k'));
        let found = match &captures {
            None if keep => texts.value(r),
            _ => captures.and_then(|c| c.get(group)).map_or("", |m| m.as_str()),
        };
        out.append_value(found);
    }
    Ok(Arc::new(out.finish()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metacharacters_are_quoted_as_re2_does() {
        assert_eq!(quote_meta("a.b*c ñ"), "a\\.b\\*c\\ ñ");
    }
}
