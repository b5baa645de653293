//! SQL DuckDB refuses and DataFusion would answer (with an answer DuckDB's users would not
//! expect), refused as DuckDB does, with what to write: a join without ON or USING (DataFusion
//! makes it a cross join) and an aggregate of `DISTINCT *` (DataFusion counts one row).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    DuplicateTreatment, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, JoinConstraint, JoinOperator, Select,
    Statement,
};

use crate::engine::compat::ast::{Walk, walk};
use crate::error::{Error, Result};

pub(crate) fn refused(statement: &Statement) -> Result<()> {
    let mut found = Refusals(None);
    let _ = walk(statement, &mut found);
    found.0.map_or(Ok(()), Err)
}

struct Refusals(Option<Error>);

impl Walk for Refusals {
    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<()> {
        let unconditioned = select.from.iter().flat_map(|f| &f.joins).any(|join| {
            matches!(
                join.join_operator,
                JoinOperator::Join(JoinConstraint::None)
                    | JoinOperator::Inner(JoinConstraint::None)
                    | JoinOperator::Left(JoinConstraint::None)
                    | JoinOperator::LeftOuter(JoinConstraint::None)
                    | JoinOperator::Right(JoinConstraint::None)
                    | JoinOperator::RightOuter(JoinConstraint::None)
                    | JoinOperator::FullOuter(JoinConstraint::None)
            )
        });
        if unconditioned {
            self.0 = Some(Error::Query(
                "a JOIN needs its condition: write JOIN t ON <condition>, JOIN t USING (column), or CROSS JOIN t for every pair of rows".into(),
            ));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if let Expr::Function(f) = expr
            && let FunctionArguments::List(list) = &f.args
            && matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct))
            && list.args.iter().any(|a| matches!(a, FunctionArg::Unnamed(FunctionArgExpr::Wildcard)))
        {
            self.0 = Some(Error::Query(format!(
                "{}(DISTINCT *) is not supported: count distinct rows with SELECT count(*) FROM (SELECT DISTINCT * FROM t), or name the columns: count(DISTINCT (a, b))",
                f.name
            )));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(sql: &str) -> Option<String> {
        let statement = datafusion::sql::sqlparser::parser::Parser::parse_sql(
            &crate::engine::compat::parse::dialect::DuckDbCompatDialect,
            sql,
        )
        .unwrap()
        .remove(0);
        refused(&statement).err().map(|e| e.to_string())
    }

    #[test]
    fn joins_without_conditions_and_distinct_stars_are_refused() {
        assert!(refusal("SELECT * FROM a JOIN b").is_some_and(|e| e.starts_with("a JOIN needs its condition")));
        assert!(refusal("SELECT count(DISTINCT *) FROM a").is_some_and(|e| e.contains("count(DISTINCT *)")));
        for fine in ["SELECT * FROM a CROSS JOIN b", "SELECT * FROM a JOIN b USING (k)", "SELECT count(*) FROM a"] {
            assert_eq!(refusal(fine), None, "{fine}");
        }
    }
}
