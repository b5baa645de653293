//! A scalar subquery is NULL when it has no row (`coalesce((SELECT 1 WHERE false), 5)` is 5), but
//! DataFusion takes its nullability from the subquery's column: over a literal or a `count(*)` it
//! believes the value can never be NULL, simplifies `coalesce` away and then fails on the NULL
//! ("declared as non-nullable"). The one item of every scalar subquery is written
//! `CASE WHEN true THEN item END`, the same value with a column that may be NULL.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, SelectItem, SetExpr, Statement, Value};

use crate::engine::compat::ast::{case_when, each_expr_mut};

pub(crate) fn nullable(statement: &mut Statement) {
    let _ = each_expr_mut(statement, |expr| {
        if let Expr::Subquery(query) = expr
            && let SetExpr::Select(select) = query.body.as_mut()
            && let [SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }] =
                select.projection.as_mut_slice()
            && !matches!(item, Expr::Case { else_result: None, .. })
        {
            // (Under DISTINCT, an ORDER BY must name the item as written: a column stays one.)
            if select.distinct.is_some() && matches!(item, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
                return ControlFlow::Continue(());
            }
            let value = std::mem::replace(item, Expr::value(Value::Null));
            *item = case_when(Expr::value(Value::Boolean(true)), value, None);
        }
        ControlFlow::Continue(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    #[test]
    fn scalar_subqueries_may_be_null() {
        let mut statement = Parser::parse_sql(
            &DuckDbCompatDialect,
            "SELECT coalesce((SELECT 1 WHERE false), 5), x IN (SELECT y FROM t)",
        )
        .unwrap()
        .remove(0);
        nullable(&mut statement);
        assert_eq!(
            statement.to_string(),
            "SELECT coalesce((SELECT CASE WHEN true THEN 1 END WHERE false), 5), x IN (SELECT y FROM t)"
        );
    }
}
