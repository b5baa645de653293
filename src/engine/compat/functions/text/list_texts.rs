//! `CAST('[1, 2, 3]' AS INT[])`: text read as a list the way DuckDB reads it — brackets nested to
//! the type's depth, elements split on commas outside brackets and quotes, trimmed, `NULL` (in any
//! case, unquoted) a NULL, quotes around an element removed, a backslash escaping the character
//! after it. Arrow casts text to a list only as a one-element list, so the cast of text becomes
//! `list_from_text(x, depth)` (lists of text) under the same cast, which then casts the elements.
//! A value that is not text (a list, a NULL) passes through.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::sql::sqlparser::ast::{ArrayElemTypeDef, DataType as SqlType, Expr};

use crate::engine::compat::ast::call;
use crate::engine::compat::functions::common::is_text;

const NAME: &str = "list_from_text";

/// The rewrite of a cast to a list type; `None` for other expressions.
pub(crate) fn list_cast(expr: &Expr) -> Option<Expr> {
    let Expr::Cast { data_type, expr: value, kind, format, array } = expr else { return None };
    let depth = list_depth(data_type);
    if depth == 0 || matches!(value.as_ref(), Expr::Function(f) if f.name.to_string() == NAME) {
        return None;
    }
    let depth = Expr::value(datafusion::sql::sqlparser::ast::Value::Number(depth.to_string(), false));
    Some(Expr::Cast {
        kind: kind.clone(),
        expr: Box::new(call(NAME, vec![(**value).clone(), depth])),
        data_type: data_type.clone(),
        array: *array,
        format: format.clone(),
    })
}

fn list_depth(data_type: &SqlType) -> usize {
    match data_type {
        SqlType::Array(ArrayElemTypeDef::SquareBracket(inner, _) | ArrayElemTypeDef::AngleBracket(inner)) => {
            1 + list_depth(inner)
        }
        _ => 0,
    }
}

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![ScalarUDF::new_from_impl(ListFromText { signature: Signature::any(2, Volatility::Immutable) })]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ListFromText {
    signature: Signature,
}

/// Lists of text, `depth` deep.
fn text_lists(depth: usize) -> DataType {
    (0..depth).fold(DataType::Utf8, |inner, _| DataType::List(Arc::new(Field::new("item", inner, true))))
}

fn depth_of(args: &[ColumnarValue]) -> Result<usize> {
    match args.get(1) {
        Some(ColumnarValue::Scalar(ScalarValue::Int64(Some(d)))) if (1..=32).contains(d) => Ok(*d as usize),
        _ => exec_err!("list_from_text(text, depth) takes a depth from 1 to 32"),
    }
}

impl ScalarUDFImpl for ListFromText {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        plan_err!("list_from_text's type comes from its arguments")
    }

    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        let input = args.arg_fields[0].data_type();
        let depth = match args.scalar_arguments.get(1) {
            Some(Some(ScalarValue::Int64(Some(d)))) if (1..=32).contains(d) => *d as usize,
            _ => return plan_err!("list_from_text(text, depth) takes a constant depth"),
        };
        let data_type = if is_text(input) { text_lists(depth) } else { input.clone() };
        Ok(Arc::new(Field::new(NAME, data_type, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let depth = depth_of(&args.args)?;
        let input = &args.args[0];
        let data_type = input.data_type();
        if !is_text(&data_type) {
            return Ok(input.clone());
        }
        let scalar = matches!(input, ColumnarValue::Scalar(_));
        let array = input.to_array(args.number_rows)?;
        let array = datafusion::arrow::compute::cast(&array, &DataType::Utf8)?;
        let texts = array.as_string::<i32>();
        let mut values: Vec<Option<Value>> = Vec::with_capacity(texts.len());
        for text in texts.iter() {
            values.push(match text {
                None => None,
                Some(text) => Some(parse(text, depth).map_err(|why| {
                    datafusion::error::DataFusionError::Execution(format!(
                        "cannot cast '{text}' to a list: {why} (write it as DuckDB prints lists: [1, 2, 3])"
                    ))
                })?),
            });
        }
        let result = build(&values, depth);
        crate::engine::compat::functions::common::columnar(result, scalar)
    }
}

/// A parsed element: text (or NULL), or a nested list.
#[derive(Debug, PartialEq)]
enum Value {
    Text(Option<String>),
    List(Vec<Value>),
}

fn parse(text: &str, depth: usize) -> Result<Value, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    let value = parse_list(&chars, &mut at, depth)?;
    skip_spaces(&chars, &mut at);
    if at != chars.len() {
        return Err("text follows the list's closing bracket".into());
    }
    Ok(value)
}

fn skip_spaces(chars: &[char], at: &mut usize) {
    while *at < chars.len() && chars[*at].is_whitespace() {
        *at += 1;
    }
}

fn parse_list(chars: &[char], at: &mut usize, depth: usize) -> Result<Value, String> {
    skip_spaces(chars, at);
    if chars.get(*at) != Some(&'[') {
        return Err("a list starts with [".into());
    }
    *at += 1;
    let mut items = Vec::new();
    skip_spaces(chars, at);
    if chars.get(*at) == Some(&']') {
        *at += 1;
        return Ok(Value::List(items));
    }
    loop {
        skip_spaces(chars, at);
        let item = if depth > 1 {
            let start = *at;
            let word: String = chars[start..].iter().take(4).collect();
            if word.eq_ignore_ascii_case("null") {
                *at += 4;
                Value::Text(None)
            } else {
                parse_list(chars, at, depth - 1)?
            }
        } else {
            Value::Text(parse_element(chars, at)?)
        };
        items.push(item);
        skip_spaces(chars, at);
        match chars.get(*at) {
            Some(',') => *at += 1,
            Some(']') => {
                *at += 1;
                return Ok(Value::List(items));
            }
            _ => return Err("elements are separated by commas and the list ends with ]".into()),
        }
    }
}

/// One element of the innermost list: up to a comma or `]` outside quotes and brackets.
fn parse_element(chars: &[char], at: &mut usize) -> Result<Option<String>, String> {
    let mut text = String::new();
    let (mut quote, mut nested, mut quoted) = (None::<char>, 0usize, false);
    while let Some(&c) = chars.get(*at) {
        match (quote, c) {
            (_, '\\') => {
                *at += 1;
                text.push(*chars.get(*at).ok_or("the text ends after a backslash")?);
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => text.push(c),
            (None, '\'' | '"') if text.trim().is_empty() => {
                quote = Some(c);
                quoted = true;
                text.clear();
            }
            (None, '[' | '{' | '(') => {
                nested += 1;
                text.push(c);
            }
            (None, ']' | '}' | ')') if nested > 0 => {
                nested -= 1;
                text.push(c);
            }
            (None, ',' | ']') => break,
            // Spaces after a quoted element are not part of it.
            (None, c) if quoted && c.is_whitespace() => {}
            (None, c) => text.push(c),
        }
        *at += 1;
    }
    if quote.is_some() {
        return Err("a quote is not closed".into());
    }
    let trimmed = if quoted { text } else { text.trim().to_string() };
    Ok(if !quoted && trimmed.eq_ignore_ascii_case("null") { None } else { Some(trimmed) })
}

fn build(values: &[Option<Value>], depth: usize) -> ArrayRef {
    fn append(builder: &mut dyn datafusion::arrow::array::ArrayBuilder, value: Option<&Value>, depth: usize) {
        if depth == 0 {
            let strings = builder.as_any_mut().downcast_mut::<StringBuilder>();
            if let Some(strings) = strings {
                match value {
                    Some(Value::Text(Some(t))) => strings.append_value(t),
                    _ => strings.append_null(),
                }
            }
            return;
        }
        let lists = builder.as_any_mut().downcast_mut::<ListBuilder<Box<dyn datafusion::arrow::array::ArrayBuilder>>>();
        let Some(lists) = lists else { return };
        match value {
            Some(Value::List(items)) => {
                for item in items {
                    append(lists.values().as_mut(), Some(item), depth - 1);
                }
                lists.append(true);
            }
            _ => lists.append(false),
        }
    }
    let mut builder = datafusion::arrow::array::make_builder(&text_lists(depth), values.len());
    for value in values {
        append(builder.as_mut(), value.as_ref(), depth);
    }
    builder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(items: &[Option<&str>]) -> Value {
        Value::List(items.iter().map(|t| Value::Text(t.map(str::to_string))).collect())
    }

    #[test]
    fn lists_read_as_duckdb_reads_them() {
        assert_eq!(parse("[12,13,14]", 1).unwrap(), texts(&[Some("12"), Some("13"), Some("14")]));
        assert_eq!(
            parse(" [ 'a, b' , NULL, \"c\", d\\,e ] ", 1).unwrap(),
            texts(&[Some("a, b"), None, Some("c"), Some("d,e")])
        );
        assert_eq!(parse("[]", 1).unwrap(), Value::List(vec![]));
        assert_eq!(
            parse("[ [1, 2], [], null ]", 2).unwrap(),
            Value::List(vec![texts(&[Some("1"), Some("2")]), Value::List(vec![]), Value::Text(None)])
        );
        assert!(parse("[1, 2", 1).is_err() && parse("1, 2", 1).is_err() && parse("[1] x", 1).is_err());
        let array = build(&[Some(parse("[[1],[2,3]]", 2).unwrap()), None], 2);
        assert_eq!(array.len(), 2);
        assert!(array.is_null(1));
    }
}
