//! Timestamp text without seconds (`'2025-10-01 10:00'`), which DuckDB reads as a timestamp and
//! Arrow's parser refuses: completed with `:00` where the text becomes a timestamp — in a cast,
//! and compared with (or BETWEEN bounds of) a timestamp or date (one-digit months, days and hours
//! padded, which Arrow's parser also refuses).

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::expr::{Between, BinaryExpr, Cast, ScalarFunction, TryCast};
use datafusion::logical_expr::{Expr, ExprSchemable, Operator};
use regex::Regex;

static UNPADDED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(:\d{2}(?:\.\d+)?)?\s*$")
        .unwrap_or_else(|e| unreachable!("a valid regex: {e}"))
});

/// `expr` with its timestamp texts completed, if it has any.
pub(super) fn completed(expr: &Expr, schema: &DFSchema) -> Option<Expr> {
    let is_time = |e: &Expr| e.get_type(schema).is_ok_and(|t| matches!(t, DataType::Timestamp(..) | DataType::Date32));
    match expr {
        Expr::Cast(Cast { expr: inner, field }) if matches!(field.data_type(), DataType::Timestamp(..)) => {
            Some(Expr::Cast(Cast::new_from_field(Box::new(text_completed(inner)?), field.clone())))
        }
        Expr::TryCast(TryCast { expr: inner, field }) if matches!(field.data_type(), DataType::Timestamp(..)) => {
            Some(Expr::TryCast(TryCast::new_from_field(Box::new(text_completed(inner)?), field.clone())))
        }
        // `::TIMESTAMPTZ` is an arrow_cast to a UTC timestamp here.
        Expr::ScalarFunction(f) if matches!(f.name(), "arrow_cast" | "arrow_try_cast") => match f.args.as_slice() {
            [value, target @ Expr::Literal(ScalarValue::Utf8(Some(t)), _)] if t.starts_with("Timestamp") => {
                let args = vec![text_completed(value)?, target.clone()];
                Some(Expr::ScalarFunction(ScalarFunction::new_udf(f.func.clone(), args)))
            }
            _ => None,
        },
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if matches!(
                op,
                Operator::Eq | Operator::NotEq | Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq
            ) =>
        {
            let (l, r) = if is_time(left) {
                (None, text_completed(right))
            } else if is_time(right) {
                (text_completed(left), None)
            } else {
                return None;
            };
            if l.is_none() && r.is_none() {
                return None;
            }
            let left = Box::new(l.unwrap_or_else(|| (**left).clone()));
            let right = Box::new(r.unwrap_or_else(|| (**right).clone()));
            Some(Expr::BinaryExpr(BinaryExpr { left, op: *op, right }))
        }
        Expr::Between(Between { expr: value, negated, low, high }) if is_time(value) => {
            let (l, h) = (text_completed(low), text_completed(high));
            if l.is_none() && h.is_none() {
                return None;
            }
            Some(Expr::Between(Between {
                expr: value.clone(),
                negated: *negated,
                low: Box::new(l.unwrap_or_else(|| (**low).clone())),
                high: Box::new(h.unwrap_or_else(|| (**high).clone())),
            }))
        }
        _ => None,
    }
}

/// A text literal of a timestamp without seconds or with one-digit parts, as Arrow reads it.
fn text_completed(expr: &Expr) -> Option<Expr> {
    match expr {
        Expr::Literal(ScalarValue::Utf8(Some(text)), metadata) => {
            let parts = UNPADDED.captures(text)?;
            let pad = |i: usize| format!("{:0>2}", &parts[i]);
            let seconds = parts.get(6).map_or(":00", |s| s.as_str());
            let full = format!("{}-{}-{} {}:{}{seconds}", &parts[1], pad(2), pad(3), pad(4), &parts[5]);
            if full == *text {
                return None;
            }
            Some(Expr::Literal(ScalarValue::Utf8(Some(full)), metadata.clone()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_texts_without_seconds_are_completed() {
        let text = |s: &str| Expr::Literal(ScalarValue::Utf8(Some(s.into())), None);
        assert_eq!(text_completed(&text("2025-10-01 10:00")), Some(text("2025-10-01 10:00:00")));
        assert_eq!(text_completed(&text("2025-10-1T9:30")), Some(text("2025-10-01 09:30:00")));
        assert_eq!(text_completed(&text("2025-10-01 9:30:15.5")), Some(text("2025-10-01 09:30:15.5")));
        for untouched in ["2025-10-01 10:00:00", "2025-10-01", "10:00", "note 2025-10-01 10:00"] {
            assert_eq!(text_completed(&text(untouched)), None, "{untouched}");
        }
    }
}
