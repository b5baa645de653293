//! DuckDB's `ARRAY(SELECT x FROM ... ORDER BY y)`: the subquery's one column as a list, in the
//! subquery's order, `[]` when it has no rows. Written as the aggregate of that column with the
//! order inside it (`coalesce((SELECT array_agg(x ORDER BY y) FROM ...), [])`): DataFusion
//! drops the ORDER BY of a subquery that an aggregate reads.

use datafusion::sql::sqlparser::ast::{Distinct, Expr, FunctionArguments, OrderByKind, SelectItem, SetExpr};
use datafusion::sql::sqlparser::parser::Parser;

use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

pub(crate) fn as_aggregate(expr: &mut Expr) {
    if let Some(rewritten) = rewritten(expr) {
        *expr = rewritten;
    }
}

fn rewritten(expr: &Expr) -> Option<Expr> {
    let Expr::Function(function) = expr else { return None };
    if !function.name.to_string().eq_ignore_ascii_case("array") {
        return None;
    }
    let FunctionArguments::Subquery(query) = &function.args else { return None };
    let SetExpr::Select(select) = query.body.as_ref() else { return None };
    if query.limit_clause.is_some() || query.fetch.is_some() || select.projection.len() != 1 {
        return None;
    }
    let (item, alias) = match &select.projection[0] {
        SelectItem::UnnamedExpr(e) => (e.clone(), None),
        SelectItem::ExprWithAlias { expr, alias } => (expr.clone(), Some(alias.value.to_lowercase())),
        _ => return None,
    };
    let distinct = match &select.distinct {
        None => "",
        Some(Distinct::Distinct) => "DISTINCT ",
        Some(_) => return None,
    };
    // The order's keys, with the column's alias read as the column (`AS i ... ORDER BY i`).
    let order = match query.order_by.as_ref().map(|o| &o.kind) {
        None => String::new(),
        Some(OrderByKind::Expressions(keys)) => {
            let keys: Vec<String> = keys
                .iter()
                .map(|k| {
                    let mut k = k.clone();
                    if let Expr::Identifier(ident) = &k.expr
                        && alias.as_deref() == Some(ident.value.to_lowercase().as_str())
                    {
                        k.expr = item.clone();
                    }
                    k.to_string()
                })
                .collect();
            format!(" ORDER BY {}", keys.join(", "))
        }
        Some(_) => return None,
    };
    let mut aggregate = select.clone();
    aggregate.distinct = None;
    let call = format!("array_agg({distinct}{item}{order})");
    aggregate.projection =
        vec![SelectItem::UnnamedExpr(Parser::new(&DuckDbCompatDialect).try_with_sql(&call).ok()?.parse_expr().ok()?)];
    let with = query.with.as_ref().map(|w| format!("{w} ")).unwrap_or_default();
    let text = format!("coalesce(({with}{aggregate}), [])");
    Parser::new(&DuckDbCompatDialect).try_with_sql(&text).ok()?.parse_expr().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten_sql(sql: &str) -> String {
        let mut expr = Parser::new(&DuckDbCompatDialect).try_with_sql(sql).unwrap().parse_expr().unwrap();
        as_aggregate(&mut expr);
        expr.to_string()
    }

    #[test]
    fn the_order_goes_inside_the_aggregate() {
        assert_eq!(
            rewritten_sql("ARRAY(SELECT DISTINCT i FROM t ORDER BY i DESC)"),
            "coalesce((SELECT array_agg(DISTINCT i ORDER BY i DESC) FROM t), [])"
        );
        assert_eq!(
            rewritten_sql("array(select unnest(l) AS i order by i desc nulls last)"),
            "coalesce((SELECT array_agg(unnest(l) ORDER BY unnest(l) DESC NULLS LAST)), [])"
        );
        let union = "ARRAY(SELECT 1 UNION ALL SELECT 2)";
        assert_eq!(rewritten_sql(union), union, "left to DataFusion, which says what it lacks");
    }
}
