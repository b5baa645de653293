//! Text calls in DuckDB's shapes: padding to a negative length, regular-expression options, and
//! `regexp_extract` with a list of group names.

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments,
};
use datafusion::sql::sqlparser::ast::{Value, ValueWithSpan};

use crate::engine::compat::ast::{call, case_when, plain_args, text};
use crate::error::Result;

/// DuckDB pads to no characters where DataFusion would allocate a negative length.
pub(super) fn pads(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(mut args) = plain_args(f) else { return Ok(None) };
    if args.len() < 2 {
        return Ok(None);
    }
    let length = args[1].clone();
    let zero = Expr::value(Value::Number("0".into(), false));
    let negative =
        Expr::BinaryOp { left: Box::new(length.clone()), op: BinaryOperator::Lt, right: Box::new(zero.clone()) };
    args[1] = case_when(negative, zero, Some(length));
    Ok(Some(call(name, args)))
}

/// DuckDB's regex options in DataFusion's flags: `c` (case-sensitive) is the default, `n` and
/// `p` (newline-sensitive) are `m`, `l` reads the pattern literally; no options are no flags
/// (DataFusion would read `(?)`, which is no regex).
pub(super) fn regex_options(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    // `regexp_matches(x, '.*')` matches any text and is NULL for a NULL: DataFusion's simplifier
    // reads it as `x IS NOT NULL`, false for a NULL, so it is written so that NULL stays NULL.
    if let [value, Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(pattern), .. })] = args.as_slice()
        && pattern == ".*"
        && name != "regexp_replace"
    {
        let any = Expr::IsNotNull(Box::new(value.clone()));
        return Ok(Some(Expr::Nested(Box::new(Expr::BinaryOp {
            left: Box::new(any),
            op: datafusion::sql::sqlparser::ast::BinaryOperator::Or,
            right: Box::new(Expr::value(Value::Null)),
        }))));
    }
    if args.len() < 3 || (name == "regexp_replace" && args.len() == 3) {
        return Ok(None);
    }
    let Some(Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(options), .. })) = args.last() else {
        return Ok(None);
    };
    if !(options.is_empty() || options.contains(['c', 'n', 'p', 'l'])) {
        return Ok(None);
    }
    let flags: String = options
        .chars()
        .filter(|c| !matches!(c, 'c' | 'l'))
        .map(|c| if matches!(c, 'n' | 'p') { 'm' } else { c })
        .collect();
    let mut new_args = args.clone();
    if options.contains('l') {
        new_args[1] = call("regexp_escape", vec![new_args[1].clone()]);
    }
    new_args.pop();
    if !flags.is_empty() {
        new_args.push(text(&flags));
    }
    let mut g = f.clone();
    if let FunctionArguments::List(list) = &mut g.args {
        list.args = new_args.into_iter().map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e))).collect();
    }
    Ok(Some(Expr::Function(g)))
}

/// Group names as a list: constant arguments of the struct-making form.
pub(super) fn named_groups(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let Some(Expr::Array(names)) = args.get(2).filter(|n| matches!(n, Expr::Array(a) if !a.elem.is_empty())) else {
        return Ok(None);
    };
    let function = if name == "regexp_extract" {
        crate::engine::compat::functions::regex::regexp_struct::EXTRACT
    } else {
        crate::engine::compat::functions::regex::regexp_struct::EXTRACT_ALL
    };
    let mut call_args = vec![args[0].clone(), args[1].clone(), args.get(3).cloned().unwrap_or_else(|| text(""))];
    call_args.extend(names.elem.iter().cloned());
    Ok(Some(call(function, call_args)))
}
