//! Building blocks for the rewrites: text and NULL literals, calls, a call's plain arguments.

use datafusion::sql::sqlparser::ast::{
    CastKind, DataType as SqlType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause,
    FunctionArgumentList, FunctionArguments, Ident, ObjectName, ObjectNamePart, Select, SetExpr, Value, ValueWithSpan,
};

pub(crate) fn text(s: &str) -> Expr {
    Expr::value(Value::SingleQuotedString(s.to_string()))
}

/// A NULL of type VARCHAR.
pub(crate) fn null_text() -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(Expr::value(Value::Null)),
        data_type: SqlType::Varchar(None),
        array: false,
        format: None,
    }
}

/// The plain arguments of a call, when it has no named or wildcard ones.
pub(crate) fn plain_args(f: &Function) -> Option<Vec<Expr>> {
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

/// The arguments in order, named ones (`x := 1`) included; `None` for other forms.
pub(crate) fn positional_args(f: &Function) -> Option<Vec<Expr>> {
    let FunctionArguments::List(list) = &f.args else { return plain_args(f) };
    list.args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
            | FunctionArg::Named { arg: FunctionArgExpr::Expr(e), .. } => Some(e.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn call(name: &str, args: Vec<Expr>) -> Expr {
    call_with(name, args, vec![], None)
}

pub(crate) fn call_with(
    name: &str,
    args: Vec<Expr>,
    clauses: Vec<FunctionArgumentClause>,
    filter: Option<Box<Expr>>,
) -> Expr {
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

/// `list_filter(list, v -> v IS NOT NULL)`: the list without its NULL elements.
pub(crate) fn without_nulls(list: Expr) -> Expr {
    call("array_filter", vec![list, element_lambda(|e| Expr::IsNotNull(Box::new(e)))])
}

/// `__element -> (body)`, the body made from the parameter; in parentheses, so that the lambda
/// reads back as one where a template prints it.
pub(crate) fn element_lambda(body: impl FnOnce(Expr) -> Expr) -> Expr {
    use datafusion::sql::sqlparser::ast::{LambdaFunction, LambdaFunctionParameter, LambdaSyntax, OneOrManyWithParens};
    let parameter = Ident::new("__element");
    Expr::Lambda(LambdaFunction {
        params: OneOrManyWithParens::One(LambdaFunctionParameter { name: parameter.clone(), data_type: None }),
        body: Box::new(Expr::Nested(Box::new(body(Expr::Identifier(parameter))))),
        syntax: LambdaSyntax::Arrow,
    })
}

/// `CAST(expr AS data_type)`.
pub(crate) fn cast(expr: Expr, data_type: SqlType) -> Expr {
    Expr::Cast { kind: CastKind::Cast, expr: Box::new(expr), data_type, array: false, format: None }
}

/// `left || right` (NULL when either is, unlike `concat`).
pub(crate) fn concat(left: Expr, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op: datafusion::sql::sqlparser::ast::BinaryOperator::StringConcat,
        right: Box::new(right),
    }
}

/// `INTERVAL (n) UNIT` as DataFusion reads it: the text `<n> unit` cast to an interval (a NULL
/// count gives NULL).
pub(crate) fn units_interval(count: Expr, unit: &str) -> Expr {
    let spelled = concat(cast(count, SqlType::Varchar(None)), text(&format!(" {unit}")));
    cast(spelled, SqlType::Interval { fields: None, precision: None })
}

/// `x IS [NOT] TRUE/FALSE/UNKNOWN` of a value that is not a boolean, as DuckDB reads it: of the
/// value cast to BOOLEAN (`42 IS TRUE`); a boolean's cast is no cast.
pub(crate) fn boolean_test(expr: &Expr) -> Option<Expr> {
    let as_boolean = |e: &Expr| -> Option<Box<Expr>> {
        if matches!(e, Expr::Cast { data_type: datafusion::sql::sqlparser::ast::DataType::Boolean, .. }) {
            return None;
        }
        Some(Box::new(Expr::Cast {
            kind: datafusion::sql::sqlparser::ast::CastKind::Cast,
            expr: Box::new(e.clone()),
            data_type: datafusion::sql::sqlparser::ast::DataType::Boolean,
            array: false,
            format: None,
        }))
    };
    Some(match expr {
        Expr::IsTrue(e) => Expr::IsTrue(as_boolean(e)?),
        Expr::IsNotTrue(e) => Expr::IsNotTrue(as_boolean(e)?),
        Expr::IsFalse(e) => Expr::IsFalse(as_boolean(e)?),
        Expr::IsNotFalse(e) => Expr::IsNotFalse(as_boolean(e)?),
        Expr::IsUnknown(e) => Expr::IsUnknown(as_boolean(e)?),
        Expr::IsNotUnknown(e) => Expr::IsNotUnknown(as_boolean(e)?),
        _ => return None,
    })
}

/// Subscripts DataFusion does not plan: open slices (`l[2:]`, `s[:3]`, to the end or from the
/// start, as DuckDB reads them), field names after an expression (`(x).key`), and list functions called on literal text
/// (`array_extract('abc', 2)`), by characters. (Subscripts of text, `s[2]`, are planned by
/// [`crate::engine::compat::planner::subscripts`], where the type of `s` is known.)
pub(crate) fn text_subscript(expr: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{AccessExpr, Subscript};
    let literal = |e: &Expr| {
        let mut e = e;
        while let Expr::Nested(inner) = e {
            e = inner;
        }
        matches!(e, Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(_), .. })).then(|| e.clone())
    };
    let number = |n: &str| Expr::value(Value::Number(n.into(), false));
    match expr {
        Expr::CompoundFieldAccess { root, access_chain } => {
            // `t.col.field` names a column (and struct fields) up to its first subscript; a name
            // after a subscript, or after an expression, is a field of a value.
            let named = matches!(root.as_ref(), Expr::Identifier(_) | Expr::CompoundIdentifier(_));
            let first_value = if named {
                access_chain.iter().position(|a| !matches!(a, AccessExpr::Dot(_))).unwrap_or(access_chain.len())
            } else {
                0
            };
            let open = |(i, a): (usize, &AccessExpr)| {
                matches!(a, AccessExpr::Subscript(Subscript::Slice { lower_bound, upper_bound, .. })
                    if lower_bound.is_none() || upper_bound.is_none())
                    || i >= first_value && matches!(a, AccessExpr::Dot(Expr::Identifier(_)))
            };
            if !access_chain.iter().enumerate().any(open) {
                return None;
            }
            let access_chain = access_chain
                .iter()
                .enumerate()
                .map(|(i, a)| match a {
                    AccessExpr::Subscript(Subscript::Slice { lower_bound, upper_bound, stride }) => {
                        AccessExpr::Subscript(Subscript::Slice {
                            lower_bound: Some(lower_bound.clone().unwrap_or_else(|| number("1"))),
                            upper_bound: Some(upper_bound.clone().unwrap_or_else(|| number("-1"))),
                            stride: stride.clone(),
                        })
                    }
                    // `(expr).key` as `(expr).'key'`, which DataFusion plans (a struct field, or
                    // JSON through crate::engine::compat::planner::subscripts); it refuses a bare name after an expression.
                    AccessExpr::Dot(Expr::Identifier(key)) if i >= first_value => {
                        AccessExpr::Dot(Expr::value(Value::SingleQuotedString(key.value.clone())))
                    }
                    other => other.clone(),
                })
                .collect();
            Some(Expr::CompoundFieldAccess { root: root.clone(), access_chain })
        }
        Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_lowercase();
            let args = plain_args(f)?;
            let text = literal(args.first()?)?;
            match (name.as_str(), &args[1..]) {
                ("array_extract" | "list_extract" | "list_element" | "array_element", [index]) => {
                    Some(call("text_element", vec![text, index.clone()]))
                }
                ("array_slice" | "list_slice", [from, to]) => {
                    Some(call("text_slice", vec![text, from.clone(), to.clone()]))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// `EXTRACT(century FROM x)` (and decade, millennium), which DataFusion's date_part lacks, as
/// this layer's functions of those names.
pub(crate) fn extract_call(expr: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::DateTimeField;
    let Expr::Extract { field, expr: value, .. } = expr else { return None };
    let name = match field {
        DateTimeField::Century => "century",
        DateTimeField::Decade => "decade",
        DateTimeField::Millennium | DateTimeField::Millenium => "millennium",
        _ => return None,
    };
    Some(call(name, vec![(**value).clone()]))
}

/// `OVERLAY(s PLACING r FROM f [FOR n])` as a call: DataFusion's planner would take its own
/// overlay for the syntax, not DuckDB's registered in its place.
pub(crate) fn overlay_call(expr: &Expr) -> Option<Expr> {
    let Expr::Overlay { expr: value, overlay_what, overlay_from, overlay_for } = expr else { return None };
    let mut args = vec![(**value).clone(), (**overlay_what).clone(), (**overlay_from).clone()];
    args.extend(overlay_for.as_deref().cloned());
    Some(call("overlay", args))
}

/// DuckDB's `substring(s, start, length)`: a negative length takes the characters before the
/// start (DataFusion refuses it). `None` for other expressions, for a length that cannot be
/// negative, and for the rewritten form itself (its branches are plain substrings again).
pub(crate) fn duckdb_substring(expr: &Expr) -> Option<Expr> {
    let Expr::Substring { expr: value, substring_from: Some(start), substring_for: Some(length), .. } = expr else {
        return None;
    };
    match length.as_ref() {
        Expr::Case { .. } | Expr::Function(_) => return None,
        Expr::Value(ValueWithSpan { value: Value::Number(n, _), .. }) if !n.starts_with('-') => return None,
        _ => {}
    }
    let (value, start, length) = ((**value).clone(), (**start).clone(), (**length).clone());
    use datafusion::sql::sqlparser::ast::BinaryOperator;
    let number = |n: &str| Expr::value(Value::Number(n.into(), false));
    let binary = |left: Expr, op: BinaryOperator, right: Expr| Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    };
    let substring = |from: Expr, count: Expr| Expr::Substring {
        expr: Box::new(value.clone()),
        substring_from: Some(Box::new(from)),
        substring_for: Some(Box::new(count)),
        special: true,
        shorthand: false,
    };
    let first = call("greatest", vec![binary(start.clone(), BinaryOperator::Plus, length.clone()), number("1")]);
    let before = call("greatest", vec![binary(start.clone(), BinaryOperator::Minus, first.clone()), number("0")]);
    Some(Expr::Case {
        case_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
        end_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
        operand: None,
        conditions: vec![datafusion::sql::sqlparser::ast::CaseWhen {
            condition: binary(length.clone(), BinaryOperator::Lt, number("0")),
            result: substring(first, before),
        }],
        // Never negative, also where planning folds the branch not taken (NULL stays NULL).
        else_result: Some(Box::new(substring(
            start,
            Expr::Case {
                case_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
                end_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
                operand: None,
                conditions: vec![datafusion::sql::sqlparser::ast::CaseWhen {
                    condition: binary(length.clone(), BinaryOperator::Lt, number("0")),
                    result: number("0"),
                }],
                else_result: Some(Box::new(length)),
            },
        ))),
    })
}

/// `f` on each SELECT of a query body (both sides of a set operation).
pub(crate) fn for_each_select(body: &mut SetExpr, f: &mut impl FnMut(&mut Select)) {
    match body {
        SetExpr::Select(select) => f(select),
        SetExpr::SetOperation { left, right, .. } => {
            for_each_select(left, f);
            for_each_select(right, f);
        }
        _ => {}
    }
}

/// DuckDB's function chaining: `email.lower()`, `t.email.split_part('@', 2)`, `(l).list_reverse()`
/// call the function with the value before the dot as its first argument.
pub(crate) fn chained_call(expr: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::AccessExpr;
    match expr {
        Expr::Function(f) if f.name.0.len() >= 2 => {
            let parts: Vec<Ident> = f.name.0.iter().map(|p| p.as_ident().cloned()).collect::<Option<Vec<_>>>()?;
            let (name, receiver) = parts.split_last()?;
            let receiver = match receiver {
                [one] => Expr::Identifier(one.clone()),
                many => Expr::CompoundIdentifier(many.to_vec()),
            };
            Some(chained(f, name, receiver))
        }
        Expr::CompoundFieldAccess { root, access_chain } => {
            let calls = access_chain.iter().take_while(|a| matches!(a, AccessExpr::Dot(Expr::Function(_)))).count();
            if calls == 0 {
                return None;
            }
            let mut value = (**root).clone();
            for access in &access_chain[..calls] {
                if let AccessExpr::Dot(Expr::Function(f)) = access {
                    let name = f.name.0.last()?.as_ident()?.clone();
                    value = chained(f, &name, value);
                }
            }
            Some(if calls == access_chain.len() {
                value
            } else {
                Expr::CompoundFieldAccess { root: Box::new(value), access_chain: access_chain[calls..].to_vec() }
            })
        }
        _ => None,
    }
}

/// `f` named `name`, with `receiver` as its first argument.
fn chained(f: &Function, name: &Ident, receiver: Expr) -> Expr {
    let mut g = f.clone();
    g.name = ObjectName::from(vec![name.clone()]);
    let first = FunctionArg::Unnamed(FunctionArgExpr::Expr(receiver));
    match &mut g.args {
        FunctionArguments::List(list) => list.args.insert(0, first),
        other => {
            *other = FunctionArguments::List(FunctionArgumentList {
                duplicate_treatment: None,
                args: vec![first],
                clauses: vec![],
            })
        }
    }
    Expr::Function(g)
}
/// Whether `e` is a call of DuckDB's `COLUMNS(...)`.
pub(crate) fn is_columns_call(e: &Expr) -> bool {
    matches!(e, Expr::Function(f) if matches!(f.name.0.as_slice(), [datafusion::sql::sqlparser::ast::ObjectNamePart::Identifier(i)] if i.value.eq_ignore_ascii_case("columns")))
}

/// Whether `node` calls `COLUMNS(...)` anywhere.
pub(crate) fn mentions_columns<T: datafusion::sql::sqlparser::ast::Visit>(node: &T) -> bool {
    datafusion::sql::sqlparser::ast::visit_expressions(node, |e| {
        if is_columns_call(e) { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) }
    })
    .is_break()
}
