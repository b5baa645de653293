//! DuckDB's lateral `unnest` in FROM: `FROM userList u, unnest(u.group_ids) AS t(gid)` (or
//! `CROSS JOIN unnest(...)`, `LATERAL unnest(...)`, `[LEFT] JOIN unnest(...) ON TRUE`) is a row of
//! `u` per element of its list (with LEFT, one with a NULL element for an empty list); an inner
//! `JOIN ... ON cond` filters those rows, and `LATERAL (SELECT unnest(l))` is the same unnest.
//! DataFusion has no lateral table functions, so the pair becomes one derived table that
//! unnests in its projection: `(SELECT u.*, unnest(u.group_ids) AS gid FROM userList u) AS u`,
//! and `t.gid` is read as `u.gid`. (`unnest(l) AS t` names the column `t`, a bare `unnest(l)`
//! names it `unnest`, as in DuckDB.) `json_each(json)` and `json_tree(json)` are unnests of
//! the rows their functions make (see `json_tables`): laterally, `j.key` (and a bare `key`) is
//! read as a field of the row; with constant arguments the rows are a table of their own.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, JoinConstraint, JoinOperator, ObjectName,
    ObjectNamePart, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, TableAlias, TableFactor,
    TableWithJoins,
};
use datafusion::sql::sqlparser::parser::Parser;

use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
use crate::engine::compat::rewrite::json_table_rows::{
    bare_json_columns, function_name, json_column, json_table_call, json_tables_of_constants, name_json_columns,
    reads_columns,
};

/// How references to a lateral's alias are read once it is a column of the relation before it.
struct Rename {
    alias: String,
    relation: String,
    /// The struct column holding json_each's row, whose fields the alias's columns are.
    row: Option<Ident>,
}

/// Every lateral unnest of the query's SELECTs made a derived table; column references to the
/// unnest's alias renamed (in the SELECT and the query's ORDER BY).
pub(crate) fn lateral_unnests(query: &mut Query) {
    let mut renames = Vec::new();
    crate::engine::compat::ast::for_each_select(&mut query.body, &mut |select| {
        json_tables_of_constants(select);
        unnests_apart(select);
        while let Some(rename) = one_lateral_unnest(select) {
            if let Some(row) = &rename.row {
                name_json_columns(select, &rename.alias);
                bare_json_columns(select, &rename.relation, row);
            }
            renames.push(rename);
        }
    });
    for rename in renames {
        let _ = crate::engine::compat::ast::each_expr_mut(query, |e: &mut Expr| {
            if let Expr::CompoundIdentifier(parts) = e
                && parts.len() == 2
                && parts[0].value.eq_ignore_ascii_case(&rename.alias)
            {
                parts[0] = Ident::new(rename.relation.clone());
                if let Some(row) = &rename.row {
                    parts.insert(1, row.clone());
                }
            }
            ControlFlow::Continue(())
        });
        if let Some(row) = &rename.row
            && let Some(order_by) = &mut query.order_by
        {
            let _ = crate::engine::compat::ast::each_expr_mut(order_by, |e: &mut Expr| {
                json_column(e, &rename.relation, row);
                ControlFlow::Continue(())
            });
        }
    }
}

/// The unnest's list and the name of its column, when `factor` is a one-list `unnest` call
/// (or a lateral json_each / json_tree, whose list is of rows) reading columns.
fn unnest_call(factor: &TableFactor) -> Option<(Expr, Option<&TableAlias>, bool)> {
    if let Some((rows, alias)) = json_table_call(factor) {
        return reads_columns(&rows).then_some((rows, alias, true));
    }
    let only = |args: &[FunctionArg]| match args {
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(e))] => Some(e.clone()),
        _ => None,
    };
    // `generate_series(1, t.n)` / `range(...)` over a column: the unnest of the list it makes.
    if let TableFactor::Table { name, alias, args: Some(args), .. } = factor
        && let [ObjectNamePart::Identifier(function)] = name.0.as_slice()
        && ["generate_series", "range"].contains(&function.value.to_lowercase().as_str())
    {
        let args = args
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        let list = crate::engine::compat::ast::call(&function.value.to_lowercase(), args);
        return reads_columns(&list).then_some((list, alias.as_ref(), false));
    }
    let (list, alias) = match factor {
        TableFactor::UNNEST { alias, array_exprs, with_offset: false, with_ordinality: false, .. } => (
            match array_exprs.as_slice() {
                [e] => e.clone(),
                _ => return None,
            },
            alias.as_ref(),
        ),
        TableFactor::Table { name, alias, args: Some(args), .. } if is_unnest(name) => {
            (only(&args.args)?, alias.as_ref())
        }
        TableFactor::Function { name, args, alias, with_ordinality: false, .. } if is_unnest(name) => {
            (only(args)?, alias.as_ref())
        }
        // `LATERAL (SELECT unnest(t.l)) u(x)`: the same unnest.
        TableFactor::Derived { lateral: true, subquery, alias, .. } => {
            let SetExpr::Select(select) = subquery.body.as_ref() else { return None };
            let plain = select.from.is_empty() && select.selection.is_none() && subquery.order_by.is_none();
            let [
                SelectItem::UnnamedExpr(Expr::Function(f)) | SelectItem::ExprWithAlias { expr: Expr::Function(f), .. },
            ] = select.projection.as_slice()
            else {
                return None;
            };
            let FunctionArguments::List(args) = &f.args else { return None };
            if !plain || !is_unnest(&f.name) {
                return None;
            }
            (only(&args.args)?, alias.as_ref())
        }
        _ => return None,
    };
    // A list of constants needs no row beside it: DataFusion unnests it as it is.
    reads_columns(&list).then_some((list, alias, false))
}

/// `FROM unnest([1, 2]) AS t(x)`, whose list reads no column, as a derived table of its own:
/// `(SELECT unnest([1, 2]) AS x) AS t` (the column named for the alias, or `unnest`, as
/// DuckDB names it). So is a subquery's first and only FROM item that unnests the outer row's
/// list (`(SELECT min(x) FROM unnest(u.l) AS t(x) [JOIN ...])`): a correlated derived table.
fn unnests_apart(select: &mut Select) {
    let single = select.from.len() == 1;
    for from in &mut select.from {
        let relations = std::iter::once(&mut from.relation).chain(from.joins.iter_mut().map(|j| &mut j.relation));
        for (at, factor) in relations.enumerate() {
            let list = match &*factor {
                TableFactor::UNNEST { array_exprs, with_offset: false, with_ordinality: false, .. } => {
                    match array_exprs.as_slice() {
                        [list] => list.clone(),
                        _ => continue,
                    }
                }
                TableFactor::Table { name, args: Some(args), .. } if is_unnest(name) => match args.args.as_slice() {
                    [FunctionArg::Unnamed(FunctionArgExpr::Expr(list))] => list.clone(),
                    _ => continue,
                },
                _ => continue,
            };
            if reads_columns(&list) && !(single && at == 0) {
                continue;
            }
            let alias = match &*factor {
                TableFactor::UNNEST { alias, .. } | TableFactor::Table { alias, .. } => alias.clone(),
                _ => None,
            };
            let (column, relation) = names(alias.as_ref(), false, factor);
            let Some(query) = Parser::new(&DuckDbCompatDialect)
                .try_with_sql(&format!("SELECT unnest({list}) AS {column}"))
                .and_then(|mut p| p.parse_query())
                .ok()
            else {
                continue;
            };
            *factor = TableFactor::Derived {
                lateral: false,
                subquery: query,
                alias: Some(TableAlias { explicit: true, name: Ident::new(relation), columns: vec![], at: None }),
                sample: None,
            };
        }
    }
}

fn is_unnest(name: &ObjectName) -> bool {
    matches!(name.0.as_slice(), [ObjectNamePart::Identifier(i)] if i.value.eq_ignore_ascii_case("unnest"))
}

/// The name a relation's columns are qualified with.
fn relation_name(factor: &TableFactor) -> Option<Ident> {
    match factor {
        TableFactor::Table { alias: Some(a), .. } | TableFactor::Derived { alias: Some(a), .. } => Some(a.name.clone()),
        TableFactor::Table { name, alias: None, args: None, .. } => match name.0.last() {
            Some(ObjectNamePart::Identifier(i)) => Some(i.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Rewrites the first lateral unnest of `select`; the rename of its references it needs.
fn one_lateral_unnest(select: &mut Select) -> Option<Rename> {
    // `FROM r, unnest(...) ...`
    for i in 1..select.from.len() {
        if !select.from[i - 1].joins.is_empty() {
            continue;
        }
        let Some((list, alias, json)) = unnest_call(&select.from[i].relation) else { continue };
        let (column, alias) = names(alias, json, &select.from[i].relation);
        // A derived table without a name gets one, for the unnest's rows to be read through.
        if let TableFactor::Derived { alias: unnamed @ None, .. } = &mut select.from[i - 1].relation {
            *unnamed = Some(TableAlias { explicit: true, name: Ident::new("__unnested"), columns: vec![], at: None });
        }
        let base = relation_name(&select.from[i - 1].relation)?;
        let removed = select.from.remove(i);
        let target = &mut select.from[i - 1];
        target.relation = unnested(target.relation.clone(), &base, list, column.clone())?;
        target.joins = removed.joins;
        return Some(Rename { alias, relation: base.value, row: json.then_some(column) });
    }
    // `FROM r CROSS JOIN unnest(...)`, `FROM r, LATERAL unnest(...)` read as a join; `JOIN
    // unnest(...) ON TRUE` the same, and `LEFT JOIN unnest(...) ON TRUE` keeps a row (its element
    // NULL) where the list is empty or NULL: an unnest of `[NULL]` there.
    for from in &mut select.from {
        let Some(first) = from.joins.first() else { continue };
        let on_true = |c: &JoinConstraint| matches!(c, JoinConstraint::On(Expr::Value(v)) if v.value == datafusion::sql::sqlparser::ast::Value::Boolean(true));
        // An inner join's condition filters the unnested rows: it moves to the WHERE.
        let (left, condition) = match &first.join_operator {
            JoinOperator::CrossJoin(_) => (false, None),
            JoinOperator::Join(c) | JoinOperator::Inner(c) if on_true(c) => (false, None),
            JoinOperator::Join(JoinConstraint::On(c)) | JoinOperator::Inner(JoinConstraint::On(c)) => {
                (false, Some(c.clone()))
            }
            JoinOperator::Left(c) | JoinOperator::LeftOuter(c) if on_true(c) => (true, None),
            _ => continue,
        };
        let Some((list, alias, json)) = unnest_call(&first.relation) else { continue };
        let list = if left && !json { with_a_null_for_none(list)? } else { list };
        let (column, alias) = names(alias, json, &first.relation);
        let base = relation_name(&from.relation)?;
        from.relation = unnested(from.relation.clone(), &base, list, column.clone())?;
        from.joins.remove(0);
        if let Some(condition) = condition {
            let kept = select.selection.take();
            let condition = match condition {
                nested @ Expr::Nested(_) => nested,
                other => Expr::Nested(Box::new(other)),
            };
            select.selection = Some(crate::engine::compat::ast::and(kept.into_iter().chain([condition])));
        }
        return Some(Rename { alias, relation: base.value, row: json.then_some(column) });
    }
    None
}

/// `CASE WHEN len(list) > 0 THEN list ELSE [NULL] END`: a list that unnests to one NULL where it
/// has no element.
fn with_a_null_for_none(list: Expr) -> Option<Expr> {
    let text = format!("CASE WHEN len({list}) > 0 THEN {list} ELSE [NULL] END");
    Parser::new(&DuckDbCompatDialect).try_with_sql(&text).ok()?.parse_expr().ok()
}

/// The unnest's column and the alias its references are qualified with (json_each's rows: a
/// column named for the alias, which is the function's name when there is none).
fn names(alias: Option<&TableAlias>, json: bool, factor: &TableFactor) -> (Ident, String) {
    if json {
        let name = alias.map_or_else(|| function_name(factor).value, |a| a.name.value.clone());
        return (Ident::new(format!("__{}_row", name.to_lowercase())), name);
    }
    match alias {
        Some(a) => (a.columns.first().map_or_else(|| a.name.clone(), |c| c.name.clone()), a.name.value.clone()),
        None => (Ident::new("unnest"), "unnest".into()),
    }
}

/// `(SELECT base.*, unnest(list) AS column FROM relation) AS base`.
fn unnested(relation: TableFactor, base: &Ident, list: Expr, column: Ident) -> Option<TableFactor> {
    let template = "SELECT placeholder.*, unnest(NULL) AS placeholder FROM placeholder";
    let mut query = Parser::new(&DuckDbCompatDialect).try_with_sql(template).ok()?.parse_query().ok()?;
    let SetExpr::Select(select) = query.body.as_mut() else { return None };
    for item in &mut select.projection {
        match item {
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(name), _) => {
                *name = ObjectName::from(vec![base.clone()]);
            }
            SelectItem::ExprWithAlias { expr: Expr::Function(f), alias } => {
                *alias = column.clone();
                if let FunctionArguments::List(args) = &mut f.args {
                    args.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(list.clone()))];
                }
            }
            _ => {}
        }
    }
    select.from = vec![TableWithJoins { relation, joins: vec![] }];
    Some(TableFactor::Derived {
        lateral: false,
        subquery: query,
        alias: Some(TableAlias { explicit: true, name: base.clone(), columns: vec![], at: None }),
        sample: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statements = Parser::parse_sql(&DuckDbCompatDialect, sql).unwrap();
        let datafusion::sql::sqlparser::ast::Statement::Query(query) = &mut statements[0] else { panic!("a query") };
        lateral_unnests(query);
        statements[0].to_string()
    }

    #[test]
    fn a_lateral_unnest_becomes_a_derived_table() {
        assert_eq!(
            rewritten(
                "SELECT t.gid, u.email FROM userList u, unnest(u.group_ids) AS t(gid) JOIN groupList g ON g.group_id = t.gid ORDER BY t.gid"
            ),
            "SELECT u.gid, u.email FROM (SELECT u.*, unnest(u.group_ids) AS gid FROM userList u) AS u JOIN groupList g ON g.group_id = u.gid ORDER BY u.gid"
        );
        assert_eq!(
            rewritten("SELECT g FROM userList CROSS JOIN unnest(group_ids) AS g"),
            "SELECT g FROM (SELECT userList.*, unnest(group_ids) AS g FROM userList) AS userList"
        );
        assert_eq!(
            rewritten("SELECT * FROM t JOIN LATERAL (SELECT UNNEST(t.arr)) u(b) ON (i < b)"),
            "SELECT * FROM (SELECT t.*, unnest(t.arr) AS b FROM t) AS t WHERE (i < b)"
        );
        assert_eq!(
            rewritten("SELECT r, a.value FROM t LEFT JOIN UNNEST(t.l) AS a(value) ON TRUE"),
            "SELECT r, t.value FROM (SELECT t.*, unnest(CASE WHEN len(t.l) > 0 THEN t.l ELSE [NULL] END) AS value FROM t) AS t"
        );
        // A list of constants is a table of its own.
        assert_eq!(
            rewritten("SELECT * FROM userList, unnest([1, 2])"),
            "SELECT * FROM userList, (SELECT unnest([1, 2]) AS unnest) AS unnest"
        );
        assert_eq!(rewritten("SELECT a FROM UNNEST([1]) t(a)"), "SELECT a FROM (SELECT unnest([1]) AS a) AS t");
    }

    #[test]
    fn json_each_is_an_unnest_of_its_rows() {
        assert_eq!(
            rewritten("SELECT j.key, count(*) FROM activity a, json_each(a.data) AS j GROUP BY j.key ORDER BY key"),
            "SELECT a.__j_row.key AS key, count(*) FROM (SELECT a.*, unnest(json_each_rows(a.data)) AS __j_row FROM activity a) AS a GROUP BY a.__j_row.key ORDER BY a.__j_row.key"
        );
        assert_eq!(
            rewritten("SELECT key, type FROM activity, json_tree(data)"),
            "SELECT activity.__json_tree_row.key AS key, type FROM (SELECT activity.*, unnest(json_tree_rows(data)) AS __json_tree_row FROM activity) AS activity"
        );
        assert_eq!(
            rewritten("SELECT key FROM json_each('{\"a\": 1}')"),
            "SELECT key FROM (SELECT __rows.__row.\"key\" AS \"key\", __rows.__row.\"value\" AS \"value\", __rows.__row.\"type\" AS \"type\", __rows.__row.\"atom\" AS \"atom\", __rows.__row.\"id\" AS \"id\", __rows.__row.\"parent\" AS \"parent\", __rows.__row.\"fullkey\" AS \"fullkey\", __rows.__row.\"path\" AS \"path\" FROM (SELECT unnest(json_each_rows('{\"a\": 1}')) AS __row) AS __rows) AS json_each"
        );
    }
}
