//! The walk over a statement's SELECTs that the expansions share: which SELECT comes first, and
//! the CTEs it can see — what a probe of its FROM clause needs to plan.

use datafusion::sql::sqlparser::ast::{Query, Select, SetExpr, Statement, TableFactor, With};

/// Calls `f` on each SELECT of the query, those of CTEs and FROM subqueries before the SELECT
/// that reads them, until it returns true.
pub(super) fn each_select(query: &mut Query, f: &mut dyn FnMut(&mut Select) -> bool) -> bool {
    fn body(set: &mut SetExpr, f: &mut dyn FnMut(&mut Select) -> bool) -> bool {
        match set {
            SetExpr::Select(select) => {
                for from in &mut select.from {
                    let factors =
                        std::iter::once(&mut from.relation).chain(from.joins.iter_mut().map(|j| &mut j.relation));
                    for factor in factors {
                        if table(factor, f) {
                            return true;
                        }
                    }
                }
                f(select)
            }
            SetExpr::SetOperation { left, right, .. } => body(left, f) || body(right, f),
            SetExpr::Query(q) => each_select(q, f),
            _ => false,
        }
    }
    fn table(factor: &mut TableFactor, f: &mut dyn FnMut(&mut Select) -> bool) -> bool {
        match factor {
            TableFactor::Derived { subquery, .. } => each_select(subquery, f),
            TableFactor::NestedJoin { table_with_joins, .. } => {
                table(&mut table_with_joins.relation, f)
                    || table_with_joins.joins.iter_mut().any(|j| table(&mut j.relation, f))
            }
            _ => false,
        }
    }
    if let Some(with) = &mut query.with
        && with.cte_tables.iter_mut().any(|cte| each_select(&mut cte.query, f))
    {
        return true;
    }
    body(&mut query.body, f)
}

/// The first SELECT for which `wanted` holds, with the CTEs it can see: in a CTE, only those
/// before it (the later ones may not plan yet).
pub(super) fn first_select_in_scope(
    statement: &Statement,
    wanted: &dyn Fn(&Select) -> bool,
) -> Option<(Option<With>, Select)> {
    let Statement::Query(query) = statement else { return None };
    let first_in = |query: &Query| {
        let mut searched = query.clone();
        let mut found = None;
        each_select(&mut searched, &mut |select| {
            if wanted(select) {
                found = Some(select.clone());
            }
            found.is_some()
        });
        found
    };
    let mut with = query.with.clone();
    let ctes = query.with.as_ref().map_or(&[][..], |w| w.cte_tables.as_slice());
    let select = match ctes.iter().enumerate().find_map(|(at, cte)| first_in(&cte.query).map(|s| (at, s))) {
        Some((at, select)) => {
            if let Some(with) = &mut with {
                with.cte_tables.truncate(at);
            }
            select
        }
        None => first_in(&Query { with: None, ..query.as_ref().clone() })?,
    };
    Some((with, select))
}
