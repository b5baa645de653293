//! The DuckDB compatibility layer, in the order a statement goes through it: [`parse`] (DuckDB's
//! syntax as DataFusion's parser takes it, text passes over one token stream), [`rewrite`] (the
//! tree rewritten into what DataFusion plans: calls, query forms, names), [`expand`] (expansions
//! that ask the engine first: `COLUMNS`, `PIVOT`, `UNPIVOT`, aliases), [`planner`] (DuckDB's
//! typing rules and operators once types are known) and [`functions`] (what DataFusion lacks, by
//! family). [`catalogue`] says how each DuckDB function name is served.

pub(crate) mod ast;
pub(crate) mod catalogue;
mod expand;
pub(crate) mod functions;
mod keywords;
pub(crate) mod parse;
mod planner;
pub(crate) mod rewrite;
pub(crate) mod types;
pub(crate) mod walks;

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::execution::FunctionRegistry;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{Expr, ObjectName, ObjectNamePart, Statement};
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::category::Category;
use crate::error::{Error, Result, one_line};
use parse::dialect::DuckDbCompatDialect;
use parse::tokens::Text;

pub(crate) use expand::aliases::expand_alias;
pub(crate) use expand::join_conditions::PAIRS as JOIN_PAIRS;
pub(crate) use expand::table_rows::table_as_row;
pub(crate) use expand::{boolean_filters, partial_aliases, recursions};
pub(crate) use expand::{expand, next as next_expansion};
pub(crate) use functions::generic::sort_keys::{is_nested, sort_key_of};
pub(crate) use rewrite::duplicate_names::{duplicated_name, renumber};
pub(crate) use rewrite::names::{order_by_positions, ordered_by_all, spell_as, unordered, written_aliases};
pub(crate) use rewrite::refusals::{closest, explained};

/// Adds the DuckDB functions and typing rules to a session.
pub(crate) fn register(ctx: &mut SessionContext) -> datafusion::error::Result<()> {
    datafusion_functions_json::register_all(ctx)?;
    functions::register(ctx);
    ctx.register_function_rewrite(Arc::new(planner::typing::DuckDbSemantics))?;
    Ok(())
}

/// The expression planners: this layer's text and JSON subscripts and its operators, then
/// DataFusion's own.
pub(crate) fn expr_planners() -> Vec<Arc<dyn datafusion::logical_expr::planner::ExprPlanner>> {
    let mut planners: Vec<Arc<dyn datafusion::logical_expr::planner::ExprPlanner>> =
        vec![Arc::new(planner::subscripts::DuckDbSubscripts::new()), Arc::new(planner::operators::DuckDbOperators)];
    planners.extend(datafusion::execution::SessionStateDefaults::default_expr_planners());
    planners
}

/// Binary operators (and set operations, which nest the same way) make trees as deep as they
/// are many; the parser's visitors and the planner walk those trees recursively, so a query
/// with more is refused up front.
const MAX_OPERATORS: usize = 2_000;

fn check_size(tokens: &[TokenWithSpan]) -> Result<()> {
    use datafusion::sql::sqlparser::keywords::Keyword;
    let operators = tokens
        .iter()
        .filter(|t| match &t.token {
            Token::Plus | Token::Minus | Token::Mul | Token::Div | Token::Mod | Token::StringConcat => true,
            Token::Eq | Token::Neq | Token::Lt | Token::Gt | Token::LtEq | Token::GtEq => true,
            Token::Word(w) => {
                matches!(w.keyword, Keyword::AND | Keyword::OR | Keyword::UNION | Keyword::INTERSECT | Keyword::EXCEPT)
            }
            _ => false,
        })
        .count();
    if operators > MAX_OPERATORS {
        return Err(Error::Query(format!(
            "the SQL has {operators} operators, more than the {MAX_OPERATORS} accepted: simplify it or split it into several queries"
        )));
    }
    Ok(())
}

/// Splits `sql` into statements, refuses those that write, and rewrites the rest.
pub(crate) fn prepare(sql: &str) -> Result<Vec<Statement>> {
    let mut text = Text::new(sql);
    text.run(expand::pivot_clauses::clauses_as_statements, true)?;
    text.run(expand::pivot_statements::pivots_as_selects, true)?;
    parse::prepare(&mut text)?;
    check_size(text.significant())?;
    let (sql, tokens) = text.into_parts();
    let sql = sql.as_str();
    // DuckDB takes expressions nested far deeper than the parser's default of 50 levels; the
    // size check above bounds the stack the planner needs.
    let parser = Parser::new(&DuckDbCompatDialect).with_recursion_limit(256);
    let parser = match tokens {
        Some(tokens) => Ok(parser.with_tokens_with_locations(tokens)),
        // The parser tokenizes again, to say what is wrong.
        None => parser.try_with_sql(sql),
    };
    let mut statements = parser.and_then(|mut parser| parser.parse_statements()).map_err(|e| {
        rewrite::refusals::unsupported_statement(sql)
            .or_else(|| rewrite::refusals::lambda(sql))
            .unwrap_or_else(|| parse_error(e))
    })?;
    if statements.is_empty() {
        return Err(Error::Query("no SQL statement was given".into()));
    }
    for statement in &mut statements {
        check_read_only(statement)?;
        rewrite(statement, sql)?;
    }
    Ok(statements)
}

/// DuckDB's rules applied to a statement: result columns named as DuckDB names them, table and
/// column names matched case-insensitively, DuckDB's functions and operators translated.
/// Rewrites one statement parsed from `sql` (the prepared text, which names read types from).
fn rewrite(statement: &mut Statement, sql: &str) -> Result<()> {
    // DuckDB reads `SHOW userList` as `DESCRIBE userList` (and `SHOW ALL` as a listing of its
    // catalogue).
    if let Statement::ShowVariable { variable } = statement {
        let table = match variable.as_slice() {
            [name] if !name.value.eq_ignore_ascii_case("all") => name,
            _ => {
                return Err(Error::Query(format!(
                    "{statement} is not supported: SHOW TABLES lists the tables, DESCRIBE <table> (or SHOW <table>) a table's columns"
                )));
            }
        };
        let text = format!("DESCRIBE {table}");
        *statement = Parser::new(&DuckDbCompatDialect)
            .try_with_sql(&text)
            .and_then(|mut parser| parser.parse_statement())
            .map_err(parse_error)?;
    }
    rewrite::duckdb_refusals::refused(statement)?;
    let namer = rewrite::result_names::Namer { sql };
    match statement {
        Statement::Query(query) => {
            rewrite::names::name_result_columns(query, &namer);
            rewrite::integer_literals::typed_as_duckdb(query);
        }
        // `EXPLAIN <query>` explains the query as it will run.
        Statement::Explain { statement: inner, .. } => {
            if let Statement::Query(query) = inner.as_mut() {
                rewrite::names::name_result_columns(query, &namer);
                rewrite::integer_literals::typed_as_duckdb(query);
            }
        }
        _ => {}
    }
    rewrite::expression_forms::powers(statement);
    rewrite::collations::collation_keys(statement)?;
    rewrite::comma_joins::conditions_as_filters(statement);
    rewrite::outer_aggregates::hoisted(statement);
    rewrite::window_exclusions::exclusions(statement)?;
    rewrite::window_arguments::window_forms(statement);
    rewrite::fromless_subqueries::inline(statement);
    rewrite::lateral_limits::top_rows_per_key(statement);
    rewrite::fromless_laterals::computed_once_per_value(statement);
    rewrite::first_row_subqueries::first_rows(statement);
    rewrite::unnest_orders::hidden_order_keys(statement);
    rewrite::row_subqueries::rows_compared(statement);
    rewrite::subqueries::outside_filters(statement);
    rewrite::set_operation_order::by_position(statement);
    expand::limit_subqueries::rounded_fractions(statement);
    expand::limit_subqueries::percent_limits(statement)?;
    rewrite::ordered_by_subqueries::sorted_apart(statement);
    rewrite::domain_subqueries::decorrelated(statement);
    rewrite::ordered_sources::kept(statement);
    // Before the JSON arrows are rewritten: those that are lambdas become lambdas.
    let _ = crate::engine::compat::ast::each_expr_mut(statement, |expr: &mut Expr| {
        rewrite::array_subqueries::as_aggregate(expr);
        rewrite::lambdas::to_lambdas(expr);
        rewrite::lambda_forms::inline(expr);
        rewrite::lambda_forms::indexed(expr);
        ControlFlow::Continue(())
    });
    let mut forms = rewrite::query_forms::DuckDbQueries(None);
    let _ = ast::walk_mut(statement, &mut forms);
    if let Some(e) = forms.0 {
        return Err(e);
    }
    struct FoldedNames;
    impl ast::WalkMut for FoldedNames {
        fn pre_visit_relation(&mut self, name: &mut ObjectName) -> ControlFlow<()> {
            rewrite::names::fold_table_name(name);
            ControlFlow::Continue(())
        }
    }
    let _ = ast::walk_mut(statement, &mut FoldedNames);
    let _ = ast::walk_mut(statement, &mut rewrite::names::NameUnnamedSubqueries { count: 0, namer: &namer });
    let outcome = crate::engine::compat::ast::each_expr_mut(statement, |expr: &mut Expr| {
        match rewrite::calls::rewrite_expr(expr) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(Some(e)),
        }
    });
    if let ControlFlow::Break(Some(e)) = outcome {
        return Err(e);
    }
    let _ = crate::engine::compat::ast::each_expr_mut(statement, |expr: &mut Expr| {
        rewrite::names::name_aggregated_casts(expr);
        ControlFlow::Continue(())
    });
    rewrite::nullable_subqueries::nullable(statement);
    Ok(())
}

/// The categories whose tables the statements read, so that only those are fetched.
pub(crate) fn referenced_categories(statements: &[Statement]) -> Vec<Category> {
    struct Found(Vec<Category>);
    impl ast::Walk for Found {
        fn pre_visit_relation(&mut self, name: &ObjectName) -> ControlFlow<()> {
            if let Some(ObjectNamePart::Identifier(ident)) = name.0.last()
                && let Some(category) = Category::from_name(&ident.value)
                && !self.0.contains(&category)
            {
                self.0.push(category);
            }
            ControlFlow::Continue(())
        }
    }
    let mut found = Found(Vec::new());
    for statement in statements {
        let _ = ast::walk(statement, &mut found);
    }
    found.0.sort();
    found.0
}

fn parse_error(err: ParserError) -> Error {
    let message = match err {
        ParserError::ParserError(m) | ParserError::TokenizerError(m) => m,
        ParserError::RecursionLimitExceeded => "the query is nested too deeply".into(),
    };
    Error::Query(format!("SQL syntax error: {}", one_line(&message)))
}

/// Only queries and the read-only statements that describe tables are run.
fn check_read_only(statement: &Statement) -> Result<()> {
    match statement {
        Statement::Query(_)
        | Statement::ShowTables { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowVariable { .. }
        | Statement::ExplainTable { .. } => Ok(()),
        Statement::Explain { statement: inner, .. } => check_read_only(inner),
        other => {
            let text = other.to_string();
            let keyword = text.split_whitespace().next().unwrap_or("this").to_uppercase();
            let writes = matches!(
                keyword.as_str(),
                "INSERT"
                    | "UPDATE"
                    | "DELETE"
                    | "MERGE"
                    | "CREATE"
                    | "DROP"
                    | "ALTER"
                    | "TRUNCATE"
                    | "COPY"
                    | "REPLACE"
                    | "UPSERT"
                    | "GRANT"
                    | "REVOKE"
                    | "EXPORT"
                    | "IMPORT"
                    | "INSTALL"
                    | "LOAD"
                    | "ATTACH"
                    | "DETACH"
                    | "VACUUM"
                    | "CHECKPOINT"
            );
            if writes {
                return Err(Error::WriteRefused(keyword));
            }
            Err(Error::Query(format!(
                "{keyword} statements are not supported: carto-activity runs queries (SELECT, WITH, DESCRIBE, SHOW TABLES, EXPLAIN)"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use functions::json::json_path::{PathStep, parse_json_path};

    fn sql(s: &str) -> String {
        prepare(s).unwrap().iter().map(|s| s.to_string()).collect::<Vec<_>>().join("; ")
    }

    #[test]
    fn json_paths_become_key_lists() {
        assert_eq!(parse_json_path("$.map.id").unwrap(), vec![PathStep::Key("map".into()), PathStep::Key("id".into())]);
        assert_eq!(
            parse_json_path("$.items[0].\"a.b\"").unwrap(),
            vec![PathStep::Key("items".into()), PathStep::Index(0), PathStep::Key("a.b".into())]
        );
        assert_eq!(parse_json_path("userId").unwrap(), vec![PathStep::Key("userId".into())]);
        assert_eq!(parse_json_path("/a/1").unwrap(), vec![PathStep::Key("a".into()), PathStep::Index(1)]);
        assert_eq!(parse_json_path("$").unwrap(), vec![]);
        for bad in ["$.", "$[x]", "$.a[", "$a", "$.\"open"] {
            assert!(parse_json_path(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn json_functions_and_operators_are_rewritten() {
        assert_eq!(
            sql("SELECT json_extract_string(data, '$.map.id'), data->>'userId', data->'categories' FROM activity"),
            "SELECT json_as_text(data, 'map', 'id') AS \"json_extract_string(\"\"data\"\", '$.map.id')\", json_as_text(data, 'userId') AS \"(\"\"data\"\" ->> 'userId')\", json_mark(json_get_json(data, 'categories')) AS \"(\"\"data\"\" -> 'categories')\" FROM activity"
        );
    }

    #[test]
    fn table_names_fold_case() {
        assert_eq!(
            sql("SELECT * FROM \"userList\" JOIN APIUSAGE USING (user_id)"),
            "SELECT * FROM userlist JOIN apiusage USING(user_id)"
        );
    }

    #[test]
    fn writes_are_refused() {
        for (stmt, keyword) in [
            ("INSERT INTO activity VALUES (1)", "INSERT"),
            ("CREATE TABLE t AS SELECT 1", "CREATE"),
            ("DROP TABLE activity", "DROP"),
            ("COPY activity TO 'x.csv'", "COPY"),
            ("DELETE FROM activity", "DELETE"),
        ] {
            match prepare(stmt) {
                Err(Error::WriteRefused(k)) => assert_eq!(k, keyword),
                other => panic!("{stmt}: {other:?}"),
            }
        }
        assert!(matches!(prepare("SELECT 1; DROP TABLE activity"), Err(Error::WriteRefused(_))));
    }

    #[test]
    fn show_of_a_table_describes_it() {
        assert_eq!(prepare("SHOW userList").unwrap()[0].to_string(), "DESCRIBE userlist");
        for show in ["SHOW ALL TABLES", "SHOW ALL"] {
            let err = prepare(show).unwrap_err().to_string();
            assert!(err.starts_with(&format!("{show} is not supported: SHOW TABLES lists the tables")), "{err}");
        }
    }

    #[test]
    fn syntax_errors_are_one_line() {
        let err = prepare("SELEC 1").unwrap_err().to_string();
        assert!(err.starts_with("SQL syntax error"), "{err}");
        assert!(!err.contains('\n'));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use functions::json::json_path::{PathStep, parse_json_path};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Any path text: steps or a clear error, never a panic.
        #[test]
        fn json_paths_never_panic(path in "\\PC{0,24}") {
            let _ = parse_json_path(&path);
        }

        /// Dotted paths of plain keys and indexes parse into exactly those steps.
        #[test]
        fn dotted_paths_round_trip(keys in proptest::collection::vec("[a-zA-Z_][a-zA-Z0-9_]{0,8}", 1..5), index in proptest::option::of(0i64..100)) {
            let mut path = format!("$.{}", keys.join("."));
            if let Some(i) = index {
                path.push_str(&format!("[{i}]"));
            }
            let mut expected: Vec<PathStep> = keys.iter().map(|k| PathStep::Key(k.clone())).collect();
            expected.extend(index.map(PathStep::Index));
            prop_assert_eq!(parse_json_path(&path).unwrap(), expected);
        }

        /// Any SQL text: statements or a one-line error, never a panic.
        #[test]
        fn prepare_never_panics(sql in "\\PC{0,64}") {
            if let Err(e) = prepare(&sql) {
                prop_assert!(!e.to_string().contains('\n'));
            }
        }
    }
}
