//! DuckDB types an integer literal that fits 32 bits as INTEGER (`SELECT 1 AS flag`, a VALUES
//! column), DataFusion as BIGINT: a select item or VALUES item that is such a literal (or its
//! negation) is cast to INTEGER, so that the result column has DuckDB's type. Literals inside
//! expressions stay as written (an expression must match its copy in GROUP BY or ORDER BY), and so
//! `1 + 1` is still a BIGINT where DuckDB has an INTEGER.

use datafusion::sql::sqlparser::ast::{
    CastKind, DataType as SqlType, Expr, Query, SelectItem, SetExpr, TableFactor, UnaryOperator, Value, ValueWithSpan,
};

use crate::engine::compat::ast::for_each_select;

/// The select lists and VALUES rows of `query` whose columns reach its result — its body, its
/// CTEs and the subqueries of its FROM clauses — with their integer literals typed as DuckDB's.
/// Not those of subqueries in expressions: `SELECT (SELECT 1)` is still a BIGINT, as the README
/// says.
pub(crate) fn typed_as_duckdb(query: &mut Query) {
    if let Some(with) = &mut query.with {
        with.cte_tables.iter_mut().for_each(|cte| typed_as_duckdb(&mut cte.query));
    }
    typed_body(&mut query.body);
}

fn typed_body(body: &mut SetExpr) {
    match body {
        SetExpr::Values(values) => values.rows.iter_mut().flat_map(|row| row.content.iter_mut()).for_each(typed),
        SetExpr::Query(inner) => typed_as_duckdb(inner),
        _ => for_each_select(body, &mut |select| {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item {
                    typed(e);
                }
            }
            for from in &mut select.from {
                for factor in std::iter::once(&mut from.relation).chain(from.joins.iter_mut().map(|j| &mut j.relation))
                {
                    if let TableFactor::Derived { subquery, .. } = factor {
                        typed_as_duckdb(subquery);
                    }
                }
            }
        }),
    }
}

fn typed(expr: &mut Expr) {
    let small = |e: &Expr| {
        matches!(e, Expr::Value(ValueWithSpan { value: Value::Number(digits, false), .. })
            if digits.parse::<i32>().is_ok())
    };
    let fits = match &*expr {
        Expr::UnaryOp { op: UnaryOperator::Minus, expr: inner } => small(inner),
        other => small(other),
    };
    if fits {
        let literal = std::mem::replace(expr, Expr::value(Value::Null));
        *expr = Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(literal),
            data_type: SqlType::Int(None),
            array: false,
            format: None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
    use datafusion::sql::sqlparser::ast::Statement;
    use datafusion::sql::sqlparser::parser::Parser;

    fn typed_sql(sql: &str) -> String {
        let mut statement = Parser::parse_sql(&DuckDbCompatDialect, sql).unwrap().remove(0);
        if let Statement::Query(query) = &mut statement {
            typed_as_duckdb(query);
        }
        statement.to_string()
    }

    #[test]
    fn integer_literals_of_select_lists_are_integers() {
        assert_eq!(
            typed_sql("SELECT 1 AS a, -2, 1 + x, 3000000000, 1.5, f(4) FROM t ORDER BY 1 LIMIT 5"),
            "SELECT CAST(1 AS INT) AS a, CAST(-2 AS INT), 1 + x, 3000000000, 1.5, f(4) FROM t ORDER BY 1 LIMIT 5"
        );
        assert_eq!(typed_sql("VALUES (1, 'a')"), "VALUES (CAST(1 AS INT), 'a')");
    }
}
