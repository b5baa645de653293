//! A correlated derived table on the side of an outer join that NULLs fill — `(SELECT * FROM t
//! WHERE t.k = o.k) s RIGHT JOIN u ON ...` inside a subquery — which DataFusion decorrelates by
//! lifting the correlation above the join, where it also drops the rows the join filled with
//! NULLs: the answer would be wrong, so the query is refused with what to write instead.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, JoinOperator, Query, Statement, TableFactor, Visit, Visitor};

use super::correlation::relation_name;
use crate::error::{Error, Result};

pub(crate) fn refused(statement: &Statement) -> Result<()> {
    match statement.visit(&mut OuterJoins { relations: relation_names(statement) }) {
        ControlFlow::Break(error) => Err(error),
        ControlFlow::Continue(()) => Ok(()),
    }
}

struct OuterJoins {
    /// Every relation the statement names anywhere (a qualifier that is none is a struct column).
    relations: HashSet<String>,
}

impl Visitor for OuterJoins {
    type Break = Error;

    fn pre_visit_select(&mut self, select: &datafusion::sql::sqlparser::ast::Select) -> ControlFlow<Error> {
        for from in &select.from {
            let mut filled: Vec<&TableFactor> = Vec::new();
            for (i, join) in from.joins.iter().enumerate() {
                match &join.join_operator {
                    JoinOperator::Left(_) | JoinOperator::LeftOuter(_) => filled.push(&join.relation),
                    JoinOperator::Right(_) | JoinOperator::RightOuter(_) => {
                        filled.push(&from.relation);
                        filled.extend(from.joins[..i].iter().map(|j| &j.relation));
                    }
                    JoinOperator::FullOuter(_) => {
                        filled.push(&join.relation);
                        filled.push(&from.relation);
                        filled.extend(from.joins[..i].iter().map(|j| &j.relation));
                    }
                    _ => {}
                }
            }
            for factor in filled {
                if let TableFactor::Derived { lateral: false, subquery, alias, .. } = factor
                    && reads_outside(subquery, &self.relations)
                {
                    let name = alias.as_ref().map_or_else(String::new, |a| format!(" {}", a.name));
                    return ControlFlow::Break(Error::Query(format!(
                        "the derived table{name} reads the outer query's columns on the side of an outer join that NULLs fill, which cannot be computed here: move its condition on the outer query into the join's ON, or join the outer table into it"
                    )));
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// The names of every FROM item and CTE inside `node`.
fn relation_names<N: Visit>(node: &N) -> HashSet<String> {
    struct Names(HashSet<String>);
    impl Visitor for Names {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            self.0.extend(relation_name(factor));
            ControlFlow::Continue(())
        }
        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
            if let Some(with) = &query.with {
                self.0.extend(with.cte_tables.iter().map(|c| c.alias.name.value.to_lowercase()));
            }
            ControlFlow::Continue(())
        }
    }
    let mut names = Names(HashSet::new());
    let _ = node.visit(&mut names);
    names.0
}

/// Whether `query` reads a column of a relation of the statement that it does not define itself
/// (one of an enclosing query).
fn reads_outside(query: &Query, relations: &HashSet<String>) -> bool {
    let own = relation_names(query);
    crate::engine::compat::ast::each_expr(query, |e| match e {
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
            let qualifier = parts[0].value.to_lowercase();
            if relations.contains(&qualifier) && !own.contains(&qualifier) {
                ControlFlow::Break(None)
            } else {
                ControlFlow::Continue(())
            }
        }
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn check(sql: &str) -> Result<()> {
        refused(&Parser::parse_sql(&DuckDbCompatDialect, sql).unwrap().remove(0))
    }

    #[test]
    fn correlated_derived_tables_filled_by_outer_joins_are_refused() {
        assert!(
            check(
                "SELECT o.i IN (SELECT s.i FROM (SELECT * FROM t WHERE t.i = o.i) s RIGHT JOIN u ON s.i = u.i) FROM o"
            )
            .is_err()
        );
        assert!(
            check("SELECT o.i IN (SELECT s.i FROM (SELECT * FROM t WHERE t.i = o.i) s JOIN u ON s.i = u.i) FROM o")
                .is_ok()
        );
        assert!(check("SELECT * FROM a LEFT JOIN (SELECT x.k, y.v FROM x JOIN y ON x.k = y.k) s ON a.k = s.k").is_ok());
        assert!(check("SELECT * FROM a LEFT JOIN (SELECT data.k FROM x) s ON a.k = s.k").is_ok(), "a struct's field");
    }
}
