//! `LIMIT (SELECT k FROM t)` (and OFFSET): DuckDB computes the subquery first and limits by its
//! value, where DataFusion takes only constants. The subquery is run as a probe and its value
//! written in its place (no row or a NULL is no limit; a fraction is rounded, as DuckDB casts
//! it to BIGINT: `LIMIT (SELECT 1.75)` keeps two rows). A fractional LIMIT or OFFSET written as
//! a number, which DataFusion refuses, is rounded the same way. A window frame's offset
//! written as a subquery is computed first the same way.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Function, LimitClause, Query, Statement, Value, WindowFrameBound, WindowType,
};

use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
use crate::engine::compat::parse::limit_percents::LIMIT_PERCENT;
use crate::error::{Error, Result};
use datafusion::sql::sqlparser::parser::Parser;

/// The first LIMIT, OFFSET or window frame offset subquery of the statement, as a statement to run.
pub(crate) fn limit_probe(statement: &Statement) -> Option<Statement> {
    struct First(Option<Query>);
    impl crate::engine::compat::ast::Walk for First {
        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
            if let Some(Expr::Subquery(subquery)) = bounds(query).into_iter().flatten().next() {
                self.0 = Some((**subquery).clone());
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            let framed = matches!(expr, Expr::Function(Function { over: Some(WindowType::WindowSpec(spec)), .. }) if spec.window_frame.is_some());
            if !framed {
                return ControlFlow::Continue(());
            }
            let mut expr = expr.clone();
            if let Some(bound) = frame_subqueries(&mut expr).next()
                && let Expr::Subquery(subquery) = bound.as_ref()
            {
                self.0 = Some((**subquery).clone());
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut first = First(None);
    let _ = crate::engine::compat::ast::walk(statement, &mut first);
    let mut probe = first.0?;
    // It may read the statement's CTEs.
    if probe.with.is_none()
        && let Statement::Query(query) = statement
    {
        probe.with = query.with.clone();
    }
    Some(Statement::Query(Box::new(probe)))
}

/// The LIMIT and OFFSET expressions of a query that are subqueries.
fn bounds(query: &Query) -> [Option<&Expr>; 2] {
    let subquery = |e: &Expr| matches!(e, Expr::Subquery(_));
    match &query.limit_clause {
        Some(LimitClause::LimitOffset { limit, offset, .. }) => {
            [limit.as_ref().filter(|e| subquery(e)), offset.as_ref().map(|o| &o.value).filter(|e| subquery(e))]
        }
        _ => [None, None],
    }
}

/// The offsets of a window frame (`ROWS BETWEEN (SELECT k ...) PRECEDING AND ...`) that are
/// subqueries, which DuckDB also computes first.
fn frame_subqueries(expr: &mut Expr) -> impl Iterator<Item = &mut Box<Expr>> {
    let frame = match expr {
        Expr::Function(Function { over: Some(WindowType::WindowSpec(spec)), .. }) => spec.window_frame.as_mut(),
        _ => None,
    };
    frame
        .into_iter()
        .flat_map(|frame| std::iter::once(&mut frame.start_bound).chain(frame.end_bound.as_mut()))
        .filter_map(|bound| match bound {
            WindowFrameBound::Preceding(Some(offset)) | WindowFrameBound::Following(Some(offset)) => Some(offset),
            _ => None,
        })
        .filter(|offset| matches!(offset.as_ref(), Expr::Subquery(_)))
}

/// Each LIMIT and OFFSET written as a fraction (`LIMIT 1.75`) as the whole number DuckDB rounds
/// it to.
pub(crate) fn rounded_fractions(statement: &mut Statement) {
    struct Fractions;
    impl crate::engine::compat::ast::WalkMut for Fractions {
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            let Some(LimitClause::LimitOffset { limit, offset, .. }) = &mut query.limit_clause else {
                return ControlFlow::Continue(());
            };
            for bound in [limit.as_mut(), offset.as_mut().map(|o| &mut o.value)].into_iter().flatten() {
                if let Expr::Value(v) = bound
                    && let Value::Number(n, _) = &v.value
                    && n.contains('.')
                    && let Ok(x) = n.parse::<f64>()
                    && x >= 0.0
                {
                    *bound = Expr::value(Value::Number((x.round() as u64).to_string(), false));
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut Fractions);
}

/// Each `LIMIT __limit_percent(p)` (`LIMIT p%` as the parser read it) as the LIMIT subquery that
/// counts that share of the query's rows, truncated as DuckDB truncates it.
pub(crate) fn percent_limits(statement: &mut Statement) -> Result<()> {
    struct Percents(Option<Error>);
    impl crate::engine::compat::ast::WalkMut for Percents {
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            let Some(LimitClause::LimitOffset { limit: Some(limit), .. }) = &query.limit_clause else {
                return ControlFlow::Continue(());
            };
            let Expr::Function(f) = limit else { return ControlFlow::Continue(()) };
            if !f.name.to_string().eq_ignore_ascii_case(LIMIT_PERCENT) {
                return ControlFlow::Continue(());
            }
            let args = crate::engine::compat::ast::plain_args(f).unwrap_or_default();
            let [share] = args.as_slice() else { return ControlFlow::Continue(()) };
            let with = query.with.as_ref().map(|w| format!("{w} ")).unwrap_or_default();
            let counted = format!(
                "({with}SELECT CASE WHEN __share BETWEEN 0 AND 100 THEN CAST(floor(__share / 100 * __rows) AS BIGINT) ELSE error('Limit percent out of range, should be between 0% and 100%') END FROM (SELECT CAST({share} AS DOUBLE) AS __share, count(*) AS __rows FROM ({}) AS __limit_rows) AS __limit_share)",
                query.body
            );
            match Parser::new(&DuckDbCompatDialect).try_with_sql(&counted).and_then(|mut p| p.parse_expr()) {
                Ok(subquery) => {
                    if let Some(LimitClause::LimitOffset { limit, .. }) = &mut query.limit_clause {
                        *limit = Some(subquery);
                    }
                }
                Err(_) => {
                    self.0 = Some(Error::Query("LIMIT ... % could not be computed: write the count of rows".into()))
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut percents = Percents(None);
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut percents);
    percents.0.map_or(Ok(()), Err)
}

/// The statement with its first LIMIT or OFFSET subquery replaced by the value it gave.
pub(crate) fn expand_limit(statement: &mut Statement, texts: &[String]) -> Result<()> {
    let value = match texts.first() {
        None => None,
        Some(text) => match text.trim().parse::<f64>() {
            Ok(n) if n >= 0.0 && n.is_finite() => Some(n.round() as u64),
            _ => {
                return Err(Error::Query(format!(
                    "the LIMIT, OFFSET or window frame subquery gave '{text}', not a count of rows: make it give a whole number"
                )));
            }
        },
    };
    struct Replace(Option<u64>);
    impl crate::engine::compat::ast::WalkMut for Replace {
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            let Some(LimitClause::LimitOffset { limit, offset, .. }) = &mut query.limit_clause else {
                return ControlFlow::Continue(());
            };
            let number = |n: Option<u64>| n.map(|n| Expr::value(Value::Number(n.to_string(), false)));
            if matches!(limit, Some(Expr::Subquery(_))) {
                *limit = number(self.0);
                return ControlFlow::Break(());
            }
            if let Some(o) = offset.as_mut().filter(|o| matches!(o.value, Expr::Subquery(_))) {
                o.value = number(self.0).unwrap_or_else(|| Expr::value(Value::Number("0".into(), false)));
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Some(bound) = frame_subqueries(expr).next() {
                // A frame offset of no row or NULL is refused by the planner, as DuckDB refuses it.
                **bound = self.0.map_or(Expr::value(Value::Null), |n| Expr::value(Value::Number(n.to_string(), false)));
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut Replace(value));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_subquery_is_run_first_and_its_value_written_in() {
        let mut statement =
            Parser::parse_sql(&DuckDbCompatDialect, "SELECT * FROM t LIMIT (SELECT k FROM u)").unwrap().remove(0);
        assert_eq!(limit_probe(&statement).unwrap().to_string(), "SELECT k FROM u");
        expand_limit(&mut statement, &["1.75".to_string()]).unwrap();
        assert_eq!(statement.to_string(), "SELECT * FROM t LIMIT 2");
        assert!(expand_limit(&mut statement.clone(), &["many".to_string()]).is_err());
        let mut statement = Parser::parse_sql(
            &DuckDbCompatDialect,
            "SELECT sum(i) OVER (ROWS BETWEEN (SELECT 1) PRECEDING AND 1 FOLLOWING) FROM t",
        )
        .unwrap()
        .remove(0);
        assert_eq!(limit_probe(&statement).unwrap().to_string(), "SELECT 1");
        expand_limit(&mut statement, &["1".to_string()]).unwrap();
        assert_eq!(statement.to_string(), "SELECT sum(i) OVER (ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM t");
    }

    #[test]
    fn fractions_written_as_bounds_are_rounded() {
        let mut statement =
            Parser::parse_sql(&DuckDbCompatDialect, "SELECT * FROM t LIMIT 2.5 OFFSET 1.25").unwrap().remove(0);
        rounded_fractions(&mut statement);
        assert_eq!(statement.to_string(), "SELECT * FROM t LIMIT 3 OFFSET 1");
    }
}
