//! The DuckDB compatibility layer: parses SQL as DuckDB writes it and rewrites what DataFusion
//! reads differently, before planning.

use std::any::TypeId;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, Ident, ObjectName, ObjectNamePart, Statement, Value, ValueWithSpan,
    visit_expressions_mut, visit_relations_mut,
};
use datafusion::sql::sqlparser::dialect::{Dialect, DuckDbDialect};
use datafusion::sql::sqlparser::parser::{Parser, ParserError};

use crate::category::Category;
use crate::error::{Error, Result, one_line};

/// DuckDB's dialect without lambdas: DuckDB itself reads `data->'x'` as JSON access, while the
/// parser's DuckDB dialect would take it for a lambda.
#[derive(Debug, Default)]
pub struct DuckDbCompatDialect;

impl Dialect for DuckDbCompatDialect {
    // Parse exactly as DuckDB does wherever the parser asks "is this DuckDB?".
    fn dialect(&self) -> TypeId {
        TypeId::of::<DuckDbDialect>()
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        DuckDbDialect.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        DuckDbDialect.is_identifier_part(ch)
    }
    fn supports_trailing_commas(&self) -> bool {
        true
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        true
    }
    fn supports_group_by_expr(&self) -> bool {
        true
    }
    fn supports_bitwise_shift_operators(&self) -> bool {
        true
    }
    fn supports_named_fn_args_with_eq_operator(&self) -> bool {
        true
    }
    fn supports_named_fn_args_with_assignment_operator(&self) -> bool {
        true
    }
    fn supports_dictionary_syntax(&self) -> bool {
        true
    }
    fn support_map_literal_syntax(&self) -> bool {
        true
    }
    fn supports_lambda_functions(&self) -> bool {
        false
    }
    fn allow_extract_single_quotes(&self) -> bool {
        true
    }
    fn supports_array_typedef_with_brackets(&self) -> bool {
        true
    }
    fn supports_from_first_select(&self) -> bool {
        true
    }
    fn supports_order_by_all(&self) -> bool {
        true
    }
    fn supports_select_wildcard_exclude(&self) -> bool {
        true
    }
    fn supports_select_wildcard_replace(&self) -> bool {
        true
    }
    fn supports_notnull_operator(&self) -> bool {
        true
    }
    fn supports_comma_separated_trim(&self) -> bool {
        true
    }
}

/// Splits `sql` into statements, refuses those that write, and rewrites the rest.
pub fn prepare(sql: &str) -> Result<Vec<Statement>> {
    let mut statements = Parser::parse_sql(&DuckDbCompatDialect, sql).map_err(parse_error)?;
    if statements.is_empty() {
        return Err(Error::Query("no SQL statement was given".into()));
    }
    for statement in &mut statements {
        check_read_only(statement)?;
        rewrite(statement)?;
    }
    Ok(statements)
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
        | Statement::ExplainTable { .. } => Ok(()),
        Statement::Explain {
            statement: inner, ..
        } => check_read_only(inner),
        other => {
            let text = other.to_string();
            let keyword = text
                .split_whitespace()
                .next()
                .unwrap_or("this")
                .to_uppercase();
            Err(Error::WriteRefused(keyword))
        }
    }
}

/// DuckDB's rules applied to a statement: table names match case-insensitively, and JSON
/// paths (`'$.a.b'`) in `json_extract*`, `->` and `->>` become the JSON functions' key lists.
pub fn rewrite(statement: &mut Statement) -> Result<()> {
    let _ = visit_relations_mut(statement, |name: &mut ObjectName| {
        fold_table_name(name);
        ControlFlow::<()>::Continue(())
    });
    let outcome = visit_expressions_mut(statement, |expr: &mut Expr| match rewrite_json(expr) {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => ControlFlow::Break(e),
    });
    match outcome {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// Tables are registered under lower-case names; `"userList"`, `APIUSAGE` find them too.
fn fold_table_name(name: &mut ObjectName) {
    if let [ObjectNamePart::Identifier(ident)] = name.0.as_mut_slice()
        && Category::from_name(&ident.value).is_some()
    {
        *ident = Ident::new(ident.value.to_lowercase());
    }
}

fn rewrite_json(expr: &mut Expr) -> Result<()> {
    let replacement = match expr {
        Expr::BinaryOp {
            left,
            op: op @ (BinaryOperator::Arrow | BinaryOperator::LongArrow),
            right,
        } => {
            let function = if *op == BinaryOperator::LongArrow {
                "json_as_text"
            } else {
                "json_get_json"
            };
            json_call(function, (**left).clone(), right)?
        }
        Expr::Function(f) => {
            let name = f.name.to_string().to_lowercase();
            let target = match name.as_str() {
                "json_extract_string" => "json_as_text",
                "json_extract" => "json_get_json",
                _ => return Ok(()),
            };
            let FunctionArguments::List(list) = &f.args else {
                return Ok(());
            };
            match list.args.as_slice() {
                [
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(json)),
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(path)),
                ] => json_call(target, json.clone(), path)?,
                _ => {
                    return Err(Error::Query(format!(
                        "{name} takes two arguments: a JSON value and a path such as '$.userId'"
                    )));
                }
            }
        }
        _ => return Ok(()),
    };
    *expr = replacement;
    Ok(())
}

/// `function(json, key, key, ...)` for a literal path; other paths are left to the function.
fn json_call(function: &str, json: Expr, path: &Expr) -> Result<Expr> {
    let mut args = vec![json];
    match path {
        Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(p),
            ..
        }) => {
            for step in parse_json_path(p)? {
                args.push(match step {
                    PathStep::Key(k) => Expr::value(Value::SingleQuotedString(k)),
                    PathStep::Index(i) => Expr::value(Value::Number(i.to_string(), false)),
                });
            }
        }
        other => args.push(other.clone()),
    }
    Ok(Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(function))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    }))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    Key(String),
    Index(i64),
}

/// DuckDB's JSON paths: `$.a.b[0]`, `$."a key".b`, a JSON pointer `/a/0`, or a bare key.
pub fn parse_json_path(path: &str) -> Result<Vec<PathStep>> {
    let bad = |why: &str| {
        Error::Query(format!(
            "malformed JSON path '{path}': {why} (write it as '$.key', '$.a.b' or '$.items[0]')"
        ))
    };
    if let Some(pointer) = path.strip_prefix('/') {
        return Ok(pointer
            .split('/')
            .map(|s| {
                let s = s.replace("~1", "/").replace("~0", "~");
                match s.parse::<i64>() {
                    Ok(i) => PathStep::Index(i),
                    Err(_) => PathStep::Key(s),
                }
            })
            .collect());
    }
    let Some(mut rest) = path.strip_prefix('$') else {
        return Ok(vec![PathStep::Key(path.to_string())]);
    };
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted
                    .find('"')
                    .ok_or_else(|| bad("a quoted key is not closed"))?;
                steps.push(PathStep::Key(quoted[..end].to_string()));
                rest = &quoted[end + 1..];
            } else {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                if end == 0 {
                    return Err(bad("a key is empty"));
                }
                steps.push(PathStep::Key(after[..end].to_string()));
                rest = &after[end..];
            }
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').ok_or_else(|| bad("a '[' is not closed"))?;
            let index = after[..end].trim();
            if index == "*" {
                return Err(bad("wildcards are not supported"));
            }
            steps.push(PathStep::Index(
                index
                    .parse()
                    .map_err(|_| bad("an array index is not a number"))?,
            ));
            rest = &after[end + 1..];
        } else {
            return Err(bad("expected '.' or '[' after a step"));
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(s: &str) -> String {
        prepare(s)
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn json_paths_become_key_lists() {
        assert_eq!(
            parse_json_path("$.map.id").unwrap(),
            vec![PathStep::Key("map".into()), PathStep::Key("id".into())]
        );
        assert_eq!(
            parse_json_path("$.items[0].\"a.b\"").unwrap(),
            vec![
                PathStep::Key("items".into()),
                PathStep::Index(0),
                PathStep::Key("a.b".into())
            ]
        );
        assert_eq!(
            parse_json_path("userId").unwrap(),
            vec![PathStep::Key("userId".into())]
        );
        assert_eq!(
            parse_json_path("/a/1").unwrap(),
            vec![PathStep::Key("a".into()), PathStep::Index(1)]
        );
        assert_eq!(parse_json_path("$").unwrap(), vec![]);
        for bad in ["$.", "$[x]", "$.a[", "$a", "$.\"open"] {
            assert!(parse_json_path(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn json_functions_and_operators_are_rewritten() {
        assert_eq!(
            sql(
                "SELECT json_extract_string(data, '$.map.id'), data->>'userId', data->'categories' FROM activity"
            ),
            "SELECT json_as_text(data, 'map', 'id'), json_as_text(data, 'userId'), json_get_json(data, 'categories') FROM activity"
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
        assert!(matches!(
            prepare("SELECT 1; DROP TABLE activity"),
            Err(Error::WriteRefused(_))
        ));
    }

    #[test]
    fn syntax_errors_are_one_line() {
        let err = prepare("SELEC 1").unwrap_err().to_string();
        assert!(err.starts_with("SQL syntax error"), "{err}");
        assert!(!err.contains('\n'));
    }
}
