//! An aggregate inside a subquery without FROM — `(SELECT max(col7))`, `1 IN (SELECT (SELECT
//! max(col7)) UNION ALL ...)` — reads only the outer query's columns, and DuckDB binds it as an
//! aggregate of the outer query (DataFusion, of the subquery's one row). It is computed in the
//! outer query's FROM, which becomes a derived table under the same name, and read from there:
//!
//! - a grouped outer query: `(SELECT *, max(col7) OVER (PARTITION BY <keys>) AS __outer_agg_1
//!   FROM t1 WHERE ...) AS t1`, the value added to its GROUP BY (it is one per group);
//! - an outer query with no GROUP BY and no aggregate of its own, which the aggregate makes one
//!   group: `(SELECT max(col7) AS __outer_agg_1 FROM t1 WHERE ...) AS t1`.
//!
//! Only over one table (or derived table) without joins, and GROUP BY keys written as
//! expressions; other forms are left as they are.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, GroupByExpr, Ident, Query, Select, SelectItem, Statement, TableFactor, Value,
};

use super::subqueries::is_aggregate_name;
use crate::engine::compat::ast::{each_expr, hide_from_stars};

const PREFIX: &str = "__outer_agg_";

pub(crate) fn hoisted(statement: &mut Statement) {
    struct Selects;
    impl crate::engine::compat::ast::WalkMut for Selects {
        fn post_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
            // Only a SELECT holding a subquery is copied and tried (every query passes here).
            if !holds_subquery(&select.projection) && !holds_subquery(&select.having) {
                return ControlFlow::Continue(());
            }
            let mut rewritten = select.clone();
            if hoist(&mut rewritten).is_some() {
                *select = rewritten;
            }
            ControlFlow::Continue(())
        }
    }
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut Selects);
}

/// `select` with the outer aggregates of its subqueries computed in its FROM; `None` when it
/// has none, or is of a form this does not take (`select` is then half-changed: a copy is given).
fn hoist(select: &mut Select) -> Option<()> {
    let [from] = select.from.as_slice() else { return None };
    if !from.joins.is_empty() {
        return None;
    }
    let name = match &from.relation {
        TableFactor::Table { alias: Some(alias), .. } | TableFactor::Derived { alias: Some(alias), .. } => {
            alias.name.clone()
        }
        TableFactor::Table { name, alias: None, .. } => Ident::new(name.0.last()?.to_string()),
        _ => return None,
    };
    let mut found = Vec::new();
    let mut collector = Outer { found: &mut found, relation: &name, depth: Vec::new() };
    let _ = crate::engine::compat::ast::walk_mut(&mut select.projection, &mut collector);
    let _ = crate::engine::compat::ast::walk_mut(&mut select.having, &mut collector);
    if found.is_empty() {
        return None;
    }
    let keys = match &select.group_by {
        GroupByExpr::Expressions(keys, modifiers) if modifiers.is_empty() => keys.clone(),
        _ => return None,
    };
    // A key by position or by an alias of the select list is not an expression of the FROM.
    let aliases = crate::engine::compat::ast::written_aliases(select);
    let by_name = |k: &Expr| match k {
        Expr::Value(v) => matches!(v.value, Value::Number(..)),
        Expr::Identifier(i) => aliases.contains(&i.value.to_lowercase()),
        _ => false,
    };
    if keys.iter().any(by_name) {
        return None;
    }
    if keys.is_empty() && select.projection.iter().any(own_aggregate) {
        return None;
    }
    let names: Vec<String> = (1..=found.len()).map(|i| format!("{PREFIX}{i}")).collect();
    let filter = select.selection.take().map(|w| format!(" WHERE {w}")).unwrap_or_default();
    let computed = if keys.is_empty() {
        let values: Vec<String> = found.iter().zip(&names).map(|(a, n)| format!("{a} AS {n}")).collect();
        format!("SELECT {} FROM {}{filter}", values.join(", "), from.relation)
    } else {
        let partition: Vec<String> = keys.iter().map(ToString::to_string).collect();
        let values: Vec<String> = found
            .iter()
            .zip(&names)
            .map(|(a, n)| format!("{a} OVER (PARTITION BY {}) AS {n}", partition.join(", ")))
            .collect();
        format!("SELECT *, {} FROM {}{filter}", values.join(", "), from.relation)
    };
    let derived = format!("SELECT * FROM ({computed}) AS {name}");
    let mut parsed = crate::engine::compat::parse::parsed_select(&derived).ok()?;
    select.from = std::mem::take(&mut parsed.from);
    if !keys.is_empty() {
        let mut keys = keys;
        keys.extend(names.iter().map(|n| Expr::CompoundIdentifier(vec![name.clone(), Ident::new(n)])));
        select.group_by = GroupByExpr::Expressions(keys, Vec::new());
        hide_from_stars(select, None, &names);
    }
    Some(())
}

/// Whether a select item aggregates, outside its subqueries.
fn own_aggregate(item: &SelectItem) -> bool {
    let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item else { return false };
    let mut found = false;
    let mut stack = 0usize;
    struct Own<'a>(&'a mut bool, &'a mut usize);
    impl crate::engine::compat::ast::WalkMut for Own<'_> {
        fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
            *self.1 += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
            *self.1 -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if *self.1 == 0
                && matches!(expr, Expr::Function(f) if f.over.is_none() && is_aggregate_name(&f.name.to_string()))
            {
                *self.0 = true;
            }
            ControlFlow::Continue(())
        }
    }
    let mut e = e.clone();
    let _ = crate::engine::compat::ast::walk_mut(&mut e, &mut Own(&mut found, &mut stack));
    found
}

/// Collects the outer aggregates of the subqueries it visits (each replaced by its column of
/// `relation`): aggregates of column names in a SELECT without FROM, reached through SELECTs
/// without FROM only.
struct Outer<'a> {
    found: &'a mut Vec<Expr>,
    relation: &'a Ident,
    /// For each SELECT the visit is in, whether it has no FROM.
    depth: Vec<bool>,
}

impl crate::engine::compat::ast::WalkMut for Outer<'_> {
    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        self.depth.push(select.from.is_empty());
        ControlFlow::Continue(())
    }

    fn post_visit_select(&mut self, _: &mut Select) -> ControlFlow<()> {
        self.depth.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let outer = !self.depth.is_empty() && self.depth.iter().all(|fromless| *fromless);
        if outer
            && let Expr::Function(f) = expr
            && f.over.is_none()
            && is_aggregate_name(&f.name.to_string())
            && reads_a_column(expr)
        {
            self.found.push(expr.clone());
            let name = format!("{PREFIX}{}", self.found.len());
            *expr = Expr::CompoundIdentifier(vec![self.relation.clone(), Ident::new(name)]);
        }
        ControlFlow::Continue(())
    }
}

fn holds_subquery<N: datafusion::sql::sqlparser::ast::Visit>(node: &N) -> bool {
    each_expr(node, |e| match e {
        Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => ControlFlow::Break(None),
        // `ARRAY(SELECT ...)`
        Expr::Function(f) if matches!(f.args, datafusion::sql::sqlparser::ast::FunctionArguments::Subquery(_)) => {
            ControlFlow::Break(None)
        }
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

fn reads_a_column(expr: &Expr) -> bool {
    each_expr(expr, |e| match e {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => ControlFlow::Break(None),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::rewrite::rewritten_by;

    #[test]
    fn aggregates_of_outer_columns_in_subqueries_without_from_are_the_outer_querys() {
        assert_eq!(
            rewritten_by(
                super::hoisted,
                "SELECT CASE WHEN 1 IN (SELECT (SELECT max(c7))) THEN 2 END FROM t t1 WHERE c1 > 0"
            ),
            "SELECT CASE WHEN 1 IN (SELECT (SELECT t1.__outer_agg_1)) THEN 2 END FROM (SELECT max(c7) AS __outer_agg_1 FROM t t1 WHERE c1 > 0) AS t1"
        );
        assert_eq!(
            rewritten_by(super::hoisted, "SELECT c1, (SELECT max(c7) + 1) AS m FROM t GROUP BY c1"),
            "SELECT c1, (SELECT t.__outer_agg_1 + 1) AS m FROM (SELECT *, max(c7) OVER (PARTITION BY c1) AS __outer_agg_1 FROM t) AS t GROUP BY c1, t.__outer_agg_1"
        );
        // An aggregate of its own FROM, or of constants, stays the subquery's.
        let kept = "SELECT (SELECT max(x) FROM u), (SELECT max(1)) FROM t";
        assert_eq!(rewritten_by(super::hoisted, kept), kept);
    }
}
