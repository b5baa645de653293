//! A table alias that names fewer columns than the table has — `FROM cte1 t1(zzz)` — which
//! DuckDB reads as renaming the first columns only. When planning refuses one, each alias of
//! that length is completed with the table's other column names, which a probe
//! (`WITH ... SELECT * FROM <the table>`) tells.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Ident, Statement, TableAlias, TableAliasColumnDef, TableFactor, TableWithJoins};

/// How many names the alias DataFusion refused gives, from its message ("Source table contains
/// 2 columns but only 1 names given as column alias").
pub(crate) fn names_given(message: &str) -> Option<usize> {
    let (_, rest) = message.split_once("columns but only ")?;
    rest.split_once(" names given as column alias")?.0.trim().parse().ok()
}

/// For each table (in the order of the statement) aliased with `given` column names, the probe
/// that lists all of its columns (`None` where none can be written).
pub(crate) fn probes(statement: &Statement, given: usize) -> Vec<Option<Statement>> {
    let Statement::Query(query) = statement else { return Vec::new() };
    struct Found<'a> {
        given: usize,
        with: &'a Option<datafusion::sql::sqlparser::ast::With>,
        probes: Vec<Option<Statement>>,
    }
    impl crate::engine::compat::ast::Walk for Found<'_> {
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            if alias_of(factor).is_some_and(|a| a.columns.len() == self.given) {
                let mut unaliased = factor.clone();
                if let Some(alias) = alias_mut(&mut unaliased) {
                    alias.columns.clear();
                }
                self.probes.push(star_of(unaliased, self.with.clone()));
            }
            ControlFlow::Continue(())
        }
    }
    let mut found = Found { given, with: &query.with, probes: Vec::new() };
    let _ = crate::engine::compat::ast::walk(statement, &mut found);
    found.probes
}

/// Completes the aliases [`probes`] found with the other names `columns` gives for each (`None`
/// where its probe failed). Whether one was completed.
pub(crate) fn complete(statement: &mut Statement, given: usize, columns: &[Option<Vec<String>>]) -> bool {
    struct Completing<'a> {
        given: usize,
        columns: std::slice::Iter<'a, Option<Vec<String>>>,
        completed: bool,
    }
    impl crate::engine::compat::ast::WalkMut for Completing<'_> {
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            let Some(alias) = alias_mut(factor).filter(|a| a.columns.len() == self.given) else {
                return ControlFlow::Continue(());
            };
            if let Some(Some(names)) = self.columns.next()
                && names.len() > self.given
            {
                alias.columns.extend(
                    names[self.given..]
                        .iter()
                        .map(|n| TableAliasColumnDef { name: Ident::with_quote('"', n), data_type: None }),
                );
                self.completed = true;
            }
            ControlFlow::Continue(())
        }
    }
    let mut completing = Completing { given, columns: columns.iter(), completed: false };
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut completing);
    completing.completed
}

fn alias_of(factor: &TableFactor) -> Option<&TableAlias> {
    match factor {
        TableFactor::Table { alias, .. } | TableFactor::Derived { alias, .. } => alias.as_ref(),
        _ => None,
    }
}

fn alias_mut(factor: &mut TableFactor) -> Option<&mut TableAlias> {
    match factor {
        TableFactor::Table { alias, .. } | TableFactor::Derived { alias, .. } => alias.as_mut(),
        _ => None,
    }
}

/// `WITH ... SELECT * FROM factor`.
fn star_of(factor: TableFactor, mut with: Option<datafusion::sql::sqlparser::ast::With>) -> Option<Statement> {
    // A CTE's probe needs only it and those before it: a later one may hold an alias still to
    // be completed, which would fail the probe.
    if let (TableFactor::Table { name, .. }, Some(with)) = (&factor, with.as_mut())
        && !with.recursive
        && let [part] = name.0.as_slice()
        && let Some(at) = with
            .cte_tables
            .iter()
            .position(|cte| part.as_ident().is_some_and(|i| i.value.eq_ignore_ascii_case(&cte.alias.name.value)))
    {
        with.cte_tables.truncate(at + 1);
    }
    let mut probe = super::star_columns::star_probe(vec![TableWithJoins { relation: factor, joins: Vec::new() }])?;
    probe.with = with;
    Some(Statement::Query(probe))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    #[test]
    fn a_partial_alias_is_completed_from_its_probe() {
        let sql = "WITH c(x, y) AS (SELECT 42 a, 84 b) SELECT zzz, y FROM c t1(zzz)";
        let mut statement = Parser::parse_sql(&DuckDbCompatDialect, sql).unwrap().remove(0);
        let message = "Error during planning: Source table contains 2 columns but only 1 names given as column alias";
        let given = names_given(message).unwrap();
        let probes = probes(&statement, given);
        assert_eq!(
            probes.iter().flatten().map(|p| p.to_string()).collect::<Vec<_>>(),
            ["WITH c (x, y) AS (SELECT 42 AS a, 84 AS b) SELECT * FROM c t1"]
        );
        assert!(complete(&mut statement, given, &[Some(vec!["x".into(), "y".into()])]));
        assert_eq!(
            statement.to_string(),
            "WITH c (x, y) AS (SELECT 42 AS a, 84 AS b) SELECT zzz, y FROM c t1 (zzz, \"y\")"
        );
    }
}
