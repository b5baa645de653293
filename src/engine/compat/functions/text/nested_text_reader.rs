//! The text reader of `nested_from_text`: DuckDB's printed lists and structs (`[1, [2, 3]]`,
//! `{a: 1, 'b': [x, "y, z"]}`) read into values shaped as the cast's type, text at the leaves.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::sql::sqlparser::ast::{ArrayElemTypeDef, DataType as SqlType};

/// What a cast's type looks like to the text reader: lists and structs, text at the leaves.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Shape {
    Text,
    List(Box<Shape>),
    Struct(Vec<(String, Shape)>),
}

impl Shape {
    /// The shape of a SQL type; `None` for a type with no list or struct in it.
    pub(super) fn of(data_type: &SqlType) -> Option<Shape> {
        let shape = match data_type {
            SqlType::Array(ArrayElemTypeDef::SquareBracket(inner, _) | ArrayElemTypeDef::AngleBracket(inner)) => {
                Shape::List(Box::new(Shape::of(inner).unwrap_or(Shape::Text)))
            }
            SqlType::Struct(fields, _) => Shape::Struct(
                fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let name = f.field_name.as_ref().map_or_else(|| format!("v{}", i + 1), |n| n.value.clone());
                        (name, Shape::of(&f.field_type).unwrap_or(Shape::Text))
                    })
                    .collect(),
            ),
            _ => return None,
        };
        Some(shape)
    }

    /// The shape as the function's constant argument (JSON: "t", [shape], {"name": shape, ...}).
    pub(super) fn to_json(&self) -> serde_json::Value {
        match self {
            Shape::Text => serde_json::Value::String("t".into()),
            Shape::List(inner) => serde_json::Value::Array(vec![inner.to_json()]),
            Shape::Struct(fields) => {
                serde_json::Value::Object(fields.iter().map(|(n, s)| (n.clone(), s.to_json())).collect())
            }
        }
    }

    pub(super) fn from_json(value: &serde_json::Value) -> Option<Shape> {
        Some(match value {
            serde_json::Value::String(t) if t == "t" => Shape::Text,
            serde_json::Value::Array(inner) if inner.len() == 1 => Shape::List(Box::new(Shape::from_json(&inner[0])?)),
            serde_json::Value::Object(fields) if !fields.is_empty() => Shape::Struct(
                fields.iter().map(|(n, s)| Some((n.clone(), Shape::from_json(s)?))).collect::<Option<_>>()?,
            ),
            _ => return None,
        })
    }

    /// The Arrow type the reader gives: the shape with text leaves.
    pub(super) fn data_type(&self) -> DataType {
        match self {
            Shape::Text => DataType::Utf8,
            Shape::List(inner) => DataType::List(Arc::new(Field::new("item", inner.data_type(), true))),
            Shape::Struct(fields) => DataType::Struct(self::fields(fields)),
        }
    }
}

fn fields(fields: &[(String, Shape)]) -> Fields {
    fields.iter().map(|(name, shape)| Field::new(name, shape.data_type(), true)).collect()
}

/// "a list" or "a struct", for messages.
pub(super) fn kind_name(shape: &Shape) -> &'static str {
    if matches!(shape, Shape::Struct(_)) { "a struct" } else { "a list" }
}

/// A parsed value: text or NULL, a list, or a struct's values in the shape's field order.
#[derive(Debug, PartialEq)]
pub(super) enum Value {
    Text(Option<String>),
    List(Vec<Value>),
    Struct(Vec<Value>),
}

pub(super) fn parse(text: &str, shape: &Shape) -> Result<Value, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    let value = parse_nested(&chars, &mut at, shape)?;
    skip_spaces(&chars, &mut at);
    if at != chars.len() {
        return Err(format!("text follows the {}'s end", kind_name(shape).trim_start_matches("a ")));
    }
    Ok(value)
}

fn skip_spaces(chars: &[char], at: &mut usize) {
    while *at < chars.len() && chars[*at].is_whitespace() {
        *at += 1;
    }
}

/// A value of a nested shape at `at`, or an unquoted NULL.
fn parse_nested(chars: &[char], at: &mut usize, shape: &Shape) -> Result<Value, String> {
    skip_spaces(chars, at);
    let word: String = chars[*at..].iter().take(4).collect();
    if word.eq_ignore_ascii_case("null") && !chars.get(*at + 4).is_some_and(|c| c.is_alphanumeric() || *c == '_') {
        *at += 4;
        return Ok(Value::Text(None));
    }
    match shape {
        Shape::Text => Ok(Value::Text(parse_element(chars, at)?)),
        Shape::List(inner) => parse_list(chars, at, inner),
        Shape::Struct(fields) => parse_struct(chars, at, fields),
    }
}

fn parse_list(chars: &[char], at: &mut usize, inner: &Shape) -> Result<Value, String> {
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
        items.push(parse_nested(chars, at, inner)?);
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

fn parse_struct(chars: &[char], at: &mut usize, fields: &[(String, Shape)]) -> Result<Value, String> {
    if chars.get(*at) != Some(&'{') {
        return Err("a struct starts with {".into());
    }
    *at += 1;
    let mut values: Vec<Option<Value>> = fields.iter().map(|_| None).collect();
    skip_spaces(chars, at);
    if chars.get(*at) == Some(&'}') {
        *at += 1;
        return Ok(Value::Struct(values.into_iter().map(|v| v.unwrap_or(Value::Text(None))).collect()));
    }
    loop {
        skip_spaces(chars, at);
        let key = parse_key(chars, at)?;
        let field = fields
            .iter()
            .position(|(name, _)| *name == key)
            .or_else(|| fields.iter().position(|(name, _)| name.eq_ignore_ascii_case(&key)))
            .ok_or_else(|| format!("the struct has no field {key}"))?;
        if values[field].is_some() {
            return Err(format!("the field {key} is given twice"));
        }
        values[field] = Some(parse_nested(chars, at, &fields[field].1)?);
        skip_spaces(chars, at);
        match chars.get(*at) {
            Some(',') => *at += 1,
            Some('}') => {
                *at += 1;
                return Ok(Value::Struct(values.into_iter().map(|v| v.unwrap_or(Value::Text(None))).collect()));
            }
            _ => return Err("fields are separated by commas and the struct ends with }".into()),
        }
    }
}

/// A struct's key, quoted or not, and the colon after it.
fn parse_key(chars: &[char], at: &mut usize) -> Result<String, String> {
    let mut key = String::new();
    let quote = chars.get(*at).copied().filter(|c| *c == '\'' || *c == '"');
    if let Some(q) = quote {
        *at += 1;
        while let Some(&c) = chars.get(*at) {
            *at += 1;
            if c == q {
                break;
            }
            key.push(c);
        }
    } else {
        while let Some(&c) = chars.get(*at).filter(|c| **c != ':' && **c != ',' && **c != '}') {
            key.push(c);
            *at += 1;
        }
        key = key.trim().to_string();
    }
    skip_spaces(chars, at);
    if chars.get(*at) != Some(&':') || key.is_empty() {
        return Err("a struct's fields are written key: value".into());
    }
    *at += 1;
    Ok(key)
}

/// One text element: up to a comma, `]` or `}` outside quotes and brackets.
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
            (None, '\'' | '"') => {
                if text.trim().is_empty() {
                    text.clear();
                }
                quote = Some(c);
                quoted = true;
            }
            (None, '[' | '{' | '(') => {
                nested += 1;
                text.push(c);
            }
            (None, ']' | '}' | ')' | ',') if nested > 0 => {
                nested -= usize::from(c != ',');
                text.push(c);
            }
            (None, ',' | ']' | '}') => break,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(items: &[Option<&str>]) -> Value {
        Value::List(items.iter().map(|t| Value::Text(t.map(str::to_string))).collect())
    }

    fn lists(depth: usize) -> Shape {
        (0..depth).fold(Shape::Text, |inner, _| Shape::List(Box::new(inner)))
    }

    #[test]
    fn lists_read_as_duckdb_reads_them() {
        assert_eq!(parse("[12,13,14]", &lists(1)).unwrap(), texts(&[Some("12"), Some("13"), Some("14")]));
        assert_eq!(
            parse(" [ 'a, b' , NULL, \"c\", d\\,e ] ", &lists(1)).unwrap(),
            texts(&[Some("a, b"), None, Some("c"), Some("d,e")])
        );
        assert_eq!(parse("[]", &lists(1)).unwrap(), Value::List(vec![]));
        assert_eq!(
            parse("[ [1, 2], [], null ]", &lists(2)).unwrap(),
            Value::List(vec![texts(&[Some("1"), Some("2")]), Value::List(vec![]), Value::Text(None)])
        );
        assert_eq!(parse("[ [1,2], x\"[\"y]", &lists(1)).unwrap(), texts(&[Some("[1,2]"), Some("x[y")]));
        assert!(parse("[1, 2", &lists(1)).is_err() && parse("1, 2", &lists(1)).is_err());
        assert!(parse("[1] x", &lists(1)).is_err());
    }

    #[test]
    fn structs_read_as_duckdb_reads_them() {
        let text = |t: &str| Value::Text(Some(t.to_string()));
        let shape = Shape::Struct(vec![("a".into(), Shape::Text), ("B".into(), lists(1)), ("c".into(), Shape::Text)]);
        assert_eq!(
            parse(" {b: [x, y], 'a': \"}\" } ", &shape).unwrap(),
            Value::Struct(vec![text("}"), texts(&[Some("x"), Some("y")]), Value::Text(None)])
        );
        assert_eq!(
            parse("{}", &shape).unwrap(),
            Value::Struct(vec![Value::Text(None), Value::Text(None), Value::Text(None)])
        );
        assert!(parse("{z: 1}", &shape).is_err() && parse("{a: 1, a: 2}", &shape).is_err());
    }
}
