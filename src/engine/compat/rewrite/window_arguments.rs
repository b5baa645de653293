//! Window calls DataFusion does not take as DuckDB writes them:
//!
//! - an argument ORDER BY over a whole partition (`first_value(x ORDER BY y) OVER (PARTITION BY
//!   p)`, `lead(x ORDER BY y) OVER ()`), which orders the function's rows: the window is ordered
//!   by it and framed over the whole partition (ranking functions and `lead`/`lag` unframed);
//! - `ntile(NULL)`, NULL for every row, and `lag(x, 0)` / `lead(x, 0)`, the row's own `x` (its
//!   default never taken, with IGNORE NULLS too), which DataFusion refuses or defaults;
//! - `string_agg(x, sep) OVER (... ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)`, a frame that
//!   slides, which DataFusion's `string_agg` cannot take rows out of: the frame's values
//!   gathered by `array_agg` over the same window and joined, NULL when it holds none;
//! - a frame that holds no row (`ROWS BETWEEN 3 FOLLOWING AND 1 FOLLOWING`), which DataFusion
//!   refuses: the functions that ignore frames lose it, the others see only NULLs (a count of 0,
//!   a sum of NULL), as over DuckDB's empty frame.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArguments,
    Statement, Value, ValueWithSpan, WindowFrame, WindowFrameBound, WindowFrameUnits, WindowType,
};

use crate::engine::compat::ast::{call, case_when, cast, each_expr_mut};
use crate::engine::compat::rewrite::window_exclusions::FRAMELESS;

/// Aggregates whose answer over no row is not their answer over one NULL (a list of one NULL).
const COLLECTING: &[&str] = &["list", "array_agg", "histogram"];

pub(crate) fn window_forms(statement: &mut Statement) {
    let _ = each_expr_mut(statement, |expr| {
        if let Expr::Function(f) = expr {
            if let Some(value) = degenerate_call(f).or_else(|| sliding_string_agg(f)) {
                *expr = value;
                return ControlFlow::Continue(());
            }
            ordered_by_argument(f);
            without_empty_frame(f);
        }
        ControlFlow::Continue(())
    });
}

/// What `ntile(NULL)` and an offset of 0 in `lag`/`lead` are, without the window.
fn degenerate_call(f: &Function) -> Option<Expr> {
    let name = f.name.to_string().to_ascii_lowercase();
    let (Some(_), FunctionArguments::List(list)) = (&f.over, &f.args) else { return None };
    let argument = |i: usize| match list.args.get(i) {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) => Some(e),
        _ => None,
    };
    let is = |e: Option<&Expr>, v: &Value| matches!(e, Some(Expr::Value(ValueWithSpan { value, .. })) if value == v);
    match name.as_str() {
        "ntile" if is(argument(0), &Value::Null) => {
            Some(cast(Expr::value(Value::Null), datafusion::sql::sqlparser::ast::DataType::BigInt(None)))
        }
        "lag" | "lead" if is(argument(1), &Value::Number("0".into(), false)) => argument(0).cloned(),
        _ => None,
    }
}

/// `string_agg` over a frame that does not start at the partition's start, as the values of the
/// frame (`array_agg`, which slides; each once for DISTINCT) joined: `CASE WHEN count(x) OVER w > 0 THEN
/// array_to_string(array_agg(x) OVER w, sep) END`.
fn sliding_string_agg(f: &Function) -> Option<Expr> {
    let name = f.name.to_string().to_ascii_lowercase();
    if !matches!(name.as_str(), "string_agg" | "listagg" | "group_concat") {
        return None;
    }
    let (Some(over @ WindowType::WindowSpec(spec)), FunctionArguments::List(list)) = (&f.over, &f.args) else {
        return None;
    };
    let sliding =
        spec.window_frame.as_ref().is_some_and(|frame| frame.start_bound != WindowFrameBound::Preceding(None));
    // (An argument ORDER BY is another rewrite's, or refused.)
    if !sliding || !list.clauses.is_empty() || f.filter.is_some() {
        return None;
    }
    let distinct = matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct));
    let args = crate::engine::compat::ast::plain_args(f)?;
    let (value, separator) = match args.as_slice() {
        [value] => (value.clone(), crate::engine::compat::ast::text(",")),
        [value, separator] => (value.clone(), separator.clone()),
        _ => return None,
    };
    let windowed = |name: &str, args: Vec<Expr>| match call(name, args) {
        Expr::Function(mut g) => {
            g.over = Some(over.clone());
            Expr::Function(g)
        }
        other => other,
    };
    let counted = Expr::BinaryOp {
        left: Box::new(windowed("count", vec![value.clone()])),
        op: datafusion::sql::sqlparser::ast::BinaryOperator::Gt,
        right: Box::new(Expr::value(Value::Number("0".into(), false))),
    };
    let values = windowed("array_agg", vec![value]);
    // DataFusion's array_distinct keeps each value's first place: DuckDB's order of the frame.
    let values = if distinct { call("array_distinct", vec![values]) } else { values };
    let joined = call("array_to_string", vec![values, separator]);
    Some(case_when(counted, joined, None))
}

fn ordered_by_argument(f: &mut Function) {
    let name = f.name.to_string().to_ascii_lowercase();
    let (Some(WindowType::WindowSpec(spec)), FunctionArguments::List(list)) = (&mut f.over, &mut f.args) else {
        return;
    };
    let Some(at) = list.clauses.iter().position(|c| matches!(c, FunctionArgumentClause::OrderBy(_))) else { return };
    // DuckDB orders the rows of the frame by it; only over a whole partition is that the
    // window's order.
    if !spec.order_by.is_empty() || spec.window_frame.is_some() {
        return;
    }
    let frameless = FRAMELESS.contains(&name.as_str());
    let FunctionArgumentClause::OrderBy(keys) = list.clauses.remove(at) else { return };
    spec.order_by = keys;
    spec.window_frame = (!frameless).then_some(WindowFrame {
        units: WindowFrameUnits::Rows,
        start_bound: WindowFrameBound::Preceding(None),
        end_bound: Some(WindowFrameBound::Following(None)),
    });
}

fn without_empty_frame(f: &mut Function) {
    let name = f.name.to_string().to_ascii_lowercase();
    let Some(WindowType::WindowSpec(spec)) = &mut f.over else { return };
    let Some(frame) = &mut spec.window_frame else { return };
    if !is_empty(frame) {
        return;
    }
    if FRAMELESS.contains(&name.as_str()) {
        spec.window_frame = None;
        return;
    }
    if COLLECTING.contains(&name.as_str()) {
        return;
    }
    let FunctionArguments::List(list) = &mut f.args else { return };
    let Some(first) = list.args.first_mut() else { return };
    let value = match first {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => e.clone(),
        // count(*)
        FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => Expr::value(Value::Number("1".into(), false)),
        _ => return,
    };
    *first = FunctionArg::Unnamed(FunctionArgExpr::Expr(case_when(Expr::value(Value::Boolean(false)), value, None)));
    *frame = WindowFrame {
        units: WindowFrameUnits::Rows,
        start_bound: WindowFrameBound::CurrentRow,
        end_bound: Some(WindowFrameBound::CurrentRow),
    };
}

/// Whether a frame's bounds, given as numbers, hold no row: its start after its end.
fn is_empty(frame: &WindowFrame) -> bool {
    let offset = |e: &Option<Box<Expr>>| match e.as_deref() {
        Some(Expr::Value(ValueWithSpan { value: Value::Number(n, _), .. })) => n.parse::<i64>().ok(),
        _ => None,
    };
    let place = |bound: &WindowFrameBound| match bound {
        WindowFrameBound::CurrentRow => Some(0),
        WindowFrameBound::Preceding(n) => offset(n).map(|n| -n),
        WindowFrameBound::Following(n) => offset(n),
    };
    let end = frame.end_bound.as_ref().unwrap_or(&WindowFrameBound::CurrentRow);
    matches!((place(&frame.start_bound), place(end)), (Some(start), Some(end)) if start > end)
}
