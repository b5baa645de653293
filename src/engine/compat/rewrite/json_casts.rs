//! Casts to and from DuckDB's JSON, written as this layer's JSON functions (`json_type`):
//! `CAST(x AS JSON)` and `JSON '...'` become `json_cast(x)`; a cast of JSON to another type
//! (not text) reads the JSON's value, a string without its quotes.

use datafusion::sql::sqlparser::ast::{DataType as SqlType, Expr};

use crate::engine::compat::ast::call;

pub(crate) fn is_json_type(data_type: &SqlType) -> bool {
    matches!(data_type, SqlType::JSON | SqlType::JSONB)
        || matches!(data_type, SqlType::Custom(name, _) if name.to_string().eq_ignore_ascii_case("json"))
}

/// A call of this layer's that gives JSON from a cast, a literal or an extraction.
fn makes_json(expr: &Expr) -> bool {
    matches!(expr, Expr::Function(f) if matches!(f.name.to_string().as_str(), "json_cast" | "json_mark"))
}

/// The rewrite of a cast to or from JSON; `None` for other expressions.
pub(crate) fn rewritten(expr: &Expr) -> Option<Expr> {
    Some(match expr {
        Expr::Cast { data_type, expr: value, .. } if is_json_type(data_type) => {
            call("json_cast", vec![(**value).clone()])
        }
        Expr::TypedString(typed) if is_json_type(&typed.data_type) => {
            call("json_cast", vec![Expr::Value(typed.value.clone())])
        }
        // Expressions are rewritten inner first: the JSON is already a json_cast/json_mark call.
        Expr::Cast { kind, data_type, expr: value, array, format }
            if makes_json(value) && !crate::engine::compat::types::is_text_type(data_type) =>
        {
            Expr::Cast {
                kind: kind.clone(),
                data_type: data_type.clone(),
                expr: Box::new(call("json_scalar_text", vec![(**value).clone()])),
                array: *array,
                format: format.clone(),
            }
        }
        _ => return None,
    })
}
