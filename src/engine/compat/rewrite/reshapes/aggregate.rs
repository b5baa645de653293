//! Aggregates in DuckDB's shapes: ordered quantiles and `mode() WITHIN GROUP`, several quantiles
//! at once, `min(x, n)` and `arg_max(a, x, n)`, aggregates of a bare NULL, aggregates ordered by
//! their own value, `count_if`, `count_star`, `string_agg`'s default separator, `arg_max` and
//! `arg_min`, `any_value` in an order, and DuckDB's exported aggregate states.

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CastKind, DataType as SqlType, ExactNumberInfo, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArgumentList, FunctionArguments, Ident, ObjectName, ObjectNamePart, OrderByExpr,
    OrderByOptions, UnaryOperator, Value, ValueWithSpan,
};

use crate::engine::compat::ast::{arity, call, call_with, case_when, plain_args, positional_args, text};
use crate::error::Result;

/// `percentile_cont(q) WITHIN GROUP (ORDER BY x)` and `quantile_cont(x, q ORDER BY x DESC)` (and
/// the discrete ones) as this layer's exact quantiles, a descending order as a negative quantile.
pub(super) fn ordered_quantile(name: &str, f: &Function) -> Result<Option<Expr>> {
    let FunctionArguments::List(list) = &f.args else { return Ok(None) };
    let Some(args) = positional_args(f) else { return Ok(None) };
    let (function, value, quantile, order) = match name {
        "percentile_cont" | "percentile_disc" if f.within_group.len() == 1 && args.len() == 1 => {
            let function = if name == "percentile_cont" { "quantile_cont" } else { "quantile_disc" };
            (function, f.within_group[0].expr.clone(), args[0].clone(), &f.within_group[0])
        }
        "quantile_cont" | "quantile_disc" | "quantile" if args.len() == 2 => {
            let Some(order) = list.clauses.iter().find_map(|c| match c {
                FunctionArgumentClause::OrderBy(order) if order.len() == 1 => Some(&order[0]),
                _ => None,
            }) else {
                return Ok(None);
            };
            let function = if name == "quantile_cont" { "quantile_cont" } else { "quantile_disc" };
            (function, args[0].clone(), args[1].clone(), order)
        }
        _ => return Ok(None),
    };
    let descending = order.options.asc == Some(false);
    let negated = |q: Expr| Expr::UnaryOp {
        op: UnaryOperator::Minus,
        expr: Box::new(Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(q),
            data_type: SqlType::Double(ExactNumberInfo::None),
            array: false,
            format: None,
        }),
    };
    let quantile = match quantile {
        q if !descending => q,
        Expr::Array(mut each) => {
            each.elem = each.elem.into_iter().map(negated).collect();
            Expr::Array(each)
        }
        q => negated(q),
    };
    Ok(Some(call(function, vec![value, quantile])))
}

/// `mode() WITHIN GROUP (ORDER BY x DESC)`: `mode(x ORDER BY x DESC)`.
pub(super) fn mode_within_group(_: &str, f: &Function) -> Result<Option<Expr>> {
    let [order] = f.within_group.as_slice() else { return Ok(None) };
    if !positional_args(f).is_some_and(|a| a.is_empty()) {
        return Ok(None);
    }
    let clauses = vec![FunctionArgumentClause::OrderBy(vec![order.clone()])];
    Ok(Some(call_with("mode", vec![order.expr.clone()], clauses, f.filter.clone())))
}

/// `to_aggregate_state(layout, 'agg', types)`: DuckDB's layout of a state as this layer's state —
/// the `value` of first/last/any_value/min/max, the `arg` of arg_min/arg_max, a list as it is.
pub(super) fn to_state(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let [layout, Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(name), .. }), rest @ ..] =
        args.as_slice()
    else {
        return Ok(None);
    };
    let field = |f: &str| call("get_field", vec![layout.clone(), text(f)]);
    let value = match name.to_lowercase().as_str() {
        "first" | "last" | "any_value" | "arbitrary" | "min" | "max" => field("value"),
        "arg_min" | "arg_max" | "argmin" | "argmax" | "min_by" | "max_by" => field("arg"),
        // More arguments than the types: an ordered list's layout.
        "list" | "array_agg" if rest.len() == 1 => layout.clone(),
        _ => return Ok(None),
    };
    Ok(Some(call("aggregate_state", vec![text(&name.to_lowercase()), value])))
}

/// `min(x, n)`, `arg_max(a, x, n)`: the n least (greatest) values, or the arguments of those, as
/// a list, leaving out NULLs.
pub(super) fn least_n(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    if f.over.is_some() {
        return Ok(None);
    }
    let Some((descending, [value, by @ .., n])) = (match (name, args.as_slice()) {
        ("min", [_, _]) | ("arg_min" | "argmin" | "min_by", [_, _, _]) => Some((false, args.as_slice())),
        ("max", [_, _]) | ("arg_max" | "argmax" | "max_by", [_, _, _]) => Some((true, args.as_slice())),
        _ => None,
    }) else {
        return Ok(None);
    };
    let key = by.first().unwrap_or(value).clone();
    let order = OrderByExpr {
        expr: key.clone(),
        options: OrderByOptions { asc: Some(!descending), nulls_first: None },
        with_fill: None,
    };
    let mut kept = Expr::IsNotNull(Box::new(value.clone()));
    if !by.is_empty() {
        kept = Expr::BinaryOp {
            left: Box::new(kept),
            op: BinaryOperator::And,
            right: Box::new(Expr::IsNotNull(Box::new(key))),
        };
    }
    let clauses = vec![FunctionArgumentClause::OrderBy(vec![order])];
    let collected = call_with("array_agg", vec![value.clone()], clauses, Some(Box::new(kept)));
    // DuckDB refuses a count that is no positive number.
    let refused = match n {
        Expr::Value(ValueWithSpan { value: Value::Number(k, _), .. }) => k.parse::<f64>().is_ok_and(|k| k <= 0.0),
        Expr::Value(ValueWithSpan { value: Value::Null, .. }) => true,
        Expr::UnaryOp { op: UnaryOperator::Minus, .. } => true,
        _ => false,
    };
    if refused {
        return Ok(Some(call("error", vec![text("Invalid input for MIN/MAX: n value must be > 0")])));
    }
    let one = Expr::value(Value::Number("1".into(), false));
    Ok(Some(call("array_slice", vec![collected, one, n.clone()])))
}

/// `sum(NULL)`, `avg(NULL)`: DataFusion has no sum of the NULL type; DuckDB answers NULL.
pub(super) fn of_null(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let [null @ Expr::Value(ValueWithSpan { value: Value::Null, .. })] = args.as_slice() else { return Ok(None) };
    let data_type = if name == "sum" { SqlType::BigInt(None) } else { SqlType::Double(ExactNumberInfo::None) };
    let null = crate::engine::compat::ast::cast(null.clone(), data_type);
    Ok(Some(with_args(f, vec![null])))
}

/// Several quantiles at once: a list of one quantile each, as DuckDB answers.
pub(super) fn quantile_lists(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let [value, Expr::Array(quantiles)] = args.as_slice() else { return Ok(None) };
    let each = quantiles.elem.iter().map(|q| with_args(f, vec![value.clone(), q.clone()])).collect();
    Ok(Some(Expr::Array(datafusion::sql::sqlparser::ast::Array { elem: each, named: quantiles.named })))
}

/// `f` with other plain arguments, its clauses kept.
fn with_args(f: &Function, args: Vec<Expr>) -> Expr {
    let mut g = f.clone();
    if let FunctionArguments::List(list) = &mut g.args {
        list.args = args.into_iter().map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e))).collect();
    }
    Expr::Function(g)
}

/// `count_if(cond)` as a count of the rows where it holds; `count_star()` as `count(*)`.
pub(super) fn counts(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    if name == "count_star" {
        return Ok(args.is_empty().then(|| count_of(f, FunctionArgExpr::Wildcard)));
    }
    arity(name, &args, 1, &format!("{name}(condition)"))?;
    let when = case_when(args[0].clone(), Expr::value(Value::Number("1".into(), false)), None);
    Ok(Some(count_of(f, FunctionArgExpr::Expr(when))))
}

/// `count(arg)` with the call's FILTER and OVER kept.
fn count_of(f: &Function, arg: FunctionArgExpr) -> Expr {
    let mut g = f.clone();
    g.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new("count"))]);
    g.args = FunctionArguments::List(FunctionArgumentList {
        duplicate_treatment: None,
        args: vec![FunctionArg::Unnamed(arg)],
        clauses: vec![],
    });
    Expr::Function(g)
}

/// DuckDB's separator defaults to a comma; a NULL separator makes the whole result NULL
/// (aggregate nothing but NULLs).
pub(super) fn string_agg(_: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    Ok(match args.as_slice() {
        [value] => Some(with_args(f, vec![value.clone(), text(",")])),
        [_, Expr::Value(ValueWithSpan { value: Value::Null, .. })] => {
            Some(with_args(f, vec![crate::engine::compat::ast::null_text(), text(",")]))
        }
        _ => None,
    })
}

/// `arg_max(value, ordering)` (and `arg_min`, `max_by`, `min_by`, the `_null` and `_nulls_last`
/// forms): the value at the row where the ordering is largest (smallest), ignoring NULL
/// orderings and NULL values (the `_null` forms keep NULL values, the `_nulls_last` forms keep
/// both, NULL orderings last). With a count `n`, the values of the first `n` such rows, as a list.
pub(super) fn arg_extreme(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    if args.len() != 3 {
        arity(name, &args, 2, &format!("{name}(value, ordering[, n])"))?;
    }
    let largest = matches!(name, "arg_max" | "max_by" | "arg_max_null" | "arg_max_nulls_last");
    // A bare number would be read as a column position: `(0)` is the value.
    let ordering = match &args[1] {
        number @ Expr::Value(ValueWithSpan { value: Value::Number(..), .. }) => Expr::Nested(Box::new(number.clone())),
        other => other.clone(),
    };
    let order = OrderByExpr {
        expr: ordering,
        options: OrderByOptions { asc: Some(!largest), nulls_first: Some(false) },
        with_fill: None,
    };
    let not_null = match name {
        _ if name.ends_with("_nulls_last") => None,
        _ if name.ends_with("_null") => Some(Expr::IsNotNull(Box::new(args[1].clone()))),
        _ => Some(Expr::BinaryOp {
            left: Box::new(Expr::IsNotNull(Box::new(args[1].clone()))),
            op: BinaryOperator::And,
            right: Box::new(Expr::IsNotNull(Box::new(args[0].clone()))),
        }),
    };
    let filter = match (&f.filter, not_null) {
        (Some(existing), Some(not_null)) => Some(Box::new(Expr::BinaryOp {
            left: existing.clone(),
            op: BinaryOperator::And,
            right: Box::new(not_null),
        })),
        (Some(existing), None) => Some(existing.clone()),
        (None, not_null) => not_null.map(Box::new),
    };
    let clauses = vec![FunctionArgumentClause::OrderBy(vec![order])];
    let aggregate = if args.len() == 3 { "array_agg" } else { "first_value" };
    let mut extreme = call_with(aggregate, vec![args[0].clone()], clauses, filter);
    if let Expr::Function(g) = &mut extreme {
        g.over = f.over.clone();
    }
    Ok(Some(match args.get(2) {
        Some(n) => call("array_slice", vec![extreme, Expr::value(Value::Number("1".into(), false)), n.clone()]),
        None => extreme,
    }))
}

/// `string_agg(x, sep ORDER BY x)` and `list(x ORDER BY x)` — ordered by the aggregated value
/// itself — written as a sort of the collected list. The result is the same, and DataFusion then
/// plans no ordering requirement for them: two aggregates with different `ORDER BY` in one query
/// would otherwise be refused ("Conflicting ordering requirements"), and as window functions,
/// which take no ORDER BY of their own in DataFusion.
pub(super) fn sorted(name: &str, f: &Function) -> Result<Option<Expr>> {
    let FunctionArguments::List(list) = &f.args else { return Ok(None) };
    if list.duplicate_treatment.is_some() {
        return Ok(None);
    }
    let [FunctionArgumentClause::OrderBy(order)] = list.clauses.as_slice() else { return Ok(None) };
    let [key] = order.as_slice() else { return Ok(None) };
    let Some(args) = list
        .args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect::<Option<Vec<&Expr>>>()
    else {
        return Ok(None);
    };
    let Some(value) = args.first().copied() else { return Ok(None) };
    if key.expr != *value || key.with_fill.is_some() {
        return Ok(None);
    }
    let descending = key.options.asc == Some(false);
    // DuckDB puts NULLs last in both directions unless told otherwise.
    let nulls_first = key.options.nulls_first.unwrap_or(false);
    let sort = |collected: Expr| {
        call(
            "array_sort",
            vec![
                collected,
                text(if descending { "DESC" } else { "ASC" }),
                text(if nulls_first { "NULLS FIRST" } else { "NULLS LAST" }),
            ],
        )
    };
    // The collecting call keeps the window (DataFusion's window aggregates take no ORDER BY).
    let collect = |filter: Option<Box<Expr>>| {
        let mut collected = call_with("array_agg", vec![value.clone()], vec![], filter);
        if let Expr::Function(g) = &mut collected {
            g.over = f.over.clone();
        }
        collected
    };
    Ok(Some(if matches!(name, "list" | "array_agg") {
        sort(collect(f.filter.clone()))
    } else {
        // string_agg leaves NULLs out, and is NULL when nothing is left.
        let not_null = Expr::IsNotNull(Box::new(value.clone()));
        let filter = match &f.filter {
            Some(existing) => {
                Expr::BinaryOp { left: existing.clone(), op: BinaryOperator::And, right: Box::new(not_null) }
            }
            None => not_null,
        };
        let separator = args.get(1).map_or_else(|| text(","), |s| (*s).clone());
        let collected = collect(Some(Box::new(filter)));
        call("array_to_string", vec![sort(collected), separator])
    }))
}

/// `any_value(x ORDER BY k)`: the first value that is not NULL in that order (DataFusion's
/// `any_value` takes no order): `first_value(x ORDER BY k) FILTER (WHERE x IS NOT NULL)`.
pub(super) fn ordered_any_value(_: &str, f: &Function) -> Result<Option<Expr>> {
    let FunctionArguments::List(list) = &f.args else { return Ok(None) };
    let ordered = list.clauses.iter().any(|c| matches!(c, FunctionArgumentClause::OrderBy(_)));
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(value))] = list.args.as_slice() else { return Ok(None) };
    if !ordered || f.over.is_some() {
        return Ok(None);
    }
    let mut first = f.clone();
    first.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new("first_value"))]);
    let present = Expr::IsNotNull(Box::new(value.clone()));
    first.filter = Some(Box::new(match first.filter.take() {
        Some(condition) => Expr::BinaryOp { left: condition, op: BinaryOperator::And, right: Box::new(present) },
        None => present,
    }));
    Ok(Some(Expr::Function(first)))
}
