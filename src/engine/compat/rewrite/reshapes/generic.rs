//! Generic calls in DuckDB's shapes: `struct_pack(a := 1)`, `row(a, b)` and tuple arguments as
//! structs, `lead`/`lag` with named arguments, `add`/`subtract`/`multiply`/`mod` as operators,
//! and `if(cond, a, b)`.

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr};
use datafusion::sql::sqlparser::ast::{FunctionArguments, UnaryOperator, Value};

use crate::engine::compat::ast::{arity, call, case_when, plain_args, text};
use crate::error::Result;

/// `struct_pack(a := 1, b := 'x')` as `named_struct('a', 1, 'b', 'x')`; a column given bare
/// (`struct_pack(x)`) is a field of its name, as DuckDB's.
pub(super) fn struct_pack(_: &str, f: &Function) -> Result<Option<Expr>> {
    let FunctionArguments::List(list) = &f.args else { return Ok(None) };
    let mut args = Vec::new();
    for arg in &list.args {
        match arg {
            FunctionArg::Named { name, arg: FunctionArgExpr::Expr(value), .. } => {
                args.push(text(&name.value));
                args.push(value.clone());
            }
            FunctionArg::Unnamed(FunctionArgExpr::Expr(column @ Expr::Identifier(name))) => {
                args.push(text(&name.value));
                args.push(column.clone());
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(call("named_struct", args)))
}

/// `struct_update(s, a := 1, b := 'x')` as `struct_update(s, named_struct('a', 1, 'b', 'x'))`,
/// the two-struct form this layer's function takes.
pub(super) fn struct_update(_: &str, f: &Function) -> Result<Option<Expr>> {
    let FunctionArguments::List(list) = &f.args else { return Ok(None) };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(target)), updates @ ..] = list.args.as_slice() else {
        return Ok(None);
    };
    let mut fields = Vec::new();
    for arg in updates {
        let FunctionArg::Named { name, arg: FunctionArgExpr::Expr(value), .. } = arg else { return Ok(None) };
        fields.push(text(&name.value));
        fields.push(value.clone());
    }
    if fields.is_empty() {
        return Ok(None);
    }
    Ok(Some(call("struct_update", vec![target.clone(), call("named_struct", fields)])))
}

pub(super) fn lead_lag(name: &str, f: &Function) -> Result<Option<Expr>> {
    Ok(crate::engine::compat::rewrite::query_forms::lead_lag(name, f))
}

/// `row(a, b)` is DuckDB's unnamed struct.
pub(super) fn row(_: &str, f: &Function) -> Result<Option<Expr>> {
    Ok(plain_args(f).map(|args| call("struct", args)))
}

/// A tuple argument (`count(DISTINCT (a, b))`) is DuckDB's unnamed struct.
pub(super) fn tuple_arguments(_: &str, f: &Function) -> Result<Option<Expr>> {
    let FunctionArguments::List(list) = &f.args else { return Ok(None) };
    if !list.args.iter().any(|a| matches!(a, FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Tuple(_))))) {
        return Ok(None);
    }
    let mut g = f.clone();
    if let FunctionArguments::List(list) = &mut g.args {
        for arg in &mut list.args {
            if let FunctionArg::Unnamed(FunctionArgExpr::Expr(tuple @ Expr::Tuple(_))) = arg {
                let Expr::Tuple(items) = std::mem::replace(tuple, Expr::value(Value::Null)) else { continue };
                *tuple = call("struct", items);
            }
        }
    }
    Ok(Some(Expr::Function(g)))
}

/// DuckDB's `add`, `subtract`, `multiply` and `mod` as their operators; with one argument, `add`
/// and `subtract` are unary + and -.
pub(super) fn arithmetic(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    if let [value] = args.as_slice() {
        match name {
            "add" => return Ok(Some(Expr::Nested(Box::new(value.clone())))),
            "subtract" => {
                let negated =
                    Expr::UnaryOp { op: UnaryOperator::Minus, expr: Box::new(Expr::Nested(Box::new(value.clone()))) };
                return Ok(Some(negated));
            }
            _ => {}
        }
    }
    arity(name, &args, 2, &format!("{name}(a, b)"))?;
    let op = match name {
        "add" => BinaryOperator::Plus,
        "subtract" => BinaryOperator::Minus,
        "multiply" => BinaryOperator::Multiply,
        _ => BinaryOperator::Modulo,
    };
    let (left, right) = (Box::new(args[0].clone()), Box::new(args[1].clone()));
    Ok(Some(Expr::Nested(Box::new(Expr::BinaryOp { left, op, right }))))
}

pub(super) fn if_then(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    arity(name, &args, 3, "if(condition, then, else)")?;
    Ok(Some(case_when(args[0].clone(), args[1].clone(), Some(args[2].clone()))))
}
