//! Joins whose ON condition holds a subquery — `l LEFT JOIN r ON EXISTS (SELECT 1 FROM s WHERE
//! s.a = l.a AND s.b = r.b)`, `... ON r.i IN (SELECT ...)`. DataFusion computes subqueries only
//! in filters and select lists, so the pairs of rows that match are found by a filter over both
//! sides, then joined back by value:
//!
//! ```sql
//! l KIND JOIN (r INNER|LEFT JOIN (SELECT DISTINCT l.a AS __pair_l0, r.b AS __pair_r0, TRUE AS __pair_m
//!                                FROM l CROSS JOIN r WHERE <condition>) AS __pairs
//!              ON r.b IS NOT DISTINCT FROM __pairs.__pair_r0)
//!   ON l.a IS NOT DISTINCT FROM __pairs.__pair_l0 AND __pairs.__pair_m
//! ```
//!
//! Rows equal in every column match the same rows, so matching by value gives each row its own
//! matches (DISTINCT keeps one pair per pair of values). Inside, the right side keeps its
//! unmatched rows (a LEFT join) where the join keeps them (RIGHT, FULL). The pairs' columns are
//! left out of the SELECT's stars. Both sides' columns come from probes, as for `COLUMNS(...)`.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Distinct, Expr, Ident, Join, JoinConstraint, JoinOperator, Select, SelectItem, SetExpr, Statement, TableAlias,
    TableFactor, TableWithJoins, Value,
};

use super::SourceColumn;
use super::selects::{each_select, first_select_in_scope};
use crate::engine::compat::ast::{and, each_expr, hide_from_stars};
use crate::error::{Error, Result};

/// The derived table of matching pairs this rewrite joins through.
pub(crate) const PAIRS: &str = "__pairs";
const MATCHED: &str = "__pair_m";

/// The ON condition of a join DuckDB allows a subquery in, if the join has one.
fn subquery_condition(join: &Join) -> Option<&Expr> {
    if matches!(join.relation, TableFactor::Derived { lateral: true, .. }) {
        return None;
    }
    let (JoinOperator::Join(JoinConstraint::On(condition))
    | JoinOperator::Inner(JoinConstraint::On(condition))
    | JoinOperator::Left(JoinConstraint::On(condition))
    | JoinOperator::LeftOuter(JoinConstraint::On(condition))
    | JoinOperator::Right(JoinConstraint::On(condition))
    | JoinOperator::RightOuter(JoinConstraint::On(condition))
    | JoinOperator::FullOuter(JoinConstraint::On(condition))
    | JoinOperator::Semi(JoinConstraint::On(condition))
    | JoinOperator::LeftSemi(JoinConstraint::On(condition))
    | JoinOperator::Anti(JoinConstraint::On(condition))
    | JoinOperator::LeftAnti(JoinConstraint::On(condition))) = &join.join_operator
    else {
        return None;
    };
    let subquery = each_expr(condition, |e| match e {
        Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => ControlFlow::Break(None),
        _ => ControlFlow::Continue(()),
    });
    subquery.is_break().then_some(condition)
}

/// Where the SELECT's first join that `wanted` picks is: the FROM item, and the join in it.
pub(super) fn first_join(select: &Select, wanted: fn(&Join) -> bool) -> Option<(usize, usize)> {
    select.from.iter().enumerate().find_map(|(at, from)| from.joins.iter().position(wanted).map(|join| (at, join)))
}

fn subquery_join(select: &Select) -> Option<(usize, usize)> {
    first_join(select, |join| subquery_condition(join).is_some())
}

/// `SELECT * FROM <left side>` and `SELECT * FROM <right side>` of the first join `wanted` picks.
pub(super) fn side_probes(statement: &Statement, wanted: fn(&Join) -> bool) -> Option<Vec<Statement>> {
    let (with, select) = first_select_in_scope(statement, &|select| first_join(select, wanted).is_some())?;
    let (at, join) = first_join(&select, wanted)?;
    let from = &select.from[at];
    let sides = [
        TableWithJoins { relation: from.relation.clone(), joins: from.joins[..join].to_vec() },
        TableWithJoins { relation: from.joins[join].relation.clone(), joins: Vec::new() },
    ];
    sides
        .into_iter()
        .map(|side| {
            let mut probe = super::star_columns::star_probe(vec![side])?;
            probe.with = with.clone();
            Some(Statement::Query(probe))
        })
        .collect()
}

/// The probes of the first join whose condition holds a subquery.
pub(crate) fn join_probes(statement: &Statement) -> Option<Vec<Statement>> {
    side_probes(statement, |join| subquery_condition(join).is_some())
}

/// The first such join, its matching pairs found apart over `left`'s and `right`'s columns.
pub(crate) fn expand_join(statement: &mut Statement, left: &[SourceColumn], right: &[SourceColumn]) -> Result<()> {
    let Statement::Query(query) = statement else { return Ok(()) };
    let mut outcome = Ok(());
    each_select(query, &mut |select| match subquery_join(select) {
        Some((at, join)) => {
            outcome = pair_up(select, at, join, left, right);
            true
        }
        None => false,
    });
    outcome
}

pub(super) fn ident(name: &str) -> Ident {
    Ident::with_quote('"', name)
}

pub(super) fn column(relation: &str, name: &str) -> Expr {
    Expr::CompoundIdentifier(vec![ident(relation), ident(name)])
}

/// Each column as `relation.name`, and the pairs' name for it (`__pair_l0`, ...).
pub(super) fn sides_columns(columns: &[SourceColumn], side: char) -> Result<Vec<(Expr, String)>> {
    columns
        .iter()
        .enumerate()
        .map(|(k, (relation, name))| match relation {
            Some(relation) => Ok((column(relation, name), format!("__pair_{side}{k}"))),
            None => Err(Error::Query(format!(
                "a join computed apart (a subquery in ON, ASOF) needs every column named by its table: give the table of {name} an alias"
            ))),
        })
        .collect()
}

fn pair_up(select: &mut Select, at: usize, join: usize, left: &[SourceColumn], right: &[SourceColumn]) -> Result<()> {
    let (left, right) = (sides_columns(left, 'l')?, sides_columns(right, 'r')?);
    // A second such join in the FROM reads the first one's pairs: its own have another name.
    let mut earlier: Vec<&str> = left
        .iter()
        .filter_map(|(expr, _)| match expr {
            Expr::CompoundIdentifier(parts) if parts[0].value.starts_with(PAIRS) => Some(parts[0].value.as_str()),
            _ => None,
        })
        .collect();
    earlier.dedup();
    let pairs_name = if earlier.is_empty() { PAIRS.to_string() } else { format!("{PAIRS}{}", earlier.len()) };
    let pairs_name = pairs_name.as_str();
    let from = &mut select.from[at];
    let Join { relation, join_operator, .. } = from.joins.remove(join);
    // The join's kind, and whether it keeps the right side's unmatched rows.
    let (condition, kind, keeps_right): (_, fn(JoinConstraint) -> JoinOperator, _) = match join_operator {
        JoinOperator::Join(JoinConstraint::On(c)) | JoinOperator::Inner(JoinConstraint::On(c)) => {
            (c, JoinOperator::Inner, false)
        }
        JoinOperator::Left(JoinConstraint::On(c)) | JoinOperator::LeftOuter(JoinConstraint::On(c)) => {
            (c, JoinOperator::LeftOuter, false)
        }
        JoinOperator::Right(JoinConstraint::On(c)) | JoinOperator::RightOuter(JoinConstraint::On(c)) => {
            (c, JoinOperator::RightOuter, true)
        }
        JoinOperator::FullOuter(JoinConstraint::On(c)) => (c, JoinOperator::FullOuter, true),
        // The left rows that have a pair (or none), once each: the pairs are joined alone.
        JoinOperator::Semi(JoinConstraint::On(c)) | JoinOperator::LeftSemi(JoinConstraint::On(c)) => {
            return semi_join(from, join, relation, c, &left, pairs_name, JoinOperator::LeftSemi);
        }
        JoinOperator::Anti(JoinConstraint::On(c)) | JoinOperator::LeftAnti(JoinConstraint::On(c)) => {
            return semi_join(from, join, relation, c, &left, pairs_name, JoinOperator::LeftAnti);
        }
        _ => return Err(Error::Query("a join condition with a subquery is supported after ON only".into())),
    };
    let mut both = TableWithJoins { relation: from.relation.clone(), joins: from.joins[..join].to_vec() };
    both.joins.push(Join {
        relation: relation.clone(),
        global: false,
        join_operator: JoinOperator::CrossJoin(JoinConstraint::None),
    });
    let pairs = TableFactor::Derived {
        lateral: false,
        subquery: Box::new(pairs_query(&left, &right, both, condition)?),
        alias: Some(TableAlias { explicit: true, name: ident(pairs_name), columns: Vec::new(), at: None }),
        sample: None,
    };
    let same = |columns: &[(Expr, String)]| {
        columns
            .iter()
            .map(|(expr, name)| Expr::IsNotDistinctFrom(Box::new(expr.clone()), Box::new(column(pairs_name, name))))
            .collect::<Vec<_>>()
    };
    let right_constraint = JoinConstraint::On(and(same(&right)));
    let right_with_pairs = TableWithJoins {
        relation,
        joins: vec![Join {
            relation: pairs,
            global: false,
            join_operator: if keeps_right {
                JoinOperator::LeftOuter(right_constraint)
            } else {
                JoinOperator::Inner(right_constraint)
            },
        }],
    };
    let left_constraint = JoinConstraint::On(and(same(&left).into_iter().chain([column(pairs_name, MATCHED)])));
    from.joins.insert(
        join,
        Join {
            relation: TableFactor::NestedJoin { table_with_joins: Box::new(right_with_pairs), alias: None },
            global: false,
            join_operator: kind(left_constraint),
        },
    );
    let hidden: Vec<String> =
        left.iter().chain(&right).map(|(_, name)| name.clone()).chain([MATCHED.to_string()]).collect();
    hide_from_stars(select, None, &hidden);
    Ok(())
}

/// A SEMI or ANTI join (`kind`) on a condition with a subquery: the left side joined, by kind, to
/// the distinct values of its rows that have a pair.
fn semi_join(
    from: &mut TableWithJoins,
    join: usize,
    relation: TableFactor,
    condition: Expr,
    left: &[(Expr, String)],
    pairs_name: &str,
    kind: fn(JoinConstraint) -> JoinOperator,
) -> Result<()> {
    let mut both = TableWithJoins { relation: from.relation.clone(), joins: from.joins[..join].to_vec() };
    both.joins.push(Join { relation, global: false, join_operator: JoinOperator::CrossJoin(JoinConstraint::None) });
    let pairs = TableFactor::Derived {
        lateral: false,
        subquery: Box::new(pairs_query(left, &[], both, condition)?),
        alias: Some(TableAlias { explicit: true, name: ident(pairs_name), columns: Vec::new(), at: None }),
        sample: None,
    };
    let same = left
        .iter()
        .map(|(expr, name)| Expr::IsNotDistinctFrom(Box::new(expr.clone()), Box::new(column(pairs_name, name))));
    from.joins
        .insert(join, Join { relation: pairs, global: false, join_operator: kind(JoinConstraint::On(and(same))) });
    Ok(())
}

/// `SELECT DISTINCT <left's columns>, <right's>, TRUE AS __pair_m FROM <both> WHERE <condition>`.
fn pairs_query(
    left: &[(Expr, String)],
    right: &[(Expr, String)],
    both: TableWithJoins,
    condition: Expr,
) -> Result<datafusion::sql::sqlparser::ast::Query> {
    let mut query = *super::star_columns::star_probe(vec![both])
        .ok_or_else(|| Error::Query("a join condition with a subquery could not be rewritten".into()))?;
    if let SetExpr::Select(select) = query.body.as_mut() {
        select.distinct = Some(Distinct::Distinct);
        select.projection = left
            .iter()
            .chain(right)
            .map(|(expr, name)| SelectItem::ExprWithAlias { expr: expr.clone(), alias: ident(name) })
            .chain([SelectItem::ExprWithAlias {
                expr: Expr::Value(Value::Boolean(true).into()),
                alias: ident(MATCHED),
            }])
            .collect();
        select.selection = Some(condition);
    }
    Ok(query)
}
