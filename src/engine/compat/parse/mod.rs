//! The text and the dialect: DuckDB's syntax the parser does not take, prepared in the text before
//! parsing by passes over one token stream.
pub(crate) mod comprehensions;
mod described_tables;
pub(crate) mod dialect;
pub(crate) mod export_states;
pub(crate) mod frame_excludes;
pub(crate) mod globs;
pub(crate) mod join_forms;
pub(crate) mod lambdas;
pub(crate) mod limit_percents;
pub(crate) mod markers;
pub(crate) mod nested_joins;
pub(crate) mod null_treatments;
pub(crate) mod prefix_aliases;
pub(crate) mod recursive_keys;
pub(crate) mod slice_ends;
pub(crate) mod star_forms;
pub(crate) mod syntax_forms;
pub(crate) mod tokens;

use crate::engine::compat::parse::tokens::{Pass, Text};
use crate::error::Result;

/// The passes that prepare a statement's text for the parser, in order, each with whether it runs
/// again until it has nothing left to change (a form nested in its own kind).
const PASSES: [(Pass, bool); 28] = [
    (export_states::exported_states, false),
    (comprehensions::comprehensions_as_lambdas, true),
    (globs::globs_as_regexes, false),
    (prefix_aliases::prefix_aliases, false),
    (slice_ends::empty_slice_ends, false),
    (syntax_forms::filter_where, false),
    (syntax_forms::bare_values, false),
    (syntax_forms::in_lists, false),
    (syntax_forms::digit_separators, false),
    (limit_percents::limit_percents, false),
    (described_tables::described_tables, false),
    (syntax_forms::materialized_hints, false),
    (frame_excludes::frame_excludes, false),
    (null_treatments::null_treatments_first, false),
    (join_forms::asof_joins, false),
    (join_forms::positional_joins, false),
    (join_forms::typed_joins, false),
    (join_forms::nearest_joins, false),
    (nested_joins::nested_joins, false),
    (star_forms::star_except, false),
    (star_forms::star_replace_parens, false),
    (star_forms::star_patterns, false),
    (syntax_forms::from_first_clauses, false),
    (syntax_forms::table_queries, false),
    (syntax_forms::extract_parts, false),
    (star_forms::qualified_renames, false),
    // After the others: it parses the CTE's query, which they prepare.
    (recursive_keys::keyed_recursions, false),
    // Last: the lambdas the passes before may have written.
    (lambdas::arrows_for_lambdas, false),
];

/// `text` as the parser takes it.
pub(crate) fn prepare(text: &mut Text) -> Result<()> {
    for (pass, repeat) in PASSES {
        text.run(pass, repeat)?;
    }
    Ok(())
}

/// The SELECT that `sql` (one query, no set operation) is; what the parser says otherwise.
pub(crate) fn parsed_select(sql: &str) -> std::result::Result<datafusion::sql::sqlparser::ast::Select, String> {
    let query = datafusion::sql::sqlparser::parser::Parser::new(&dialect::DuckDbCompatDialect)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_query())
        .map_err(|e| e.to_string())?;
    match *query.body {
        datafusion::sql::sqlparser::ast::SetExpr::Select(select) => Ok(*select),
        other => Err(format!("{other} is not one SELECT")),
    }
}

/// `sql` prepared, for the passes' tests.
#[cfg(test)]
pub(crate) fn prepared(sql: &str) -> String {
    let mut text = Text::new(sql);
    prepare(&mut text).expect("the passes take this text");
    text.sql().to_string()
}
