//! The DuckDB compatibility layer: parses SQL as DuckDB writes it, rewrites what DataFusion
//! reads differently before planning ([`rewrite`]), adds the functions DataFusion lacks
//! ([`functions`]) and applies DuckDB's typing rules after planning ([`semantics`]).

pub mod functions;
pub mod semantics;

use std::any::TypeId;
use std::ops::ControlFlow;

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use datafusion::execution::FunctionRegistry;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CastKind, DataType as SqlType, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArgumentList, FunctionArguments, Ident, Interval, ObjectName, ObjectNamePart,
    OrderBy, OrderByExpr, OrderByKind, OrderByOptions, Query, SelectItem, SetExpr, Statement, TableAlias, TableFactor,
    Value, ValueWithSpan, VisitMut, VisitorMut, visit_expressions_mut, visit_relations_mut,
};
use datafusion::sql::sqlparser::dialect::{Dialect, DuckDbDialect};
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

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
    // `bool_or(type = 'x')` is a comparison, not a named argument.
    fn supports_named_fn_args_with_eq_operator(&self) -> bool {
        false
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
    // In DuckDB `data->>'k' = x` and `data->>'k' IS NULL` apply the arrow first.
    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        match parser.peek_token().token {
            Token::Arrow | Token::LongArrow => Some(Ok(ARROW_PRECEDENCE)),
            _ => None,
        }
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

/// Above arithmetic (40), below `::` (50).
const ARROW_PRECEDENCE: u8 = 45;

/// Adds the DuckDB functions and typing rules to a session.
pub fn register(ctx: &mut SessionContext) -> datafusion::error::Result<()> {
    datafusion_functions_json::register_all(ctx)?;
    for udf in functions::scalar_functions() {
        SessionContext::register_udf(ctx, udf);
    }
    for udaf in functions::aggregate_functions() {
        SessionContext::register_udaf(ctx, udaf);
    }
    ctx.register_function_rewrite(Arc::new(semantics::DuckDbSemantics))?;
    Ok(())
}

/// DuckDB statements with no DataFusion equivalent, named with what to write instead.
fn unsupported_statement(sql: &str) -> Option<Error> {
    let upper = sql.to_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    if words.first() == Some(&"SUMMARIZE") {
        return Some(Error::Query(
            "SUMMARIZE is not supported: write SELECT min(col), max(col), count(DISTINCT col), count(*) FROM table"
                .into(),
        ));
    }
    if words.windows(2).any(|w| w == ["USING", "SAMPLE"]) {
        return Some(Error::Query(
            "USING SAMPLE is not supported: write ... ORDER BY random() LIMIT n for a sample of n rows".into(),
        ));
    }
    None
}

/// Binary operators make expression trees as deep as they are many; the parser's visitors and
/// the planner walk those trees recursively, so a query with more is refused up front.
const MAX_OPERATORS: usize = 2_000;

fn check_size(sql: &str) -> Result<()> {
    use datafusion::sql::sqlparser::keywords::Keyword;
    use datafusion::sql::sqlparser::tokenizer::Tokenizer;
    let Ok(tokens) = Tokenizer::new(&DuckDbCompatDialect, sql).tokenize() else { return Ok(()) };
    let operators = tokens
        .iter()
        .filter(|t| match t {
            Token::Plus | Token::Minus | Token::Mul | Token::Div | Token::Mod | Token::StringConcat => true,
            Token::Eq | Token::Neq | Token::Lt | Token::Gt | Token::LtEq | Token::GtEq => true,
            Token::Word(w) => matches!(w.keyword, Keyword::AND | Keyword::OR),
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
pub fn prepare(sql: &str) -> Result<Vec<Statement>> {
    check_size(sql)?;
    let mut statements = Parser::parse_sql(&DuckDbCompatDialect, sql)
        .map_err(|e| unsupported_statement(sql).unwrap_or_else(|| parse_error(e)))?;
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
        Statement::Explain { statement: inner, .. } => check_read_only(inner),
        other => {
            let text = other.to_string();
            let keyword = text.split_whitespace().next().unwrap_or("this").to_uppercase();
            Err(Error::WriteRefused(keyword))
        }
    }
}

/// DuckDB's rules applied to a statement: result columns named as DuckDB names them, table and
/// column names matched case-insensitively, DuckDB's functions and operators translated.
pub fn rewrite(statement: &mut Statement) -> Result<()> {
    match statement {
        Statement::Query(query) => name_result_columns(query),
        // `EXPLAIN <query>` explains the query as it will run.
        Statement::Explain { statement: inner, .. } => {
            if let Statement::Query(query) = inner.as_mut() {
                name_result_columns(query);
            }
        }
        _ => {}
    }
    let _ = visit_relations_mut(statement, |name: &mut ObjectName| {
        fold_table_name(name);
        ControlFlow::<()>::Continue(())
    });
    let _ = statement.visit(&mut NameUnnamedSubqueries(0));
    let outcome = visit_expressions_mut(statement, |expr: &mut Expr| match rewrite_expr(expr) {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => ControlFlow::Break(e),
    });
    match outcome {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// DuckDB names subqueries in FROM without an alias `unnamed_subquery`, `unnamed_subquery2`, ...;
/// DataFusion leaves them unqualified, so two of them with a same-named column (`count(*)`)
/// could not be joined.
struct NameUnnamedSubqueries(usize);

impl VisitorMut for NameUnnamedSubqueries {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::Derived { alias: alias @ None, .. } = factor {
            self.0 += 1;
            let name = if self.0 == 1 { "unnamed_subquery".to_string() } else { format!("unnamed_subquery{}", self.0) };
            *alias = Some(TableAlias { explicit: true, name: Ident::new(name), columns: vec![], at: None });
        }
        ControlFlow::Continue(())
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

/// Every column of every table, in lower case (all of them are lower case).
static COLUMNS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    Category::ALL
        .iter()
        .flat_map(|c| c.schema().fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>())
        .collect()
});

/// DuckDB matches quoted names case-insensitively too: `"Type"` is the column `type`.
fn fold_identifier(ident: &mut Ident) {
    if ident.quote_style.is_some() {
        let lower = ident.value.to_lowercase();
        if lower != ident.value && (COLUMNS.contains(&lower) || Category::from_name(&lower).is_some()) {
            *ident = Ident::new(lower);
        }
    }
}

/// DuckDB names an unnamed result column by the expression as written (`count_star()` for
/// `count(*)`); DataFusion would name it by its plan (`count(Int64(1))`). Name them as DuckDB.
fn name_result_columns(query: &mut Query) {
    let mut body = query.body.as_mut();
    // Set operations take their names from the first branch.
    while let SetExpr::SetOperation { left, .. } = body {
        body = left.as_mut();
    }
    let select = match body {
        SetExpr::Select(select) => select,
        SetExpr::Query(inner) => return name_result_columns(inner),
        _ => return,
    };
    // DataFusion's ORDER BY ALL takes only plain columns; positions work for any expression.
    if let Some(OrderBy { kind: OrderByKind::All(options), .. }) = &query.order_by
        && select
            .projection
            .iter()
            .all(|item| matches!(item, SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }))
    {
        let options = *options;
        let exprs = (1..=select.projection.len())
            .map(|i| OrderByExpr { expr: Expr::value(Value::Number(i.to_string(), false)), options, with_fill: None })
            .collect();
        query.order_by = Some(OrderBy { kind: OrderByKind::Expressions(exprs), interpolate: None });
    }
    let mut taken: HashSet<String> = select
        .projection
        .iter()
        .filter_map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
            SelectItem::UnnamedExpr(Expr::Identifier(i)) => Some(i.value.to_lowercase()),
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => parts.last().map(|i| i.value.to_lowercase()),
            _ => None,
        })
        .collect();
    for item in &mut select.projection {
        let SelectItem::UnnamedExpr(expr) = item else {
            continue;
        };
        if matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
            continue;
        }
        let written = expr.to_string();
        let base = if written.eq_ignore_ascii_case("count(*)") { "count_star()".to_string() } else { written };
        let mut name = base.clone();
        let mut n = 1;
        while !taken.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        *item = SelectItem::ExprWithAlias { expr: expr.clone(), alias: Ident::with_quote('"', name) };
    }
}

fn text(s: &str) -> Expr {
    Expr::value(Value::SingleQuotedString(s.to_string()))
}

/// The plain arguments of a call, when it has no named or wildcard ones.
fn plain_args(f: &Function) -> Option<Vec<Expr>> {
    let FunctionArguments::List(list) = &f.args else {
        return matches!(f.args, FunctionArguments::None | FunctionArguments::List(_)).then(Vec::new);
    };
    list.args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn renamed(f: &Function, to: &str) -> Expr {
    let mut f = f.clone();
    f.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(to))]);
    Expr::Function(f)
}

fn arity(name: &str, args: &[Expr], n: usize, usage: &str) -> Result<()> {
    if args.len() == n { Ok(()) } else { Err(Error::Query(format!("{name} takes {n} argument(s): {usage}"))) }
}

fn rewrite_expr(expr: &mut Expr) -> Result<()> {
    let replacement = match expr {
        Expr::Identifier(ident) => {
            fold_identifier(ident);
            return Ok(());
        }
        Expr::CompoundIdentifier(parts) => {
            parts.iter_mut().for_each(fold_identifier);
            return Ok(());
        }
        Expr::BinaryOp { left, op: op @ (BinaryOperator::Arrow | BinaryOperator::LongArrow), right } => {
            let function = if *op == BinaryOperator::LongArrow { "json_as_text" } else { "json_get_json" };
            json_call(function, (**left).clone(), right)?
        }
        // DuckDB's integer division truncates, as DataFusion's `/` does on integers.
        Expr::BinaryOp { left, op: BinaryOperator::DuckIntegerDivide, right } => Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(call(
                "trunc",
                vec![Expr::BinaryOp { left: left.clone(), op: BinaryOperator::Divide, right: right.clone() }],
            )),
            data_type: SqlType::BigInt(None),
            array: false,
            format: None,
        },
        // DuckDB reads `TIMESTAMP '2025-10-01 10:00'` without seconds; DataFusion needs them.
        Expr::TypedString(typed) if matches!(typed.data_type, SqlType::Timestamp(..)) => {
            if let Value::SingleQuotedString(v) = &mut typed.value.value
                && v.len() == 16
                && v.as_bytes().get(13) == Some(&b':')
            {
                v.push_str(":00");
            }
            return Ok(());
        }
        Expr::Function(f) => match rewrite_function(f)? {
            Some(e) => e,
            None => return Ok(()),
        },
        _ => return Ok(()),
    };
    *expr = replacement;
    Ok(())
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    call_with(name, args, vec![], None)
}

fn call_with(name: &str, args: Vec<Expr>, clauses: Vec<FunctionArgumentClause>, filter: Option<Box<Expr>>) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args.into_iter().map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a))).collect(),
            clauses,
        }),
        filter,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

fn interval(text: &str) -> Expr {
    Expr::Interval(Interval {
        value: Box::new(Expr::value(Value::SingleQuotedString(text.into()))),
        leading_field: None,
        leading_precision: None,
        last_field: None,
        fractional_seconds_precision: None,
    })
}

/// DuckDB functions that DataFusion has under another name or shape.
fn rewrite_function(f: &Function) -> Result<Option<Expr>> {
    let name = f.name.to_string().to_lowercase();
    let Some(args) = plain_args(f) else {
        return Ok(None);
    };
    let date_part = |part: &str, args: &[Expr]| -> Result<Expr> {
        arity(&name, args, 1, &format!("{name}(timestamp)"))?;
        Ok(call("date_part", vec![text(part), args[0].clone()]))
    };
    Ok(Some(match name.as_str() {
        "json_extract_string" | "json_extract" => {
            arity(&name, &args, 2, "a JSON value and a path such as '$.userId'")?;
            let target = if name == "json_extract" { "json_get_json" } else { "json_as_text" };
            json_call(target, args[0].clone(), &args[1])?
        }
        "strftime" => renamed(f, "to_char"),
        "strptime" => renamed(f, "to_timestamp"),
        "string_split" | "str_split" => renamed(f, "string_to_array"),
        "list" => renamed(f, "array_agg"),
        "approx_count_distinct" => renamed(f, "approx_distinct"),
        "regexp_matches" => renamed(f, "regexp_like"),
        "ifnull" => renamed(f, "coalesce"),
        "datediff" => renamed(f, "date_diff"),
        "length" => renamed(f, "len"),
        "quantile" => renamed(f, "quantile_disc"),
        "epoch" => date_part("epoch", &args)?,
        "hour" | "minute" | "second" | "year" | "month" | "day" | "quarter" | "week" | "dayofyear" | "doy"
        | "dayofweek" | "dow" | "isodow" => {
            let part = match name.as_str() {
                "dayofyear" => "doy",
                "dayofweek" => "dow",
                other => other,
            };
            date_part(part, &args)?
        }
        "dayname" | "monthname" => {
            arity(&name, &args, 1, &format!("{name}(timestamp)"))?;
            call("to_char", vec![args[0].clone(), text(if name == "dayname" { "%A" } else { "%B" })])
        }
        "date_add" => {
            arity(&name, &args, 2, "date_add(date, INTERVAL ...)")?;
            Expr::Nested(Box::new(Expr::BinaryOp {
                left: Box::new(args[0].clone()),
                op: BinaryOperator::Plus,
                right: Box::new(args[1].clone()),
            }))
        }
        "last_day" => {
            arity(&name, &args, 1, "last_day(date)")?;
            let month = call("date_trunc", vec![text("month"), args[0].clone()]);
            let end = Expr::BinaryOp {
                left: Box::new(Expr::BinaryOp {
                    left: Box::new(month),
                    op: BinaryOperator::Plus,
                    right: Box::new(interval("1 month")),
                }),
                op: BinaryOperator::Minus,
                right: Box::new(interval("1 day")),
            };
            Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(end),
                data_type: SqlType::Date,
                array: false,
                format: None,
            }
        }
        "time_bucket" => {
            if !(2..=3).contains(&args.len()) {
                return Err(Error::Query(
                    "time_bucket takes 2 or 3 arguments: time_bucket(INTERVAL '1 week', ts [, origin])".into(),
                ));
            }
            let mut args = args;
            if args.len() == 2 {
                // DuckDB buckets days and weeks from Monday 2000-01-03.
                args.push(Expr::TypedString(datafusion::sql::sqlparser::ast::TypedString {
                    data_type: SqlType::Timestamp(None, datafusion::sql::sqlparser::ast::TimezoneInfo::None),
                    value: ValueWithSpan {
                        value: Value::SingleQuotedString("2000-01-03 00:00:00".into()),
                        span: datafusion::sql::sqlparser::tokenizer::Span::empty(),
                    },
                    uses_odbc_syntax: false,
                }));
            }
            call("date_bin", args)
        }
        "arg_max" | "max_by" | "arg_min" | "min_by" => {
            arity(&name, &args, 2, &format!("{name}(value, ordering)"))?;
            // The value at the row where the ordering is largest (smallest), ignoring NULL orderings.
            let largest = matches!(name.as_str(), "arg_max" | "max_by");
            let order = OrderByExpr {
                expr: args[1].clone(),
                options: OrderByOptions { asc: Some(!largest), nulls_first: Some(false) },
                with_fill: None,
            };
            let not_null = Expr::IsNotNull(Box::new(args[1].clone()));
            let filter = match &f.filter {
                Some(existing) => {
                    Expr::BinaryOp { left: existing.clone(), op: BinaryOperator::And, right: Box::new(not_null) }
                }
                None => not_null,
            };
            let mut first = call_with(
                "first_value",
                vec![args[0].clone()],
                vec![FunctionArgumentClause::OrderBy(vec![order])],
                Some(Box::new(filter)),
            );
            if let Expr::Function(g) = &mut first {
                g.over = f.over.clone();
            }
            first
        }
        _ => return Ok(None),
    }))
}

/// `function(json, key, key, ...)` for a literal path; other paths are left to the function.
fn json_call(function: &str, json: Expr, path: &Expr) -> Result<Expr> {
    let mut args = vec![json];
    match path {
        Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(p), .. }) => {
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
            args: args.into_iter().map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a))).collect(),
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
        Error::Query(format!("malformed JSON path '{path}': {why} (write it as '$.key', '$.a.b' or '$.items[0]')"))
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
                let end = quoted.find('"').ok_or_else(|| bad("a quoted key is not closed"))?;
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
            steps.push(PathStep::Index(index.parse().map_err(|_| bad("an array index is not a number"))?));
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
            "SELECT json_as_text(data, 'map', 'id') AS \"json_extract_string(data, '$.map.id')\", json_as_text(data, 'userId') AS \"data ->> 'userId'\", json_get_json(data, 'categories') AS \"data -> 'categories'\" FROM activity"
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
    fn syntax_errors_are_one_line() {
        let err = prepare("SELEC 1").unwrap_err().to_string();
        assert!(err.starts_with("SQL syntax error"), "{err}");
        assert!(!err.contains('\n'));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
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
