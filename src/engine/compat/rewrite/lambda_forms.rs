//! Lambda forms DataFusion lacks, written with the ones it has: `invoke(lambda x, y: body, a, b)`,
//! the body with each parameter replaced by its argument (inner lambdas that name the same
//! parameter keep their own); and `list_transform`/`list_filter` with an index parameter
//! (`lambda x, i: ...`), over the list zipped with its positions.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, LambdaFunction, LambdaFunctionParameter,
    LambdaSyntax, OneOrManyWithParens, Value,
};

use crate::engine::compat::ast::{call, text};

/// `expr` inlined when it is an `invoke` of a lambda with as many arguments as parameters.
pub(crate) fn inline(expr: &mut Expr) {
    let Expr::Function(function) = expr else { return };
    if !function.name.to_string().eq_ignore_ascii_case("invoke") {
        return;
    }
    let FunctionArguments::List(list) = &function.args else { return };
    let args: Option<Vec<&Expr>> = list
        .args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect();
    let Some([Expr::Lambda(LambdaFunction { params, body, .. }), values @ ..]) = args.as_deref() else { return };
    let names = param_names(params);
    if names.len() != values.len() {
        return;
    }
    let bindings = names.into_iter().zip(values.iter().map(|v| Expr::Nested(Box::new((*v).clone())))).collect();
    *expr = Expr::Nested(Box::new(substituted(body, bindings)));
}

fn param_names(params: &OneOrManyWithParens<LambdaFunctionParameter>) -> Vec<String> {
    match params {
        OneOrManyWithParens::One(p) => vec![p.name.value.to_lowercase()],
        OneOrManyWithParens::Many(ps) => ps.iter().map(|p| p.name.value.to_lowercase()).collect(),
    }
}

fn substituted(body: &Expr, bindings: Vec<(String, Expr)>) -> Expr {
    let mut out = body.clone();
    let _ = crate::engine::compat::ast::walk_mut(&mut out, &mut Substitute { bindings, shadowed: Vec::new() });
    out
}

/// `list_transform(l, lambda x, i: body)` as `list_transform(arrays_zip(l, [1..n]), e -> body)`
/// with `x` and `i` the fields of `e`; `list_filter` the same, keeping the elements.
pub(crate) fn indexed(expr: &mut Expr) {
    let Expr::Function(function) = expr else { return };
    let filter = match function.name.to_string().to_ascii_lowercase().as_str() {
        "list_transform" | "array_transform" => false,
        "list_filter" | "array_filter" => true,
        _ => return,
    };
    let FunctionArguments::List(list) = &function.args else { return };
    let [
        FunctionArg::Unnamed(FunctionArgExpr::Expr(values)),
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Lambda(LambdaFunction { params, body, .. }))),
    ] = list.args.as_slice()
    else {
        return;
    };
    let [value, index] = param_names(params).try_into().unwrap_or_default();
    if index.is_empty() {
        return;
    }
    // Named after the parameters: a lambda inside this one gets a name of its own.
    let name = format!("__{value}_{index}");
    let element = || Expr::Identifier(Ident::new(&name));
    let field = |name: &str| call("get_field", vec![element(), text(name)]);
    let positions = call(
        "generate_series",
        vec![Expr::value(Value::Number("1".into(), false)), call("cardinality", vec![values.clone()])],
    );
    let zipped = call("arrays_zip", vec![values.clone(), positions]);
    let lambda = |body: Expr| {
        Expr::Lambda(LambdaFunction {
            params: OneOrManyWithParens::One(LambdaFunctionParameter { name: Ident::new(&name), data_type: None }),
            body: Box::new(body),
            syntax: LambdaSyntax::Arrow,
        })
    };
    let body = lambda(substituted(body, vec![(value, field("1")), (index, field("2"))]));
    *expr = if filter {
        call("list_transform", vec![call("list_filter", vec![zipped, body]), lambda(field("1"))])
    } else {
        call("list_transform", vec![zipped, body])
    };
}

struct Substitute {
    bindings: Vec<(String, Expr)>,
    /// The parameters of the lambdas being walked through, innermost last.
    shadowed: Vec<Vec<String>>,
}

impl crate::engine::compat::ast::WalkMut for Substitute {
    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::Lambda(LambdaFunction { params, .. }) = expr {
            self.shadowed.push(param_names(params));
        }
        if let Expr::Identifier(ident) = expr {
            let name = ident.value.to_lowercase();
            let hidden = self.shadowed.iter().any(|names| names.contains(&name));
            if !hidden && let Some((_, value)) = self.bindings.iter().find(|(n, _)| *n == name) {
                *expr = value.clone();
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if matches!(expr, Expr::Lambda(_)) {
            self.shadowed.pop();
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    fn prepared(sql: &str) -> String {
        crate::engine::compat::prepare(sql).unwrap().iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn invoke_applies_its_lambda_to_the_arguments() {
        let sql = prepared("SELECT invoke(lambda a: invoke(lambda b, a2: a + b + a2, 4, 5), 3) AS v");
        assert_eq!(sql, "SELECT (((3) + (4) + (5))) AS v");
        // An inner lambda's own `x` is not the outer one's.
        let sql = prepared("SELECT invoke(lambda x: list_transform([1], lambda x: x + 1), 7) AS v");
        assert!(sql.contains("x -> x + 1"), "{sql}");
    }

    #[test]
    fn an_index_parameter_zips_the_list_with_its_positions() {
        let sql = prepared("SELECT list_filter([10, 20], lambda x, i: i > 1) AS v");
        assert!(sql.contains("arrays_zip([10, 20], generate_series(1, cardinality([10, 20])))"), "{sql}");
        assert!(sql.contains("get_field(__x_i, '2') > 1"), "{sql}");
    }
}
