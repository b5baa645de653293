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
    if matches!(query.body.as_ref(), SetExpr::SetOperation { .. }) {
        return set_operation_list(query);
    }
    let SetExpr::Select(select) = query.body.as_ref() else { return None };
    if query.fetch.is_some() || select.projection.len() != 1 {
        return None;
    }
    let (item, alias) = match &select.projection[0] {
        SelectItem::UnnamedExpr(e) => (e.clone(), None),
        SelectItem::ExprWithAlias { expr, alias } => (expr.clone(), Some(alias.value.to_lowercase())),
        _ => return numbered_rows(query),
    };
    if query.limit_clause.is_some() {
        return numbered_rows(query);
    }
    if let Some(sorted) = sorted_list(select, query, &item, alias.as_deref()) {
        return Some(sorted);
    }
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

/// `ARRAY(SELECT ... UNION ALL SELECT ... ORDER BY t.i DESC)`: the set operation's one column,
/// ordered by it (each key naming the column, by any qualifier, or by position 1), as a list.
fn set_operation_list(query: &datafusion::sql::sqlparser::ast::Query) -> Option<Expr> {
    if query.limit_clause.is_some() || query.fetch.is_some() {
        return None;
    }
    let mut first = query.body.as_ref();
    while let SetExpr::SetOperation { left, .. } = first {
        first = left;
    }
    let SetExpr::Select(select) = first else { return None };
    // (An item without a name is ordered by position only.)
    let column = match select.projection.as_slice() {
        [SelectItem::ExprWithAlias { alias, .. }] => Some(alias.value.to_lowercase()),
        [SelectItem::UnnamedExpr(Expr::Identifier(i))] => Some(i.value.to_lowercase()),
        [SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts))] => Some(parts.last()?.value.to_lowercase()),
        [SelectItem::UnnamedExpr(_)] => None,
        _ => return None,
    };
    let column = column.as_deref();
    let order = match query.order_by.as_ref().map(|o| &o.kind) {
        None => String::new(),
        Some(OrderByKind::Expressions(keys)) => {
            let keys: Option<Vec<String>> = keys
                .iter()
                .map(|k| {
                    let names_it = match &k.expr {
                        Expr::Identifier(i) => Some(i.value.to_lowercase().as_str()) == column,
                        Expr::CompoundIdentifier(parts) => {
                            parts.last().is_some_and(|p| Some(p.value.to_lowercase().as_str()) == column)
                        }
                        Expr::Value(v) => v.value.to_string() == "1",
                        _ => false,
                    };
                    let mut k = k.clone();
                    k.expr = Expr::Identifier(datafusion::sql::sqlparser::ast::Ident::new("__array_value"));
                    names_it.then(|| k.to_string())
                })
                .collect();
            format!(" ORDER BY {}", keys?.join(", "))
        }
        Some(_) => return None,
    };
    let text = format!(
        "coalesce((SELECT array_agg(__array_value{order}) FROM ({}) AS __array(__array_value)), [])",
        query.body
    );
    Parser::new(&DuckDbCompatDialect).try_with_sql(&text).ok()?.parse_expr().ok()
}

/// `ARRAY(SELECT * FROM t ORDER BY f(x) LIMIT n)`, a SELECT whose one column is not written out or
/// whose rows are limited: each row numbered in the query's order by a window beside it, and
/// the values aggregated in that order (`array_agg(v ORDER BY row)`). A key naming an item's
/// alias reads the item; a key by position, the item there.
fn numbered_rows(query: &datafusion::sql::sqlparser::ast::Query) -> Option<Expr> {
    let SetExpr::Select(select) = query.body.as_ref() else { return None };
    let Some(OrderByKind::Expressions(keys)) = query.order_by.as_ref().map(|o| &o.kind) else {
        // Without an order, the aggregate of whatever rows the query gives.
        return (query.limit_clause.is_some() && select.distinct.is_none())
            .then(|| numbered_text(query, "row_number() OVER ()"))
            .and_then(|text| Parser::new(&DuckDbCompatDialect).try_with_sql(&text).ok()?.parse_expr().ok());
    };
    if select.distinct.is_some() {
        return None;
    }
    let item = |i: usize| match select.projection.get(i) {
        Some(SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) => Some(e.clone()),
        _ => None,
    };
    let keys: Option<Vec<String>> = keys
        .iter()
        .map(|key| {
            let mut key = key.clone();
            match &key.expr {
                Expr::Value(v) => key.expr = item(v.value.to_string().parse::<usize>().ok()?.checked_sub(1)?)?,
                Expr::Identifier(name) => {
                    let aliased = select.projection.iter().find_map(|p| match p {
                        SelectItem::ExprWithAlias { expr, alias } if alias.value.eq_ignore_ascii_case(&name.value) => {
                            Some(expr.clone())
                        }
                        _ => None,
                    });
                    if let Some(expr) = aliased {
                        key.expr = expr;
                    }
                }
                _ => {}
            }
            Some(key.to_string())
        })
        .collect();
    let text = numbered_text(query, &format!("row_number() OVER (ORDER BY {})", keys?.join(", ")));
    Parser::new(&DuckDbCompatDialect).try_with_sql(&text).ok()?.parse_expr().ok()
}

fn numbered_text(query: &datafusion::sql::sqlparser::ast::Query, row_number: &str) -> String {
    let mut numbered = query.clone();
    if let SetExpr::Select(select) = numbered.body.as_mut()
        && let Ok(expr) = Parser::new(&DuckDbCompatDialect).try_with_sql(row_number).and_then(|mut p| p.parse_expr())
    {
        select.projection.push(SelectItem::ExprWithAlias {
            expr,
            alias: datafusion::sql::sqlparser::ast::Ident::new("__array_row"),
        });
    }
    format!(
        "coalesce((SELECT array_agg(__array_value ORDER BY __array_row) FROM ({numbered}) AS __array(__array_value, __array_row)), [])"
    )
}

/// `ARRAY(SELECT unnest(l) AS i ORDER BY i DESC)`, a list's own elements in an order: the list
/// sorted as `list_sort` sorts it (`[]` for a NULL list). `None` for other forms.
fn sorted_list(
    select: &datafusion::sql::sqlparser::ast::Select,
    query: &datafusion::sql::sqlparser::ast::Query,
    item: &Expr,
    alias: Option<&str>,
) -> Option<Expr> {
    let Expr::Function(unnest) = item else { return None };
    let plain = select.from.is_empty()
        && select.selection.is_none()
        && select.having.is_none()
        && select.distinct.is_none()
        && unnest.name.to_string().eq_ignore_ascii_case("unnest");
    let [list] = crate::engine::compat::ast::plain_args(unnest)?.try_into().ok()?;
    if !plain {
        return None;
    }
    let text = match query.order_by.as_ref().map(|o| &o.kind) {
        None => format!("coalesce({list}, [])"),
        Some(OrderByKind::Expressions(keys)) => {
            let [key] = keys.as_slice() else { return None };
            let names_item = match &key.expr {
                Expr::Identifier(ident) => alias == Some(ident.value.to_lowercase().as_str()),
                Expr::Value(v) => v.value.to_string() == "1",
                other => other == item,
            };
            if !names_item {
                return None;
            }
            let direction = if key.options.asc == Some(false) { "DESC" } else { "ASC" };
            let nulls = if key.options.nulls_first == Some(true) { "NULLS FIRST" } else { "NULLS LAST" };
            format!("coalesce(list_sort({list}, '{direction}', '{nulls}'), [])")
        }
        Some(_) => return None,
    };
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
            "coalesce(list_sort(l, 'DESC', 'NULLS LAST'), [])"
        );
        assert_eq!(
            rewritten_sql("ARRAY(SELECT i FROM t UNION ALL SELECT j FROM u ORDER BY t.i DESC)"),
            "coalesce((SELECT array_agg(__array_value ORDER BY __array_value DESC) FROM (SELECT i FROM t UNION ALL SELECT j FROM u) AS __array (__array_value)), [])"
        );
        let limited = "ARRAY(SELECT 1 UNION ALL SELECT 2 LIMIT 1)";
        assert_eq!(rewritten_sql(limited), limited, "left to DataFusion, which says what it lacks");
        assert_eq!(
            rewritten_sql("ARRAY(SELECT * FROM unnest(['a', 'b']) AS t(u) ORDER BY if(u = 'a', 1, 0))"),
            "coalesce((SELECT array_agg(__array_value ORDER BY __array_row) FROM (SELECT *, row_number() OVER \
             (ORDER BY if(u = 'a', 1, 0)) AS __array_row FROM unnest(['a', 'b']) AS t (u) ORDER BY if(u = 'a', 1, 0)) \
             AS __array (__array_value, __array_row)), [])"
        );
    }
}
