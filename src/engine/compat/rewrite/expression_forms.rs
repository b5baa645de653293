//! DuckDB expressions DataFusion takes in another form, whatever function they call: function
//! chaining (`email.lower()`), `x IS TRUE` of a non-boolean, open slices and subscripts of text,
//! `EXTRACT` of the parts DataFusion lacks, `OVERLAY ... PLACING`, `substring` with a negative
//! length, casts of exported aggregate states, and the power operators `^` and `**`.

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, DataType, ExactNumberInfo, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause,
    FunctionArgumentList, FunctionArguments, Ident, ObjectName, Value, ValueWithSpan,
};

use crate::engine::compat::ast::{call, plain_args, text};

/// `a ^ b` and `a ** b`, which the parser keeps as operators for the result columns' names, as
/// DuckDB computes them: `power(CAST(a AS DOUBLE), b)`.
pub(crate) fn powers(statement: &mut datafusion::sql::sqlparser::ast::Statement) {
    let _ = crate::engine::compat::ast::each_expr_mut(statement, |expr: &mut Expr| {
        if let Expr::BinaryOp { left, op: BinaryOperator::Custom(op), right } = expr
            && (op == "^" || op == "**")
        {
            let double = DataType::Double(ExactNumberInfo::None);
            let base =
                crate::engine::compat::ast::cast(std::mem::replace(left.as_mut(), Expr::value(Value::Null)), double);
            *expr = call("power", vec![base, std::mem::replace(right.as_mut(), Expr::value(Value::Null))]);
        }
        std::ops::ControlFlow::Continue(())
    });
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
            // `l[a:b:s]`: DuckDB's slice with a step (empty bounds are the list's ends).
            if let Some((
                AccessExpr::Subscript(Subscript::Slice { lower_bound, upper_bound, stride: Some(step) }),
                before,
            )) = access_chain.split_last()
            {
                let list = if before.is_empty() {
                    (**root).clone()
                } else {
                    Expr::CompoundFieldAccess { root: root.clone(), access_chain: before.to_vec() }
                };
                let is_empty = |b: &Option<Expr>| match b {
                    None => true,
                    Some(Expr::Identifier(i)) => i.value == crate::engine::compat::parse::slice_ends::SLICE_END,
                    Some(_) => false,
                };
                let bound =
                    |b: &Option<Expr>| if is_empty(b) { number("0") } else { b.clone().unwrap_or_else(|| number("0")) };
                let empty = |b: &Option<Expr>| Expr::value(Value::Boolean(is_empty(b)));
                return Some(call(
                    crate::engine::compat::functions::list::list_steps::NAME,
                    vec![
                        list,
                        bound(lower_bound),
                        bound(upper_bound),
                        step.clone(),
                        empty(lower_bound),
                        empty(upper_bound),
                    ],
                ));
            }
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
            let first = args.first()?;
            let text = literal(first);
            // Of a value whose type only the planner knows: written as the subscript, which
            // the planner reads by type (characters of text, elements of a list).
            let subscript = |access: Subscript| {
                let plain = !matches!(first, Expr::Value(ValueWithSpan { value: Value::Null, .. }));
                plain.then(|| Expr::CompoundFieldAccess {
                    root: Box::new(first.clone()),
                    access_chain: vec![AccessExpr::Subscript(access)],
                })
            };
            match (name.as_str(), &args[1..]) {
                ("array_extract" | "list_extract" | "list_element" | "array_element", [index]) => match text {
                    Some(text) => Some(call("text_element", vec![text, index.clone()])),
                    None => subscript(Subscript::Index { index: index.clone() }),
                },
                ("array_slice" | "list_slice", [from, to]) => match text {
                    Some(text) => Some(call("text_slice", vec![text, from.clone(), to.clone()])),
                    None => subscript(Subscript::Slice {
                        lower_bound: Some(from.clone()),
                        upper_bound: Some(to.clone()),
                        stride: None,
                    }),
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// `EXTRACT(part FROM x)` as `date_part('part', x)`, the call DuckDB makes of it: DataFusion plans
/// EXTRACT with its own date_part, not the one this layer registers in its place.
pub(crate) fn extract_call(expr: &Expr) -> Option<Expr> {
    let Expr::Extract { field, expr: value, .. } = expr else { return None };
    Some(call("date_part", vec![text(&field.to_string()), (**value).clone()]))
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

/// A cast of an exported state is a cast of its value (a plain value, no longer a state).
pub(crate) fn state_cast(expr: &Expr) -> Option<Expr> {
    let Expr::Cast { kind, expr: value, data_type, array, format } = expr else { return None };
    let mut inner = value.as_ref();
    while let Expr::Nested(e) = inner {
        inner = e;
    }
    let Expr::Function(f) = inner else { return None };
    if !f.name.to_string().eq_ignore_ascii_case("aggregate_state") {
        return None;
    }
    let value = crate::engine::compat::ast::call("finalize", vec![inner.clone()]);
    let cast_to = |data_type: &datafusion::sql::sqlparser::ast::DataType| Expr::Cast {
        kind: kind.clone(),
        expr: Box::new(value.clone()),
        data_type: data_type.clone(),
        array: *array,
        format: format.clone(),
    };
    // A state of one value (first, last, any_value) read as DuckDB's layout, `{'value': v}`.
    if let datafusion::sql::sqlparser::ast::DataType::Struct(fields, _) = data_type
        && let [field] = fields.as_slice()
        && let Some(name) = &field.field_name
    {
        return Some(crate::engine::compat::ast::call(
            "named_struct",
            vec![crate::engine::compat::ast::text(&name.value), cast_to(&field.field_type)],
        ));
    }
    let cast = cast_to(data_type);
    Some(crate::engine::compat::functions::text::text_casts::text_cast(&cast).unwrap_or(cast))
}

/// An aggregate's argument `ORDER BY` with each key once: a key after the same key orders
/// nothing more (DuckDB ignores it; DataFusion's sort asserts on it).
pub(crate) fn distinct_order_keys(expr: &mut Expr) {
    let Expr::Function(f) = expr else { return };
    let keys = match &mut f.args {
        FunctionArguments::List(list) => list.clauses.iter_mut().find_map(|c| match c {
            FunctionArgumentClause::OrderBy(keys) => Some(keys),
            _ => None,
        }),
        _ => None,
    };
    for keys in keys.into_iter().chain(Some(&mut f.within_group)) {
        let mut seen: Vec<Expr> = Vec::new();
        keys.retain(|key| {
            let new = !seen.contains(&key.expr);
            seen.push(key.expr.clone());
            new
        });
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::parser::Parser;

    use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

    #[test]
    fn power_operators_become_calls_of_doubles_innermost_first() {
        let mut parsed =
            Parser::parse_sql(&DuckDbCompatDialect, "SELECT 2 * 3 ^ 2, 2 ** 3 ** 2 FROM t WHERE x ^ 2 > 1").unwrap();
        super::powers(&mut parsed[0]);
        assert_eq!(
            parsed[0].to_string(),
            "SELECT 2 * power(CAST(3 AS DOUBLE), 2), power(CAST(power(CAST(2 AS DOUBLE), 3) AS DOUBLE), 2) \
             FROM t WHERE power(CAST(x AS DOUBLE), 2) > 1"
        );
    }
}
