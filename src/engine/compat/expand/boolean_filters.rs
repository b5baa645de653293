//! A WHERE, HAVING or QUALIFY condition that is not a truth value — `WHERE (SELECT count(*) ...)`,
//! `WHERE 1` — which DuckDB casts to BOOLEAN (a number is true unless 0). When planning refuses
//! one, every such condition of the statement is cast so (a cast of a truth value to BOOLEAN is
//! none) and planning is tried again.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{DataType, Expr, Select, Statement};

use crate::engine::compat::ast::cast;

/// Whether DataFusion refused a filter for not being a truth value.
pub(crate) fn refused(message: &str) -> bool {
    message.contains("Cannot create filter with non-boolean predicate")
}

/// Casts each WHERE, HAVING and QUALIFY condition to BOOLEAN; whether one was not yet.
pub(crate) fn cast_to_booleans(statement: &mut Statement) -> bool {
    struct Conditions {
        changed: bool,
    }
    impl crate::engine::compat::ast::WalkMut for Conditions {
        fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
            for condition in [&mut select.selection, &mut select.having, &mut select.qualify].into_iter().flatten() {
                if !matches!(condition, Expr::Cast { data_type: DataType::Boolean, .. }) {
                    *condition = cast(condition.clone(), DataType::Boolean);
                    self.changed = true;
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut conditions = Conditions { changed: false };
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut conditions);
    conditions.changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    #[test]
    fn conditions_are_cast_once() {
        let sql = "SELECT * FROM t WHERE (SELECT count(*) FROM u) AND x IN (SELECT y FROM v WHERE 1)";
        let mut statement = Parser::parse_sql(&DuckDbCompatDialect, sql).unwrap().remove(0);
        assert!(cast_to_booleans(&mut statement));
        assert_eq!(
            statement.to_string(),
            "SELECT * FROM t WHERE CAST((SELECT count(*) FROM u) AND x IN (SELECT y FROM v WHERE CAST(1 AS BOOLEAN)) AS BOOLEAN)"
        );
        assert!(!cast_to_booleans(&mut statement));
    }
}
