//! Plan-time expansions that need the engine to look first: `COLUMNS(...)`, stars with options
//! (`* RENAME`, `* EXCLUDE (t.a)`), POSITIONAL, ASOF and subquery-conditioned joins, `PIVOT`, `UNPIVOT`
//! aliases used later in their SELECT, and a table's name read as its row. Each asks for probes — statements to plan (for the
//! columns they would have) or to run (for the values they find) — and is expanded with the
//! answers; the engine answers them all through one routine ([`next`], then [`expand`]). The
//! recursive CTEs the engine computes iteration by iteration are found and written in
//! [`recursions`].

pub(crate) mod aliases;
pub(crate) mod asof_joins;
pub(crate) mod boolean_filters;
mod column_predicates;
mod from_columns;
pub(crate) mod join_conditions;
pub(crate) mod lateral_stars;
pub(crate) mod limit_subqueries;
pub(crate) mod partial_aliases;
pub(crate) mod pivot_clauses;
pub(crate) mod pivot_statements;
pub(crate) mod pivots;
pub(crate) mod positional_joins;
pub(crate) mod recursions;
mod selects;
pub(crate) mod star_columns;
pub(crate) mod star_options;
pub(crate) mod table_rows;
pub(crate) mod unpivots;

use datafusion::sql::sqlparser::ast::Statement;

use crate::error::Result;
pub(crate) use star_columns::SourceColumn;

/// The next expansion a statement needs, and the probes it asks for.
pub(crate) struct Expansion {
    kind: Kind,
    /// Statements to plan: their columns (with the table each comes from) answer.
    pub(crate) plans: Vec<Statement>,
    /// Statements to run: the texts of their first column answer.
    pub(crate) runs: Vec<Statement>,
}

enum Kind {
    PositionalJoin,
    Columns,
    StarOptions,
    JoinCondition,
    AsofJoin,
    LateralStars,
    Unpivot,
    LimitSubquery,
    /// Whether the last plan probe is the PIVOT's source (for its implicit GROUP BY).
    Pivot {
        source_planned: bool,
    },
}

/// The statement's next expansion, if it needs one: a POSITIONAL JOIN, `COLUMNS(...)`, then stars with
/// options (both write stars out), then a join condition with a subquery, then an ASOF join, then
/// the stars of earlier FROM items in a LATERAL subquery, then a LIMIT subquery, then UNPIVOT,
/// then PIVOT.
pub(crate) fn next(statement: &Statement) -> Option<Expansion> {
    let statement = explained(statement);
    // First: the other probes cannot plan the form it is written in.
    if positional_joins::has_positional(statement) {
        return Some(Expansion { kind: Kind::PositionalJoin, plans: Vec::new(), runs: Vec::new() });
    }
    if let Some(probe) = star_columns::columns_probe(statement) {
        return Some(Expansion { kind: Kind::Columns, plans: vec![probe], runs: Vec::new() });
    }
    if let Some(plans) = star_options::star_options_probes(statement) {
        return Some(Expansion { kind: Kind::StarOptions, plans, runs: Vec::new() });
    }
    if let Some(plans) = join_conditions::join_probes(statement) {
        return Some(Expansion { kind: Kind::JoinCondition, plans, runs: Vec::new() });
    }
    if let Some(plans) = asof_joins::asof_probes(statement) {
        return Some(Expansion { kind: Kind::AsofJoin, plans, runs: Vec::new() });
    }
    if let Some(plans) = lateral_stars::lateral_star_probes(statement) {
        return Some(Expansion { kind: Kind::LateralStars, plans, runs: Vec::new() });
    }
    if let Some(probe) = limit_subqueries::limit_probe(statement) {
        return Some(Expansion { kind: Kind::LimitSubquery, plans: Vec::new(), runs: vec![probe] });
    }
    if let Some(probe) = unpivots::unpivot_probe(statement) {
        return Some(Expansion { kind: Kind::Unpivot, plans: vec![probe], runs: Vec::new() });
    }
    let pivots::PivotProbes { values, columns } = pivots::pivot_probes(statement)?;
    let source_planned = columns.is_some();
    Some(Expansion { kind: Kind::Pivot { source_planned }, plans: columns.into_iter().collect(), runs: values })
}

/// Expands `statement` with the answers to `expansion`'s probes, in their order: the columns of
/// each planned probe, the texts of each run one. `is_aggregate` says whether a name is an
/// aggregate function (PIVOT's USING).
pub(crate) fn expand(
    statement: &mut Statement,
    expansion: Expansion,
    planned: &[Vec<SourceColumn>],
    texts: &[Vec<String>],
    is_aggregate: &dyn Fn(&str) -> bool,
) -> Result<()> {
    let statement = explained_mut(statement);
    let names = |columns: &Vec<SourceColumn>| columns.iter().map(|(_, name)| name.clone()).collect::<Vec<_>>();
    match expansion.kind {
        Kind::PositionalJoin => positional_joins::expand_positional(statement),
        Kind::Columns => star_columns::expand_columns(statement, planned.first().map_or(&[][..], Vec::as_slice)),
        Kind::StarOptions => star_options::expand_star_options(statement, planned),
        Kind::JoinCondition => match planned {
            [left, right] => join_conditions::expand_join(statement, left, right),
            _ => Err(crate::error::Error::Query("a join condition with a subquery could not be rewritten".into())),
        },
        Kind::AsofJoin => match planned {
            [left, _] => asof_joins::expand_asof(statement, left),
            _ => Err(crate::error::Error::Query("an ASOF JOIN could not be rewritten".into())),
        },
        Kind::LateralStars => lateral_stars::expand_lateral_stars(statement, planned),
        Kind::Unpivot => unpivots::expand_unpivot(statement, planned.first().map_or(&[][..], Vec::as_slice)),
        Kind::LimitSubquery => limit_subqueries::expand_limit(statement, texts.first().map_or(&[][..], Vec::as_slice)),
        Kind::Pivot { source_planned } => {
            let columns = if source_planned { planned.first().map(names).unwrap_or_default() } else { Vec::new() };
            pivots::expand_pivot(statement, texts, &columns, is_aggregate)
        }
    }
}

/// The statement an `EXPLAIN` explains (expanded as it will run), or the statement itself.
fn explained(statement: &Statement) -> &Statement {
    match statement {
        Statement::Explain { statement, .. } => statement,
        other => other,
    }
}

fn explained_mut(statement: &mut Statement) -> &mut Statement {
    match statement {
        Statement::Explain { statement, .. } => statement,
        other => other,
    }
}
