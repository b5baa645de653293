//! DuckDB's `l POSITIONAL JOIN r` (written `l OUTER APPLY r` by `parse::join_forms`): the rows of
//! both sides paired by position, as a FULL JOIN on each side's row number (`row_number() OVER
//! ()`, in the order the side's rows come, or in its ORDER BY's). The numbers are left out of the
//! SELECT's stars.

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Join, JoinConstraint, JoinOperator, OrderBy, OrderByExpr, OrderByKind, Select, SelectItem,
    SetExpr, Statement, TableAlias, TableFactor, TableWithJoins,
};
use datafusion::sql::sqlparser::parser::Parser;

use super::from_columns::relation_names;
use super::join_conditions::{column, first_join, ident};
use super::selects::each_select;
use crate::engine::compat::ast::hide_from_stars;
use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
use crate::error::{Error, Result};

const LEFT: &str = "__pos_l";
const RIGHT: &str = "__pos_r";

fn positional(select: &Select) -> Option<(usize, usize)> {
    first_join(select, |join| matches!(join.join_operator, JoinOperator::OuterApply))
}

/// Whether a SELECT of the statement has a positional join.
pub(crate) fn has_positional(statement: &Statement) -> bool {
    let Statement::Query(query) = statement else { return false };
    let mut searched = query.clone();
    let mut found = false;
    each_select(&mut searched, &mut |select| {
        found = positional(select).is_some();
        found
    });
    found
}

/// The first positional join, written as the FULL JOIN on row numbers.
pub(crate) fn expand_positional(statement: &mut Statement) -> Result<()> {
    let Statement::Query(query) = statement else { return Ok(()) };
    let mut outcome = Ok(());
    each_select(query, &mut |select| match positional(select) {
        Some((at, join)) => {
            outcome = number_rows(select, at, join);
            true
        }
        None => false,
    });
    outcome
}

fn refused(what: &str) -> Error {
    Error::Query(format!("POSITIONAL JOIN {what}: join two named tables or subqueries (t1 POSITIONAL JOIN t2)"))
}

/// `(SELECT *, row_number() OVER () AS <position> FROM <factor>) AS <its name>`, and the name.
fn numbered(factor: &TableFactor, position: &str) -> Result<(TableFactor, String)> {
    let names = relation_names(&[TableWithJoins { relation: factor.clone(), joins: Vec::new() }]);
    let [name] = names.as_deref().unwrap_or_default() else { return Err(refused("needs each side named")) };
    if let Some(in_order) = numbered_in_order(factor, position) {
        return Ok((in_order, name.value.clone()));
    }
    let sql = format!("SELECT *, row_number() OVER () AS {position} FROM placeholder");
    let mut query = Parser::new(&DuckDbCompatDialect)
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_query())
        .map_err(|_| refused("could not be rewritten"))?;
    if let SetExpr::Select(select) = query.body.as_mut() {
        select.from = vec![TableWithJoins { relation: factor.clone(), joins: Vec::new() }];
    }
    let alias = TableAlias { explicit: true, name: name.clone(), columns: Vec::new(), at: None };
    Ok((TableFactor::Derived { lateral: false, subquery: query, alias: Some(alias), sample: None }, name.value.clone()))
}

/// A subquery with an ORDER BY numbers its rows in that order, inside (DataFusion does not keep
/// a subquery's order for the query around it): `(SELECT ..., row_number() OVER (ORDER BY k) ...
/// ORDER BY k)`.
fn numbered_in_order(factor: &TableFactor, position: &str) -> Option<TableFactor> {
    let TableFactor::Derived { subquery, alias, .. } = factor else { return None };
    let Some(OrderBy { kind: OrderByKind::Expressions(keys), .. }) = &subquery.order_by else { return None };
    let mut subquery = subquery.clone();
    let SetExpr::Select(select) = subquery.body.as_mut() else { return None };
    if select.distinct.is_some() {
        return None;
    }
    // A key written as a position is the item at that position.
    let keys: Vec<String> = keys
        .iter()
        .map(|key| {
            let expr = match &key.expr {
                Expr::Value(v) => match &v.value {
                    datafusion::sql::sqlparser::ast::Value::Number(n, _) => {
                        let item = n.parse::<usize>().ok().and_then(|n| select.projection.get(n.checked_sub(1)?))?;
                        match item {
                            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e.clone(),
                            _ => return None,
                        }
                    }
                    _ => key.expr.clone(),
                },
                other => other.clone(),
            };
            Some(OrderByExpr { expr, ..key.clone() }.to_string())
        })
        .collect::<Option<_>>()?;
    let item = Parser::new(&DuckDbCompatDialect)
        .try_with_sql(&format!("row_number() OVER (ORDER BY {})", keys.join(", ")))
        .and_then(|mut p| p.parse_expr())
        .ok()?;
    select.projection.push(SelectItem::ExprWithAlias { expr: item, alias: ident(position) });
    Some(TableFactor::Derived { lateral: false, subquery, alias: alias.clone(), sample: None })
}

fn number_rows(select: &mut Select, at: usize, join: usize) -> Result<()> {
    if join != 0 {
        return Err(refused("after another join is not supported"));
    }
    let from = &mut select.from[at];
    let (left, left_name) = numbered(&from.relation, LEFT)?;
    let (right, right_name) = numbered(&from.joins[0].relation, RIGHT)?;
    let same = Expr::BinaryOp {
        left: Box::new(column(&left_name, LEFT)),
        op: BinaryOperator::Eq,
        right: Box::new(column(&right_name, RIGHT)),
    };
    from.relation = left;
    from.joins[0] =
        Join { relation: right, global: false, join_operator: JoinOperator::FullOuter(JoinConstraint::On(same)) };
    hide_from_stars(select, None, &[LEFT.to_string(), RIGHT.to_string()]);
    Ok(())
}
