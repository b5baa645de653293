//! The columns a FROM clause's stars stand for, as DuckDB lists them. DataFusion's `*` over
//! `a JOIN b USING (k)` keeps the `k` whose table name sorts first, where that one stands; DuckDB
//! keeps the left one where it stands (`coalesce(a.k, b.k)` after a RIGHT or FULL join), then
//! b's other columns; NATURAL joins the same over the names both sides have. Each relation's
//! columns are learnt by planning `SELECT q.* FROM ...`, one probe per relation.

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, JoinConstraint, JoinOperator, ObjectName, Query, SelectItem, SelectItemQualifiedWildcardKind, SetExpr,
    Statement, TableFactor, TableWithJoins, WildcardAdditionalOptions, With,
};

use crate::engine::compat::ast::call;

/// A column of a star: its table, its name and what it reads.
pub(super) struct StarColumn {
    pub(super) table: String,
    pub(super) name: String,
    pub(super) expr: Expr,
}

/// The names of the FROM clause's relations, in order (those of nested joins too); `None` when
/// one has none (a subquery without an alias).
pub(super) fn relation_names(from: &[TableWithJoins]) -> Option<Vec<Ident>> {
    let mut names = Vec::new();
    for item in from {
        item_names(item, &mut names)?;
    }
    Some(names)
}

fn item_names(item: &TableWithJoins, names: &mut Vec<Ident>) -> Option<()> {
    factor_names(&item.relation, names)?;
    for join in &item.joins {
        // The right side of a SEMI or ANTI join has no columns in the result.
        let hidden = matches!(
            join.join_operator,
            JoinOperator::Semi(_)
                | JoinOperator::LeftSemi(_)
                | JoinOperator::RightSemi(_)
                | JoinOperator::Anti(_)
                | JoinOperator::LeftAnti(_)
                | JoinOperator::RightAnti(_)
        );
        if hidden {
            return None;
        }
        factor_names(&join.relation, names)?;
    }
    Some(())
}

fn factor_names(factor: &TableFactor, names: &mut Vec<Ident>) -> Option<()> {
    match factor {
        TableFactor::Table { alias: Some(alias), .. }
        | TableFactor::Derived { alias: Some(alias), .. }
        | TableFactor::UNNEST { alias: Some(alias), .. }
        | TableFactor::Function { alias: Some(alias), .. } => names.push(alias.name.clone()),
        TableFactor::Table { name, alias: None, .. } => names.push(name.0.last()?.as_ident()?.clone()),
        TableFactor::NestedJoin { table_with_joins, alias: None } => item_names(table_with_joins, names)?,
        _ => return None,
    }
    Some(())
}

/// Whether a join of the FROM clause has USING or is NATURAL.
pub(super) fn joins_on_names(from: &[TableWithJoins]) -> bool {
    fn item(twj: &TableWithJoins) -> bool {
        factor(&twj.relation)
            || twj.joins.iter().any(|j| {
                factor(&j.relation)
                    || matches!(constraint(&j.join_operator), Some(JoinConstraint::Using(_) | JoinConstraint::Natural))
            })
    }
    fn factor(f: &TableFactor) -> bool {
        matches!(f, TableFactor::NestedJoin { table_with_joins, .. } if item(table_with_joins))
    }
    from.iter().any(item)
}

fn constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::Semi(c)
        | JoinOperator::LeftSemi(c)
        | JoinOperator::RightSemi(c)
        | JoinOperator::Anti(c)
        | JoinOperator::LeftAnti(c)
        | JoinOperator::RightAnti(c) => Some(c),
        _ => None,
    }
}

/// `WITH ... SELECT q.* FROM <from>` for each relation `q`.
pub(super) fn probes(with: &Option<With>, from: &[TableWithJoins], names: &[Ident]) -> Option<Vec<Statement>> {
    names
        .iter()
        .map(|name| {
            let mut probe: Box<Query> = super::star_columns::star_probe(from.to_vec())?;
            if let SetExpr::Select(select) = probe.body.as_mut() {
                select.projection = vec![SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(ObjectName::from(vec![name.clone()])),
                    WildcardAdditionalOptions::default(),
                )];
            }
            probe.with = with.clone();
            Some(Statement::Query(probe))
        })
        .collect()
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The columns of `*` over `from`, given each relation's column names (in `relation_names`'
/// order).
pub(super) fn star_columns(from: &[TableWithJoins], columns: &[(Ident, Vec<String>)]) -> Vec<StarColumn> {
    let mut next = columns.iter();
    from.iter().flat_map(|item| item_columns(item, &mut next)).collect()
}

fn relation_columns<'a>(
    factor: &TableFactor,
    next: &mut impl Iterator<Item = &'a (Ident, Vec<String>)>,
) -> Vec<StarColumn> {
    match factor {
        TableFactor::NestedJoin { table_with_joins, .. } => item_columns(table_with_joins, next),
        _ => next
            .next()
            .map(|(table, names)| {
                names
                    .iter()
                    .map(|name| StarColumn {
                        table: table.value.clone(),
                        name: name.clone(),
                        expr: Expr::CompoundIdentifier(vec![table.clone(), Ident::with_quote('"', name)]),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn item_columns<'a>(
    item: &TableWithJoins,
    next: &mut impl Iterator<Item = &'a (Ident, Vec<String>)>,
) -> Vec<StarColumn> {
    let mut out = relation_columns(&item.relation, next);
    for join in &item.joins {
        let right = relation_columns(&join.relation, next);
        let shared: Vec<String> = match constraint(&join.join_operator) {
            Some(JoinConstraint::Using(names)) => {
                names.iter().filter_map(|n| n.0.last().and_then(|p| p.as_ident()).map(|i| i.value.clone())).collect()
            }
            Some(JoinConstraint::Natural) => {
                right.iter().filter(|r| out.iter().any(|l| same(&l.name, &r.name))).map(|r| r.name.clone()).collect()
            }
            _ => Vec::new(),
        };
        let keeps_right = matches!(
            join.join_operator,
            JoinOperator::Right(_) | JoinOperator::RightOuter(_) | JoinOperator::FullOuter(_)
        );
        for key in &shared {
            let (Some(left), Some(right)) =
                (out.iter_mut().find(|c| same(&c.name, key)), right.iter().find(|c| same(&c.name, key)))
            else {
                continue;
            };
            if keeps_right {
                left.expr = call("coalesce", vec![left.expr.clone(), right.expr.clone()]);
            }
        }
        out.extend(right.into_iter().filter(|c| !shared.iter().any(|key| same(key, &c.name))));
    }
    out
}
