//! List calls in DuckDB's shapes: the position of NULL, concatenation with NULL lists,
//! `list_zip`'s truncation, an aggregate over a list named as text (`list_aggregate(l, 'max')`),
//! distinct elements without NULL, membership in an empty list, and the empty `map()`.

use datafusion::sql::sqlparser::ast::{BinaryOperator, DataType as SqlType, Expr, Function, Value, ValueWithSpan};

use crate::engine::compat::ast::{arity, call, case_when, plain_args, text, without_nulls};
use crate::error::Result;

fn is_null(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(ValueWithSpan { value: Value::Null, .. }))
}

/// `list_position(l, NULL)`: DuckDB finds the first NULL element (DataFusion answers NULL).
pub(super) fn null_position(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let [list, null] = args.as_slice() else { return Ok(None) };
    if !is_null(null) {
        return Ok(None);
    }
    let is_null = crate::engine::compat::ast::element_lambda(|e| Expr::IsNull(Box::new(e)));
    let flags = call("list_transform", vec![list.clone(), is_null]);
    Ok(Some(call("array_position", vec![flags, Expr::value(Value::Boolean(true))])))
}

/// `list_concat(NULL, [3, 4])`: DuckDB's list_concat skips NULL lists (DataFusion cannot type a NULL).
pub(super) fn without_null_lists(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    if args.len() < 2 || !args.iter().any(is_null) {
        return Ok(None);
    }
    let lists: Vec<Expr> = args.into_iter().filter(|a| !is_null(a)).collect();
    Ok(Some(match lists.len() {
        0 => Expr::value(Value::Null),
        1 => lists[0].clone(),
        _ => call("array_concat", lists),
    }))
}

/// `list_zip(l1, ..., [truncate])`: DataFusion's `arrays_zip`; a constant `true` last cuts the
/// lists to the shortest first.
pub(super) fn zipped(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let (lists, truncate) = match args.split_last() {
        Some((Expr::Value(ValueWithSpan { value: Value::Boolean(t), .. }), lists)) => (lists, *t),
        _ => (args.as_slice(), false),
    };
    if !truncate {
        return Ok(Some(call("arrays_zip", lists.to_vec())));
    }
    let lengths = lists.iter().map(|l| call("cardinality", vec![l.clone()])).collect();
    let shortest = crate::engine::compat::ast::cast(call("least", lengths), SqlType::BigInt(None));
    let one = Expr::value(Value::Number("1".into(), false));
    let cut = lists.iter().map(|l| call("array_slice", vec![l.clone(), one.clone(), shortest.clone()])).collect();
    Ok(Some(call("arrays_zip", cut)))
}

/// An aggregate over a list, by name, as the list function of that aggregate.
pub(super) fn aggregate_by_name(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let [list, Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(aggregate), .. }), rest @ ..] =
        args.as_slice()
    else {
        return Ok(None);
    };
    // (Not `sum`: DataFusion's list sum is a DOUBLE where DuckDB keeps the integer type.)
    let function = match aggregate.to_ascii_lowercase().as_str() {
        "avg" | "mean" => "array_avg",
        "max" => "array_max",
        "min" => "array_min",
        "product" => "array_product",
        "string_agg" | "group_concat" | "listagg" => "array_to_string",
        "first" | "any_value" | "arbitrary" => "array_any_value",
        _ => return Ok(None),
    };
    let mut call_args = vec![list.clone()];
    if function == "array_to_string" {
        call_args.push(rest.first().cloned().unwrap_or_else(|| text(",")));
    }
    Ok(Some(call(function, call_args)))
}

/// DuckDB's distinct elements leave NULL out.
pub(super) fn distinct(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    Ok((args.len() == 1).then(|| without_nulls(call("array_distinct", args))))
}

/// DuckDB: an empty list contains nothing, even NULL.
pub(super) fn contains(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    arity(name, &args, 2, &format!("{name}(list, element)"))?;
    let empty = Expr::BinaryOp {
        left: Box::new(call("cardinality", vec![args[0].clone()])),
        op: BinaryOperator::Eq,
        right: Box::new(Expr::value(Value::Number("0".into(), false))),
    };
    Ok(Some(case_when(empty, Expr::value(Value::Boolean(false)), Some(call("array_has", args)))))
}

/// `map()`: DuckDB's empty map (DataFusion's `map` wants its keys and values).
pub(super) fn empty_map(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let empty = || Expr::Array(datafusion::sql::sqlparser::ast::Array { elem: Vec::new(), named: false });
    Ok(args.is_empty().then(|| call("map", vec![empty(), empty()])))
}
