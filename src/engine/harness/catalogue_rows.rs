//! Every row of the catalogue held to the code: what a name's calls are rewritten into, which
//! registry has it, and whether a template serves it.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{Expr, SelectItem, SetExpr, Statement};

use crate::engine::compat::catalogue::{Served, entries, rows, served};
use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

/// The call forms a rewrite may take a name in.
const SHAPES: [&str; 10] = [
    "{}()",
    "{}(a)",
    "{}(a, b)",
    "{}(a, b, c)",
    "{}(a, b, c, d)",
    "{}(a ORDER BY a)",
    "{}(a, b ORDER BY a)",
    "{}() WITHIN GROUP (ORDER BY a)",
    "{}(a) OVER (ORDER BY b)",
    "{}(a, b) OVER (ORDER BY b)",
];

fn expression(sql: &str) -> Option<Expr> {
    let statements =
        datafusion::sql::sqlparser::parser::Parser::parse_sql(&DuckDbCompatDialect, &format!("SELECT {sql}"));
    let Statement::Query(query) = statements.ok()?.into_iter().next()? else { return None };
    let SetExpr::Select(select) = *query.body else { return None };
    match select.projection.into_iter().next()? {
        SelectItem::UnnamedExpr(expr) => Some(expr),
        _ => None,
    }
}

/// Whether the rewrites before planning change some call form of `name`.
fn reshaped(name: &str) -> bool {
    SHAPES.iter().filter_map(|shape| expression(&shape.replace("{}", name))).any(|call| {
        let mut rewritten = call.clone();
        crate::engine::compat::rewrite::calls::rewrite_expr(&mut rewritten).is_ok() && rewritten != call
    })
}

fn has_template(name: &str) -> bool {
    (0..8).any(|arity| crate::engine::compat::rewrite::templates::template(name, arity).is_some())
}

/// The functions of this layer by name, with their families.
fn layer_functions() -> BTreeMap<String, &'static str> {
    let mut names = BTreeMap::new();
    for (family, function) in crate::engine::compat::functions::functions() {
        for name in function.names() {
            names.insert(name, family);
        }
    }
    names
}

/// The names DataFusion's session (with datafusion-functions-json) knows.
fn datafusion_functions() -> BTreeSet<String> {
    let mut ctx = SessionContext::new();
    datafusion_functions_json::register_all(&mut ctx).expect("the JSON functions register");
    let state = ctx.state();
    state
        .scalar_functions()
        .keys()
        .chain(state.aggregate_functions().keys())
        .chain(state.window_functions().keys())
        .chain(state.higher_order_functions().keys())
        .cloned()
        .collect()
}

#[test]
fn every_row_reads_and_no_name_is_listed_twice() {
    let unread: Vec<String> = rows().filter_map(Result::err).collect();
    assert!(unread.is_empty(), "{}", unread.join("\n"));
    let names: Vec<&str> = entries().iter().map(|(name, _)| *name).collect();
    let twice: Vec<&&str> = names.windows(2).filter(|w| w[0] == w[1]).map(|w| &w[0]).collect();
    assert!(twice.is_empty(), "listed twice: {twice:?}");
    assert!(names.is_sorted(), "the rows are sorted by name");
}

#[test]
fn every_row_says_what_the_code_does() {
    let layer = layer_functions();
    let datafusion = datafusion_functions();
    let in_reshapes = |name: &str| crate::engine::compat::rewrite::reshapes::names().any(|n| n == name);
    let changed = |name: &str| in_reshapes(name) || reshaped(name);
    let served_under =
        |to: &str| datafusion.contains(to) || layer.contains_key(to) || in_reshapes(to) || has_template(to);
    let mut wrong = Vec::new();
    for (name, served) in entries() {
        let family = layer.get(*name).map(|f| format!("functions::{f}"));
        let why = match served {
            Served::DataFusion(_) if !datafusion.contains(*name) => Some("DataFusion has no function of that name"),
            Served::DataFusion(_) if family.is_some() => Some("this layer registers it"),
            Served::DataFusion(_) | Served::Layer(_) | Served::Helper(_) | Served::Refused(_) if changed(name) => {
                Some("a rewrite changes its calls")
            }
            Served::Renamed(to) if !served_under(to) => Some("nothing serves the new name"),
            Served::Template if !has_template(name) => Some("rewrite::templates has no template for it"),
            Served::Reshaped(how) => reshaped_wrongly(name, how, family.as_deref(), datafusion.contains(*name)),
            Served::Layer(f) | Served::Helper(f) if family.as_deref() != Some(*f) => {
                Some("that family does not register it")
            }
            Served::Refused(_) if datafusion.contains(*name) || family.is_some() || has_template(name) => {
                Some("it is served")
            }
            _ => None,
        };
        if let Some(why) = why {
            wrong.push(format!("{name} ({}): {why}", served.kind()));
        }
    }
    assert!(wrong.is_empty(), "names.tsv disagrees with the code:\n{}", wrong.join("\n"));
}

/// What is wrong with a `reshaped` row whose detail is `how`: the module that reshapes, then
/// what serves the other calls.
fn reshaped_wrongly(name: &str, how: &str, family: Option<&str>, in_datafusion: bool) -> Option<&'static str> {
    let (module, otherwise) = match how.split_once("; otherwise ") {
        Some((module, otherwise)) => (module, Some(otherwise)),
        None => (how, None),
    };
    let in_reshapes = crate::engine::compat::rewrite::reshapes::names().any(|n| n == name);
    let by_module = match module {
        "rewrite::reshapes" => in_reshapes,
        "rewrite::lambdas" => crate::engine::compat::parse::lambdas::takes_lambda(name),
        "rewrite::lambda_forms" => name == "invoke",
        "rewrite::expression_forms" => reshaped(name),
        _ => return Some("no such module reshapes calls"),
    };
    if !by_module {
        return Some("that module does not reshape it");
    }
    match otherwise {
        Some("DataFusion's") if !in_datafusion => Some("DataFusion has no function of that name"),
        Some("DataFusion's") if family.is_some() => Some("this layer registers it"),
        Some(other) if other != "DataFusion's" && family != Some(other) => Some("that family does not register it"),
        None if family.is_some() || in_datafusion => Some("its other calls are served: say by what"),
        _ => None,
    }
}

#[test]
fn every_function_the_layer_has_is_listed() {
    let templates = crate::engine::compat::rewrite::templates::names().map(str::to_string);
    let reshapes = crate::engine::compat::rewrite::reshapes::names().map(str::to_string);
    let missing: Vec<String> = layer_functions()
        .into_keys()
        .chain(templates)
        .chain(reshapes)
        .filter(|name| matches!(served(name), None | Some(Served::DataFusion(_) | Served::Refused(_))))
        .collect();
    assert!(missing.is_empty(), "this layer serves names names.tsv does not say it serves: {missing:?}");
}
