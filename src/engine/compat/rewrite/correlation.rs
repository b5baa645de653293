//! Which side of a correlated subquery a name belongs to, by its qualifier: a table of the
//! subquery's FROM (or no qualifier) is the subquery's own, another table of the outer FROM the
//! outer row's. And what the rewrites of correlated subqueries share.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, JoinConstraint, JoinOperator, Query, Select, Statement, TableFactor, TableWithJoins,
};

use crate::engine::compat::ast::{and, each_expr, for_each_select, hide_from_stars};

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

/// What a rewrite of a LATERAL subquery gives: its alias, the conditions that join it back to
/// the rows before it, and the names of the columns it added.
pub(super) type Decorrelated = (String, Vec<Expr>, Vec<String>);

/// Each LATERAL of each SELECT rewritten by `decorrelate`, given the FROM items it may read (in a
/// join, those before it in the same item: its ON sees no others), and joined back: in its ON (a
/// CROSS JOIN becoming an INNER JOIN), or after a comma in the WHERE; the added columns are left
/// out of the stars.
pub(super) fn rewrite_laterals(
    statement: &mut Statement,
    decorrelate: fn(&mut TableFactor, &[TableWithJoins]) -> Option<Decorrelated>,
) {
    struct Queries(fn(&mut TableFactor, &[TableWithJoins]) -> Option<Decorrelated>);
    impl crate::engine::compat::ast::WalkMut for Queries {
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            let decorrelate = self.0;
            for_each_select(&mut query.body, &mut |select| joined_back(select, decorrelate));
            ControlFlow::Continue(())
        }
    }
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut Queries(decorrelate));
}

fn joined_back(select: &mut Select, decorrelate: fn(&mut TableFactor, &[TableWithJoins]) -> Option<Decorrelated>) {
    let mut in_where: Vec<Expr> = Vec::new();
    let mut hidden: Vec<(String, Vec<String>)> = Vec::new();
    for k in 0..select.from.len() {
        if k > 0 {
            let before = select.from[..k].to_vec();
            if let Some((alias, conditions, names)) = decorrelate(&mut select.from[k].relation, &before) {
                in_where.extend(conditions);
                hidden.push((alias, names));
            }
        }
        for j in 0..select.from[k].joins.len() {
            let mut left = select.from[k].clone();
            left.joins.truncate(j);
            let join = &mut select.from[k].joins[j];
            let (constraint, cross) = match &mut join.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) | JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => {
                    (c, false)
                }
                JoinOperator::CrossJoin(c) => (c, true),
                _ => continue,
            };
            if !matches!(constraint, JoinConstraint::On(_) | JoinConstraint::None) {
                continue;
            }
            let Some((alias, conditions, names)) = decorrelate(&mut join.relation, &[left]) else { continue };
            let on: Vec<Expr> = match std::mem::replace(constraint, JoinConstraint::None) {
                JoinConstraint::On(on) => std::iter::once(on).chain(conditions).collect(),
                _ => conditions,
            };
            *constraint = JoinConstraint::On(and(on));
            if cross {
                let constraint = std::mem::replace(constraint, JoinConstraint::None);
                join.join_operator = JoinOperator::Inner(constraint);
            }
            hidden.push((alias, names));
        }
    }
    if !in_where.is_empty() {
        select.selection = Some(and(select.selection.take().into_iter().chain(in_where)));
    }
    for (alias, names) in hidden {
        hide_from_stars(select, Some(&alias), &names);
    }
}
