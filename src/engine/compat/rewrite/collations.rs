//! DuckDB's collations (`city COLLATE NOCASE`). Where values are compared, ordered or
//! partitioned, the collated value is replaced by its key (`lower(x)` for NOCASE,
//! `strip_accents(x)` for NOACCENT, both for `NOCASE.NOACCENT`) on every side; anywhere else
//! DuckDB shows the value as it is, so the collation is dropped. Collations this tool has no key
//! for (ICU's languages, NFC) and collated groupings are refused in one line.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, FunctionArgumentClause, FunctionArguments, GroupByExpr, ObjectName, OrderByExpr, OrderByKind,
    Query, Select, SelectItem, SetExpr, Value, VisitMut, WindowType,
};

use crate::engine::compat::ast::{call, each_expr_mut};
use crate::error::{Error, Result};

/// Rewrites every `COLLATE` of `statement`, in place.
pub(crate) fn collation_keys<N: VisitMut>(statement: &mut N) -> Result<()> {
    let mut keyed = Keyed { depth: 0, error: None };
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut keyed);
    if let Some(e) = keyed.error {
        return Err(e);
    }
    let outcome = each_expr_mut(statement, |expr: &mut Expr| {
        if let Expr::Collate { expr: value, collation } = expr {
            if let Err(e) = key_functions(collation) {
                return ControlFlow::Break(Some(e));
            }
            *expr = std::mem::replace(value.as_mut(), Expr::value(Value::Null));
        }
        ControlFlow::Continue(())
    });
    match outcome {
        ControlFlow::Break(Some(e)) => Err(e),
        _ => Ok(()),
    }
}

/// How deep in nested queries the visit is (1: the statement's own query).
struct Keyed {
    depth: usize,
    /// The first refusal met (which stops the walk).
    error: Option<Error>,
}

impl crate::engine::compat::ast::WalkMut for Keyed {
    fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        // A CTE's or subquery's column keeps its collation in DuckDB, for every later comparison.
        let collated = select.projection.iter().any(|item| match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => collation_of(e).is_some(),
            _ => false,
        });
        if self.depth > 1 && collated {
            return self.refuse(Error::Query(
                "COLLATE on a column of a CTE or subquery is not supported: write COLLATE where the column is compared or ordered".into(),
            ));
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let outcome = compared(expr).and_then(|()| windowed(expr));
        self.outcome(outcome)
    }

    fn post_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        let grouped = match &select.group_by {
            GroupByExpr::Expressions(keys, _) => keys.iter().any(|k| collation_of(k).is_some()),
            GroupByExpr::All(_) => false,
        };
        if grouped {
            return self.refuse(Error::Query(
                "COLLATE in GROUP BY is not supported: group by the key itself (lower(x) for NOCASE, strip_accents(x) for NOACCENT)"
                    .into(),
            ));
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        self.depth -= 1;
        let Some(order_by) = &mut query.order_by else { return ControlFlow::Continue(()) };
        let OrderByKind::Expressions(keys) = &mut order_by.kind else { return ControlFlow::Continue(()) };
        for key in keys {
            if let Expr::Collate { expr: value, collation } = &key.expr
                && let Expr::Value(v) = value.as_ref()
                && let Value::Number(position, _) = &v.value
            {
                let named = output_name(&query.body, position).ok_or_else(|| {
                    Error::Query(format!(
                        "ORDER BY {position} COLLATE {collation} is not supported here: order by the column's name or expression with COLLATE"
                    ))
                });
                match named {
                    Ok(name) => key.expr = Expr::Collate { expr: Box::new(name), collation: collation.clone() },
                    Err(e) => return self.refuse(e),
                }
            }
        }
        let outcome = ordered(keys_of(query));
        self.outcome(outcome)
    }
}

impl Keyed {
    fn refuse(&mut self, error: Error) -> ControlFlow<()> {
        self.error = Some(error);
        ControlFlow::Break(())
    }

    fn outcome(&mut self, outcome: Result<()>) -> ControlFlow<()> {
        match outcome {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => self.refuse(e),
        }
    }
}

fn keys_of(query: &mut Query) -> &mut [OrderByExpr] {
    match query.order_by.as_mut().map(|o| &mut o.kind) {
        Some(OrderByKind::Expressions(keys)) => keys,
        _ => &mut [],
    }
}

/// The name of the select list's column at a 1-based `position`, where it has a plain one.
fn output_name(body: &SetExpr, position: &str) -> Option<Expr> {
    let SetExpr::Select(select) = body else { return None };
    let index = position.parse::<usize>().ok()?.checked_sub(1)?;
    match select.projection.get(index)? {
        // (An unnested struct is several columns, none of them named by the alias.)
        SelectItem::ExprWithAlias { alias, expr } if !is_unnest(expr) => Some(Expr::Identifier(alias.clone())),
        SelectItem::UnnamedExpr(e @ (Expr::Identifier(_) | Expr::CompoundIdentifier(_))) => Some(e.clone()),
        _ => None,
    }
}

fn is_unnest(expr: &Expr) -> bool {
    matches!(expr, Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("unnest"))
}

/// A comparison with a collated operand compares the keys of all its operands.
fn compared(expr: &mut Expr) -> Result<()> {
    let operands: Vec<&mut Expr> = match expr {
        Expr::BinaryOp {
            left,
            op:
                BinaryOperator::Eq
                | BinaryOperator::NotEq
                | BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq
                | BinaryOperator::Spaceship,
            right,
        } => vec![left.as_mut(), right.as_mut()],
        Expr::IsDistinctFrom(left, right) | Expr::IsNotDistinctFrom(left, right) => vec![left.as_mut(), right.as_mut()],
        Expr::InList { expr, list, .. } => std::iter::once(expr.as_mut()).chain(list.iter_mut()).collect(),
        Expr::Between { expr, low, high, .. } => vec![expr.as_mut(), low.as_mut(), high.as_mut()],
        _ => return Ok(()),
    };
    let Some(collation) = operands.iter().find_map(|e| collation_of(e)).cloned() else { return Ok(()) };
    for operand in operands {
        keyed(operand, Some(&collation))?;
    }
    Ok(())
}

/// A window's collated PARTITION BY and ORDER BY keys, and an aggregate's argument ORDER BY.
fn windowed(expr: &mut Expr) -> Result<()> {
    let Expr::Function(f) = expr else { return Ok(()) };
    if let Some(WindowType::WindowSpec(spec)) = &mut f.over {
        for key in &mut spec.partition_by {
            keyed(key, None)?;
        }
        ordered(&mut spec.order_by)?;
    }
    if let FunctionArguments::List(list) = &mut f.args {
        for clause in &mut list.clauses {
            if let FunctionArgumentClause::OrderBy(keys) = clause {
                ordered(keys)?;
            }
        }
    }
    ordered(&mut f.within_group)
}

fn ordered(keys: &mut [OrderByExpr]) -> Result<()> {
    keys.iter_mut().try_for_each(|key| keyed(&mut key.expr, None))
}

/// The collation written on `expr` (through parentheses).
fn collation_of(expr: &Expr) -> Option<&ObjectName> {
    match expr {
        Expr::Collate { collation, .. } => Some(collation),
        Expr::Nested(inner) => collation_of(inner),
        _ => None,
    }
}

/// `expr` replaced by its key under its own collation, else under `shared` (the other operand's).
fn keyed(expr: &mut Expr, shared: Option<&ObjectName>) -> Result<()> {
    let (value, collation) = match expr {
        Expr::Collate { expr: value, collation } => {
            (std::mem::replace(value.as_mut(), Expr::value(Value::Null)), collation.clone())
        }
        Expr::Nested(inner) if collation_of(inner).is_some() => return keyed(inner, shared),
        _ => match shared {
            Some(collation) => (std::mem::replace(expr, Expr::value(Value::Null)), collation.clone()),
            None => return Ok(()),
        },
    };
    *expr = key_functions(&collation)?.into_iter().fold(value, |key, function| call(function, vec![key]));
    Ok(())
}

/// The functions that compute a collation's key, innermost first.
fn key_functions(collation: &ObjectName) -> Result<Vec<&'static str>> {
    let mut functions = Vec::new();
    for part in collation.to_string().split('.') {
        match part.trim_matches('"').to_ascii_lowercase().as_str() {
            "nocase" => functions.push("lower"),
            "noaccent" => functions.push("strip_accents"),
            "binary" | "c" | "posix" => {}
            other => {
                return Err(Error::Query(format!(
                    "the collation {other} is not supported: carto-activity knows NOCASE, NOACCENT and BINARY (write lower(x) or strip_accents(x) to compare another way)"
                )));
            }
        }
    }
    Ok(functions)
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::rewrite::rewritten_by;

    fn keys(sql: &str) -> String {
        rewritten_by(|s| super::collation_keys(s).expect("rewrites"), sql)
    }

    #[test]
    fn collated_comparisons_orders_and_partitions_compare_keys() {
        assert_eq!(keys("SELECT a COLLATE NOCASE = b FROM t"), "SELECT lower(a) = lower(b) FROM t");
        assert_eq!(
            keys("SELECT a FROM t WHERE a COLLATE nocase.noaccent IN ('x', b)"),
            "SELECT a FROM t WHERE strip_accents(lower(a)) IN (strip_accents(lower('x')), strip_accents(lower(b)))"
        );
        assert_eq!(
            keys("SELECT row_number() OVER (PARTITION BY c COLLATE NOCASE ORDER BY d COLLATE NOACCENT) FROM t"),
            "SELECT row_number() OVER (PARTITION BY lower(c) ORDER BY strip_accents(d)) FROM t"
        );
        assert_eq!(
            keys("SELECT a AS x FROM t ORDER BY 1 COLLATE NOCASE DESC"),
            "SELECT a AS x FROM t ORDER BY lower(x) DESC"
        );
        // Shown values keep their case.
        assert_eq!(keys("SELECT a COLLATE NOCASE AS x FROM t"), "SELECT a AS x FROM t");
        assert_eq!(keys("SELECT a COLLATE binary FROM t ORDER BY a COLLATE c"), "SELECT a FROM t ORDER BY a");
    }

    #[test]
    fn unknown_collations_and_collated_groupings_are_refused() {
        use datafusion::sql::sqlparser::parser::Parser;
        let refused = |sql: &str| {
            let mut statement = Parser::parse_sql(&crate::engine::compat::parse::dialect::DuckDbCompatDialect, sql)
                .expect("parses")
                .remove(0);
            super::collation_keys(&mut statement).expect_err("refused").to_string()
        };
        assert!(refused("SELECT a COLLATE de FROM t").contains("the collation de is not supported"));
        assert!(refused("SELECT count(*) FROM t GROUP BY a COLLATE NOCASE").contains("COLLATE in GROUP BY"));
        assert!(refused("SELECT unnest(s) FROM t ORDER BY 1 COLLATE NOCASE").contains("ORDER BY 1 COLLATE"));
        assert!(refused("WITH c AS (SELECT 'a' COLLATE NOCASE AS k) SELECT k FROM c").contains("a CTE or subquery"));
    }
}
