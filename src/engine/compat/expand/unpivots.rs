//! DuckDB's `UNPIVOT t ON a, b [INTO NAME n VALUE v]` (`ON COLUMNS(...)`, `ON * EXCLUDE (k)`,
//! renamed entries `a AS x`, and groups `(a, b), (c, d) INTO NAME n VALUE v1, v2` too): a row
//! per entry of `ON` and row of `t` whose values are not NULL (all of them, with `INCLUDE NULLS`,
//! the clause form's option), holding `t`'s other columns, the entry's name (`name` unless
//! `INTO NAME` says) and its values (`value`).
//!
//! As with PIVOT, its text is first a SELECT of markers (`__unpivot_on('x' or NULL, a, ...)`
//! per entry and `__unpivot_into(include_nulls, 'n', 'v', ...)`); the engine then learns `t`'s
//! columns ([`unpivot_probe`]) and [`expand_unpivot`] writes, row by row as DuckDB does,
//! `SELECT <other columns>, unnest(['a', 'b']) AS n, unnest([a, b]) AS v FROM t`.

use datafusion::sql::sqlparser::ast::{Expr, Select, SetExpr, Statement, TableFactor, Value, ValueWithSpan};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;

use crate::engine::compat::ast::is_columns_call;
use crate::engine::compat::expand::star_columns::{SourceColumn, expanded_columns};
use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
use crate::engine::compat::parse::markers::{
    Clauses, edit_first_marked, first_marked, marker_args, reads_markers, split_top_level, unmarked_ctes,
};
use crate::engine::compat::parse::tokens::{offsets, significant_tokens};
use crate::error::{Error, Result};

const ON: &str = "__unpivot_on";
const INTO: &str = "__unpivot_into";

fn bad(why: &str) -> Error {
    Error::Query(format!("UNPIVOT: {why} (write UNPIVOT table ON a, b INTO NAME name VALUE value)"))
}

/// The clauses of one UNPIVOT (the text after the word) as a SELECT of markers.
pub(crate) fn marked_select(unpivot: &str) -> Result<String> {
    let (include_nulls, unpivot) = nulls_option(unpivot);
    let clauses = Clauses::read(unpivot, |word, by, seen| match word {
        Keyword::ON if seen.is_empty() => Some("ON"),
        Keyword::INTO if seen.last() == Some(&"ON") => Some("INTO"),
        Keyword::ORDER if by => Some("ORDER BY"),
        Keyword::LIMIT => Some("LIMIT"),
        _ => None,
    })
    .ok_or_else(|| bad("the text does not read as SQL"))?;
    let source = clauses.subject("ON").ok_or_else(|| bad("it needs the table to unpivot, then ON"))?;
    let entries = split_top_level(&clauses.body("ON").unwrap_or_default());
    if entries.iter().all(|e| e.trim().is_empty()) {
        return Err(bad("ON names no column"));
    }
    let (name, values) = match clauses.body("INTO") {
        None => ("name".to_string(), vec!["value".to_string()]),
        Some(into) => into_names(&into).ok_or_else(|| bad("INTO takes NAME name VALUE value"))?,
    };
    let quoted = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let mut items: Vec<String> = entries.iter().map(|e| entry_marker(e)).collect::<Result<_>>()?;
    let labels: Vec<String> = std::iter::once(&name).chain(&values).map(|s| quoted(s)).collect();
    items.push(format!("{INTO}({include_nulls}, {})", labels.join(", ")));
    let tail: Vec<String> =
        ["ORDER BY", "LIMIT"].iter().filter_map(|c| clauses.body(c).map(|body| format!("{c} {body}"))).collect();
    let select = format!("SELECT {} FROM {source} {}", items.join(", "), tail.join(" "));
    Ok(select.trim_end().to_string())
}

/// `INCLUDE NULLS` or `EXCLUDE NULLS` before the table (the clause form's option), and the rest.
fn nulls_option(text: &str) -> (bool, &str) {
    let trimmed = text.trim_start();
    let mut words = trimmed.splitn(3, char::is_whitespace);
    match (words.next(), words.next()) {
        (Some(option), Some(nulls)) if nulls.eq_ignore_ascii_case("nulls") => {
            let rest = trimmed[option.len()..].trim_start()["nulls".len()..].trim_start();
            (option.eq_ignore_ascii_case("include"), rest)
        }
        _ => (false, text),
    }
}

/// `NAME n VALUE v1, v2` (or `VALUES`): the name column's and the value columns' names.
fn into_names(into: &str) -> Option<(String, Vec<String>)> {
    let unquoted = |s: &str| s.trim().trim_matches('"').to_string();
    let rest = into.trim_start().strip_prefix(|c: char| c == 'N' || c == 'n')?;
    let rest = rest.get(..3).filter(|w| w.eq_ignore_ascii_case("ame")).map(|_| &rest[3..])?;
    let mut words = rest.trim_start().splitn(2, char::is_whitespace);
    let name = unquoted(words.next()?);
    let rest = words.next()?.trim_start();
    let keyword = rest.split_whitespace().next()?;
    if !(keyword.eq_ignore_ascii_case("value") || keyword.eq_ignore_ascii_case("values")) {
        return None;
    }
    let values: Vec<String> = split_top_level(&rest[keyword.len()..]).iter().map(|v| unquoted(v)).collect();
    (!name.is_empty() && values.iter().all(|v| !v.is_empty())).then_some((name, values))
}

/// One entry of ON as a marker: its name (an alias, with or without AS, or NULL) and its columns
/// (a bracketed group's each; a star with options as `COLUMNS(...)`).
fn entry_marker(entry: &str) -> Result<String> {
    let entry = entry.trim();
    let tokens = significant_tokens(entry).ok_or_else(|| bad("the text does not read as SQL"))?;
    let offset = offsets(entry);
    let is_word = |i: usize| matches!(&tokens[i].token, Token::Word(_));
    let is_as =
        |i: usize| matches!(&tokens[i].token, Token::Word(w) if w.keyword == Keyword::AS && w.quote_style.is_none());
    let n = tokens.len();
    // An alias: a last word (or string) after `AS`, after a `)`, or after a lone name.
    let named_last = n >= 2 && (is_word(n - 1) || matches!(tokens[n - 1].token, Token::SingleQuotedString(_)));
    let alias_at = (named_last && (is_as(n - 2) || tokens[n - 2].token == Token::RParen || (n == 2 && is_word(0))))
        .then_some(n - 1);
    let (columns_end, alias) = match alias_at {
        Some(at) => {
            let alias = match &tokens[at].token {
                Token::SingleQuotedString(s) => s.clone(),
                Token::Word(w) => w.value.clone(),
                _ => String::new(),
            };
            let end = if is_as(at - 1) { at - 1 } else { at };
            (offset(tokens[end].span.start), Some(alias))
        }
        None => (entry.len(), None),
    };
    let columns = entry[..columns_end].trim();
    let columns = if columns.starts_with('*') {
        format!("COLUMNS({columns})")
    } else if let Some(group) = columns.strip_prefix('(').and_then(|c| c.strip_suffix(')')) {
        group.to_string()
    } else {
        columns.to_string()
    };
    let name = alias.map_or("NULL".to_string(), |a| format!("'{}'", a.replace('\'', "''")));
    Ok(format!("{ON}({name}, {columns})"))
}

/// A SELECT of markers to write out (once the pivots it reads are: `PIVOT (PIVOT ...) ON ...`).
fn is_marked(select: &Select) -> bool {
    select.projection.iter().any(|item| marker_args(item, INTO).is_some()) && !reads_markers(&select.from)
}

/// `SELECT * FROM` the first UNPIVOT's table, to learn its columns; `None` without one.
pub(crate) fn unpivot_probe(statement: &Statement) -> Option<Statement> {
    let select = first_marked(statement, is_marked)?;
    let mut probe = Parser::new(&DuckDbCompatDialect).try_with_sql("SELECT * FROM t").ok()?.parse_query().ok()?;
    if let SetExpr::Select(s) = probe.body.as_mut() {
        s.from = select.from.clone();
    }
    probe.with = unmarked_ctes(statement, is_marked);
    Some(Statement::Query(probe))
}

/// The first UNPIVOT written out over `columns` (those of its table).
pub(crate) fn expand_unpivot(statement: &mut Statement, columns: &[SourceColumn]) -> Result<()> {
    edit_first_marked(statement, is_marked, &mut |query| {
        let SetExpr::Select(select) = query.body.as_ref() else { return Ok(()) };
        *query.body = expanded(select, columns)?;
        Ok(())
    })
}

/// An entry of ON: its name and its columns.
struct Entry {
    name: String,
    columns: Vec<Expr>,
}

fn column_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
        _ => None,
    }
}

/// The entries of the markers, `COLUMNS(...)` expanded over `columns`; a column's name as the
/// table spells it (`jan` names the column `Jan`).
fn entries(select: &Select, columns: &[SourceColumn]) -> Result<Vec<Entry>> {
    let spelled =
        |name: String| columns.iter().find(|(_, c)| c.eq_ignore_ascii_case(&name)).map_or(name, |(_, c)| c.clone());
    let mut entries: Vec<Entry> = Vec::new();
    for args in select.projection.iter().filter_map(|item| marker_args(item, ON)) {
        let Some((label, written)) = args.split_first() else { return Err(bad("ON takes columns")) };
        let mut group = Vec::new();
        for column in written {
            if is_columns_call(column) {
                group.extend(expanded_columns(column, columns)?);
            } else {
                group.push(column.clone());
            }
        }
        let names: Vec<String> = group
            .iter()
            .map(|c| column_name(c).map(spelled).ok_or_else(|| bad(&format!("ON takes columns, not {c}"))))
            .collect::<Result<_>>()?;
        match label {
            Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(name), .. }) => {
                entries.push(Entry { name: name.clone(), columns: group })
            }
            // `COLUMNS(...)` alone: an entry per column it finds.
            _ if written.len() == 1 && is_columns_call(&written[0]) => {
                entries.extend(group.into_iter().zip(names).map(|(column, name)| Entry { name, columns: vec![column] }))
            }
            _ => entries.push(Entry { name: names.join("_"), columns: group }),
        }
    }
    if entries.is_empty() {
        return Err(bad("ON names no column"));
    }
    Ok(entries)
}

/// `SELECT <other columns>, unnest(['a', 'b']) AS n, unnest([a, b]) AS v FROM t`, inside
/// `SELECT * FROM (...) WHERE v IS NOT NULL` unless NULLs are kept.
fn expanded(select: &Select, columns: &[SourceColumn]) -> Result<SetExpr> {
    let entries = entries(select, columns)?;
    let into = select.projection.iter().find_map(|item| marker_args(item, INTO)).unwrap_or_default();
    let include_nulls = matches!(into.first(), Some(Expr::Value(ValueWithSpan { value: Value::Boolean(true), .. })));
    let labels: Vec<String> = into
        .iter()
        .skip(1)
        .filter_map(|e| match e {
            Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(s), .. }) => Some(s.clone()),
            _ => None,
        })
        .collect();
    let Some((name, values)) = labels.split_first() else { return Err(bad("INTO takes NAME name VALUE value")) };
    if let Some(entry) = entries.iter().find(|e| e.columns.len() != values.len()) {
        return Err(bad(&format!(
            "the entry {} has {} columns where VALUE names {}; give every entry as many",
            entry.name,
            entry.columns.len(),
            values.len()
        )));
    }
    let unpivoted: Vec<String> = entries.iter().flat_map(|e| e.columns.iter().filter_map(column_name)).collect();
    let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let literal = |text: &str| format!("'{}'", text.replace('\'', "''"));
    let mut items: Vec<String> = columns
        .iter()
        .filter(|(_, c)| !unpivoted.iter().any(|u| u.eq_ignore_ascii_case(c)))
        .map(|(_, c)| quote(c))
        .collect();
    let names: Vec<String> = entries.iter().map(|e| literal(&e.name)).collect();
    items.push(format!("unnest([{}]) AS {}", names.join(", "), quote(name)));
    for (i, value) in values.iter().enumerate() {
        let list: Vec<String> = entries.iter().map(|e| e.columns[i].to_string()).collect();
        items.push(format!("unnest([{}]) AS {}", list.join(", "), quote(value)));
    }
    let mut rows = select.clone();
    rows.projection = parsed_select(&format!("SELECT {}", items.join(", ")))?.projection;
    if include_nulls {
        return Ok(SetExpr::Select(Box::new(rows)));
    }
    let present: Vec<String> = values.iter().map(|v| format!("{} IS NOT NULL", quote(v))).collect();
    let mut kept = parsed_select(&format!("SELECT * FROM (SELECT 1) AS __unpivoted WHERE {}", present.join(" AND ")))?;
    if let Some(TableFactor::Derived { subquery, .. }) = kept.from.first_mut().map(|f| &mut f.relation) {
        *subquery.body = SetExpr::Select(Box::new(rows));
    }
    Ok(SetExpr::Select(Box::new(kept)))
}

fn parsed_select(sql: &str) -> Result<Select> {
    crate::engine::compat::parse::parsed_select(sql).map_err(|e| bad(&format!("its columns do not read as SQL ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unpivot_reads_as_a_select_of_markers() {
        assert_eq!(
            marked_select(" t ON x, y INTO NAME c VALUE v ORDER BY k").unwrap(),
            "SELECT __unpivot_on(NULL, x), __unpivot_on(NULL, y), __unpivot_into(false, 'c', 'v') FROM t ORDER BY k"
        );
        assert_eq!(
            marked_select(" (SELECT * FROM t) ON COLUMNS(* EXCLUDE (k))").unwrap(),
            "SELECT __unpivot_on(NULL, COLUMNS(* EXCLUDE (k))), __unpivot_into(false, 'name', 'value') FROM (SELECT * FROM t)"
        );
        // The table's own ON (a join inside it) is not the UNPIVOT's.
        assert_eq!(
            marked_select(" (SELECT a.k, b.x FROM a JOIN b ON a.k = b.k) ON x").unwrap(),
            "SELECT __unpivot_on(NULL, x), __unpivot_into(false, 'name', 'value') FROM (SELECT a.k, b.x FROM a JOIN b ON a.k = b.k)"
        );
        // Renamed entries, groups, stars, several values, and the clause form's NULLs option.
        assert_eq!(
            marked_select(
                " INCLUDE NULLS t ON (a, b) AS 'x', c d, \"e f\" AS g, * EXCLUDE (k) INTO NAME n VALUES v, w"
            )
            .unwrap(),
            "SELECT __unpivot_on('x', a, b), __unpivot_on('d', c), __unpivot_on('g', \"e f\"), \
             __unpivot_on(NULL, COLUMNS(* EXCLUDE (k))), __unpivot_into(true, 'n', 'v', 'w') FROM t"
        );
        assert!(marked_select(" t USING x").is_err());
        assert!(marked_select(" t ON x INTO NAME n").is_err());
    }
}
