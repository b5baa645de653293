//! Arrows that are lambdas: in the arguments of a lambda-taking function, the parenthesised
//! arrows the text was prepared with (`parse::lambdas`) become lambdas, and DuckDB's names for
//! those functions DataFusion's.

use datafusion::sql::sqlparser::ast::{AccessExpr, BinaryOperator};
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, LambdaFunction, LambdaFunctionParameter,
    LambdaSyntax, OneOrManyWithParens,
};

use crate::engine::compat::parse::lambdas::takes_lambda;

/// In the arguments of a lambda-taking function, an arrow from parameter names to a body is a
/// lambda; DuckDB's names for those functions become DataFusion's.
pub(crate) fn to_lambdas(expr: &mut Expr) {
    let Expr::Function(function) = expr else { return };
    let name = function.name.to_string().to_ascii_lowercase();
    if !takes_lambda(&name) {
        return;
    }
    let FunctionArguments::List(list) = &mut function.args else { return };
    let mut converted = false;
    for arg in &mut list.args {
        let FunctionArg::Unnamed(FunctionArgExpr::Expr(arg)) = arg else { continue };
        let Expr::BinaryOp { left, op: BinaryOperator::Arrow, right } = arg else { continue };
        let Some(params) = parameters(left) else { continue };
        let body = match right.as_mut() {
            Expr::Nested(inner) => {
                std::mem::replace(inner.as_mut(), Expr::value(datafusion::sql::sqlparser::ast::Value::Null))
            }
            other => std::mem::replace(other, Expr::value(datafusion::sql::sqlparser::ast::Value::Null)),
        };
        let body = list_literals_as_calls(fields_of_parameters(body, &params));
        *arg = Expr::Lambda(LambdaFunction { params, body: Box::new(body), syntax: LambdaSyntax::Arrow });
        converted = true;
    }
    if converted {
        let renamed = match name.as_str() {
            "apply" | "list_apply" | "array_apply" => Some("list_transform"),
            "filter" => Some("list_filter"),
            _ => None,
        };
        if let Some(renamed) = renamed {
            function.name = datafusion::sql::sqlparser::ast::ObjectName::from(vec![Ident::new(renamed)]);
        }
    }
}

/// `x.a.b` in a lambda's body, `x` a parameter, as the field `b` of the field `a` of `x`: the
/// planner would look for a table `x`.
fn fields_of_parameters(mut body: Expr, params: &OneOrManyWithParens<LambdaFunctionParameter>) -> Expr {
    let names: Vec<String> = match params {
        OneOrManyWithParens::One(p) => vec![p.name.value.clone()],
        OneOrManyWithParens::Many(ps) => ps.iter().map(|p| p.name.value.clone()).collect(),
    };
    let _ = crate::engine::compat::ast::each_expr_mut(&mut body, |e: &mut Expr| {
        if let Expr::CompoundIdentifier(parts) = e
            && let [first, fields @ ..] = parts.as_slice()
            && !fields.is_empty()
            && names.iter().any(|n| n.eq_ignore_ascii_case(&first.value))
        {
            let mut value = Expr::Identifier(Ident::new(first.value.to_lowercase()));
            for field in fields {
                value = crate::engine::compat::ast::call(
                    "get_field",
                    vec![value, crate::engine::compat::ast::text(&field.value)],
                );
            }
            *e = value;
        }
        // `x.a[2]`: the fields of a parameter before a subscript.
        if let Expr::CompoundFieldAccess { root, access_chain } = e
            && let Expr::Identifier(first) = root.as_ref()
            && names.iter().any(|n| n.eq_ignore_ascii_case(&first.value))
        {
            let mut value = Expr::Identifier(Ident::new(first.value.to_lowercase()));
            let fields = access_chain.iter().take_while(|a| matches!(a, AccessExpr::Dot(Expr::Identifier(_)))).count();
            for access in &access_chain[..fields] {
                if let AccessExpr::Dot(Expr::Identifier(field)) = access {
                    value = crate::engine::compat::ast::call(
                        "get_field",
                        vec![value, crate::engine::compat::ast::text(&field.value)],
                    );
                }
            }
            let rest = access_chain[fields..].to_vec();
            *e = if rest.is_empty() {
                value
            } else {
                Expr::CompoundFieldAccess { root: Box::new(value), access_chain: rest }
            };
        }
        std::ops::ControlFlow::Continue(())
    });
    body
}

pub(crate) fn parameters(left: &Expr) -> Option<OneOrManyWithParens<LambdaFunctionParameter>> {
    // Folded to lower case, as the body's identifiers are.
    let param = |e: &Expr| match e {
        Expr::Identifier(ident) if ident.quote_style.is_none() => {
            Some(LambdaFunctionParameter { name: Ident::new(ident.value.to_lowercase()), data_type: None })
        }
        _ => None,
    };
    match left {
        Expr::Identifier(_) => Some(OneOrManyWithParens::One(param(left)?)),
        Expr::Nested(inner) => Some(OneOrManyWithParens::One(param(inner)?)),
        Expr::Tuple(items) => Some(OneOrManyWithParens::Many(items.iter().map(param).collect::<Option<_>>()?)),
        _ => None,
    }
}

/// `[x, 1]` in a lambda's body as `make_array(x, 1)`: DataFusion plans a list literal without the
/// lambda's parameters in scope ("No field named x").
fn list_literals_as_calls(mut body: Expr) -> Expr {
    let _ = crate::engine::compat::ast::each_expr_mut(&mut body, |e: &mut Expr| {
        if let Expr::Array(list) = e
            && !list.elem.is_empty()
        {
            *e = crate::engine::compat::ast::call("make_array", list.elem.clone());
        }
        std::ops::ControlFlow::Continue(())
    });
    body
}
