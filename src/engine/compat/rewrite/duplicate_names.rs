//! Result columns DuckDB gives one name twice (`SELECT type, * FROM activity`, `SELECT x, x`),
//! which a plan cannot hold: the later explicit ones (every explicit one beside a `*`) named
//! `type_1`, `type_2`, as the JSON output names repeated columns.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Ident, Query, SelectItem, Statement};

use crate::engine::compat::ast::{for_each_select, output_name};

/// The column name a planning error says two result columns share.
pub(crate) fn duplicated_name(message: &str) -> Option<String> {
    let named =
        if let Some(rest) = message.split_once("Projections require unique expression names but the expression \"") {
            rest.1.split_once('"')?.0
        } else {
            message.split_once(" and unqualified field name ")?.1.split_once(" which would be ambiguous")?.0
        };
    // `t.i + 100 AS i` is named by its alias; `t.i` by its column.
    let named = named.rsplit_once(" AS ").map_or(named, |(_, alias)| alias);
    Some(named.rsplit('.').next().unwrap_or(named).trim_matches('"').to_lowercase())
}

/// Renames the repeated `name` in every select list that repeats it; whether one did.
pub(crate) fn renumber(statement: &mut Statement, name: &str) -> bool {
    let mut renumbering = Renumbering { name, changed: false };
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut renumbering);
    renumbering.changed
}

struct Renumbering<'a> {
    name: &'a str,
    changed: bool,
}

impl crate::engine::compat::ast::WalkMut for Renumbering<'_> {
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        for_each_select(&mut query.body, &mut |select| {
            let starred = select
                .projection
                .iter()
                .any(|i| matches!(i, SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)));
            let repeated: Vec<usize> = (0..select.projection.len())
                .filter(|&i| output_name(&select.projection[i]).is_some_and(|n| n.to_lowercase() == self.name))
                .collect();
            let renamed = if starred { &repeated[..] } else { repeated.get(1..).unwrap_or_default() };
            let mut taken: Vec<String> =
                select.projection.iter().filter_map(|i| output_name(i).map(|n| n.to_lowercase())).collect();
            for &i in renamed {
                let alias =
                    (1..).map(|n| format!("{}_{n}", self.name)).find(|a| !taken.contains(a)).unwrap_or_default();
                taken.push(alias.clone());
                let expr = match std::mem::replace(&mut select.projection[i], SelectItem::Wildcard(Default::default()))
                {
                    SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => expr,
                    other => {
                        select.projection[i] = other;
                        continue;
                    }
                };
                select.projection[i] = SelectItem::ExprWithAlias { expr, alias: Ident::with_quote('"', alias) };
                self.changed = true;
            }
        });
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn renumbered(sql: &str, name: &str) -> String {
        let mut statement = Parser::parse_sql(&DuckDbCompatDialect, sql).unwrap().remove(0);
        renumber(&mut statement, name);
        statement.to_string()
    }

    #[test]
    fn repeated_names_are_numbered() {
        let message = "Projections require unique expression names but the expression \"activity.type\" at position 0 and \"activity.type\" at position 1 have the same name.";
        assert_eq!(duplicated_name(message).as_deref(), Some("type"));
        let ambiguous = "Schema contains qualified field name activity.type and unqualified field name type which would be ambiguous";
        assert_eq!(duplicated_name(ambiguous).as_deref(), Some("type"));
        assert_eq!(renumbered("SELECT type, * FROM activity", "type"), "SELECT type AS \"type_1\", * FROM activity");
        assert_eq!(
            renumbered("SELECT a.x, b.x, x AS y FROM a, b", "x"),
            "SELECT a.x, b.x AS \"x_1\", x AS y FROM a, b"
        );
    }
}
