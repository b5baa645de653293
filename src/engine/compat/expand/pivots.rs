//! DuckDB's `PIVOT t ON col [IN (...)] [USING agg(x) [AS name], ...] [GROUP BY ...]` (as a
//! statement or a subquery): a column per value of `col` (per combination of values for several
//! `ON` columns, joined with `_`), each the aggregate over that value's rows, grouped by the
//! `GROUP BY` columns (without one, by every column of `t` the pivot does not use).
//!
//! The parser does not know the statement, so its text is first written as a SELECT holding
//! markers (`__pivot_on(col)`, `__pivot_in(...)`, `__pivot_using(agg, 'name', aliased)`); the engine
//! then runs [`PivotProbes`] — each `ON` column's values, and the table's columns where the
//! grouping is implicit — and [`expand_pivot`] writes the aggregates with their filters.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Ident, Query, Select, SelectItem, SetExpr, Statement, Value, ValueWithSpan,
};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::ast::{call, text};
use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
use crate::engine::compat::parse::markers::{Clauses, edit_first_marked, first_marked, marker_args, split_top_level};
use crate::engine::compat::parse::tokens::{Edit, offsets};
use crate::error::{Error, Result};

const ON: &str = "__pivot_on";
const IN: &str = "__pivot_in";
const USING: &str = "__pivot_using";

/// `sql` with each PIVOT and UNPIVOT (a statement's first word, or just after a `(`) written as
/// a SELECT of markers; `sql` itself when it has none.
pub(crate) fn pivots_as_selects(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("pivot") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let is_pivot =
        |i: usize| matches!(&tokens[i].token, Token::Word(w) if matches!(w.keyword, Keyword::PIVOT | Keyword::UNPIVOT));
    // A PIVOT starts a statement (or its query, after the CTEs: `WITH u AS (...) PIVOT u ...`)
    // or a subquery.
    let after_cte = |i: usize| {
        let mut depth = 0;
        for j in (0..i).rev() {
            match tokens[j].token {
                Token::RParen => depth += 1,
                Token::LParen if depth == 1 => {
                    return j > 0 && matches!(&tokens[j - 1].token, Token::Word(w) if w.keyword == Keyword::AS);
                }
                Token::LParen => depth -= 1,
                _ if depth == 0 => return false,
                _ => {}
            }
        }
        false
    };
    let starts = |i: usize| i == 0 || matches!(tokens[i - 1].token, Token::LParen | Token::SemiColon) || after_cte(i);
    let mut edits = Vec::new();
    for i in (0..tokens.len()).filter(|&i| is_pivot(i) && starts(i)) {
        // The pivot ends at the `)` closing the bracket it opens in, or at the statement's end.
        let mut depth = 0i32;
        let mut end = sql.len();
        for t in &tokens[i + 1..] {
            match t.token {
                Token::LParen => depth += 1,
                Token::RParen if depth == 0 => {
                    end = offset(t.span.start);
                    break;
                }
                Token::RParen => depth -= 1,
                Token::SemiColon if depth == 0 => {
                    end = offset(t.span.start);
                    break;
                }
                _ => {}
            }
        }
        let start = offset(tokens[i].span.start);
        let select = match &tokens[i].token {
            Token::Word(w) if w.keyword == Keyword::UNPIVOT => {
                crate::engine::compat::expand::unpivots::marked_select(&sql[start + "unpivot".len()..end])?
            }
            _ => marked_select(&sql[start + "pivot".len()..end])?,
        };
        edits.push((start, end, select));
    }
    Ok(edits)
}

/// The clauses of one PIVOT (the text after the word) as a SELECT of markers.
fn marked_select(pivot: &str) -> Result<String> {
    let bad = |why: &str| Error::Query(format!("PIVOT: {why} (write PIVOT table ON column USING sum(x) GROUP BY y)"));
    let clauses = Clauses::read(pivot, |word, by, seen| match word {
        Keyword::ON if seen.is_empty() => Some("ON"),
        Keyword::IN if seen.last() == Some(&"ON") => Some("IN"),
        Keyword::USING => Some("USING"),
        Keyword::GROUP if by => Some("GROUP BY"),
        Keyword::ORDER if by => Some("ORDER BY"),
        Keyword::LIMIT => Some("LIMIT"),
        _ => None,
    })
    .ok_or_else(|| bad("the text does not read as SQL"))?;
    let source = clauses.subject("ON").ok_or_else(|| bad("it needs the table to pivot, then ON"))?;
    let body = |name: &str| clauses.body(name);
    let on = body("ON").unwrap_or_default();
    let mut items: Vec<String> = Vec::new();
    let groups = body("GROUP BY");
    items.extend(groups.clone());
    items.push(format!("{ON}({on})"));
    if let Some(values) = body("IN") {
        let values = values
            .trim()
            .strip_prefix('(')
            .and_then(|v| v.strip_suffix(')'))
            .ok_or_else(|| bad("IN takes a list in parentheses"))?;
        items.push(format!("{IN}({values})"));
    }
    let using = body("USING").unwrap_or_else(|| "count(*)".into());
    for aggregate in split_top_level(&using) {
        let (expr, name, aliased) = named(&aggregate);
        items.push(format!("{USING}({expr}, '{}', {aliased})", name.replace('\'', "''")));
    }
    let mut select = format!("SELECT {} FROM {source}", items.join(", "));
    for clause in ["GROUP BY", "ORDER BY", "LIMIT"] {
        if let Some(text) = body(clause) {
            select.push_str(&format!(" {clause} {text}"));
        }
    }
    Ok(select)
}

/// An aggregate and the name of its columns: its alias, or the aggregate as written
/// (whether the name is an alias: a lone unnamed aggregate's columns are the values alone).
fn named(aggregate: &str) -> (String, String, bool) {
    let lower = aggregate.to_ascii_lowercase();
    match lower.rfind(" as ") {
        Some(at) if !aggregate[at + 4..].contains(')') => {
            let alias = aggregate[at + 4..].trim().trim_matches('"').to_string();
            (aggregate[..at].trim().to_string(), alias, true)
        }
        _ => (aggregate.to_string(), aggregate.to_string(), false),
    }
}

/// What the engine runs before a pivot can be written: each `ON` column's values (as text, in
/// order), and the table's columns when the pivot groups by all the others.
pub(crate) struct PivotProbes {
    pub(crate) values: Vec<Statement>,
    pub(crate) columns: Option<Statement>,
}

fn is_marked(select: &Select) -> bool {
    select.projection.iter().any(|item| marker_args(item, ON).is_some())
}

/// A query over the pivot's table, from a template whose `__pivot_source` is replaced by it.
fn over_source(template: &str, select: &Select, statement: &Statement) -> Option<Statement> {
    let mut query = Parser::new(&DuckDbCompatDialect).try_with_sql(template).ok()?.parse_query().ok()?;
    if let Statement::Query(outer) = statement {
        query.with = outer.with.clone();
    }
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

/// The probes a statement's first pivot needs, if it has one.
pub(crate) fn pivot_probes(statement: &Statement) -> Option<PivotProbes> {
    let select = first_marked(statement, is_marked)?;
    let on = select.projection.iter().find_map(|i| marker_args(i, ON))?;
    let listed = select.projection.iter().any(|i| marker_args(i, IN).is_some());
    let values = if listed {
        Vec::new()
    } else {
        on.iter()
            .map(|column| {
                let template = "SELECT varchar_text(__value) FROM (SELECT DISTINCT NULL AS __value FROM __pivot_source) AS __values WHERE __value IS NOT NULL ORDER BY __value";
                let mut probe = over_source(template, &select, statement)?;
                replace_null(&mut probe, column);
                Some(probe)
            })
            .collect::<Option<Vec<_>>>()?
    };
    let implicit = matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty());
    let columns = if implicit { over_source("SELECT * FROM __pivot_source", &select, statement) } else { None };
    Some(PivotProbes { values, columns })
}

/// The template's `NULL AS __value` made the `ON` column.
fn replace_null(probe: &mut Statement, column: &Expr) {
    let _ = crate::engine::compat::ast::each_expr_mut(probe, |e: &mut Expr| {
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
    let listed = find(IN);
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
    // Each ON column's values: as listed, or as found.
    let per_column: Vec<Vec<String>> = match &listed {
        Some(list) if on.len() == 1 => vec![list.iter().map(literal_text).collect()],
        Some(_) => return Err(Error::Query("PIVOT: IN lists the values of one ON column only".into())),
        None => values.to_vec(),
    };
    let mut combinations: Vec<Vec<String>> = vec![vec![]];
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
            .map(|(column, value)| Expr::BinaryOp {
                left: Box::new(call("varchar_text", vec![column.clone()])),
                op: BinaryOperator::Eq,
                right: Box::new(text(value)),
            })
            .reduce(|a, b| Expr::BinaryOp { left: Box::new(a), op: BinaryOperator::And, right: Box::new(b) });
        let value_name = combination.join("_");
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
            items.push(SelectItem::ExprWithAlias { expr, alias: Ident::with_quote('"', column) });
        }
    }
    select.projection = items;
    Ok(())
}

/// A listed value as DuckDB names its column: a string's text, a number as written.
fn literal_text(value: &Expr) -> String {
    match value {
        Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(s), .. }) => s.clone(),
        other => other.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compat::parse::tokens::after;

    fn selects(sql: &str) -> Result<String> {
        after(pivots_as_selects, false, sql)
    }

    #[test]
    fn a_pivot_reads_as_a_select_of_markers() {
        assert_eq!(
            selects("PIVOT activity ON type USING count(*) AS n GROUP BY ts::DATE ORDER BY 1").unwrap(),
            "SELECT ts::DATE, __pivot_on(type), __pivot_using(count(*), 'n', true) FROM activity GROUP BY ts::DATE ORDER BY 1"
        );
        assert_eq!(
            selects("SELECT * FROM (PIVOT t ON y IN (2020, 2021) USING sum(x)) p").unwrap(),
            "SELECT * FROM (SELECT __pivot_on(y), __pivot_in(2020, 2021), __pivot_using(sum(x), 'sum(x)', false) FROM t) p"
        );
        assert_eq!(selects("SELECT 'pivot' AS p").unwrap(), "SELECT 'pivot' AS p");
        assert!(selects("PIVOT activity USING count(*)").is_err());
    }
}
