//! Event types a statement names that the days read never hold. `type = 'MapCreatd'` is valid
//! SQL with an empty answer; a warning naming the nearest type the days do hold says why.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, Statement, Value, visit_expressions};

use super::compat::closest;
use crate::cache::KnownFile;

/// The event types of `files`, when every file lists its own (a file cached before they were
/// recorded does not).
pub(super) fn of_files(files: &[KnownFile]) -> Option<BTreeSet<String>> {
    let mut held = BTreeSet::new();
    for file in files {
        held.extend(file.facts.event_types.clone()?);
    }
    Some(held)
}

/// A warning for each event type `statement` compares `type` with (`=`, `<>`, `IN (...)`) that
/// `held` lacks.
pub(super) fn warnings(statement: &Statement, held: &BTreeSet<String>) -> Vec<String> {
    let mut named: BTreeSet<String> = BTreeSet::new();
    let _ = visit_expressions(statement, |expr: &Expr| {
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
        ControlFlow::<()>::Continue(())
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
}
