//! `CAST('[1, 2, 3]' AS INT[])` and `CAST('{a: 1, b: [x, y]}' AS STRUCT(a INT, b VARCHAR[]))`: text
//! read as a list or a struct the way DuckDB reads it — brackets and braces nested as the type
//! nests them, elements split on commas outside brackets and quotes, trimmed, `NULL` (in any case,
//! unquoted) a NULL, quotes removed, a backslash escaping the character after it; a struct's keys
//! matched to the type's fields (any order, missing ones NULL). Arrow casts text to a list only as
//! a one-element list and to a struct not at all, so the cast of text becomes
//! `nested_from_text(x, shape, try)` — the type's shape with text leaves — under the same cast,
//! which then casts the leaves. A value that is not text (a list, a NULL) passes through.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayBuilder, AsArray, ListBuilder, StringBuilder, StructBuilder, make_builder};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::sql::sqlparser::ast::{ArrayElemTypeDef, CastKind, DataType as SqlType, Expr, Value as SqlValue};

use crate::engine::compat::ast::call;
use crate::engine::compat::functions::common::is_text;

const NAME: &str = "nested_from_text";

/// What a cast's type looks like to the text reader: lists and structs, text at the leaves.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Text,
    List(Box<Shape>),
    Struct(Vec<(String, Shape)>),
}

impl Shape {
    /// The shape of a SQL type; `None` for a type with no list or struct in it.
    fn of(data_type: &SqlType) -> Option<Shape> {
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
    fn to_json(&self) -> serde_json::Value {
        match self {
            Shape::Text => serde_json::Value::String("t".into()),
            Shape::List(inner) => serde_json::Value::Array(vec![inner.to_json()]),
            Shape::Struct(fields) => {
                serde_json::Value::Object(fields.iter().map(|(n, s)| (n.clone(), s.to_json())).collect())
            }
        }
    }

    fn from_json(value: &serde_json::Value) -> Option<Shape> {
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
    fn data_type(&self) -> DataType {
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

/// The rewrite of a cast to a list or struct type; `None` for other expressions.
pub(crate) fn nested_cast(expr: &Expr) -> Option<Expr> {
    let Expr::Cast { data_type, expr: value, kind, format, array } = expr else { return None };
    let shape = Shape::of(data_type)?;
    if matches!(value.as_ref(), Expr::Function(f) if f.name.to_string() == NAME) {
        return None;
    }
    let shape = Expr::value(SqlValue::SingleQuotedString(shape.to_json().to_string()));
    let try_cast = Expr::value(SqlValue::Boolean(matches!(kind, CastKind::TryCast | CastKind::SafeCast)));
    Some(Expr::Cast {
        kind: kind.clone(),
        expr: Box::new(call(NAME, vec![(**value).clone(), shape, try_cast])),
        data_type: data_type.clone(),
        array: *array,
        format: format.clone(),
    })
}

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![ScalarUDF::new_from_impl(NestedFromText { signature: Signature::any(3, Volatility::Immutable) })]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct NestedFromText {
    signature: Signature,
}

fn shape_argument(value: Option<&ScalarValue>) -> Result<Shape> {
    let shape = match value {
        Some(ScalarValue::Utf8(Some(json))) => serde_json::from_str(json).ok().and_then(|j| Shape::from_json(&j)),
        _ => None,
    };
    match shape {
        Some(shape) => Ok(shape),
        None => plan_err!("{NAME}(text, shape, try) takes a constant shape"),
    }
}

impl ScalarUDFImpl for NestedFromText {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        plan_err!("{NAME}'s type comes from its arguments")
    }

    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        let input = args.arg_fields[0].data_type();
        let shape = shape_argument(args.scalar_arguments.get(1).copied().flatten())?;
        let data_type = if is_text(input) { shape.data_type() } else { input.clone() };
        Ok(Arc::new(Field::new(NAME, data_type, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let constant = |i: usize| match args.args.get(i) {
            Some(ColumnarValue::Scalar(value)) => Some(value.clone()),
            _ => None,
        };
        let shape = shape_argument(constant(1).as_ref())?;
        let try_cast = matches!(constant(2), Some(ScalarValue::Boolean(Some(true))));
        let input = &args.args[0];
        if !is_text(&input.data_type()) {
            return Ok(input.clone());
        }
        let scalar = matches!(input, ColumnarValue::Scalar(_));
        let array = input.to_array(args.number_rows)?;
        let array = datafusion::arrow::compute::cast(&array, &DataType::Utf8)?;
        let mut builder = make_builder(&shape.data_type(), array.len());
        for text in array.as_string::<i32>().iter() {
            let value = match text.map(|t| (t, parse(t, &shape))) {
                None => None,
                Some((_, Ok(value))) => Some(value),
                Some((_, Err(_))) if try_cast => None,
                Some((text, Err(why))) => {
                    let example = if matches!(shape, Shape::Struct(_)) { "{a: 1, b: x}" } else { "[1, 2, 3]" };
                    let kind = kind_name(&shape);
                    return exec_err!(
                        "cannot cast '{text}' to {kind}: {why} (write it as DuckDB prints {kind}: {example})"
                    );
                }
            };
            append(builder.as_mut(), &shape, value.as_ref());
        }
        crate::engine::compat::functions::common::columnar(builder.finish(), scalar)
    }
}

fn kind_name(shape: &Shape) -> &'static str {
    if matches!(shape, Shape::Struct(_)) { "a struct" } else { "a list" }
}

/// A parsed value: text or NULL, a list, or a struct's values in the shape's field order.
#[derive(Debug, PartialEq)]
enum Value {
    Text(Option<String>),
    List(Vec<Value>),
    Struct(Vec<Value>),
}

fn parse(text: &str, shape: &Shape) -> Result<Value, String> {
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

fn append(builder: &mut dyn ArrayBuilder, shape: &Shape, value: Option<&Value>) {
    let any = builder.as_any_mut();
    match shape {
        Shape::Text => {
            if let Some(strings) = any.downcast_mut::<StringBuilder>() {
                match value {
                    Some(Value::Text(Some(t))) => strings.append_value(t),
                    _ => strings.append_null(),
                }
            }
        }
        Shape::List(inner) => {
            let Some(lists) = any.downcast_mut::<ListBuilder<Box<dyn ArrayBuilder>>>() else { return };
            match value {
                Some(Value::List(items)) => {
                    for item in items {
                        append(lists.values().as_mut(), inner, Some(item));
                    }
                    lists.append(true);
                }
                _ => lists.append(false),
            }
        }
        Shape::Struct(fields) => {
            let Some(structs) = any.downcast_mut::<StructBuilder>() else { return };
            let items = match value {
                Some(Value::Struct(items)) => Some(items),
                _ => None,
            };
            for (i, (_, field)) in fields.iter().enumerate() {
                let Some(child) = structs.field_builders_mut().get_mut(i) else { return };
                append(child.as_mut(), field, items.and_then(|items| items.get(i)));
            }
            structs.append(items.is_some());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(items: &[Option<&str>]) -> Value {
        Value::List(items.iter().map(|t| Value::Text(t.map(str::to_string))).collect())
    }

    fn text(t: &str) -> Value {
        Value::Text(Some(t.to_string()))
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
        let mut builder = make_builder(&shape.data_type(), 2);
        append(builder.as_mut(), &shape, Some(&parse("{a: 1}", &shape).unwrap()));
        append(builder.as_mut(), &shape, None);
        let array = builder.finish();
        assert_eq!((array.len(), array.is_null(1)), (2, true));
        assert_eq!(Shape::from_json(&shape.to_json()), Some(shape));
    }
}
