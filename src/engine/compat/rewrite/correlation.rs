//! Which side of a correlated subquery a name belongs to, by its qualifier: a table of the
//! subquery's FROM (or no qualifier) is the subquery's own, another table of the outer FROM the
//! outer row's. And what the rewrites of correlated subqueries share.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Ident, ObjectName, Select, SelectItem, TableFactor, TableWithJoins, Value,
};

use crate::engine::compat::ast::each_expr;

/// The name a FROM item is known by.
pub(super) fn relation_name(factor: &TableFactor) -> Option<String> {
    match factor {
        TableFactor::Table { alias: Some(alias), .. }
        | TableFactor::Derived { alias: Some(alias), .. }
        | TableFactor::Function { alias: Some(alias), .. }
        | TableFactor::UNNEST { alias: Some(alias), .. } => Some(alias.name.value.to_lowercase()),
        TableFactor::Table { name, .. } => name.0.last().map(|p| p.to_string().trim_matches('"').to_lowercase()),
        _ => None,
    }
}

/// The names of the tables of a FROM clause.
pub(super) fn relation_names(from: &[TableWithJoins]) -> HashSet<String> {
    from.iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
        .filter_map(relation_name)
        .collect()
}

/// Which side of the correlation an expression stands on.
#[derive(PartialEq, Clone, Copy)]
pub(super) enum Side {
    Inner,
    Outer,
    Mixed,
    Constant,
}

pub(super) fn side(e: &Expr, inner: &HashSet<String>, outer: &HashSet<String>) -> Side {
    let (mut reads_inner, mut reads_outer, mut unknown) = (false, false, false);
    let _ = each_expr(e, |e| {
        match e {
            Expr::Identifier(_) => reads_inner = true,
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let qualifier = parts[parts.len() - 2].value.to_lowercase();
                if inner.contains(&qualifier) {
                    reads_inner = true;
                } else if outer.contains(&qualifier) {
                    reads_outer = true;
                } else {
                    unknown = true;
                }
            }
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => unknown = true,
            _ => {}
        }
        ControlFlow::Continue(())
    });
    match (reads_inner, reads_outer, unknown) {
        (_, _, true) | (true, true, _) => Side::Mixed,
        (true, false, _) => Side::Inner,
        (false, true, _) => Side::Outer,
        (false, false, _) => Side::Constant,
    }
}

/// The conditions joined with AND (TRUE for none).
pub(super) fn and(conditions: Vec<Expr>) -> Expr {
    conditions
        .into_iter()
        .reduce(|a, b| Expr::BinaryOp { left: Box::new(a), op: BinaryOperator::And, right: Box::new(b) })
        .unwrap_or(Expr::value(Value::Boolean(true)))
}

/// Columns a rewrite added to the relation `alias` left out of `*` and of `alias.*`.
pub(super) fn hide_from_stars(select: &mut Select, alias: &str, names: &[String]) {
    for item in &mut select.projection {
        let options = match item {
            SelectItem::Wildcard(options) => options,
            SelectItem::QualifiedWildcard(kind, options)
                if kind.to_string().trim_end_matches(".*").trim_matches('"').eq_ignore_ascii_case(alias) =>
            {
                options
            }
            _ => continue,
        };
        let mut excluded = match options.opt_exclude.take() {
            Some(datafusion::sql::sqlparser::ast::ExcludeSelectItem::Single(name)) => vec![name],
            Some(datafusion::sql::sqlparser::ast::ExcludeSelectItem::Multiple(names)) => names,
            None => Vec::new(),
        };
        excluded.extend(names.iter().map(|n| ObjectName::from(vec![Ident::new(n)])));
        options.opt_exclude = Some(datafusion::sql::sqlparser::ast::ExcludeSelectItem::Multiple(excluded));
    }
}
