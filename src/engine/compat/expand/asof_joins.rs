//! DuckDB's ASOF joins (marked by `parse::join_forms`): each left row is matched with the right
//! rows whose value in the condition's inequality is the closest on its side (the latest
//! `r.t <= l.t` for `l.t >= r.t`, the earliest `r.t >= l.t` for `l.t <= r.t`), among those
//! that meet the rest of the condition — one of them where several are tied on it, as DuckDB
//! keeps one. The matches of each left row (by all its columns) are ranked by closeness, and
//! the left side joined with the first:
//!
//! ```sql
//! l [LEFT] JOIN (SELECT * FROM (SELECT l.a AS __pair_l0, ..., r.*, row_number() OVER
//!                (PARTITION BY l.a, ... ORDER BY r.t DESC) AS __pair_rank
//!                FROM l JOIN r ON <condition>) AS __pairs WHERE __pairs.__pair_rank = 1) AS r
//!   ON l.a IS NOT DISTINCT FROM r.__pair_l0 AND ...
//! ```

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Join, JoinConstraint, JoinOperator, ObjectName, OrderByExpr, OrderByOptions, Select,
    SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement, TableAlias, TableFactor, TableWithJoins,
    WildcardAdditionalOptions, WindowSpec, WindowType,
};

use super::SourceColumn;
use super::from_columns::relation_names;
use super::join_conditions::{column, first_join, ident, side_probes, sides_columns};
use super::selects::each_select;
use crate::engine::compat::ast::call;
use crate::engine::compat::ast::{and, conjuncts, hide_from_stars};
use crate::engine::compat::parse::join_forms::ASOF_MARKER;
use crate::error::{Error, Result};

const PAIRS: &str = "__pairs";
const RANK: &str = "__pair_rank";

fn is_marker(e: &Expr) -> bool {
    matches!(e, Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case(ASOF_MARKER))
}

fn asof_condition(join: &Join) -> Option<&Expr> {
    let (JoinOperator::Join(JoinConstraint::On(condition))
    | JoinOperator::Inner(JoinConstraint::On(condition))
    | JoinOperator::Left(JoinConstraint::On(condition))
    | JoinOperator::LeftOuter(JoinConstraint::On(condition))) = &join.join_operator
    else {
        return None;
    };
    conjuncts(condition).into_iter().any(is_marker).then_some(condition)
}

/// `SELECT * FROM <left side>` and `SELECT * FROM <right side>` of the first ASOF join.
pub(crate) fn asof_probes(statement: &Statement) -> Option<Vec<Statement>> {
    side_probes(statement, |join| asof_condition(join).is_some())
}

/// The first ASOF join, computed over its left side's columns.
pub(crate) fn expand_asof(statement: &mut Statement, left: &[SourceColumn]) -> Result<()> {
    let Statement::Query(query) = statement else { return Ok(()) };
    let mut outcome = Ok(());
    each_select(query, &mut |select| match first_join(select, |join| asof_condition(join).is_some()) {
        Some((at, join)) => {
            outcome = match_closest(select, at, join, left);
            true
        }
        None => false,
    });
    outcome
}

fn refused(what: &str) -> Error {
    Error::Query(format!("ASOF JOIN {what}: write ON l.key = r.key AND l.t >= r.t, with the right side named"))
}

/// Whether `e` reads a column of the relations named `names`.
fn reads(e: &Expr, names: &[datafusion::sql::sqlparser::ast::Ident]) -> bool {
    crate::engine::compat::ast::each_expr(e, |e| match e {
        Expr::CompoundIdentifier(parts)
            if parts.len() > 1 && names.iter().any(|n| n.value.eq_ignore_ascii_case(&parts[0].value)) =>
        {
            std::ops::ControlFlow::Break(None)
        }
        _ => std::ops::ControlFlow::Continue(()),
    })
    .is_break()
}

fn match_closest(select: &mut Select, at: usize, join: usize, left: &[SourceColumn]) -> Result<()> {
    let left = sides_columns(left, 'l')?;
    let from = &mut select.from[at];
    let Join { relation, join_operator, .. } = from.joins.remove(join);
    let (condition, kind): (_, fn(JoinConstraint) -> JoinOperator) = match join_operator {
        JoinOperator::Join(JoinConstraint::On(c)) | JoinOperator::Inner(JoinConstraint::On(c)) => {
            (c, JoinOperator::Inner)
        }
        JoinOperator::Left(JoinConstraint::On(c)) | JoinOperator::LeftOuter(JoinConstraint::On(c)) => {
            (c, JoinOperator::LeftOuter)
        }
        _ => return Err(refused("takes ON")),
    };
    let parts: Vec<Expr> = conjuncts(&condition).into_iter().filter(|e| !is_marker(e)).cloned().collect();
    let right_names = relation_names(&[TableWithJoins { relation: relation.clone(), joins: Vec::new() }])
        .ok_or_else(|| refused("needs its right side named"))?;
    // The inequality: one side reads the right relation, the other does not.
    let (right_value, later) = parts
        .iter()
        .find_map(|e| {
            let Expr::BinaryOp { left: a, op, right: b } = e else { return None };
            let greater = match op {
                BinaryOperator::Gt | BinaryOperator::GtEq => true,
                BinaryOperator::Lt | BinaryOperator::LtEq => false,
                _ => return None,
            };
            match (reads(a, &right_names), reads(b, &right_names)) {
                (false, true) => Some((b.as_ref().clone(), greater)),
                (true, false) => Some((a.as_ref().clone(), !greater)),
                _ => None,
            }
        })
        .ok_or_else(|| refused("needs one inequality between the two sides"))?;
    // Each left row's matches ranked by closeness; the first is kept (one of those tied on it).
    let mut rank = call("row_number", Vec::new());
    if let Expr::Function(f) = &mut rank {
        f.over = Some(WindowType::WindowSpec(WindowSpec {
            window_name: None,
            partition_by: left.iter().map(|(expr, _)| expr.clone()).collect(),
            order_by: vec![OrderByExpr {
                expr: right_value,
                options: OrderByOptions { asc: Some(!later), nulls_first: None },
                with_fill: None,
            }],
            window_frame: None,
        }));
    }
    let mut both = TableWithJoins { relation: from.relation.clone(), joins: from.joins[..join].to_vec() };
    both.joins.push(Join {
        relation: relation.clone(),
        global: false,
        join_operator: JoinOperator::Inner(JoinConstraint::On(and(parts))),
    });
    let mut ranked = *super::star_columns::star_probe(vec![both]).ok_or_else(|| refused("could not be rewritten"))?;
    let right_name = right_names.first().cloned().ok_or_else(|| refused("needs its right side named"))?;
    if let SetExpr::Select(ranked_select) = ranked.body.as_mut() {
        ranked_select.projection = left
            .iter()
            .map(|(expr, name)| SelectItem::ExprWithAlias { expr: expr.clone(), alias: ident(name) })
            .chain([
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(ObjectName::from(vec![right_name.clone()])),
                    WildcardAdditionalOptions::default(),
                ),
                SelectItem::ExprWithAlias { expr: rank, alias: ident(RANK) },
            ])
            .collect();
    }
    let mut closest = *super::star_columns::star_probe(vec![TableWithJoins {
        relation: TableFactor::Derived {
            lateral: false,
            subquery: Box::new(ranked),
            alias: Some(TableAlias { explicit: true, name: ident(PAIRS), columns: Vec::new(), at: None }),
            sample: None,
        },
        joins: Vec::new(),
    }])
    .ok_or_else(|| refused("could not be rewritten"))?;
    if let SetExpr::Select(closest_select) = closest.body.as_mut() {
        closest_select.selection = Some(Expr::BinaryOp {
            left: Box::new(column(PAIRS, RANK)),
            op: BinaryOperator::Eq,
            right: Box::new(Expr::value(datafusion::sql::sqlparser::ast::Value::Number("1".into(), false))),
        });
    }
    let same = left
        .iter()
        .map(|(expr, name)| {
            Expr::IsNotDistinctFrom(
                Box::new(expr.clone()),
                Box::new(Expr::CompoundIdentifier(vec![right_name.clone(), ident(name)])),
            )
        })
        .collect::<Vec<_>>();
    from.joins.insert(
        join,
        Join {
            relation: TableFactor::Derived {
                lateral: false,
                subquery: Box::new(closest),
                alias: Some(TableAlias { explicit: true, name: right_name, columns: Vec::new(), at: None }),
                sample: None,
            },
            global: false,
            join_operator: kind(JoinConstraint::On(and(same))),
        },
    );
    let hidden: Vec<String> = left.iter().map(|(_, name)| name.clone()).chain([RANK.to_string()]).collect();
    hide_from_stars(select, None, &hidden);
    Ok(())
}
