//! DuckDB's operators where DataFusion's differ in meaning or are missing: `l || m` of lists is
//! NULL when either side is (DataFusion appends the NULL as an element, or skips a NULL list, as
//! `list_concat` does), `l + m` of two lists concatenates them, and an INTERVAL (or a timestamp
//! difference) times or divided by a number is an INTERVAL, an integer in AND or OR is a truth
//! value, text compared with a BOOLEAN is read as one and a BOOLEAN compared with a number as
//! one, and lists and structs are ordered with the NULLs inside them last. An expression planner, since each
//! operator's meaning depends on its operands' types, which the planner needs while planning.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::functions_nested::expr_fn::array_concat;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::sqlparser::ast::BinaryOperator;
use datafusion::logical_expr::{Expr, ExprSchemable, cast, lit, when};

use crate::engine::compat::functions::common::is_text;
use crate::engine::compat::functions::generic::sort_keys::{is_nested, sort_key_of};

#[derive(Debug)]
pub(crate) struct DuckDbOperators;

fn is_list(t: &DataType) -> bool {
    matches!(t, DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..))
}

impl ExprPlanner for DuckDbOperators {
    fn plan_binary_op(&self, expr: RawBinaryExpr, schema: &DFSchema) -> Result<PlannerResult<RawBinaryExpr>> {
        let (Ok(l), Ok(r)) = (expr.left.get_type(schema), expr.right.get_type(schema)) else {
            return Ok(PlannerResult::Original(expr));
        };
        let RawBinaryExpr { op, left, right } = expr;
        match op {
            BinaryOperator::StringConcat if is_list(&l) && (r == DataType::Null || is_list(&r)) => {
                Ok(PlannerResult::Planned(null_or_concat(left, right, r == DataType::Null, &l)))
            }
            BinaryOperator::StringConcat if is_list(&r) && l == DataType::Null => {
                Ok(PlannerResult::Planned(null_or_concat(left, right, true, &r)))
            }
            BinaryOperator::Plus if is_list(&l) && is_list(&r) => {
                Ok(PlannerResult::Planned(array_concat(vec![left, right])))
            }
            BinaryOperator::Multiply | BinaryOperator::Divide if is_span(&l) && is_factor(&r) => {
                let factor =
                    if op == BinaryOperator::Divide { lit(1.0) / cast(right, DataType::Float64) } else { right };
                Ok(PlannerResult::Planned(times(interval(left, &l), factor)))
            }
            BinaryOperator::Multiply if is_factor(&l) && is_span(&r) => {
                Ok(PlannerResult::Planned(times(interval(right, &r), left)))
            }
            // DuckDB reads an integer as a truth value (zero is false) in AND and OR.
            BinaryOperator::And | BinaryOperator::Or if l.is_integer() || r.is_integer() => {
                let truth = |e: Expr, t: &DataType| if t.is_integer() { cast(e, DataType::Boolean) } else { e };
                let (left, right) = (truth(left, &l), truth(right, &r));
                Ok(PlannerResult::Planned(if op == BinaryOperator::And { left.and(right) } else { left.or(right) }))
            }
            // DuckDB compares a BOOLEAN with text as a BOOLEAN (`flag = 'true'`), and with a number
            // as a number (true is 1: `true = 2` is false).
            op if is_comparison(&op) && (booleans_with(&l, &r) || booleans_with(&r, &l)) => {
                let adjusted = |e: Expr, t: &DataType, other: &DataType| match t {
                    t if is_text(t) && *other == DataType::Boolean => cast(e, DataType::Boolean),
                    DataType::Boolean if other.is_numeric() => cast(e, DataType::Int64),
                    _ => e,
                };
                let (left, right) = (adjusted(left, &l, &r), adjusted(right, &r, &l));
                Ok(PlannerResult::Original(RawBinaryExpr { op, left, right }))
            }
            // DuckDB orders lists and structs with a NULL inside as if it were the largest value
            // (`{'a': NULL} > {'a': 1}`), where Arrow's comparison puts it first: both sides are
            // compared by their sort keys, which order them as DuckDB does.
            BinaryOperator::Lt | BinaryOperator::LtEq | BinaryOperator::Gt | BinaryOperator::GtEq
                if is_nested(&l) && is_nested(&r) =>
            {
                let Some(common) = datafusion::logical_expr::type_coercion::binary::comparison_coercion(&l, &r) else {
                    return Ok(PlannerResult::Original(RawBinaryExpr { op, left, right }));
                };
                let (left, right) = (cast(left, common.clone()), cast(right, common));
                Ok(PlannerResult::Planned(by_sort_keys(left, &op, right)?))
            }
            _ => Ok(PlannerResult::Original(RawBinaryExpr { op, left, right })),
        }
    }
}

/// `left op right` over their sort keys; NULL where either side is.
fn by_sort_keys(left: Expr, op: &BinaryOperator, right: Expr) -> Result<Expr> {
    let key = |e: Expr| sort_key_of(e, "ASC NULLS LAST");
    let either_null = left.clone().is_null().or(right.clone().is_null());
    let (l, r) = (key(left), key(right));
    let compared = match op {
        BinaryOperator::Lt => l.lt(r),
        BinaryOperator::LtEq => l.lt_eq(r),
        BinaryOperator::Gt => l.gt(r),
        _ => l.gt_eq(r),
    };
    when(either_null, lit(ScalarValue::Boolean(None))).otherwise(compared)
}

fn is_comparison(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
    )
}

/// A BOOLEAN on one side, text or a number on the other.
fn booleans_with(one: &DataType, other: &DataType) -> bool {
    *one == DataType::Boolean && (is_text(other) || other.is_numeric())
}

/// `l || m`: NULL if either is, else the two lists' elements.
fn null_or_concat(left: Expr, right: Expr, either_null: bool, list: &DataType) -> Expr {
    let null = cast(lit(ScalarValue::Null), list.clone());
    if either_null {
        return null;
    }
    let condition = left.clone().is_null().or(right.clone().is_null());
    when(condition, null)
        .otherwise(array_concat(vec![left, right]))
        .unwrap_or_else(|_| unreachable!("a CASE with one branch and ELSE"))
}

fn is_span(t: &DataType) -> bool {
    matches!(t, DataType::Interval(_) | DataType::Duration(_))
}

fn is_factor(t: &DataType) -> bool {
    t.is_numeric() || *t == DataType::Null
}

/// A timestamp difference (a DURATION here) as DuckDB's INTERVAL.
fn interval(span: Expr, t: &DataType) -> Expr {
    if matches!(t, DataType::Duration(_)) {
        let udf = Arc::new(crate::engine::compat::functions::datetime::intervals::timestamp_difference());
        Expr::ScalarFunction(ScalarFunction::new_udf(udf, vec![span]))
    } else {
        span
    }
}

fn times(interval: Expr, factor: Expr) -> Expr {
    let udf = Arc::new(crate::engine::compat::functions::datetime::intervals::interval_times());
    Expr::ScalarFunction(ScalarFunction::new_udf(udf, vec![interval, factor]))
}
