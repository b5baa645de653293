//! Event types and payload keys a statement names that the data never holds. `type =
//! 'MapCreatd'` and `data->>'userid'` are valid SQL with empty or NULL answers; a warning naming
//! the nearest type the days hold, or the key in its case, says why.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Statement, Value,
};

use super::compat::closest;
use crate::cache::KnownFile;

/// The event types of `files`, when every file lists its own (a file cached before they were
/// recorded does not).
pub(super) fn of_files(files: &[KnownFile]) -> Option<BTreeSet<String>> {
    let mut held = BTreeSet::new();
    for file in files {
        held.extend(file.read_facts().event_types?);
    }
    Some(held)
}

/// A warning for each event type `statement` compares `type` with (`=`, `<>`, `IN (...)`) that
/// `held` lacks.
pub(super) fn warnings(statement: &Statement, held: &BTreeSet<String>) -> Vec<String> {
    let mut named: BTreeSet<String> = BTreeSet::new();
    let _ = crate::engine::compat::ast::each_expr(statement, |expr: &Expr| {
        match expr {
            Expr::BinaryOp { left, op: BinaryOperator::Eq | BinaryOperator::NotEq, right } => {
                for (column, value) in [(left, right), (right, left)] {
                    if is_type_column(column)
                        && let Some(text) = text_literal(value)
                    {
                        named.insert(text);
                    }
                }
            }
            Expr::InList { expr, list, .. } if is_type_column(expr) => {
                named.extend(list.iter().filter_map(text_literal))
            }
            _ => {}
        }
        ControlFlow::Continue(())
    });
    named
        .into_iter()
        .filter(|name| !held.contains(name))
        .map(|name| {
            let meant = closest(&name, held.iter().map(String::as_str)).map_or_else(
                || " (`SELECT DISTINCT type FROM activity` lists those there are)".to_string(),
                |t| format!(": did you mean '{t}'?"),
            );
            format!("no event of type '{name}' in the days read{meant}")
        })
        .collect()
}

/// A warning for each payload key path `statement` reads from `data` that differs only in case
/// from a key every payload family has (JSON keys match in their case: `userid` finds nothing).
pub(super) fn miscased_keys(statement: &Statement) -> Vec<String> {
    let known: Vec<String> = crate::shred::shredded_paths().collect();
    let mut warnings = BTreeSet::new();
    let _ = crate::engine::compat::ast::each_expr(statement, |expr: &Expr| {
        if let Some(path) = data_path(expr)
            && !known.contains(&path)
            && let Some(meant) = known.iter().find(|k| k.eq_ignore_ascii_case(&path))
        {
            warnings.insert(format!(
                "payload keys match in their case: the payloads have '{meant}', not '{path}' (which is NULL in every row)"
            ));
        }
        ControlFlow::Continue(())
    });
    warnings.into_iter().collect()
}

/// The key path of a read of `data` (`data->>'a'`, `json_extract_string(data, '$.a.b')`, as the
/// layer rewrites them: a JSON function of the column `data` and the keys).
fn data_path(expr: &Expr) -> Option<String> {
    let Expr::Function(function) = expr else { return None };
    if !function.name.to_string().to_ascii_lowercase().starts_with("json_") {
        return None;
    }
    let FunctionArguments::List(list) = &function.args else { return None };
    let mut args = list.args.iter().map(|arg| match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
        _ => None,
    });
    let column = args.next()??;
    let is_data = match column {
        Expr::Identifier(ident) => ident.value.eq_ignore_ascii_case("data"),
        Expr::CompoundIdentifier(parts) => parts.last().is_some_and(|p| p.value.eq_ignore_ascii_case("data")),
        _ => false,
    };
    let keys: Vec<String> = args.map(|a| a.and_then(text_literal)).collect::<Option<_>>()?;
    (is_data && !keys.is_empty()).then(|| keys.join("."))
}

fn is_type_column(expr: &Expr) -> bool {
    match expr {
        Expr::Identifier(ident) => ident.value.eq_ignore_ascii_case("type"),
        Expr::CompoundIdentifier(parts) => parts.last().is_some_and(|p| p.value.eq_ignore_ascii_case("type")),
        _ => false,
    }
}

fn text_literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::SingleQuotedString(text) => Some(text.clone()),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warned(sql: &str) -> Vec<String> {
        let held: BTreeSet<String> = ["MapCreated", "MapLoadedEvent", "WorkflowRun"].map(String::from).into();
        let [statement] = <[Statement; 1]>::try_from(crate::engine::compat::prepare(sql).unwrap()).unwrap();
        warnings(&statement, &held)
    }

    #[test]
    fn a_type_the_days_lack_is_named_with_the_nearest() {
        assert_eq!(
            warned("SELECT count(*) FROM activity WHERE type = 'MapCreatd'"),
            ["no event of type 'MapCreatd' in the days read: did you mean 'MapCreated'?"]
        );
        let listed = warned("SELECT * FROM activity a WHERE a.type IN ('WorkflowRun', 'Nothing like it')");
        assert_eq!(listed.len(), 1);
        assert!(listed[0].starts_with("no event of type 'Nothing like it' in the days read (`SELECT DISTINCT"));
        assert!(warned("SELECT * FROM activity WHERE type = 'MapCreated' OR 'MapLoadedEvent' = type").is_empty());
        assert!(warned("SELECT * FROM activity WHERE data->>'type' = 'x'").is_empty(), "not the type column");
    }

    #[test]
    fn a_payload_key_in_another_case_is_named_as_the_payloads_have_it() {
        let keys = |sql: &str| {
            let [statement] = <[Statement; 1]>::try_from(crate::engine::compat::prepare(sql).unwrap()).unwrap();
            miscased_keys(&statement)
        };
        assert_eq!(
            keys("SELECT data->>'userid', json_extract_string(data, '$.map.Id') FROM activity"),
            [
                "payload keys match in their case: the payloads have 'map.id', not 'map.Id' (which is NULL in every row)",
                "payload keys match in their case: the payloads have 'userId', not 'userid' (which is NULL in every row)"
            ]
        );
        assert!(keys("SELECT data->>'userId', data->'map'->>'id', data->>'anything' FROM activity").is_empty());
    }
}
