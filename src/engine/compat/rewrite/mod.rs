//! The statement's tree rewritten into what DataFusion plans: DuckDB's calls, query forms,
//! lambdas and names.

pub(crate) mod array_subqueries;
pub(crate) mod calls;
pub(crate) mod collations;
pub(crate) mod comma_joins;
mod correlation;
pub(crate) mod distinct_on;
pub(crate) mod domain_subqueries;
pub(crate) mod duckdb_refusals;
pub(crate) mod duplicate_names;
pub(crate) mod expression_forms;
pub(crate) mod first_row_subqueries;
pub(crate) mod fromless_laterals;
pub(crate) mod fromless_subqueries;
mod having_clauses;
pub(crate) mod integer_literals;
pub(crate) mod json_casts;
mod json_table_rows;
pub(crate) mod lambda_forms;
pub(crate) mod lambdas;
pub(crate) mod lateral_limits;
pub(crate) mod lateral_unnest;
pub(crate) mod like;
pub(crate) mod names;
pub(crate) mod nullable_subqueries;
pub(crate) mod ordered_by_subqueries;
pub(crate) mod ordered_sources;
pub(crate) mod outer_aggregates;
pub(crate) mod query_forms;
pub(crate) mod refusals;
pub(crate) mod reshapes;
pub(crate) mod result_names;
pub(crate) mod row_subqueries;
pub(crate) mod set_operation_order;
pub(crate) mod subqueries;
pub(crate) mod templates;
pub(crate) mod type_names;
pub(crate) mod unnest_orders;
pub(crate) mod window_arguments;
pub(crate) mod window_exclusions;

/// `sql` after one rewrite of its statement, as text, for the rewrites' tests.
#[cfg(test)]
pub(crate) fn rewritten_by(rewrite: fn(&mut datafusion::sql::sqlparser::ast::Statement), sql: &str) -> String {
    use datafusion::sql::sqlparser::parser::Parser;
    let mut statement = Parser::parse_sql(&crate::engine::compat::parse::dialect::DuckDbCompatDialect, sql)
        .expect("the test's SQL parses")
        .remove(0);
    rewrite(&mut statement);
    statement.to_string()
}
