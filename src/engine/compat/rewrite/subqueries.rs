//! `EXISTS (...)` and `x IN (SELECT ...)` outside a filter — in a select list, a `CASE`, an
//! `ORDER BY` — as counts DataFusion can plan: it turns them into joins only where they filter
//! (a conjunct of `WHERE`), and fails on them anywhere else. A count of the subquery's rows is
//! a scalar subquery, which it decorrelates.
//!
//! - `EXISTS (SELECT ... FROM f WHERE w)` → `coalesce((SELECT count(*) FROM f WHERE w), 0) > 0`
//!   (other subqueries are counted whole: `(SELECT count(*) FROM (q))`);
//! - `x IN (SELECT e FROM f WHERE w)` (or any subquery of one column) → with three counts, SQL's three-valued answer: FALSE when
//!   the subquery has no rows, NULL when `x` is NULL, TRUE on a match, NULL when `e` has a NULL,
//!   else FALSE;
//! - `x op ANY (...)` and `x op ALL (...)` the same way, the match against `min(e)` or `max(e)`.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Query, Select, SelectItem, SetExpr, Statement, TableFactor,
};
use datafusion::sql::sqlparser::parser::Parser;

use crate::engine::compat::ast::for_each_select;
use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

/// DuckDB's aggregates (and their common aliases): a subquery whose select list calls one is
/// not a set of rows to count.
static AGGREGATES: std::sync::LazyLock<Vec<&str>> = std::sync::LazyLock::new(|| {
    include_str!("aggregate_names.txt").lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
});

/// Functions that return rows, not a value: a subquery selecting one has other rows than its FROM.
pub(super) const SET_RETURNING: &[&str] =
    &["generate_subscripts", "regexp_split_to_table", "string_split_to_table", "unnest"];

/// Rewrites the subqueries of every select list, `ORDER BY` and `GROUP BY` of the statement.
pub(crate) fn outside_filters(statement: &mut Statement) {
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut SelectLists);
}

struct SelectLists;

impl crate::engine::compat::ast::WalkMut for SelectLists {
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        for_each_select(&mut query.body, &mut |select| {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item {
                    rewrite_all(e);
                }
            }
            if let GroupByExpr::Expressions(keys, _) = &mut select.group_by {
                keys.iter_mut().for_each(rewrite_all);
            }
        });
        if let Some(order_by) = &mut query.order_by
            && let datafusion::sql::sqlparser::ast::OrderByKind::Expressions(keys) = &mut order_by.kind
        {
            keys.iter_mut().for_each(|key| rewrite_all(&mut key.expr));
        }
        ControlFlow::Continue(())
    }
}

fn rewrite_all(expr: &mut Expr) {
    let _ = crate::engine::compat::ast::each_expr_mut(expr, |e: &mut Expr| {
        if let Some(counted) = counted(e) {
            *e = counted;
        }
        ControlFlow::Continue(())
    });
}

/// The count form of an `EXISTS`, `IN (subquery)` or `op ANY|ALL (subquery)`, when it has one.
fn counted(expr: &Expr) -> Option<Expr> {
    let text = match expr {
        Expr::Exists { subquery, negated } => {
            let compare = if *negated { "=" } else { ">" };
            match with_projection(subquery, "count(*)") {
                Some(count) => format!("coalesce(({count}), 0) {compare} 0"),
                None => format!("(SELECT count(*) FROM ({subquery}) AS subquery_rows) {compare} 0"),
            }
        }
        Expr::InSubquery { expr: x, subquery, negated } => {
            let answer = member(x, subquery)?;
            if *negated { format!("NOT ({answer})") } else { answer }
        }
        Expr::AnyOp { left: x, compare_op, right, .. } => {
            let Expr::Subquery(subquery) = right.as_ref() else { return None };
            match compare_op {
                BinaryOperator::Eq => member(x, subquery)?,
                op => quantified(x, subquery, false, some_holds(op)?, true)?,
            }
        }
        Expr::AllOp { left: x, compare_op, right } => {
            let Expr::Subquery(subquery) = right.as_ref() else { return None };
            match compare_op {
                BinaryOperator::NotEq => format!("NOT ({})", member(x, subquery)?),
                op => quantified(x, subquery, true, some_fails(op)?, false)?,
            }
        }
        _ => return None,
    };
    Parser::new(&DuckDbCompatDialect).try_with_sql(&text).ok()?.parse_expr().ok()
}

/// `x IN (subquery)`: the match is counted on a list of the values (`array_has`), so that `x` is
/// never read inside the subquery, where its names could mean the subquery's own columns.
fn member(x: &Expr, subquery: &Query) -> Option<String> {
    quantified(x, subquery, false, Test::Member, true)
}

/// What decides a quantified comparison, read on the subquery's non-NULL values.
enum Test {
    /// `x` is one of them.
    Member,
    /// `x op aggregate(e)`, the aggregate `min` or `max`.
    Extreme(&'static str, &'static str),
    /// `x` differs from one of them.
    Differs,
}

/// SQL's three-valued answer of a quantified comparison over the subquery's one column `e`:
/// `if_empty` without rows, NULL when `x` is NULL, `decided` when `test` holds, NULL when `e` has
/// a NULL, else the opposite of `decided`.
fn quantified(x: &Expr, subquery: &Query, if_empty: bool, test: Test, decided: bool) -> Option<String> {
    let rows = aggregate_of(subquery, |_| "count(*)".to_string())?;
    let nulls = aggregate_of(subquery, |e| format!("count(*) - count({e})"))?;
    let of = |aggregate: &str| aggregate_of(subquery, |e| format!("{aggregate}({e})"));
    let test = match test {
        Test::Member => format!("array_has(({}), ({x}))", of("array_agg")?),
        Test::Extreme(aggregate, op) => format!("({x}) {op} ({})", of(aggregate)?),
        Test::Differs => format!("(({x}) <> ({}) OR ({x}) <> ({}))", of("min")?, of("max")?),
    };
    Some(format!(
        "CASE WHEN coalesce(({rows}), 0) = 0 THEN {if_empty} WHEN ({x}) IS NULL THEN NULL \
         WHEN {test} THEN {decided} WHEN coalesce(({nulls}), 0) > 0 THEN NULL ELSE {} END",
        !decided
    ))
}

/// When `x op ANY (...)` holds for some value: `x` against the values' extreme.
fn some_holds(op: &BinaryOperator) -> Option<Test> {
    Some(match op {
        BinaryOperator::Lt => Test::Extreme("max", "<"),
        BinaryOperator::LtEq => Test::Extreme("max", "<="),
        BinaryOperator::Gt => Test::Extreme("min", ">"),
        BinaryOperator::GtEq => Test::Extreme("min", ">="),
        BinaryOperator::NotEq => Test::Differs,
        _ => return None,
    })
}

/// When `x op ALL (...)` fails for some value: `x` against the values' extreme.
fn some_fails(op: &BinaryOperator) -> Option<Test> {
    Some(match op {
        BinaryOperator::Lt => Test::Extreme("min", ">="),
        BinaryOperator::LtEq => Test::Extreme("min", ">"),
        BinaryOperator::Gt => Test::Extreme("max", "<="),
        BinaryOperator::GtEq => Test::Extreme("max", "<"),
        BinaryOperator::Eq => Test::Differs,
        _ => return None,
    })
}

/// `SELECT aggregate(e)` over the subquery's rows, `e` its one column: its own select list
/// replaced when it is a plain SELECT (a correlated one stays decorrelatable), else over it whole.
fn aggregate_of(subquery: &Query, aggregate: impl Fn(&str) -> String) -> Option<String> {
    match only_item(subquery) {
        Some(element) => with_projection(subquery, &aggregate(&element)),
        None => Some(format!("SELECT {} FROM ({subquery}) AS subquery_rows(v)", aggregate("v"))),
    }
}

/// The subquery with its select list replaced by `projection`, when it is one plain SELECT whose
/// rows are its FROM's rows under its WHERE (no grouping, aggregate, window or limit).
fn with_projection(query: &Query, projection: &str) -> Option<String> {
    if query.with.is_some() || query.limit_clause.is_some() || query.fetch.is_some() {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_ref() else { return None };
    let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(keys, _) if keys.is_empty());
    if grouped || select.having.is_some() || select.qualify.is_some() || !select.named_window.is_empty() {
        return None;
    }
    if select.projection.iter().any(aggregates) {
        return None;
    }
    if let Some(keyed) = with_keys(select, projection) {
        return Some(keyed);
    }
    let mut select = select.clone();
    select.distinct = None;
    let parsed = Parser::new(&DuckDbCompatDialect).try_with_sql(projection).ok()?.parse_expr().ok()?;
    select.projection = vec![SelectItem::UnnamedExpr(parsed)];
    Some(select.to_string())
}

/// `SELECT projection FROM t AS a WHERE f(a.x) = outer.y AND ...` with each computed key of a
/// correlated equality made a column first: `FROM (SELECT *, f(a.x) AS correlated_key_1 FROM t
/// AS a) AS a WHERE a.correlated_key_1 = outer.y AND ...`. DataFusion decorrelates a scalar
/// subquery whose correlated equalities compare columns, not computed values.
fn with_keys(select: &Select, projection: &str) -> Option<String> {
    let [from] = select.from.as_slice() else { return None };
    let TableFactor::Table { name, alias, args: None, .. } = &from.relation else { return None };
    if !from.joins.is_empty() || alias.as_ref().is_some_and(|a| !a.columns.is_empty()) {
        return None;
    }
    let qualifier =
        alias.as_ref().map_or_else(|| name.0.last().map(|p| p.to_string()), |a| Some(a.name.to_string()))?;
    let mut conjuncts = Vec::new();
    split_and(select.selection.as_ref()?, &mut conjuncts);
    let (mut keys, mut kept) = (Vec::new(), Vec::new());
    for conjunct in conjuncts {
        if let Expr::BinaryOp { left, op: BinaryOperator::Eq, right } = &conjunct {
            let side =
                |e: &Expr| !matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) && reads_only(e, &qualifier);
            let (inner, outer) = match (side(left), side(right)) {
                (true, false) if reads_outside(right, &qualifier) => (left, right),
                (false, true) if reads_outside(left, &qualifier) => (right, left),
                _ => {
                    kept.push(conjunct.to_string());
                    continue;
                }
            };
            keys.push(format!("{inner} AS correlated_key_{}", keys.len() + 1));
            kept.push(format!("{qualifier}.correlated_key_{} = {outer}", keys.len()));
        } else {
            kept.push(conjunct.to_string());
        }
    }
    if keys.is_empty() {
        return None;
    }
    let table = match alias {
        Some(alias) => format!("{name} AS {}", alias.name),
        None => name.to_string(),
    };
    Some(format!(
        "SELECT {projection} FROM (SELECT *, {} FROM {table}) AS {qualifier} WHERE {}",
        keys.join(", "),
        kept.join(" AND ")
    ))
}

fn split_and(expr: &Expr, into: &mut Vec<Expr>) {
    match expr {
        Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
            split_and(left, into);
            split_and(right, into);
        }
        Expr::Nested(inner) if matches!(inner.as_ref(), Expr::BinaryOp { op: BinaryOperator::And, .. }) => {
            split_and(inner, into)
        }
        other => into.push(other.clone()),
    }
}

/// The column references of an expression: each as (qualifier, if any).
fn references(expr: &Expr) -> Vec<Option<String>> {
    let mut found = Vec::new();
    let _ = crate::engine::compat::ast::each_expr(expr, |e: &Expr| {
        match e {
            Expr::Identifier(_) => found.push(None),
            Expr::CompoundIdentifier(parts) if parts.len() > 1 => found.push(Some(parts[0].value.clone())),
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => found.push(Some(String::new())),
            _ => {}
        }
        ControlFlow::Continue(())
    });
    found
}

/// Whether `expr` reads columns, all of the subquery's table (qualified by it, or not at all).
fn reads_only(expr: &Expr, qualifier: &str) -> bool {
    let refs = references(expr);
    !refs.is_empty() && refs.iter().all(|r| r.as_ref().is_none_or(|q| q.eq_ignore_ascii_case(qualifier)))
}

/// Whether `expr` reads columns, all qualified by another name than the subquery's table.
fn reads_outside(expr: &Expr, qualifier: &str) -> bool {
    let refs = references(expr);
    !refs.is_empty()
        && refs.iter().all(|r| r.as_ref().is_some_and(|q| !q.is_empty() && !q.eq_ignore_ascii_case(qualifier)))
}

/// The one expression a plain subquery selects.
fn only_item(query: &Query) -> Option<String> {
    with_projection(query, "1")?;
    let SetExpr::Select(select) = query.body.as_ref() else { return None };
    match select.projection.as_slice() {
        [SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }] => Some(e.to_string()),
        _ => None,
    }
}

/// Whether a select item calls an aggregate, a window function or a function that returns rows
/// (in a nested subquery too: then it is left alone).
/// Whether `name` is one of DuckDB's aggregate functions.
pub(crate) fn is_aggregate_name(name: &str) -> bool {
    AGGREGATES.contains(&name.to_ascii_lowercase().as_str())
}

pub(crate) fn aggregates(item: &SelectItem) -> bool {
    struct Finder(bool);
    impl crate::engine::compat::ast::Walk for Finder {
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if let Expr::Function(f) = expr {
                let name = f.name.to_string().to_ascii_lowercase();
                if f.over.is_some() || AGGREGATES.contains(&name.as_str()) || SET_RETURNING.contains(&name.as_str()) {
                    self.0 = true;
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut finder = Finder(false);
    let _ = crate::engine::compat::ast::walk(item, &mut finder);
    finder.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statements = Parser::parse_sql(&DuckDbCompatDialect, sql).unwrap();
        outside_filters(&mut statements[0]);
        statements[0].to_string()
    }

    #[test]
    fn exists_and_in_outside_filters_become_counts() {
        let exists = rewritten("SELECT EXISTS (SELECT 1 FROM t WHERE t.a = u.a) AS e FROM u");
        assert!(exists.contains("coalesce((SELECT count(*) FROM t WHERE t.a = u.a), 0) > 0 AS e"), "{exists}");
        let grouped = rewritten("SELECT NOT EXISTS (SELECT a FROM t GROUP BY a) FROM u");
        assert!(
            grouped.contains("(SELECT count(*) FROM (SELECT a FROM t GROUP BY a) AS subquery_rows) = 0"),
            "{grouped}"
        );
        let member = rewritten("SELECT u.a IN (SELECT b FROM t) FROM u");
        assert!(member.contains("array_has((SELECT array_agg(b) FROM t), (u.a))"), "{member}");
        // In a filter DataFusion plans them as joins: left as written.
        let filter = "SELECT a FROM u WHERE EXISTS (SELECT 1 FROM t WHERE t.a = u.a)";
        assert_eq!(rewritten(filter), filter);
        // An aggregate's one row always exists: the subquery is counted whole.
        let aggregate = rewritten("SELECT u.a IN (SELECT max(b) FROM t) FROM u");
        assert!(aggregate.contains("array_has((SELECT array_agg(v) FROM (SELECT max(b) FROM t) AS subquery_rows (v))"));
        let any = rewritten("SELECT u.a > ANY (SELECT b FROM t) FROM u");
        assert!(any.contains("WHEN (u.a) > (SELECT min(b) FROM t) THEN true"), "{any}");
        let all = rewritten("SELECT u.a <= ALL (SELECT b FROM t WHERE t.c = u.c) FROM u");
        assert!(
            all.contains(
                "THEN true WHEN (u.a) IS NULL THEN NULL WHEN (u.a) > (SELECT min(b) FROM t WHERE t.c = u.c) THEN false"
            ),
            "{all}"
        );
        // A computed key of a correlated equality is made a column first.
        let keyed = rewritten("SELECT EXISTS (SELECT 1 FROM t AS a WHERE lower(a.x) = u.y AND a.z = 1) FROM u");
        assert!(
            keyed.contains("FROM (SELECT *, lower(a.x) AS correlated_key_1 FROM t AS a) AS a WHERE a.correlated_key_1 = u.y AND a.z = 1"),
            "{keyed}"
        );
    }
}
