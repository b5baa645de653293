//! `string_agg(x, sep ORDER BY x)` and `list(x ORDER BY x)` — ordered by the aggregated value
//! itself — written as a sort of the collected list. The result is the same, and DataFusion then
//! plans no ordering requirement for them: two aggregates with different `ORDER BY` in one query
//! would otherwise be refused ("Conflicting ordering requirements"), and as window functions,
//! which take no ORDER BY of their own in DataFusion.

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArguments,
};

use crate::engine::compat::ast::{call, call_with, text};

/// The rewrite of an aggregate ordered by its own value; `None` for any other call.
pub(crate) fn sorted(name: &str, f: &Function) -> Option<Expr> {
    if !matches!(name, "string_agg" | "group_concat" | "listagg" | "list" | "array_agg") {
        return None;
    }
    let FunctionArguments::List(list) = &f.args else { return None };
    if list.duplicate_treatment.is_some() {
        return None;
    }
    let [FunctionArgumentClause::OrderBy(order)] = list.clauses.as_slice() else { return None };
    let [key] = order.as_slice() else { return None };
    let args: Vec<&Expr> = list
        .args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let value = *args.first()?;
    if key.expr != *value || key.with_fill.is_some() {
        return None;
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
        let Expr::Function(mut g) = call_with("array_agg", vec![value.clone()], vec![], filter) else {
            unreachable!("call_with makes a call")
        };
        g.over = f.over.clone();
        Expr::Function(g)
    };
    Some(if matches!(name, "list" | "array_agg") {
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
    })
}
