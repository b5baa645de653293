//! DuckDB's lateral `unnest` in FROM: `FROM userList u, unnest(u.group_ids) AS t(gid)` (or
//! `CROSS JOIN unnest(...)`, `LATERAL unnest(...)`) is a row of `u` per element of its list.
//! DataFusion has no lateral table functions, so the pair becomes one derived table that
//! unnests in its projection: `(SELECT u.*, unnest(u.group_ids) AS gid FROM userList u) AS u`,
//! and `t.gid` is read as `u.gid`. (`unnest(l) AS t` names the column `t`, a bare `unnest(l)`
//! names it `unnest`, as in DuckDB.)

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, JoinOperator, ObjectName, ObjectNamePart, Query,
    Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, TableAlias, TableFactor, TableWithJoins,
    visit_expressions, visit_expressions_mut,
};
use datafusion::sql::sqlparser::parser::Parser;

use super::dialect::DuckDbCompatDialect;

/// Every lateral unnest of the query's SELECTs made a derived table; column references to the
/// unnest's alias renamed (in the SELECT and the query's ORDER BY).
pub(super) fn lateral_unnests(query: &mut Query) {
    let mut renames = Vec::new();
    super::ast::for_each_select(&mut query.body, &mut |select| {
        while let Some(rename) = one_lateral_unnest(select) {
            renames.push(rename);
        }
    });
    for (from, to) in renames {
        let _ = visit_expressions_mut(query, |e: &mut Expr| {
            if let Expr::CompoundIdentifier(parts) = e
                && parts.len() == 2
                && parts[0].value.eq_ignore_ascii_case(&from)
            {
                parts[0] = Ident::new(to.clone());
            }
            ControlFlow::<()>::Continue(())
        });
    }
}

/// The unnest's list and the name of its column, when `factor` is a one-list `unnest` call.
fn unnest_call(factor: &TableFactor) -> Option<(Expr, Option<&TableAlias>)> {
    let only = |args: &[FunctionArg]| match args {
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(e))] => Some(e.clone()),
        _ => None,
    };
    let is_unnest = |name: &ObjectName| matches!(name.0.as_slice(), [ObjectNamePart::Identifier(i)] if i.value.eq_ignore_ascii_case("unnest"));
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
        _ => return None,
    };
    // A list of constants needs no row beside it: DataFusion unnests it as it is.
    let reads_columns = visit_expressions(&list, |e| match e {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break();
    reads_columns.then_some((list, alias))
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

/// Rewrites the first lateral unnest of `select`; the (alias, relation) rename it needs.
fn one_lateral_unnest(select: &mut Select) -> Option<(String, String)> {
    // `FROM r, unnest(...) ...`
    for i in 1..select.from.len() {
        if !select.from[i - 1].joins.is_empty() {
            continue;
        }
        let Some((list, alias)) = unnest_call(&select.from[i].relation) else { continue };
        let (column, renamed) = names(alias);
        let base = relation_name(&select.from[i - 1].relation)?;
        let removed = select.from.remove(i);
        let target = &mut select.from[i - 1];
        target.relation = unnested(target.relation.clone(), &base, list, column)?;
        target.joins = removed.joins;
        return Some((renamed, base.value));
    }
    // `FROM r CROSS JOIN unnest(...)`, `FROM r, LATERAL unnest(...)` read as a join.
    for from in &mut select.from {
        let Some(first) = from.joins.first() else { continue };
        if !matches!(first.join_operator, JoinOperator::CrossJoin(_)) {
            continue;
        }
        let Some((list, alias)) = unnest_call(&first.relation) else { continue };
        let (column, renamed) = names(alias);
        let base = relation_name(&from.relation)?;
        from.relation = unnested(from.relation.clone(), &base, list, column)?;
        from.joins.remove(0);
        return Some((renamed, base.value));
    }
    None
}

/// The unnest's column and the alias its references are qualified with.
fn names(alias: Option<&TableAlias>) -> (Ident, String) {
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
        // A list of constants is DataFusion's own unnest.
        assert_eq!(rewritten("SELECT * FROM userList, unnest([1, 2])"), "SELECT * FROM userList, unnest([1, 2])");
    }
}
