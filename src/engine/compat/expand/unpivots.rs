//! DuckDB's `UNPIVOT t ON a, b [INTO NAME n VALUE v]` (`ON COLUMNS(...)` too): a row per column
//! of `ON` and row of `t` whose value is not NULL, holding `t`'s other columns, the column's
//! name (`name` unless `INTO NAME` says) and its value (`value`).
//!
//! As with PIVOT, its text is first a SELECT of markers (`__unpivot_on(a)`, one per column once
//! `COLUMNS(...)` is expanded, and `__unpivot_into('n', 'v')`); the engine then learns `t`'s
//! columns ([`unpivot_probe`]) and [`expand_unpivot`] writes the UNION ALL of one SELECT per
//! column.

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, Select, SelectItem, SetExpr, SetOperator, SetQuantifier, Statement, Value, ValueWithSpan,
};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;

use crate::engine::compat::ast::text;
use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
use crate::engine::compat::parse::markers::{Clauses, edit_first_marked, first_marked, marker_args, split_top_level};
use crate::error::{Error, Result};

const ON: &str = "__unpivot_on";
const INTO: &str = "__unpivot_into";

/// The clauses of one UNPIVOT (the text after the word) as a SELECT of markers.
pub(crate) fn marked_select(unpivot: &str) -> Result<String> {
    let bad =
        |why: &str| Error::Query(format!("UNPIVOT: {why} (write UNPIVOT table ON a, b INTO NAME name VALUE value)"));
    let clauses = Clauses::read(unpivot, |word, by, seen| match word {
        Keyword::ON if seen.is_empty() => Some("ON"),
        Keyword::INTO if seen.last() == Some(&"ON") => Some("INTO"),
        Keyword::ORDER if by => Some("ORDER BY"),
        Keyword::LIMIT => Some("LIMIT"),
        _ => None,
    })
    .ok_or_else(|| bad("the text does not read as SQL"))?;
    let source = clauses.subject("ON").ok_or_else(|| bad("it needs the table to unpivot, then ON"))?;
    let columns = split_top_level(&clauses.body("ON").unwrap_or_default());
    if columns.is_empty() {
        return Err(bad("ON names no column"));
    }
    let (name, value) = match clauses.body("INTO") {
        None => ("name".to_string(), "value".to_string()),
        Some(into) => match into.split_whitespace().collect::<Vec<_>>().as_slice() {
            [n, name, v, value] if n.eq_ignore_ascii_case("name") && v.eq_ignore_ascii_case("value") => {
                (name.trim_matches('"').to_string(), value.trim_matches('"').to_string())
            }
            _ => return Err(bad("INTO takes NAME name VALUE value")),
        },
    };
    let tail: Vec<String> =
        ["ORDER BY", "LIMIT"].iter().filter_map(|c| clauses.body(c).map(|body| format!("{c} {body}"))).collect();
    let items: Vec<String> = columns.iter().map(|c| format!("{ON}({c})")).collect();
    let select = format!(
        "SELECT {}, {INTO}('{}', '{}') FROM {source} {}",
        items.join(", "),
        name.replace('\'', "''"),
        value.replace('\'', "''"),
        tail.join(" ")
    );
    Ok(select.trim_end().to_string())
}

fn is_marked(select: &Select) -> bool {
    select.projection.iter().any(|item| marker_args(item, INTO).is_some())
}

/// `SELECT * FROM` the first UNPIVOT's table, to learn its columns; `None` without one (or
/// while its `COLUMNS(...)` waits to be expanded).
pub(crate) fn unpivot_probe(statement: &Statement) -> Option<Statement> {
    let select = first_marked(statement, is_marked)?;
    if select.projection.iter().any(crate::engine::compat::ast::mentions_columns) {
        return None;
    }
    let mut probe = Parser::new(&DuckDbCompatDialect).try_with_sql("SELECT * FROM t").ok()?.parse_query().ok()?;
    if let SetExpr::Select(s) = probe.body.as_mut() {
        s.from = select.from.clone();
    }
    if let Statement::Query(outer) = statement {
        probe.with = outer.with.clone();
    }
    Some(Statement::Query(probe))
}

/// The first UNPIVOT written out over `columns` (those of its table).
pub(crate) fn expand_unpivot(statement: &mut Statement, columns: &[String]) -> Result<()> {
    edit_first_marked(statement, is_marked, &mut |query| {
        let SetExpr::Select(select) = query.body.as_ref() else { return Ok(()) };
        *query.body = expanded(select, columns)?;
        Ok(())
    })
}

/// `SELECT <other columns>, 'a' AS name, a AS value FROM t WHERE a IS NOT NULL UNION ALL ...`.
fn expanded(select: &Select, columns: &[String]) -> Result<SetExpr> {
    let names = |e: &Expr| match e {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
        _ => None,
    };
    let unpivoted: Vec<(Expr, String)> = select
        .projection
        .iter()
        .filter_map(|item| marker_args(item, ON))
        .map(|args| match args.as_slice() {
            [column] => names(column)
                .map(|n| (column.clone(), n))
                .ok_or_else(|| Error::Query(format!("UNPIVOT: ON takes columns, not {column}"))),
            _ => Err(Error::Query("UNPIVOT: ON takes columns".into())),
        })
        .collect::<Result<_>>()?;
    let into = select.projection.iter().find_map(|item| marker_args(item, INTO)).unwrap_or_default();
    let label = |i: usize, default: &str| match into.get(i) {
        Some(Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(s), .. })) => s.clone(),
        _ => default.to_string(),
    };
    let (name, value) = (label(0, "name"), label(1, "value"));
    let kept: Vec<&String> =
        columns.iter().filter(|c| !unpivoted.iter().any(|(_, n)| n.eq_ignore_ascii_case(c))).collect();
    let branches = unpivoted.iter().map(|(column, column_name)| {
        let mut branch = select.clone();
        branch.projection =
            kept.iter().map(|c| SelectItem::UnnamedExpr(Expr::Identifier(Ident::with_quote('"', *c)))).collect();
        branch
            .projection
            .push(SelectItem::ExprWithAlias { expr: text(column_name), alias: Ident::with_quote('"', &name) });
        branch
            .projection
            .push(SelectItem::ExprWithAlias { expr: column.clone(), alias: Ident::with_quote('"', &value) });
        let present = Expr::IsNotNull(Box::new(column.clone()));
        branch.selection = Some(match branch.selection.take() {
            Some(w) => Expr::BinaryOp {
                left: Box::new(w),
                op: datafusion::sql::sqlparser::ast::BinaryOperator::And,
                right: Box::new(present),
            },
            None => present,
        });
        SetExpr::Select(Box::new(branch))
    });
    branches
        .reduce(|left, right| SetExpr::SetOperation {
            op: SetOperator::Union,
            set_quantifier: SetQuantifier::All,
            left: Box::new(left),
            right: Box::new(right),
        })
        .ok_or_else(|| Error::Query("UNPIVOT: ON names no column".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unpivot_reads_as_a_select_of_markers() {
        assert_eq!(
            marked_select(" t ON x, y INTO NAME c VALUE v ORDER BY k").unwrap(),
            "SELECT __unpivot_on(x), __unpivot_on(y), __unpivot_into('c', 'v') FROM t ORDER BY k"
        );
        assert_eq!(
            marked_select(" (SELECT * FROM t) ON COLUMNS(* EXCLUDE (k))").unwrap(),
            "SELECT __unpivot_on(COLUMNS(* EXCLUDE (k))), __unpivot_into('name', 'value') FROM (SELECT * FROM t)"
        );
        // The table's own ON (a join inside it) is not the UNPIVOT's.
        assert_eq!(
            marked_select(" (SELECT a.k, b.x FROM a JOIN b ON a.k = b.k) ON x").unwrap(),
            "SELECT __unpivot_on(x), __unpivot_into('name', 'value') FROM (SELECT a.k, b.x FROM a JOIN b ON a.k = b.k)"
        );
        assert!(marked_select(" t USING x").is_err());
        assert!(marked_select(" t ON x INTO NAME n").is_err());
    }
}
