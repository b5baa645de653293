//! Which side of a correlated subquery a name belongs to, by its qualifier: a table of the
//! subquery's FROM (or no qualifier) is the subquery's own, another table of the outer FROM the
//! outer row's.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, TableFactor, TableWithJoins};

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
