//! DuckDB's functions and operators, translated into what DataFusion (with the functions of
//! [`crate::engine::compat::functions::generic::scalars`] and the JSON functions) computes the same way.

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CastKind, DataType as SqlType, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArgumentList, FunctionArguments, Ident, Interval, ObjectName, ObjectNamePart,
    OrderByExpr, OrderByOptions, TypedString, Value, ValueWithSpan,
};

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::visit_expressions_mut;

use crate::engine::compat::ast::{call, call_with, null_text, plain_args, text, without_nulls};
use crate::engine::compat::functions::json::json_path::json_call;
use crate::engine::compat::rewrite::json_casts::is_json_type;
use crate::engine::compat::rewrite::names::fold_identifier;
use crate::error::{Error, Result};

fn renamed(f: &Function, to: &str) -> Expr {
    let mut f = f.clone();
    f.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(to))]);
    Expr::Function(f)
}

fn arity(name: &str, args: &[Expr], n: usize, usage: &str) -> Result<()> {
    if args.len() == n { Ok(()) } else { Err(Error::Query(format!("{name} takes {n} argument(s): {usage}"))) }
}

/// Whether a type is DuckDB's TIMESTAMPTZ (`TIMESTAMP WITH TIME ZONE`).
fn is_timestamptz(data_type: &SqlType) -> bool {
    use datafusion::sql::sqlparser::ast::TimezoneInfo;
    matches!(data_type, SqlType::Timestamp(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz))
}

/// `value` as an instant in UTC with microseconds, as `ts` is: DataFusion would make a
/// TIMESTAMPTZ without a time zone (the session has none, and setting one changes what
/// functions return inside Parquet filters).
fn as_instant(value: Expr) -> Expr {
    call("arrow_cast", vec![value, text("Timestamp(µs, \"UTC\")")])
}

/// [`as_instant`] that gives NULL where the value is not one (`TRY_CAST`).
fn try_as_instant(value: Expr) -> Expr {
    call("arrow_try_cast", vec![value, text("Timestamp(µs, \"UTC\")")])
}

pub(crate) fn rewrite_expr(expr: &mut Expr) -> Result<()> {
    crate::engine::compat::rewrite::like::duckdb_like(expr)?;
    if let Expr::Array(list) = expr {
        crate::engine::compat::rewrite::query_forms::floating_column(&mut list.elem.iter_mut().collect::<Vec<_>>());
    }
    if let Expr::TypedString(TypedString { data_type: SqlType::Timestamp(..), value, .. }) = expr
        && let Value::SingleQuotedString(text) = &mut value.value
        && let Some(full) = crate::engine::compat::planner::timestamp_texts::completed_text(text)
    {
        *text = full;
    }
    if let Expr::Cast { data_type, .. } | Expr::TypedString(TypedString { data_type, .. }) = expr
        && !is_json_type(data_type)
    {
        crate::engine::compat::rewrite::call_forms::duckdb_type(data_type);
    }
    use crate::engine::compat::{
        ast::duckdb_substring, ast::overlay_call, functions::text::binary_functions::blob_literal, rewrite::json_casts,
    };
    let forms: [fn(&Expr) -> Option<Expr>; 13] = [
        crate::engine::compat::ast::chained_call,
        crate::engine::compat::planner::try_calls::try_cast,
        crate::engine::compat::ast::extract_call,
        crate::engine::compat::ast::text_subscript,
        crate::engine::compat::ast::boolean_test,
        crate::engine::compat::functions::aggregate::aggregate_states::state_cast,
        crate::engine::compat::functions::regex::regex_quantified::quantified_match,
        crate::engine::compat::functions::regex::regex_quantified::similar_to,
        json_casts::rewritten,
        blob_literal,
        duckdb_substring,
        overlay_call,
        crate::engine::compat::functions::text::text_casts::text_cast,
    ];
    if let Some(rewritten) = forms.iter().find_map(|form| form(expr)) {
        // A form may give a DuckDB function of this layer (`EXTRACT(century ...)`): its call too.
        *expr = match &rewritten {
            Expr::Function(f) => rewrite_function(f)?.unwrap_or(rewritten),
            _ => rewritten,
        };
        return Ok(());
    }
    let replacement = match expr {
        Expr::Cast { kind, data_type, expr: value, .. } if is_timestamptz(data_type) => match kind {
            CastKind::TryCast | CastKind::SafeCast => try_as_instant((**value).clone()),
            CastKind::Cast | CastKind::DoubleColon => as_instant((**value).clone()),
        },
        Expr::TypedString(typed) if is_timestamptz(&typed.data_type) => as_instant(Expr::Value(typed.value.clone())),
        Expr::Identifier(ident) => {
            fold_identifier(ident);
            return Ok(());
        }
        Expr::CompoundIdentifier(parts) => {
            parts.iter_mut().for_each(fold_identifier);
            return Ok(());
        }
        Expr::BinaryOp { left, op: BinaryOperator::LongArrow, right } => {
            json_call("json_as_text", (**left).clone(), right)?
        }
        // `->` and json_extract give DuckDB's JSON.
        Expr::BinaryOp { left, op: BinaryOperator::Arrow, right } => {
            crate::engine::compat::functions::json::json_path::extracted_json((**left).clone(), right)?
        }
        Expr::AtTimeZone { timestamp, time_zone } => {
            call("at_time_zone", vec![(**timestamp).clone(), (**time_zone).clone()])
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
        // A number with an exponent is a DOUBLE in DuckDB (other fractional numbers are DECIMALs).
        Expr::Value(ValueWithSpan { value: Value::Number(n, _), .. }) if n.contains(['e', 'E']) => Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(text(n)),
            data_type: SqlType::Double(datafusion::sql::sqlparser::ast::ExactNumberInfo::None),
            array: false,
            format: None,
        },
        // DuckDB writes the time of an interval as `03:04:05`; DataFusion reads units only.
        // `INTERVAL 1 DAY` as `INTERVAL '1 DAY'`, the one form window frames take.
        Expr::Interval(Interval { value, leading_field, last_field: None, .. })
            if matches!(value.as_ref(), Expr::Value(_)) =>
        {
            match value.as_mut() {
                Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(s), .. }) => *s = interval_units(s),
                Expr::Value(ValueWithSpan { value: number @ Value::Number(..), .. }) if leading_field.is_some() => {
                    let (Value::Number(n, _), Some(unit)) = (&*number, leading_field.take()) else { return Ok(()) };
                    *number = Value::SingleQuotedString(format!("{n} {unit}"));
                }
                _ => {}
            }
            return Ok(());
        }
        // `INTERVAL (expr) DAY`: that many units.
        Expr::Interval(Interval { value, leading_field: Some(unit), last_field: None, .. }) => {
            crate::engine::compat::ast::units_interval((**value).clone(), &unit.to_string())
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

/// `1 day 03:04:05.5` as `1 day 3 hours 4 minutes 5.5 seconds`; other text as it is.
fn interval_units(text: &str) -> String {
    // `14 months ago` is minus 14 months.
    let (text, ago) = match text.trim_end().strip_suffix(" ago") {
        Some(rest) => (rest, true),
        None => (text, false),
    };
    let negated = |word: &str| match word.strip_prefix('-') {
        Some(positive) => positive.to_string(),
        None if word.starts_with(|c: char| c.is_ascii_digit() || c == '.') => format!("-{word}"),
        None => word.to_string(),
    };
    text.split_whitespace()
        .map(|word| if ago { negated(word) } else { word.to_string() })
        .map(|word| {
            let word = word.as_str();
            let (sign, clock) = word.strip_prefix('-').map_or(("", word), |w| ("-", w));
            let fields: Vec<&str> = clock.split(':').collect();
            let numeric = fields.iter().all(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit() || c == '.'));
            if !(2..=3).contains(&fields.len()) || !numeric {
                return word.to_string();
            }
            let units = ["hours", "minutes", "seconds"];
            fields.iter().zip(units).map(|(f, u)| format!("{sign}{f} {u}")).collect::<Vec<_>>().join(" ")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// DuckDB's `%f` (microseconds, six digits) in chrono's spelling.
fn duckdb_fraction(format: &mut Expr) {
    if let Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(s), .. }) = format {
        *s = s.replace("%f", "%6f");
    }
}

/// `count(arg)` with the call's FILTER and OVER kept.
fn count_of(f: &Function, arg: FunctionArgExpr) -> Expr {
    let mut g = f.clone();
    g.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new("count"))]);
    g.args = FunctionArguments::List(FunctionArgumentList {
        duplicate_treatment: None,
        args: vec![FunctionArg::Unnamed(arg)],
        clauses: vec![],
    });
    Expr::Function(g)
}

fn case_when(condition: Expr, then: Expr, otherwise: Option<Expr>) -> Expr {
    Expr::Case {
        case_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
        end_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
        operand: None,
        conditions: vec![datafusion::sql::sqlparser::ast::CaseWhen { condition, result: then }],
        else_result: otherwise.map(Box::new),
    }
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

/// Every expression in `expr` rewritten, innermost first.
fn rewrite_all(expr: &mut Expr) -> Result<()> {
    match visit_expressions_mut(expr, |e: &mut Expr| match rewrite_expr(e) {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => ControlFlow::Break(e),
    }) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// DuckDB functions that DataFusion has under another name or shape.
fn rewrite_function(f: &Function) -> Result<Option<Expr>> {
    let name = f.name.to_string().to_lowercase();
    if let Some(mut reshaped) = crate::engine::compat::rewrite::call_forms::rewrite(&name, f) {
        rewrite_all(&mut reshaped)?;
        return Ok(Some(reshaped));
    }
    if let Some(sorted) = crate::engine::compat::rewrite::ordered_aggregates::sorted(&name, f) {
        return Ok(Some(sorted));
    }
    // A macro's named parameters (`sep := '-'`) are its arguments in order.
    if let Some(args) = crate::engine::compat::ast::positional_args(f)
        && let Some(mut expanded) = crate::engine::compat::rewrite::templates::expand(&name, &args)?
    {
        // The template's own calls (`last_day`, `json_extract`) are DuckDB's too.
        rewrite_all(&mut expanded)?;
        return Ok(Some(Expr::Nested(Box::new(expanded))));
    }
    let Some(args) = plain_args(f) else {
        return Ok(None);
    };
    let date_part = |part: &str, args: &[Expr]| -> Result<Expr> {
        arity(&name, args, 1, &format!("{name}(timestamp)"))?;
        Ok(call("date_part", vec![text(part), args[0].clone()]))
    };
    if let Some(to) = crate::engine::compat::renames::datafusion_name(&name)
        && to != name
    {
        let Expr::Function(g) = renamed(f, to) else { unreachable!("renamed gives a function") };
        return Ok(Some(rewrite_function(&g)?.unwrap_or(Expr::Function(g))));
    }
    let binary = |op: BinaryOperator, args: &[Expr]| -> Result<Expr> {
        arity(&name, args, 2, &format!("{name}(a, b)"))?;
        Ok(Expr::Nested(Box::new(Expr::BinaryOp {
            left: Box::new(args[0].clone()),
            op,
            right: Box::new(args[1].clone()),
        })))
    };
    Ok(Some(match name.as_str() {
        // DuckDB takes the format first or second; `%f` is microseconds (chrono's `%6f`).
        "strftime" if args.len() == 2 => {
            let (mut format, value) = match &args[0] {
                Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(s), .. }) if s.contains('%') => {
                    (args[0].clone(), args[1].clone())
                }
                _ => (args[1].clone(), args[0].clone()),
            };
            duckdb_fraction(&mut format);
            call("to_char", vec![value, format])
        }
        // DuckDB's to_timestamp(seconds) is an instant, rounded to the nearest microsecond.
        "to_timestamp" if args.len() == 1 => {
            let double = SqlType::Double(datafusion::sql::sqlparser::ast::ExactNumberInfo::None);
            let micros = Expr::BinaryOp {
                left: Box::new(crate::engine::compat::ast::cast(args[0].clone(), double)),
                op: BinaryOperator::Multiply,
                right: Box::new(Expr::value(Value::Number("1000000".into(), false))),
            };
            let whole = crate::engine::compat::ast::cast(call("round", vec![micros]), SqlType::BigInt(None));
            as_instant(call("to_timestamp_micros", vec![whole]))
        }
        // With one argument, DuckDB's add and subtract are unary + and -.
        "add" if args.len() == 1 => Expr::Nested(Box::new(args[0].clone())),
        "subtract" if args.len() == 1 => Expr::UnaryOp {
            op: datafusion::sql::sqlparser::ast::UnaryOperator::Minus,
            expr: Box::new(Expr::Nested(Box::new(args[0].clone()))),
        },
        "add" => binary(BinaryOperator::Plus, &args)?,
        "subtract" => binary(BinaryOperator::Minus, &args)?,
        "multiply" => binary(BinaryOperator::Multiply, &args)?,
        "mod" => binary(BinaryOperator::Modulo, &args)?,
        // DuckDB pads to no characters where DataFusion would allocate a negative length.
        "lpad" | "rpad" if args.len() >= 2 => {
            let mut args = args;
            let length = args[1].clone();
            let zero = Expr::value(Value::Number("0".into(), false));
            let negative = Expr::BinaryOp {
                left: Box::new(length.clone()),
                op: BinaryOperator::Lt,
                right: Box::new(zero.clone()),
            };
            args[1] = case_when(negative, zero, Some(length));
            call(&name, args)
        }
        // DuckDB's distinct elements leave NULL out.
        "list_distinct" | "array_distinct" if args.len() == 1 => without_nulls(call("array_distinct", args)),
        // DuckDB: an empty list contains nothing, even NULL.
        "list_contains" | "list_has" | "array_contains" | "array_has" => {
            arity(&name, &args, 2, &format!("{name}(list, element)"))?;
            let empty = Expr::BinaryOp {
                left: Box::new(call("cardinality", vec![args[0].clone()])),
                op: BinaryOperator::Eq,
                right: Box::new(Expr::value(Value::Number("0".into(), false))),
            };
            case_when(empty, Expr::value(Value::Boolean(false)), Some(call("array_has", args)))
        }
        "if" | "iff" => {
            arity(&name, &args, 3, "if(condition, then, else)")?;
            case_when(args[0].clone(), args[1].clone(), Some(args[2].clone()))
        }
        "count_if" | "countif" => {
            arity(&name, &args, 1, &format!("{name}(condition)"))?;
            let when = case_when(args[0].clone(), Expr::value(Value::Number("1".into(), false)), None);
            count_of(f, FunctionArgExpr::Expr(when))
        }
        // DuckDB's separator defaults to a comma.
        "string_agg" if args.len() == 1 => {
            let mut g = f.clone();
            if let FunctionArguments::List(list) = &mut g.args {
                list.args.push(FunctionArg::Unnamed(FunctionArgExpr::Expr(text(","))));
            }
            Expr::Function(g)
        }
        // A NULL separator makes the whole result NULL in DuckDB: aggregate nothing but NULLs.
        "string_agg"
            if args.len() == 2 && matches!(&args[1], Expr::Value(ValueWithSpan { value: Value::Null, .. })) =>
        {
            let mut g = f.clone();
            if let FunctionArguments::List(list) = &mut g.args {
                list.args = vec![
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(null_text())),
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(text(","))),
                ];
            }
            Expr::Function(g)
        }
        "count_star" if args.is_empty() => count_of(f, FunctionArgExpr::Wildcard),
        "to_years" | "to_months" | "to_days" | "to_hours" | "to_minutes" | "to_seconds" | "to_weeks"
        | "to_milliseconds" | "to_microseconds" | "to_quarters" | "to_decades" | "to_centuries" | "to_millennia" => {
            arity(&name, &args, 1, &format!("{name}(number)"))?;
            // DataFusion multiplies no interval by a number: the interval is written as text.
            let (factor, unit) = match &name[3..] {
                "quarters" => (3, "months"),
                "decades" => (10, "years"),
                "centuries" => (100, "years"),
                "millennia" => (1000, "years"),
                "weeks" => (7, "days"),
                unit => (1, unit),
            };
            let count = Expr::BinaryOp {
                left: Box::new(args[0].clone()),
                op: BinaryOperator::Multiply,
                right: Box::new(Expr::value(Value::Number(factor.to_string(), false))),
            };
            crate::engine::compat::ast::units_interval(count, unit)
        }
        "json_extract_string" | "json_extract" => {
            arity(&name, &args, 2, "a JSON value and a path such as '$.userId'")?;
            if name == "json_extract" {
                crate::engine::compat::functions::json::json_path::extracted_json(args[0].clone(), &args[1])?
            } else {
                json_call("json_as_text", args[0].clone(), &args[1])?
            }
        }
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
        "arg_max" | "max_by" | "arg_min" | "min_by" | "arg_max_null" | "arg_min_null" => {
            arity(&name, &args, 2, &format!("{name}(value, ordering)"))?;
            // The value at the row where the ordering is largest (smallest), ignoring NULL orderings
            // (and NULL values, but for the `_null` forms).
            let largest = matches!(name.as_str(), "arg_max" | "max_by" | "arg_max_null");
            // A bare number would be read as a column position: `(0)` is the value.
            let ordering = match &args[1] {
                number @ Expr::Value(ValueWithSpan { value: Value::Number(..), .. }) => {
                    Expr::Nested(Box::new(number.clone()))
                }
                other => other.clone(),
            };
            let order = OrderByExpr {
                expr: ordering,
                options: OrderByOptions { asc: Some(!largest), nulls_first: Some(false) },
                with_fill: None,
            };
            let mut not_null = Expr::IsNotNull(Box::new(args[1].clone()));
            if !name.ends_with("_null") {
                let value = Box::new(Expr::IsNotNull(Box::new(args[0].clone())));
                not_null = Expr::BinaryOp { left: Box::new(not_null), op: BinaryOperator::And, right: value };
            }
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
