//! A table's name read as a column — `ORDER BY t`, `SELECT t FROM v JOIN t ...` — which DuckDB
//! reads as the table's row: a struct of its columns, named for the table. When planning finds
//! no column of that name but the table's columns, the name is replaced by that struct and
//! planning is tried again.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Ident, SelectItem, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Replaces the bare name `table` by the struct of `columns` (that table's, in order). Whether
/// anything was replaced.
pub(crate) fn table_as_row(statement: &mut Statement, table: &str, columns: &[String]) -> bool {
    if columns.is_empty() {
        return false;
    }
    let quoted = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let fields = columns
        .iter()
        .map(|c| format!("'{}', {}.{}", c.replace('\'', "''"), quoted(table), quoted(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let Ok(row) =
        Parser::new(&GenericDialect).try_with_sql(&format!("named_struct({fields})")).and_then(|mut p| p.parse_expr())
    else {
        return false;
    };
    let mut rows = Rows { table, row, replaced: false };
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut rows);
    rows.replaced
}

struct Rows<'a> {
    table: &'a str,
    row: Expr,
    replaced: bool,
}

impl Rows<'_> {
    fn names_table(&self, e: &Expr) -> bool {
        matches!(e, Expr::Identifier(ident) if ident.value.eq_ignore_ascii_case(self.table))
    }
}

impl crate::engine::compat::ast::WalkMut for Rows<'_> {
    fn pre_visit_select(&mut self, select: &mut datafusion::sql::sqlparser::ast::Select) -> ControlFlow<()> {
        // Named for the table, as DuckDB names it.
        for item in &mut select.projection {
            if let SelectItem::UnnamedExpr(e) = item
                && self.names_table(e)
            {
                let alias = match e {
                    Expr::Identifier(ident) => ident.clone(),
                    _ => Ident::new(self.table),
                };
                *item = SelectItem::ExprWithAlias { expr: e.clone(), alias };
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if self.names_table(e) {
            *e = self.row.clone();
            self.replaced = true;
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

    fn rewritten(sql: &str, table: &str, columns: &[&str]) -> String {
        let mut statement = Parser::parse_sql(&DuckDbCompatDialect, sql).unwrap().remove(0);
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        assert!(table_as_row(&mut statement, table, &columns));
        statement.to_string()
    }

    #[test]
    fn a_table_name_is_its_row() {
        assert_eq!(
            rewritten("SELECT t, p FROM v AS _(p) JOIN t ON t.x = p ORDER BY p, t", "t", &["x", "y"]),
            "SELECT named_struct('x', \"t\".\"x\", 'y', \"t\".\"y\") AS t, p FROM v AS _ (p) JOIN t ON t.x = p ORDER BY p, named_struct('x', \"t\".\"x\", 'y', \"t\".\"y\")"
        );
    }
}
