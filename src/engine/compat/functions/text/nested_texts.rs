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
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::sql::sqlparser::ast::{CastKind, Expr, Value as SqlValue};

use crate::engine::compat::ast::call;
use crate::engine::compat::functions::common::is_text;
use crate::engine::compat::functions::text::nested_text_reader::{Shape, Value, kind_name, parse};

const NAME: &str = "nested_from_text";

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

    #[test]
    fn parsed_structs_build_arrays_of_their_shape() {
        let shape = Shape::Struct(vec![("a".into(), Shape::Text), ("B".into(), Shape::List(Box::new(Shape::Text)))]);
        let mut builder = make_builder(&shape.data_type(), 2);
        append(builder.as_mut(), &shape, Some(&parse("{a: 1, b: [x]}", &shape).unwrap()));
        append(builder.as_mut(), &shape, None);
        let array = builder.finish();
        assert_eq!((array.len(), array.is_null(0), array.is_null(1)), (2, false, true));
        assert_eq!(Shape::from_json(&shape.to_json()), Some(shape));
    }
}
