//! DuckDB calls whose shape DataFusion does not take, reshaped: `struct_pack(a := 1)`,
//! `list_aggregate(l, 'max')`, `list_zip(..., truncate)`, `regexp_extract(s, p, ['name'])`, empty regex options, splitting on `''`, several quantiles in one
//! call; and DuckDB's type names that DataFusion does not know.

use datafusion::sql::sqlparser::ast::{
    DataType as SqlType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, Value, ValueWithSpan,
};

use crate::engine::compat::ast::{call, plain_args, text};

/// `list_zip(l1, ..., [truncate])`: DataFusion's `arrays_zip`; a constant `true` last cuts the
/// lists to the shortest first.
fn zipped(args: &[Expr]) -> Expr {
    let (lists, truncate) = match args.split_last() {
        Some((Expr::Value(ValueWithSpan { value: Value::Boolean(t), .. }), lists)) => (lists, *t),
        _ => (args, false),
    };
    if !truncate {
        return call("arrays_zip", lists.to_vec());
    }
    let shortest = Expr::Cast {
        kind: datafusion::sql::sqlparser::ast::CastKind::Cast,
        expr: Box::new(call("least", lists.iter().map(|l| call("cardinality", vec![l.clone()])).collect())),
        data_type: SqlType::BigInt(None),
        array: false,
        format: None,
    };
    let one = Expr::value(Value::Number("1".into(), false));
    call(
        "arrays_zip",
        lists.iter().map(|l| call("array_slice", vec![l.clone(), one.clone(), shortest.clone()])).collect(),
    )
}

/// DataFusion's name for a DuckDB `date_trunc` part written otherwise (plural or abbreviated),
/// or `isoyear`; `None` for the names DataFusion takes as they are.
fn truncation_unit(part: &str) -> Option<&'static str> {
    Some(match part.to_lowercase().as_str() {
        "microseconds" | "us" | "usec" | "usecs" | "usecond" | "useconds" => "microsecond",
        "milliseconds" | "ms" | "msec" | "msecs" | "msecond" | "mseconds" => "millisecond",
        "seconds" | "sec" | "secs" | "s" => "second",
        "minutes" | "min" | "mins" | "m" => "minute",
        "hours" | "hr" | "hrs" | "h" => "hour",
        "days" | "d" | "dayofmonth" => "day",
        "weeks" | "w" | "weekofyear" => "week",
        "months" | "mon" | "mons" => "month",
        "quarters" => "quarter",
        "years" | "y" | "yr" | "yrs" => "year",
        "isoyear" => "isoyear",
        _ => return None,
    })
}

/// `f` called by another name, its arguments and clauses kept.
fn renamed(f: &Function, name: &str) -> Expr {
    let mut g = f.clone();
    g.name = datafusion::sql::sqlparser::ast::ObjectName::from(vec![datafusion::sql::sqlparser::ast::Ident::new(name)]);
    Expr::Function(g)
}

/// The reshaped call, if `f` (named `name`) is one of these forms; its calls are DuckDB's still
/// (the caller rewrites them).
pub(crate) fn rewrite(name: &str, f: &Function) -> Option<Expr> {
    if name == "struct_pack" {
        return struct_pack(f);
    }
    if let Some(quantile) = ordered_quantile(name, f) {
        return Some(quantile);
    }
    // `mode() WITHIN GROUP (ORDER BY x DESC)`: `mode(x ORDER BY x DESC)`.
    if name == "mode"
        && let [order] = f.within_group.as_slice()
        && crate::engine::compat::ast::positional_args(f).is_some_and(|a| a.is_empty())
    {
        return Some(crate::engine::compat::ast::call_with(
            "mode",
            vec![order.expr.clone()],
            vec![datafusion::sql::sqlparser::ast::FunctionArgumentClause::OrderBy(vec![order.clone()])],
            f.filter.clone(),
        ));
    }
    if let Some(reshaped) = crate::engine::compat::rewrite::query_forms::lead_lag(name, f) {
        return Some(reshaped);
    }
    // `row(a, b)` and a tuple argument (`count(DISTINCT (a, b))`) are DuckDB's unnamed structs.
    if name == "row" {
        return Some(call("struct", plain_args(f)?));
    }
    if let FunctionArguments::List(list) = &f.args
        && list.args.iter().any(|a| matches!(a, FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Tuple(_)))))
    {
        let mut g = f.clone();
        if let FunctionArguments::List(list) = &mut g.args {
            for arg in &mut list.args {
                if let FunctionArg::Unnamed(FunctionArgExpr::Expr(tuple @ Expr::Tuple(_))) = arg {
                    let Expr::Tuple(items) = std::mem::replace(tuple, Expr::value(Value::Null)) else { continue };
                    *tuple = call("struct", items);
                }
            }
        }
        return Some(Expr::Function(g));
    }
    let args = plain_args(f)?;
    if name == "to_aggregate_state" {
        return crate::engine::compat::functions::aggregate::aggregate_states::to_state(&args);
    }
    // `date_part(['year', 'month'], t)`: a STRUCT of each part.
    if matches!(name, "date_part" | "datepart")
        && let [Expr::Array(parts), value] = args.as_slice()
    {
        let mut fields = Vec::with_capacity(parts.elem.len() * 2);
        for part in &parts.elem {
            fields.push(part.clone());
            fields.push(call("date_part", vec![part.clone(), value.clone()]));
        }
        // A NULL value has a NULL struct of parts, not a struct of NULLs.
        let parts = call("named_struct", fields);
        return Some(Expr::Case {
            case_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
            end_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
            operand: None,
            conditions: vec![datafusion::sql::sqlparser::ast::CaseWhen {
                condition: Expr::IsNull(Box::new(value.clone())),
                result: Expr::value(Value::Null),
            }],
            else_result: Some(Box::new(parts)),
        });
    }
    // `date_trunc('microseconds' | 'us' | 'isoyear', t)`: DuckDB's other names for the parts.
    if matches!(name, "date_trunc" | "datetrunc")
        && let [Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(part), .. }), value] = args.as_slice()
        && let Some(unit) = truncation_unit(part)
    {
        if unit == "isoyear" {
            // The Monday of the ISO year's first week.
            let week = call("date_trunc", vec![text("week"), value.clone()]);
            let weeks_in = call("date_part", vec![text("week"), value.clone()]);
            let back = crate::engine::compat::ast::concat(
                crate::engine::compat::ast::cast(weeks_in, SqlType::Varchar(None)),
                text(" weeks"),
            );
            let back = crate::engine::compat::ast::cast(back, SqlType::Interval { fields: None, precision: None });
            let one_week =
                crate::engine::compat::ast::cast(text("1 week"), SqlType::Interval { fields: None, precision: None });
            return Some(Expr::BinaryOp {
                left: Box::new(Expr::BinaryOp {
                    left: Box::new(week),
                    op: datafusion::sql::sqlparser::ast::BinaryOperator::Minus,
                    right: Box::new(back),
                }),
                op: datafusion::sql::sqlparser::ast::BinaryOperator::Plus,
                right: Box::new(one_week),
            });
        }
        return Some(call("date_trunc", vec![text(unit), value.clone()]));
    }
    // `list_position(l, NULL)`: DuckDB finds the first NULL element (DataFusion answers NULL).
    if matches!(name, "list_position" | "array_position" | "list_indexof" | "array_indexof")
        && let [list, Expr::Value(ValueWithSpan { value: Value::Null, .. })] = args.as_slice()
    {
        let is_null = crate::engine::compat::ast::element_lambda(|e| Expr::IsNull(Box::new(e)));
        let flags = call("list_transform", vec![list.clone(), is_null]);
        return Some(call("array_position", vec![flags, Expr::value(Value::Boolean(true))]));
    }
    // `list_concat(NULL, [3, 4])`: DuckDB's list_concat skips NULL lists (DataFusion cannot type a NULL).
    if matches!(name, "list_concat" | "list_cat" | "array_concat" | "array_cat")
        && args.len() > 1
        && args.iter().any(|a| matches!(a, Expr::Value(ValueWithSpan { value: Value::Null, .. })))
    {
        let lists: Vec<Expr> = args
            .iter()
            .filter(|a| !matches!(a, Expr::Value(ValueWithSpan { value: Value::Null, .. })))
            .cloned()
            .collect();
        return Some(match lists.len() {
            0 => Expr::value(Value::Null),
            1 => lists[0].clone(),
            _ => call("array_concat", lists),
        });
    }
    // A NULL part: NULL (DataFusion asks for a constant part).
    if matches!(name, "date_part" | "datepart" | "date_trunc" | "datetrunc")
        && let [Expr::Value(ValueWithSpan { value: Value::Null, .. }), _] = args.as_slice()
    {
        let data_type = if name.contains("part") {
            SqlType::Double(datafusion::sql::sqlparser::ast::ExactNumberInfo::None)
        } else {
            SqlType::Timestamp(None, datafusion::sql::sqlparser::ast::TimezoneInfo::None)
        };
        return Some(Expr::Cast {
            kind: datafusion::sql::sqlparser::ast::CastKind::Cast,
            expr: Box::new(args[0].clone()),
            data_type,
            array: false,
            format: None,
        });
    }
    // `json_keys(j, ['$.a', '$.b'])`: a list of what each path gives.
    if matches!(name, "json_keys" | "json_exists" | "json_value" | "json_type" | "json_array_length")
        && let [json, Expr::Array(paths)] = args.as_slice()
    {
        let each = paths.elem.iter().map(|path| call(name, vec![json.clone(), path.clone()])).collect();
        return Some(call("make_array", each));
    }
    // `min(x, n)`, `arg_max(a, x, n)`: the n least (greatest) values, or the arguments of
    // those, as a list, leaving out NULLs.
    if f.over.is_none()
        && let Some((descending, [value, by @ .., n])) = match (name, args.as_slice()) {
            ("min", [_, _]) | ("arg_min" | "argmin" | "min_by", [_, _, _]) => Some((false, args.as_slice())),
            ("max", [_, _]) | ("arg_max" | "argmax" | "max_by", [_, _, _]) => Some((true, args.as_slice())),
            _ => None,
        }
    {
        let key = by.first().unwrap_or(value).clone();
        let order = datafusion::sql::sqlparser::ast::OrderByExpr {
            expr: key.clone(),
            options: datafusion::sql::sqlparser::ast::OrderByOptions { asc: Some(!descending), nulls_first: None },
            with_fill: None,
        };
        let mut kept = Expr::IsNotNull(Box::new(value.clone()));
        if !by.is_empty() {
            kept = Expr::BinaryOp {
                left: Box::new(kept),
                op: datafusion::sql::sqlparser::ast::BinaryOperator::And,
                right: Box::new(Expr::IsNotNull(Box::new(key))),
            };
        }
        let collected = crate::engine::compat::ast::call_with(
            "array_agg",
            vec![value.clone()],
            vec![datafusion::sql::sqlparser::ast::FunctionArgumentClause::OrderBy(vec![order])],
            Some(Box::new(kept)),
        );
        // DuckDB refuses a count that is no positive number.
        let refused = match n {
            Expr::Value(ValueWithSpan { value: Value::Number(k, _), .. }) => k.parse::<f64>().is_ok_and(|k| k <= 0.0),
            Expr::Value(ValueWithSpan { value: Value::Null, .. }) => true,
            Expr::UnaryOp { op: datafusion::sql::sqlparser::ast::UnaryOperator::Minus, .. } => true,
            _ => false,
        };
        if refused {
            return Some(call("error", vec![text("Invalid input for MIN/MAX: n value must be > 0")]));
        }
        let one = Expr::value(Value::Number("1".into(), false));
        return Some(call("array_slice", vec![collected, one, n.clone()]));
    }
    // `sum(NULL)`, `avg(NULL)`: DataFusion has no sum of the NULL type; DuckDB answers NULL.
    if matches!(name, "sum" | "avg" | "mean")
        && let [Expr::Value(ValueWithSpan { value: Value::Null, .. })] = args.as_slice()
    {
        let data_type = if name == "sum" {
            SqlType::BigInt(None)
        } else {
            SqlType::Double(datafusion::sql::sqlparser::ast::ExactNumberInfo::None)
        };
        let null = Expr::Cast {
            kind: datafusion::sql::sqlparser::ast::CastKind::Cast,
            expr: Box::new(args[0].clone()),
            data_type,
            array: false,
            format: None,
        };
        let mut g = f.clone();
        if let FunctionArguments::List(list) = &mut g.args {
            list.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(null))];
        }
        return Some(Expr::Function(g));
    }
    // `json_group_array(x)`, `json_group_object(k, v)`: the JSON of the aggregated values (NULL
    // over no rows, as DuckDB's macros answer).
    if name == "json_group_array" && args.len() == 1 {
        return Some(call("to_json", vec![renamed(f, "array_agg")]));
    }
    if name == "json_group_object"
        && let [key, value] = args.as_slice()
    {
        let key_text = crate::engine::compat::ast::cast(key.clone(), SqlType::Varchar(None));
        let value_json = call("coalesce", vec![call("to_json", vec![value.clone()]), text("null")]);
        // `||` (not concat) so that a NULL key drops its pair.
        let joined = crate::engine::compat::ast::concat;
        let pair = joined(joined(call("json_quote", vec![key_text]), text(":")), value_json);
        let mut pairs = renamed(f, "string_agg");
        if let Expr::Function(g) = &mut pairs
            && let FunctionArguments::List(list) = &mut g.args
        {
            list.args = vec![
                FunctionArg::Unnamed(FunctionArgExpr::Expr(pair)),
                FunctionArg::Unnamed(FunctionArgExpr::Expr(text(","))),
            ];
        }
        return Some(crate::engine::compat::ast::cast(joined(joined(text("{"), pairs), text("}")), SqlType::JSON));
    }
    if matches!(name, "list_zip" | "array_zip") {
        return Some(zipped(&args));
    }
    // Group names as a list: constant arguments of the struct-making form.
    if matches!(name, "regexp_extract" | "regexp_extract_all")
        && let Some(Expr::Array(names)) = args.get(2).filter(|n| matches!(n, Expr::Array(a) if !a.elem.is_empty()))
    {
        let function = if name == "regexp_extract" {
            crate::engine::compat::functions::regex::regexp_struct::EXTRACT
        } else {
            crate::engine::compat::functions::regex::regexp_struct::EXTRACT_ALL
        };
        let mut call_args = vec![args[0].clone(), args[1].clone(), args.get(3).cloned().unwrap_or_else(|| text(""))];
        call_args.extend(names.elem.iter().cloned());
        return Some(call(function, call_args));
    }
    // An aggregate over a list, by name, as the list function of that aggregate.
    if matches!(name, "list_aggregate" | "list_aggr" | "array_aggregate" | "array_aggr" | "aggregate")
        && let [list, Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(aggregate), .. }), rest @ ..] =
            args.as_slice()
    {
        // (Not `sum`: DataFusion's list sum is a DOUBLE where DuckDB keeps the integer type.)
        let function = match aggregate.to_ascii_lowercase().as_str() {
            "avg" | "mean" => "array_avg",
            "max" => "array_max",
            "min" => "array_min",
            "product" => "array_product",
            "string_agg" | "group_concat" | "listagg" => "array_to_string",
            "first" | "any_value" | "arbitrary" => "array_any_value",
            _ => return None,
        };
        let mut call_args = vec![list.clone()];
        if function == "array_to_string" {
            call_args.push(rest.first().cloned().unwrap_or_else(|| text(",")));
        }
        return Some(call(function, call_args));
    }
    // DuckDB's regex options in DataFusion's flags: `c` (case-sensitive) is the default, `n` and
    // `p` (newline-sensitive) are `m`, `l` reads the pattern literally; no options are no flags
    // (DataFusion would read `(?)`, which is no regex).
    if matches!(name, "regexp_replace" | "regexp_matches" | "regexp_full_match" | "regexp_like")
        && args.len() >= 3
        && !(name == "regexp_replace" && args.len() == 3)
        && let Some(Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(options), .. })) = args.last()
        && (options.is_empty() || options.contains(['c', 'n', 'p', 'l']))
    {
        let flags: String = options
            .chars()
            .filter(|c| !matches!(c, 'c' | 'l'))
            .map(|c| if matches!(c, 'n' | 'p') { 'm' } else { c })
            .collect();
        let mut new_args = args.clone();
        if options.contains('l') {
            new_args[1] = call("regexp_escape", vec![new_args[1].clone()]);
        }
        new_args.pop();
        if !flags.is_empty() {
            new_args.push(text(&flags));
        }
        let mut g = f.clone();
        if let FunctionArguments::List(list) = &mut g.args {
            list.args = new_args.into_iter().map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e))).collect();
        }
        return Some(Expr::Function(g));
    }
    // Several quantiles at once: a list of one quantile each, as DuckDB answers.
    if matches!(name, "quantile_cont" | "quantile_disc" | "quantile" | "median" | "approx_quantile")
        && let [value, Expr::Array(quantiles)] = args.as_slice()
    {
        let mut each = Vec::with_capacity(quantiles.elem.len());
        for q in &quantiles.elem {
            let mut g = f.clone();
            if let FunctionArguments::List(list) = &mut g.args {
                list.args = [value, q].map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e.clone()))).to_vec();
            }
            each.push(Expr::Function(g));
        }
        return Some(Expr::Array(datafusion::sql::sqlparser::ast::Array { elem: each, named: quantiles.named }));
    }
    None
}

/// `percentile_cont(q) WITHIN GROUP (ORDER BY x)` and `quantile_cont(x, q ORDER BY x DESC)` (and
/// the discrete ones) as this layer's exact quantiles, a descending order as a negative quantile.
fn ordered_quantile(name: &str, f: &Function) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{CastKind, FunctionArgumentClause, UnaryOperator};
    let FunctionArguments::List(list) = &f.args else { return None };
    let args = crate::engine::compat::ast::positional_args(f)?;
    let (function, value, quantile, order) = match name {
        "percentile_cont" | "percentile_disc" if f.within_group.len() == 1 && args.len() == 1 => {
            let function = if name == "percentile_cont" { "quantile_cont" } else { "quantile_disc" };
            (function, f.within_group[0].expr.clone(), args[0].clone(), &f.within_group[0])
        }
        "quantile_cont" | "quantile_disc" | "quantile" if args.len() == 2 => {
            let order = list.clauses.iter().find_map(|c| match c {
                FunctionArgumentClause::OrderBy(order) if order.len() == 1 => Some(&order[0]),
                _ => None,
            })?;
            let function = if name == "quantile_cont" { "quantile_cont" } else { "quantile_disc" };
            (function, args[0].clone(), args[1].clone(), order)
        }
        _ => return None,
    };
    let descending = order.options.asc == Some(false);
    let negated = |q: Expr| Expr::UnaryOp {
        op: UnaryOperator::Minus,
        expr: Box::new(Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(q),
            data_type: SqlType::Double(datafusion::sql::sqlparser::ast::ExactNumberInfo::None),
            array: false,
            format: None,
        }),
    };
    let quantile = match quantile {
        q if !descending => q,
        Expr::Array(mut each) => {
            each.elem = each.elem.into_iter().map(negated).collect();
            Expr::Array(each)
        }
        q => negated(q),
    };
    Some(call(function, vec![value, quantile]))
}

/// `struct_pack(a := 1, b := 'x')` as `named_struct('a', 1, 'b', 'x')`.
fn struct_pack(f: &Function) -> Option<Expr> {
    let FunctionArguments::List(list) = &f.args else { return None };
    let mut args = Vec::new();
    for arg in &list.args {
        let FunctionArg::Named { name, arg: FunctionArgExpr::Expr(value), .. } = arg else { return None };
        args.push(text(&name.value));
        args.push(value.clone());
    }
    Some(call("named_struct", args))
}

/// DuckDB's type names that DataFusion does not know, as the type that holds the same values:
/// JSON and UUID are text, HUGEINT a 38-digit DECIMAL, DATETIME a TIMESTAMP, UINTEGER ...
pub(crate) fn duckdb_type(data_type: &mut SqlType) {
    use datafusion::sql::sqlparser::ast::{ArrayElemTypeDef, ExactNumberInfo};
    let replacement = match data_type {
        // Types inside types: `STRUCT(n UBIGINT)[]`.
        SqlType::Struct(fields, _) => {
            fields.iter_mut().for_each(|f| duckdb_type(&mut f.field_type));
            return;
        }
        SqlType::Array(
            ArrayElemTypeDef::AngleBracket(inner)
            | ArrayElemTypeDef::SquareBracket(inner, _)
            | ArrayElemTypeDef::Parenthesis(inner),
        ) => {
            duckdb_type(inner);
            return;
        }
        SqlType::JSON | SqlType::JSONB | SqlType::Uuid => SqlType::Varchar(None),
        SqlType::HugeInt | SqlType::Int128 => SqlType::Decimal(ExactNumberInfo::PrecisionAndScale(38, 0)),
        SqlType::UHugeInt => SqlType::Decimal(ExactNumberInfo::PrecisionAndScale(38, 0)),
        SqlType::Int64 => SqlType::BigInt(None),
        SqlType::Int32 => SqlType::Int(None),
        SqlType::UBigInt | SqlType::UInt64 => SqlType::BigIntUnsigned(None),
        SqlType::UInt32 => SqlType::IntUnsigned(None),
        SqlType::USmallInt | SqlType::UInt16 => SqlType::SmallIntUnsigned(None),
        SqlType::UTinyInt | SqlType::UInt8 => SqlType::TinyIntUnsigned(None),
        SqlType::Datetime(_) | SqlType::TimestampNtz(_) => {
            SqlType::Timestamp(None, datafusion::sql::sqlparser::ast::TimezoneInfo::None)
        }
        SqlType::Blob(_) | SqlType::Binary(_) | SqlType::Varbinary(_) => SqlType::Bytea,
        SqlType::Custom(name, _) => match name.to_string().to_ascii_uppercase().as_str() {
            "UINTEGER" => SqlType::IntUnsigned(None),
            "JSON" | "UUID" => SqlType::Varchar(None),
            "BLOB" | "BYTES" => SqlType::Bytea,
            // DuckDB's timestamps of other precisions.
            "TIMESTAMP_S" => SqlType::Timestamp(Some(0), datafusion::sql::sqlparser::ast::TimezoneInfo::None),
            "TIMESTAMP_MS" => SqlType::Timestamp(Some(3), datafusion::sql::sqlparser::ast::TimezoneInfo::None),
            "TIMESTAMP_NS" => SqlType::Timestamp(Some(9), datafusion::sql::sqlparser::ast::TimezoneInfo::None),
            _ => return,
        },
        _ => return,
    };
    *data_type = replacement;
}
