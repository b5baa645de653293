//! DuckDB's `COLUMNS(...)` expressions: `COLUMNS('regex')`, `COLUMNS(c -> c LIKE 'a%')`, `COLUMNS(*)` (with `EXCLUDE`),
//! `COLUMNS(* REPLACE (x + 1 AS x))`, `COLUMNS(['a', 'b'])`, alone or inside an expression (`max(COLUMNS(*))`), in the select list
//! (one result column per matching column), in DISTINCT ON (one key per column) and in WHERE (the
//! conditions joined with AND).
//! Which columns match depends on the FROM clause, so the engine plans `SELECT * FROM ...`
//! first ([`columns_probe`]) and hands its columns to [`expand_columns`].

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Distinct, ExcludeSelectItem, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident,
    ObjectName, ObjectNamePart, OrderBy, OrderByExpr, OrderByKind, Query, Select, SelectItem, SetExpr, Statement,
    Value, ValueWithSpan,
};

use crate::engine::compat::ast::{is_columns_call, mentions_columns};
use crate::error::{Error, Result};

/// A column of the FROM clause: its relation's name and its own.
pub(crate) type SourceColumn = (Option<String>, String);

/// The first SELECT of the statement's query that uses COLUMNS in its select list or WHERE.
fn first_select(query: &mut Query) -> Option<&mut Select> {
    fn walk(body: &mut SetExpr) -> Option<&mut Select> {
        match body {
            SetExpr::Select(select) => {
                let uses = select.projection.iter().any(mentions_columns)
                    || select.selection.as_ref().is_some_and(mentions_columns)
                    || matches!(&select.distinct, Some(Distinct::On(on)) if on.iter().any(mentions_columns));
                uses.then_some(select.as_mut())
            }
            SetExpr::SetOperation { left, right, .. } => walk(left).or_else(|| walk(right)),
            SetExpr::Query(q) => walk(&mut q.body),
            _ => None,
        }
    }
    walk(&mut query.body)
}

/// `WITH ... SELECT * FROM <the FROM of the first SELECT using COLUMNS>`, to learn its columns.
pub(crate) fn columns_probe(statement: &Statement) -> Option<Statement> {
    let Statement::Query(query) = statement else { return None };
    let mut query = query.clone();
    let mut probe = star_probe(first_select(&mut query)?.from.clone())?;
    probe.with = query.with.clone();
    Some(Statement::Query(probe))
}

/// `SELECT * FROM <from>`: the probe that learns a FROM clause's columns.
pub(crate) fn star_probe(from: Vec<datafusion::sql::sqlparser::ast::TableWithJoins>) -> Option<Box<Query>> {
    let mut probe =
        datafusion::sql::sqlparser::parser::Parser::new(&crate::engine::compat::parse::dialect::DuckDbCompatDialect)
            .try_with_sql("SELECT * FROM placeholder")
            .ok()?
            .parse_query()
            .ok()?;
    if let SetExpr::Select(select) = probe.body.as_mut() {
        select.from = from;
    }
    Some(probe)
}

/// The first SELECT using COLUMNS, expanded over `columns` (those of its FROM clause).
pub(crate) fn expand_columns(statement: &mut Statement, columns: &[SourceColumn]) -> Result<()> {
    let Statement::Query(query) = statement else { return Ok(()) };
    let Some(select) = first_select(query) else { return Ok(()) };
    let mut projection = Vec::with_capacity(select.projection.len());
    for item in std::mem::take(&mut select.projection) {
        let (expr, alias) = match &item {
            SelectItem::UnnamedExpr(e) => (e.clone(), None),
            SelectItem::ExprWithAlias { expr, alias } => (expr.clone(), Some(alias.clone())),
            _ => {
                projection.push(item);
                continue;
            }
        };
        if !mentions_columns(&expr) {
            projection.push(item);
            continue;
        }
        let copies = named_copies(&expr, columns)?;
        let single = copies.len() == 1;
        for (name, copy) in copies {
            projection.push(match (&alias, &copy) {
                (Some(alias), _) if single => SelectItem::ExprWithAlias { expr: copy, alias: alias.clone() },
                (_, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) => SelectItem::UnnamedExpr(copy),
                // DuckDB names each copy of an expression over COLUMNS(...) by its column
                // (`max(COLUMNS(*))` gives `ts`, not `max(ts)`); repeated names as the JSON
                // output names them (`ts_1`).
                _ => {
                    let mut unique = name.clone();
                    let mut n = 0;
                    while projection
                        .iter()
                        .any(|item| matches!(item, SelectItem::ExprWithAlias { alias, .. } if alias.value == unique))
                    {
                        n += 1;
                        unique = format!("{name}_{n}");
                    }
                    SelectItem::ExprWithAlias { alias: Ident::with_quote('"', unique), expr: copy }
                }
            });
        }
    }
    let items = projection.len();
    if let Some(Distinct::On(on)) = &mut select.distinct {
        let mut keys = Vec::with_capacity(on.len());
        for key in std::mem::take(on) {
            if mentions_columns(&key) { keys.extend(expanded_columns(&key, columns)?) } else { keys.push(key) }
        }
        *on = keys;
    }
    select.projection = projection;
    if let Some(selection) = select.selection.take() {
        let copies =
            if mentions_columns(&selection) { expanded_columns(&selection, columns)? } else { vec![selection] };
        select.selection = copies.into_iter().reduce(|a, b| Expr::BinaryOp {
            left: Box::new(a),
            op: BinaryOperator::And,
            right: Box::new(b),
        });
    }
    // What is left (COLUMNS inside `* REPLACE (...)`, say) would be probed again for ever.
    let left = select.projection.iter().any(mentions_columns)
        || select.selection.as_ref().is_some_and(mentions_columns)
        || matches!(&select.distinct, Some(Distinct::On(on)) if on.iter().any(mentions_columns));
    if left {
        return Err(Error::Query(
            "COLUMNS(...) is supported as a select item or inside one, in DISTINCT ON and in WHERE: write it there"
                .into(),
        ));
    }
    // `ORDER BY ALL` over the expanded items, by position (as the naming pass orders others).
    if let Some(OrderBy { kind: OrderByKind::All(options), .. }) = &query.order_by
        && query.body.as_select().is_some()
    {
        let options = *options;
        let exprs = (1..=items)
            .map(|i| OrderByExpr { expr: Expr::value(Value::Number(i.to_string(), false)), options, with_fill: None })
            .collect();
        query.order_by = Some(OrderBy { kind: OrderByKind::Expressions(exprs), interpolate: None });
    }
    Ok(())
}

/// One copy of `expr` per matching column, each COLUMNS call replaced by its column (several
/// calls in one expression are taken side by side, as DuckDB does).
pub(crate) fn expanded_columns(expr: &Expr, columns: &[SourceColumn]) -> Result<Vec<Expr>> {
    Ok(named_copies(expr, columns)?.into_iter().map(|(_, copy)| copy).collect())
}

/// [`expanded`], each copy with the name of the column it was made for.
fn named_copies(expr: &Expr, columns: &[SourceColumn]) -> Result<Vec<(String, Expr)>> {
    let mut calls: Vec<(String, Vec<(String, Expr)>)> = Vec::new();
    let mut failure = None;
    let mut probe = expr.clone();
    let _ = crate::engine::compat::ast::each_expr_mut(&mut probe, |e: &mut Expr| {
        if is_columns_call(e) && !calls.iter().any(|(k, _)| *k == e.to_string()) {
            match matches(e, columns) {
                Ok(m) => calls.push((e.to_string(), m)),
                Err(err) => failure = Some(err),
            }
        }
        ControlFlow::Continue(())
    });
    if let Some(err) = failure {
        return Err(err);
    }
    let count = calls.first().map_or(0, |(_, m)| m.len());
    if calls.iter().any(|(_, m)| m.len() != count) {
        return Err(Error::Query(
            "the COLUMNS(...) of one expression match different numbers of columns: make them match the same number"
                .into(),
        ));
    }
    Ok((0..count)
        .map(|i| {
            let mut copy = expr.clone();
            let _ = crate::engine::compat::ast::each_expr_mut(&mut copy, |e: &mut Expr| {
                if is_columns_call(e)
                    && let Some((_, m)) = calls.iter().find(|(k, _)| *k == e.to_string())
                {
                    *e = m[i].1.clone();
                }
                ControlFlow::Continue(())
            });
            (calls[0].1[i].0.clone(), copy)
        })
        .collect())
}

/// The columns one `COLUMNS(...)` call selects: their names and references (or replacements).
fn matches(call: &Expr, columns: &[SourceColumn]) -> Result<Vec<(String, Expr)>> {
    let Expr::Function(f) = call else { return Ok(vec![]) };
    let FunctionArguments::List(list) = &f.args else {
        return Err(Error::Query(
            "COLUMNS takes one argument: COLUMNS(*), COLUMNS('regex') or COLUMNS(['a', 'b'])".into(),
        ));
    };
    // This layer's `COLUMNS(test, 't')` (DuckDB's `t.* LIKE ...`): among table t's columns.
    let (args, candidates) = match list.args.as_slice() {
        [
            test,
            FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(ValueWithSpan {
                value: Value::SingleQuotedString(table),
                ..
            }))),
        ] => {
            let of_table: Vec<SourceColumn> = columns
                .iter()
                .filter(|(q, _)| q.as_deref().is_some_and(|q| q.eq_ignore_ascii_case(table)))
                .cloned()
                .collect();
            (std::slice::from_ref(test), std::borrow::Cow::Owned(of_table))
        }
        args => (args, std::borrow::Cow::Borrowed(columns)),
    };
    let candidates = candidates.as_ref();
    // `COLUMNS(* REPLACE (x + 1 AS x))`: those columns as the expressions given.
    let replaced: Vec<(String, Expr)> = match args {
        [FunctionArg::Unnamed(FunctionArgExpr::WildcardWithOptions(options))] => options
            .opt_replace
            .iter()
            .flat_map(|r| r.items.iter().map(|item| (item.column_name.value.to_lowercase(), item.expr.clone())))
            .collect(),
        _ => vec![],
    };
    let chosen: Vec<&SourceColumn> = match args {
        [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] => candidates.iter().collect(),
        [FunctionArg::Unnamed(FunctionArgExpr::WildcardWithOptions(options))]
            if options.opt_rename.is_none() && options.opt_ilike.is_none() && options.opt_except.is_none() =>
        {
            let excluded: Vec<&ObjectName> = match &options.opt_exclude {
                Some(ExcludeSelectItem::Single(name)) => vec![name],
                Some(ExcludeSelectItem::Multiple(names)) => names.iter().collect(),
                None => vec![],
            };
            let is_excluded = |column: &str| {
                excluded.iter().any(|name| {
                    matches!(name.0.last(), Some(ObjectNamePart::Identifier(i)) if i.value.eq_ignore_ascii_case(column))
                })
            };
            candidates.iter().filter(|(_, name)| !is_excluded(name)).collect()
        }
        [
            FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(ValueWithSpan {
                value: Value::SingleQuotedString(pattern),
                ..
            }))),
        ] => {
            let regex = regex::Regex::new(pattern)
                .map_err(|e| Error::Query(format!("COLUMNS('{pattern}'): not a regular expression ({e})")))?;
            candidates.iter().filter(|(_, name)| regex.is_match(name)).collect()
        }
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Lambda(lambda)))] => {
            let mut chosen = Vec::new();
            for column in candidates {
                if crate::engine::compat::expand::column_predicates::passes(lambda, &column.1)? {
                    chosen.push(column);
                }
            }
            chosen
        }
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Array(names)))] => {
            let mut chosen = Vec::new();
            for name in &names.elem {
                let Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(name), .. }) = name else {
                    return Err(Error::Query("COLUMNS([...]) takes a list of column names as text".into()));
                };
                let column = candidates.iter().find(|(_, c)| c.eq_ignore_ascii_case(name));
                chosen.push(column.ok_or_else(|| Error::Query(format!("COLUMNS: there is no column {name}")))?);
            }
            chosen
        }
        _ => {
            return Err(Error::Query(format!(
                "{call} is not supported: write COLUMNS(*), COLUMNS(* EXCLUDE (...)), COLUMNS('regex'), COLUMNS(c -> c LIKE 'a%') or COLUMNS(['a', 'b'])"
            )));
        }
    };
    if chosen.is_empty() {
        return Err(Error::Query(format!("{call} matches no column of the FROM clause")));
    }
    // Plain lower-case names unquoted, so that result columns are named `max(amount)`.
    let ident = |name: &str| {
        let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if plain { Ident::new(name) } else { Ident::with_quote('"', name) }
    };
    Ok(chosen
        .into_iter()
        .map(|(relation, name)| {
            if let Some((_, replacement)) = replaced.iter().find(|(column, _)| column.eq_ignore_ascii_case(name)) {
                return (name.clone(), Expr::Nested(Box::new(replacement.clone())));
            }
            let shared = columns.iter().filter(|(_, other)| other == name).count() > 1;
            let reference = match relation {
                Some(relation) if shared => Expr::CompoundIdentifier(vec![Ident::new(relation.clone()), ident(name)]),
                _ => Expr::Identifier(ident(name)),
            };
            (name.clone(), reference)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::parser::Parser;

    fn expanded_sql(sql: &str, columns: &[(&str, &str)]) -> String {
        let columns: Vec<SourceColumn> = columns.iter().map(|(r, c)| (Some(r.to_string()), c.to_string())).collect();
        let mut statement =
            Parser::parse_sql(&crate::engine::compat::parse::dialect::DuckDbCompatDialect, sql).unwrap().remove(0);
        expand_columns(&mut statement, &columns).unwrap();
        statement.to_string()
    }

    #[test]
    fn columns_become_one_item_per_match() {
        let cols = [("a", "user_id"), ("a", "map_id"), ("a", "amount")];
        assert_eq!(expanded_sql("SELECT COLUMNS('_id$') FROM a", &cols), "SELECT user_id, map_id FROM a");
        assert_eq!(
            expanded_sql("SELECT max(COLUMNS(['amount'])) FROM a WHERE COLUMNS('id') IS NOT NULL", &cols),
            "SELECT max(amount) AS \"amount\" FROM a WHERE user_id IS NOT NULL AND map_id IS NOT NULL"
        );
        let statement = Parser::parse_sql(
            &crate::engine::compat::parse::dialect::DuckDbCompatDialect,
            "SELECT COLUMNS('x') FROM a",
        );
        let mut statement = statement.unwrap().remove(0);
        let columns = [(None, "amount".to_string())];
        assert!(expand_columns(&mut statement, &columns).unwrap_err().to_string().contains("matches no column"));
        let statement = Parser::parse_sql(
            &crate::engine::compat::parse::dialect::DuckDbCompatDialect,
            "SELECT * REPLACE (COLUMNS('id') AS amount) FROM a",
        );
        let mut statement = statement.unwrap().remove(0);
        assert!(expand_columns(&mut statement, &columns).unwrap_err().to_string().contains("write it there"));
        assert_eq!(
            expanded_sql("SELECT COLUMNS(* EXCLUDE (map_id) REPLACE (amount + 1 AS amount)) FROM a", &cols),
            "SELECT user_id, (amount + 1) AS \"amount\" FROM a"
        );
    }
}
