//! The tables `json_each(json)` and `json_tree(json)` make, for [`super::lateral_unnest`]: over
//! constants a derived table of their rows; laterally, the function's rows unnested beside the
//! row they read, their columns (`j.key`, a bare `key`) read as fields of that row.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Ident, ObjectNamePart, Select, SelectItem, TableAlias, TableFactor,
};
use datafusion::sql::sqlparser::parser::Parser;

use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

/// A bare json_each column (`key`, `value`, ...; not `type`, which the tables have too) read
/// as the row's field.
pub(super) fn json_column(e: &mut Expr, relation: &str, row: &Ident) {
    if let Expr::Identifier(ident) = e
        && ident.quote_style.is_none()
        && ident.value != "type"
        && crate::engine::compat::functions::json::json_tables::COLUMNS
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&ident.value))
    {
        *e = Expr::CompoundIdentifier(vec![Ident::new(relation), row.clone(), Ident::new(ident.value.to_lowercase())]);
    }
}

/// Result columns that are json_each's (`j.key`, a bare `key`) named as they are written, as
/// DuckDB names them, before they are read as fields of the row.
pub(super) fn name_json_columns(select: &mut Select, alias: &str) {
    let is_column = |name: &Ident| {
        crate::engine::compat::functions::json::json_tables::COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(&name.value))
    };
    for item in &mut select.projection {
        let SelectItem::UnnamedExpr(expr) = item else { continue };
        let name = match expr {
            Expr::Identifier(i) if i.quote_style.is_none() && i.value != "type" && is_column(i) => i.clone(),
            Expr::CompoundIdentifier(parts)
                if parts.len() == 2 && parts[0].value.eq_ignore_ascii_case(alias) && is_column(&parts[1]) =>
            {
                parts[1].clone()
            }
            _ => continue,
        };
        *item = SelectItem::ExprWithAlias { expr: expr.clone(), alias: name };
    }
}

/// The bare json_each columns of the SELECT (outside its FROM) read as the row's fields.
pub(super) fn bare_json_columns(select: &mut Select, relation: &str, row: &Ident) {
    let from = std::mem::take(&mut select.from);
    let _ = crate::engine::compat::ast::each_expr_mut(select, |e: &mut Expr| {
        json_column(e, relation, row);
        ControlFlow::Continue(())
    });
    select.from = from;
}

/// `json_each(json)` / `json_tree(json)` call's rows function and its arguments.
pub(super) fn json_table_call(factor: &TableFactor) -> Option<(Expr, Option<&TableAlias>)> {
    let (name, args, alias) = match factor {
        TableFactor::Table { name, alias, args: Some(args), .. } => (name, &args.args, alias.as_ref()),
        TableFactor::Function { name, args, alias, with_ordinality: false, .. } => (name, args, alias.as_ref()),
        _ => return None,
    };
    let [ObjectNamePart::Identifier(function)] = name.0.as_slice() else { return None };
    let rows = crate::engine::compat::functions::json::json_tables::rows_function(&function.value)?;
    let args = args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((crate::engine::compat::ast::call(rows, args), alias))
}

pub(super) fn reads_columns(expr: &Expr) -> bool {
    crate::engine::compat::ast::each_expr(expr, |e| match e {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => ControlFlow::Break(None),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// `json_each('{"a": 1}')` with constant arguments: a derived table of its rows, named as the
/// function (or its alias), its columns named as DuckDB's (or as the alias lists them).
pub(super) fn json_tables_of_constants(select: &mut Select) {
    let factors = select.from.iter_mut().flat_map(|from| {
        std::iter::once(&mut from.relation).chain(from.joins.iter_mut().map(|join| &mut join.relation))
    });
    for factor in factors {
        let Some((rows, alias)) = json_table_call(factor) else { continue };
        if reads_columns(&rows) {
            continue;
        }
        let name = alias.map_or_else(|| function_name(factor), |a| a.name.clone());
        let columns: Vec<String> = crate::engine::compat::functions::json::json_tables::COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let named = alias.and_then(|a| a.columns.get(i)).map(|c| c.name.clone());
                let as_name = named.unwrap_or_else(|| Ident::with_quote('"', *c));
                format!("__rows.__row.\"{c}\" AS {as_name}")
            })
            .collect();
        let sql = format!("SELECT {} FROM (SELECT unnest({rows}) AS __row) AS __rows", columns.join(", "));
        let Some(query) =
            Parser::new(&DuckDbCompatDialect).try_with_sql(&sql).ok().and_then(|mut p| p.parse_query().ok())
        else {
            continue;
        };
        *factor = TableFactor::Derived {
            lateral: false,
            subquery: query,
            alias: Some(TableAlias { explicit: true, name, columns: vec![], at: None }),
            sample: None,
        };
    }
}

pub(super) fn function_name(factor: &TableFactor) -> Ident {
    match factor {
        TableFactor::Table { name, .. } | TableFactor::Function { name, .. } => match name.0.last() {
            Some(ObjectNamePart::Identifier(i)) => Ident::new(i.value.to_lowercase()),
            _ => Ident::new("json_each"),
        },
        _ => Ident::new("json_each"),
    }
}
