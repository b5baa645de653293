//! DuckDB's `string_split` (by a separator) and `string_split_regex` (by a pattern).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{row_udf, texts};
use crate::engine::compat::functions::regex::common::{compile, next_char_len};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let utf8_list = |_: &[DataType]| Ok(DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))));
    vec![
        row_udf("string_split", "string_split(text, separator)", 2..=2, utf8_list, |a| string_split(a, false))
            .with_aliases(["str_split", "split", "string_to_array"]),
        row_udf("string_split_regex", "string_split_regex(text, pattern [, options])", 2..=3, utf8_list, |a| {
            string_split(a, true)
        })
        .with_aliases(["str_split_regex", "regexp_split_to_array"]),
    ]
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
