//! DuckDB's recursive CTEs with `USING KEY`: `WITH RECURSIVE t(k, v) USING KEY (k) AS (A UNION
//! ALL B)` keeps one row per key, the one the latest iteration gave, while each iteration reads
//! the rows the one before it gave; with aggregates in the key (`USING KEY (k, max(v))`) a column
//! is that aggregate over every row the key had. The parser has no USING KEY, and each iteration
//! reading the rows before it is what a recursive CTE with UNION ALL does; so the CTE is written
//! as one that numbers its iterations (`__t_steps`), and `t` as its last row of each key (or its
//! aggregates, grouped by the key):
//!
//! `WITH RECURSIVE __t_steps(k, v, __step) AS (SELECT __static.*, 0 FROM (A) AS __static UNION
//! ALL <B reading __t_steps AS t, with t.__step + 1>), t(k, v) AS (SELECT * EXCLUDE (__step) FROM
//! __t_steps QUALIFY row_number() OVER (PARTITION BY k ORDER BY __step DESC) = 1)`.
//!
//! What that form cannot say — `recurring.t` (the rows kept so far) and UNION without ALL (an
//! iteration reads only the keys whose row changed) — the engine computes iteration by
//! iteration (`expand::recursions`): such a CTE keeps its query, after a marker CTE
//! `__using_key_N AS (SELECT '<the key list>')`.

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, SelectItem, SetExpr, SetOperator, SetQuantifier, TableAlias, TableFactor,
};
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
use crate::engine::compat::parse::tokens::{Edit, closing_paren, is_word, offsets, opening_paren};
use crate::error::{Error, Result};

pub(crate) fn keyed_recursions(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    let upper = sql.to_ascii_uppercase();
    if !upper.contains("KEY") || !upper.contains("RECURSIVE") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let text = |from: usize, to: usize| &sql[offset(tokens[from].span.start)..offset(tokens[to].span.end)];
    let mut edits = Vec::new();
    for i in 1..tokens.len().saturating_sub(2) {
        if !is_word(tokens, i, "using") || !is_word(tokens, i + 1, "key") || tokens[i + 2].token != Token::LParen {
            continue;
        }
        let refused = |why: &str| Error::Query(format!("recursive CTEs with USING KEY: {why}"));
        // The CTE's name and column list before USING KEY.
        let (name_at, columns) = if tokens[i - 1].token == Token::RParen {
            let open = opening_paren(tokens, i - 1).ok_or_else(|| refused("its column list is not closed"))?;
            let names: Vec<String> = tokens[open + 1..i - 1]
                .iter()
                .filter_map(|t| match &t.token {
                    // As written (quoted or not), to be written again.
                    Token::Word(w) => Some(w.to_string()),
                    _ => None,
                })
                .collect();
            (open.checked_sub(1).ok_or_else(|| refused("it has no name"))?, Some(names))
        } else {
            (i - 1, None)
        };
        let Token::Word(name) = &tokens[name_at].token else { return Err(refused("it has no name")) };
        let name = name.value.clone();
        let key_close = closing_paren(tokens, i + 2).ok_or_else(|| refused("its key list is not closed"))?;
        let body_open = key_close + 2;
        if !is_word(tokens, key_close + 1, "as") || tokens.get(body_open).map(|t| &t.token) != Some(&Token::LParen) {
            return Err(refused("write name(columns) USING KEY (key) AS (query)"));
        }
        let body_close = closing_paren(tokens, body_open).ok_or_else(|| refused("its query is not closed"))?;
        if key_close == i + 3 || body_close == body_open + 1 {
            return Err(refused("write a key column and a query: name(columns) USING KEY (key) AS (query)"));
        }
        let key_list = text(i + 3, key_close - 1);
        let keys = key_items(key_list)?;
        let body = text(body_open + 1, body_close - 1);
        if iterated(body)? {
            let marker = format!("{KEY_MARKER}{} AS (SELECT '{}')", edits.len(), key_list.replace('\'', "''"));
            let cte = format!("{} AS ({body})", text(name_at, i - 1));
            edits.push((
                offset(tokens[name_at].span.start),
                offset(tokens[body_close].span.end),
                format!("{marker}, {cte}"),
            ));
            continue;
        }
        let steps = format!("__{name}_steps");
        let recursion = numbered_steps(body, &name, &steps)?;
        let listed = |extra: &str| match &columns {
            Some(columns) => format!("({}{extra})", columns.join(", ")),
            None => String::new(),
        };
        let last = last_of_each_key(&keys, columns.as_deref(), &steps)?;
        let replacement = format!("{steps}{} AS ({recursion}), {name}{} AS ({last})", listed(", __step"), listed(""));
        edits.push((offset(tokens[name_at].span.start), offset(tokens[body_close].span.end), replacement));
    }
    Ok(edits)
}

/// The name that starts a marker CTE: the CTE after it is keyed by the list its SELECT holds.
pub(crate) const KEY_MARKER: &str = "__using_key_";

/// Whether a keyed CTE's query (`body`) needs the engine's iterations: it reads `recurring.t`,
/// or joins its start and step with UNION (not ALL).
fn iterated(body: &str) -> Result<bool> {
    let lower = body.to_ascii_lowercase();
    // DuckDB compares the keys by their collation, which the iterations cannot carry.
    if lower.contains("collate") {
        return Err(Error::Query(
            "recursive CTEs with USING KEY: COLLATE in its query is not supported: key on lower(k) instead".into(),
        ));
    }
    if lower.contains("recurring.") {
        return Ok(true);
    }
    let query =
        Parser::new(&DuckDbCompatDialect).try_with_sql(body).and_then(|mut p| p.parse_query()).map_err(|e| {
            Error::Query(format!(
                "recursive CTEs with USING KEY: its query does not parse: {}",
                crate::error::one_line(&e.to_string())
            ))
        })?;
    Ok(matches!(query.body.as_ref(), SetExpr::SetOperation { op: SetOperator::Union, set_quantifier, .. }
        if !matches!(set_quantifier, SetQuantifier::All)))
}

/// One item of a USING KEY list: a key column, or an aggregate and the column it computes (names
/// as written, quoted or not).
pub(crate) enum KeyItem {
    Key(String),
    Aggregate { call: String, column: String },
}

pub(crate) fn key_items(list: &str) -> Result<Vec<KeyItem>> {
    let select = crate::engine::compat::parse::parsed_select(&format!("SELECT {list}")).map_err(|e| {
        Error::Query(format!("recursive CTEs with USING KEY: the key list ({list}) does not parse: {e}"))
    })?;
    select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(Expr::Identifier(column)) => Ok(KeyItem::Key(column.to_string())),
            SelectItem::UnnamedExpr(Expr::Function(f)) => {
                let args = crate::engine::compat::ast::plain_args(f).unwrap_or_default();
                match args.first() {
                    Some(Expr::Identifier(column)) => {
                        Ok(KeyItem::Aggregate { call: f.to_string(), column: column.to_string() })
                    }
                    _ => Err(Error::Query(format!(
                        "recursive CTEs with USING KEY: name the column {f} computes: {f} AS column"
                    ))),
                }
            }
            SelectItem::ExprWithAlias { expr: expr @ Expr::Function(_), alias } => {
                Ok(KeyItem::Aggregate { call: expr.to_string(), column: alias.to_string() })
            }
            other => Err(Error::Query(format!(
                "recursive CTEs with USING KEY: {other} is not a key column or an aggregate of one"
            ))),
        })
        .collect()
}

/// The CTE's query with its iterations numbered: the static part as step 0, the recursive part
/// reading `steps` (under the CTE's name) and giving the step after the one it reads.
fn numbered_steps(body: &str, name: &str, steps: &str) -> Result<String> {
    let refused = |why: String| Error::Query(format!("recursive CTEs with USING KEY: {why}"));
    let mut query = Parser::new(&DuckDbCompatDialect)
        .try_with_sql(body)
        .and_then(|mut p| p.parse_query())
        .map_err(|e| refused(format!("its query does not parse: {e}")))?;
    let SetExpr::SetOperation { op: SetOperator::Union, left, right, .. } = query.body.as_mut() else {
        return Err(refused("its query must be a start UNION [ALL] a step".into()));
    };
    let SetExpr::Select(step) = right.as_mut() else {
        return Err(refused("the step after UNION ALL must be one SELECT".into()));
    };
    let mut readers = Vec::new();
    for table in &mut step.from {
        for factor in std::iter::once(&mut table.relation).chain(table.joins.iter_mut().map(|j| &mut j.relation)) {
            if let TableFactor::Table { name: table_name, alias, .. } = factor
                && table_name.to_string().trim_matches('"').eq_ignore_ascii_case(name)
            {
                let reader = alias.as_ref().map_or_else(|| name.to_string(), |a| a.name.value.clone());
                *table_name = ObjectName::from(vec![Ident::new(steps)]);
                if alias.is_none() {
                    *alias = Some(TableAlias { explicit: true, name: Ident::new(name), columns: Vec::new(), at: None });
                }
                readers.push(reader);
            }
        }
    }
    let [reader] = readers.as_slice() else {
        return Err(refused(format!("the step must read {name} exactly once in its FROM clause")));
    };
    let next = Parser::new(&DuckDbCompatDialect)
        .try_with_sql(&format!("{reader}.__step + 1"))
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| refused(e.to_string()))?;
    step.projection.push(SelectItem::UnnamedExpr(next));
    let start = format!("SELECT __static.*, 0 AS __step FROM ({left}) AS __static");
    Ok(format!("{start} UNION ALL {right}"))
}

/// The rows `t` holds: the last of each key, or the key's aggregates (the other columns the last
/// value).
fn last_of_each_key(keys: &[KeyItem], columns: Option<&[String]>, steps: &str) -> Result<String> {
    let key_columns: Vec<&str> = keys
        .iter()
        .filter_map(|k| match k {
            KeyItem::Key(column) => Some(column.as_str()),
            KeyItem::Aggregate { .. } => None,
        })
        .collect();
    if key_columns.is_empty() {
        return Err(Error::Query("recursive CTEs with USING KEY: the key list needs a key column".into()));
    }
    let aggregates: Vec<(&str, &str)> = keys
        .iter()
        .filter_map(|k| match k {
            KeyItem::Aggregate { call, column } => Some((column.as_str(), call.as_str())),
            KeyItem::Key(_) => None,
        })
        .collect();
    if aggregates.is_empty() {
        return Ok(format!(
            "SELECT * EXCLUDE (__step) FROM {steps} QUALIFY row_number() OVER (PARTITION BY {} ORDER BY __step DESC) = 1",
            key_columns.join(", ")
        ));
    }
    let Some(columns) = columns else {
        return Err(Error::Query(
            "recursive CTEs with USING KEY and aggregates: list the CTE's columns (name(a, b) USING KEY ...)".into(),
        ));
    };
    let same = |a: &str, b: &str| a.trim_matches('"').eq_ignore_ascii_case(b.trim_matches('"'));
    let items: Vec<String> = columns
        .iter()
        .map(|column| {
            if key_columns.iter().any(|k| same(k, column)) {
                column.clone()
            } else if let Some((_, call)) = aggregates.iter().find(|(c, _)| same(c, column)) {
                format!("{call} AS {column}")
            } else {
                // DuckDB's LAST: the latest row's value, NULL included.
                format!("last({column} ORDER BY __step) AS {column}")
            }
        })
        .collect();
    Ok(format!("SELECT {} FROM {steps} GROUP BY {}", items.join(", "), key_columns.join(", ")))
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::parse::prepared;

    #[test]
    fn keyed_recursions_number_their_steps_and_keep_the_last_row_of_each_key() {
        assert_eq!(
            prepared(
                "WITH RECURSIVE t(k, v) USING KEY (k) AS (SELECT 1, 0 UNION ALL SELECT k, v + 1 FROM t WHERE v < 3) TABLE t"
            ),
            "WITH RECURSIVE __t_steps(k, v, __step) AS (SELECT __static.*, 0 AS __step FROM (SELECT 1, 0) AS __static \
             UNION ALL SELECT k, v + 1, t.__step + 1 FROM __t_steps AS t WHERE v < 3), t(k, v) AS (SELECT * EXCLUDE \
             (__step) FROM __t_steps QUALIFY row_number() OVER (PARTITION BY k ORDER BY __step DESC) = 1) SELECT * FROM t"
        );
        assert!(
            prepared("WITH RECURSIVE t(a, b) USING KEY (a, max(b)) AS (SELECT 1, 5 UNION ALL SELECT a, b - 1 FROM t n WHERE b > 0) TABLE t")
                .contains("t(a, b) AS (SELECT a, max(b) AS b FROM __t_steps GROUP BY a)")
        );
    }

    #[test]
    fn quoted_columns_are_written_as_quoted() {
        assert!(
            prepared("WITH RECURSIVE t(\"K\", v) USING KEY (\"K\", max(v)) AS (SELECT 1, 5 UNION ALL SELECT \"K\", v - 1 FROM t WHERE v > 0) TABLE t")
                .contains("t(\"K\", v) AS (SELECT \"K\", max(v) AS v FROM __t_steps GROUP BY \"K\")")
        );
    }

    #[test]
    fn union_and_recurring_keep_their_query_after_a_marker_of_the_keys() {
        assert_eq!(
            prepared("WITH RECURSIVE t(k) USING KEY (k, max(v) AS 'v') AS (SELECT 1 UNION SELECT k FROM t) TABLE t"),
            "WITH RECURSIVE __using_key_0 AS (SELECT 'k, max(v) AS ''v'''), t(k) AS (SELECT 1 UNION SELECT k FROM t) \
             SELECT * FROM t"
        );
        assert!(
            prepared("WITH RECURSIVE t(k) USING KEY (k) AS (SELECT 1 UNION ALL SELECT k FROM recurring.t) TABLE t")
                .starts_with("WITH RECURSIVE __using_key_0 AS (SELECT 'k'), t(k) AS (SELECT 1 UNION ALL")
        );
    }

    #[test]
    fn empty_lists_are_refused() {
        for empty in [
            "WITH RECURSIVE t(k) USING KEY () AS (SELECT 1) TABLE t",
            "WITH RECURSIVE t(k) USING KEY (k) AS () TABLE t",
        ] {
            let mut text = crate::engine::compat::parse::tokens::Text::new(empty);
            assert!(crate::engine::compat::parse::prepare(&mut text).is_err(), "{empty}");
        }
    }
}
