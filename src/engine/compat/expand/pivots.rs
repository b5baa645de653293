//! DuckDB's `PIVOT t ON col [IN (...)] [USING agg(x) [AS name], ...] [GROUP BY ...]` (as a
//! statement or a subquery): a column per value of `col` (per combination of values for several
//! `ON` columns, joined with `_`), each the aggregate over that value's rows, grouped by the
//! `GROUP BY` columns (without one, by every column of `t` the pivot does not use).
//!
//! The parser does not know the statement, so its text is first written as a SELECT holding
//! markers ([`super::pivot_statements`]); the engine then runs [`PivotProbes`] — each `ON`
//! column's values, and the table's columns where the grouping is implicit — and
//! [`expand_pivot`] writes the aggregates with their filters.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Ident, Query, Select, SelectItem, SetExpr, Statement, Value, ValueWithSpan,
};
use datafusion::sql::sqlparser::parser::Parser;

use crate::engine::compat::ast::{call, text};
use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
use crate::engine::compat::parse::markers::{
    edit_first_marked, first_marked, marker_args, reads_markers, unmarked_ctes,
};
use crate::error::{Error, Result};

use super::pivot_statements::{IN, NAMED, ON, USING};

/// order), and the table's columns when the pivot groups by all the others.
pub(crate) struct PivotProbes {
    pub(crate) values: Vec<Statement>,
    pub(crate) columns: Option<Statement>,
}

/// A SELECT of markers to write out (once the pivots it reads are: `PIVOT (PIVOT ...) ON ...`).
fn is_marked(select: &Select) -> bool {
    select.projection.iter().any(|item| marker_args(item, ON).is_some()) && !reads_markers(&select.from)
}

/// A query over the pivot's table, from a template whose `__pivot_source` is replaced by it.
fn over_source(template: &str, select: &Select, statement: &Statement) -> Option<Statement> {
    let mut query = Parser::new(&DuckDbCompatDialect).try_with_sql(template).ok()?.parse_query().ok()?;
    query.with = unmarked_ctes(statement, is_marked);
    // The template's innermost SELECT reads the table.
    fn read_source(query: &mut Query, from: &[datafusion::sql::sqlparser::ast::TableWithJoins]) -> bool {
        let SetExpr::Select(s) = query.body.as_mut() else { return false };
        if let Some(datafusion::sql::sqlparser::ast::TableFactor::Derived { subquery, .. }) =
            s.from.first_mut().map(|f| &mut f.relation)
        {
            return read_source(subquery, from);
        }
        s.from = from.to_vec();
        true
    }
    if !read_source(&mut query, &select.from) {
        return None;
    }
    Some(Statement::Query(query))
}

/// The values each ON column's `__pivot_in(i, ...)` lists, by column.
fn listed_values(select: &Select, columns: usize) -> Vec<Option<Vec<Expr>>> {
    let mut lists = vec![None; columns];
    for args in select.projection.iter().filter_map(|i| marker_args(i, IN)) {
        if let Some((Expr::Value(ValueWithSpan { value: Value::Number(i, _), .. }), values)) = args.split_first()
            && let Some(list) = i.parse::<usize>().ok().and_then(|i| lists.get_mut(i))
        {
            *list = Some(values.to_vec());
        }
    }
    lists
}

/// The probes a statement's first pivot needs, if it has one: the values of each ON column that
/// lists none (or lists them with a subquery, whose order they keep).
pub(crate) fn pivot_probes(statement: &Statement) -> Option<PivotProbes> {
    let select = first_marked(statement, is_marked)?;
    let on = select.projection.iter().find_map(|i| marker_args(i, ON))?;
    let mut values = Vec::new();
    for (column, list) in on.iter().zip(listed_values(&select, on.len())) {
        match list.as_deref() {
            Some([Expr::Subquery(query)]) => {
                let sql = format!("SELECT varchar_text(__value) FROM ({query}) AS __values(__value)");
                let mut probe = Parser::new(&DuckDbCompatDialect).try_with_sql(&sql).ok()?.parse_query().ok()?;
                probe.with = unmarked_ctes(statement, is_marked);
                values.push(Statement::Query(probe));
            }
            Some(_) => {}
            None => {
                let template = "SELECT varchar_text(__value) FROM (SELECT DISTINCT NULL AS __value FROM __pivot_source) AS __values WHERE __value IS NOT NULL ORDER BY __value";
                let mut probe = over_source(template, &select, statement)?;
                replace_null(&mut probe, column);
                values.push(probe);
            }
        }
    }
    let implicit = matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty());
    let columns = if implicit { over_source("SELECT * FROM __pivot_source", &select, statement) } else { None };
    Some(PivotProbes { values, columns })
}

/// The template's `NULL AS __value` made the `ON` column.
fn replace_null(probe: &mut Statement, column: &Expr) {
    // In the template's own body: the CTEs before it may hold NULLs of their own.
    let Statement::Query(query) = probe else { return };
    let _ = crate::engine::compat::ast::each_expr_mut(query.body.as_mut(), |e: &mut Expr| {
        if matches!(e, Expr::Value(ValueWithSpan { value: Value::Null, .. })) {
            *e = column.clone();
            return ControlFlow::Break(None);
        }
        ControlFlow::Continue(())
    });
}

/// The first pivot written out: `values` are each `ON` column's (empty when the pivot lists
/// them), `columns` the table's (when it groups by the columns it does not use).
/// `is_aggregate` tells the aggregates among the functions of a `USING` expression
/// (`round(avg(x), 1)`): each takes the value's filter.
pub(crate) fn expand_pivot(
    statement: &mut Statement,
    values: &[Vec<String>],
    columns: &[String],
    is_aggregate: &dyn Fn(&str) -> bool,
) -> Result<()> {
    edit_first_marked(statement, is_marked, &mut |query| match query.body.as_mut() {
        SetExpr::Select(select) => expand(select, values, columns, is_aggregate),
        _ => Ok(()),
    })
}

fn expand(
    select: &mut Select,
    values: &[Vec<String>],
    columns: &[String],
    is_aggregate: &dyn Fn(&str) -> bool,
) -> Result<()> {
    let find = |name: &str| select.projection.iter().find_map(|i| marker_args(i, name));
    let on = find(ON).unwrap_or_default();
    let aggregates: Vec<(Expr, String, bool)> = select
        .projection
        .iter()
        .filter_map(|i| marker_args(i, USING))
        .filter_map(|args| match args.as_slice() {
            [
                agg,
                Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(name), .. }),
                Expr::Value(ValueWithSpan { value: Value::Boolean(aliased), .. }),
            ] => Some((agg.clone(), name.clone(), *aliased)),
            _ => None,
        })
        .collect();
    // Each ON column's values (the text to match, none for NULL, and the column's name): as
    // listed, or as found.
    let mut found = values.iter();
    let mut per_column: Vec<Vec<(Option<String>, String)>> = Vec::new();
    for list in listed_values(select, on.len()) {
        per_column.push(match list.as_deref() {
            Some(list) if !matches!(list, [Expr::Subquery(_)]) => list.iter().map(listed_value).collect(),
            _ => found.next().map(|v| v.iter().map(|t| (Some(t.clone()), t.clone())).collect()).unwrap_or_default(),
        });
    }
    let mut combinations: Vec<Vec<(Option<String>, String)>> = vec![vec![]];
    for column_values in &per_column {
        combinations = combinations
            .iter()
            .flat_map(|c| column_values.iter().map(move |v| [c.clone(), vec![v.clone()]].concat()))
            .collect();
    }
    let mut items: Vec<SelectItem> = select
        .projection
        .iter()
        .filter(|i| [ON, IN, USING].iter().all(|m| marker_args(i, m).is_none()))
        .cloned()
        .collect();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    if matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty()) {
        let used = used_columns(&on, &aggregates);
        let grouped: Vec<Expr> = columns
            .iter()
            .filter(|c| !used.contains(&c.to_lowercase()))
            .map(|c| Expr::Identifier(Ident::with_quote('"', c)))
            .collect();
        items.extend(grouped.iter().cloned().map(SelectItem::UnnamedExpr));
        select.group_by = GroupByExpr::Expressions(grouped, vec![]);
    }
    for combination in &combinations {
        let condition = on
            .iter()
            .zip(combination)
            .map(|(column, (value, _))| match value {
                Some(value) => Expr::BinaryOp {
                    left: Box::new(call("varchar_text", vec![column.clone()])),
                    op: BinaryOperator::Eq,
                    right: Box::new(text(value)),
                },
                None => Expr::IsNull(Box::new(column.clone())),
            })
            .reduce(|a, b| Expr::BinaryOp { left: Box::new(a), op: BinaryOperator::And, right: Box::new(b) });
        let value_name = combination.iter().map(|(_, name)| name.as_str()).collect::<Vec<_>>().join("_");
        for (aggregate, name, aliased) in &aggregates {
            let mut expr = aggregate.clone();
            let mut aggregated = false;
            let _ = crate::engine::compat::ast::each_expr_mut(&mut expr, |e: &mut Expr| {
                if let Expr::Function(f) = e
                    && is_aggregate(&f.name.to_string().to_lowercase())
                {
                    aggregated = true;
                    f.filter = match (f.filter.take(), condition.clone()) {
                        (Some(existing), Some(c)) => Some(Box::new(Expr::BinaryOp {
                            left: existing,
                            op: BinaryOperator::And,
                            right: Box::new(c),
                        })),
                        (existing, c) => existing.or(c.map(Box::new)),
                    };
                }
                ControlFlow::Continue(())
            });
            if !aggregated {
                return Err(Error::Query(format!(
                    "PIVOT: USING takes aggregates (sum(x), count(*), ...), not {aggregate}"
                )));
            }
            let column =
                if aggregates.len() == 1 && !aliased { value_name.clone() } else { format!("{value_name}_{name}") };
            // The same aggregate twice: DuckDB numbers the later ones (`0_sum(x)_1`).
            let repeats = seen.entry(column.clone()).or_insert(0usize);
            let column = if *repeats == 0 { column } else { format!("{column}_{repeats}") };
            *repeats += 1;
            items.push(SelectItem::ExprWithAlias { expr, alias: Ident::with_quote('"', column) });
        }
    }
    select.projection = items;
    Ok(())
}

/// A listed value: the text to match (none for NULL) and its column's name, as DuckDB names it
/// (a string's text, a number as written, the name after AS).
fn listed_value(value: &Expr) -> (Option<String>, String) {
    let literal = |value: &Expr| match value {
        Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(s), .. }) => Some(s.clone()),
        Expr::Value(ValueWithSpan { value: Value::Null, .. }) => None,
        other => Some(other.to_string()),
    };
    match value {
        Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case(NAMED) => {
            match crate::engine::compat::ast::positional_args(f).as_deref() {
                Some([value, Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(name), .. })]) => {
                    (literal(value), name.clone())
                }
                _ => (None, f.to_string()),
            }
        }
        other => {
            let matched = literal(other);
            let name = matched.clone().unwrap_or_else(|| "NULL".into());
            (matched, name)
        }
    }
}

/// The (lower-case) names of the columns the ON columns and the aggregates read.
fn used_columns(on: &[Expr], aggregates: &[(Expr, String, bool)]) -> Vec<String> {
    let mut used = Vec::new();
    let mut note = |e: &Expr| {
        match e {
            Expr::Identifier(i) => used.push(i.value.to_lowercase()),
            Expr::CompoundIdentifier(parts) => used.extend(parts.last().map(|i| i.value.to_lowercase())),
            _ => {}
        }
        ControlFlow::Continue(())
    };
    for e in on.iter().chain(aggregates.iter().map(|(a, ..)| a)) {
        let _ = crate::engine::compat::ast::each_expr(e, &mut note);
    }
    used
}
