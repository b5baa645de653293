//! DuckDB's naming rules: result columns named as DuckDB names them, table and column names
//! matched case-insensitively, unnamed subqueries named.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::LazyLock;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, OrderBy, OrderByExpr, OrderByKind, Query, SelectItem, SetExpr, TableAlias,
    TableFactor, Value, VisitorMut,
};

use crate::category::Category;

/// DuckDB names subqueries in FROM without an alias `unnamed_subquery`, `unnamed_subquery2`, ...;
/// DataFusion leaves them unqualified, so two of them with a same-named column (`count(*)`)
/// could not be joined.
pub(super) struct NameUnnamedSubqueries(pub(super) usize);

impl VisitorMut for NameUnnamedSubqueries {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        // DuckDB names the columns of VALUES col0, col1, ... (DataFusion: column1, column2, ...).
        if let TableFactor::Derived { subquery, alias, .. } = factor
            && let SetExpr::Values(values) = subquery.body.as_ref()
            && alias.as_ref().is_none_or(|a| a.columns.is_empty())
            && let Some(first) = values.rows.first()
        {
            let columns = (0..first.len())
                .map(|i| datafusion::sql::sqlparser::ast::TableAliasColumnDef::from_name(format!("col{i}")))
                .collect();
            match alias {
                Some(alias) => alias.columns = columns,
                None => {
                    self.0 += 1;
                    let name = if self.0 == 1 {
                        "unnamed_subquery".to_string()
                    } else {
                        format!("unnamed_subquery{}", self.0)
                    };
                    *alias = Some(TableAlias { explicit: true, name: Ident::new(name), columns, at: None });
                }
            }
            return ControlFlow::Continue(());
        }
        match factor {
            TableFactor::Derived { alias: alias @ None, .. } => {
                self.0 += 1;
                let name =
                    if self.0 == 1 { "unnamed_subquery".to_string() } else { format!("unnamed_subquery{}", self.0) };
                *alias = Some(TableAlias { explicit: true, name: Ident::new(name), columns: vec![], at: None });
            }
            // DuckDB's `range(...)` and `generate_series(...)` name their column as themselves
            // (DataFusion: `value`).
            TableFactor::Table { name, args: Some(_), alias, .. } => {
                let function = name.to_string().to_lowercase();
                if matches!(function.as_str(), "range" | "generate_series") {
                    let column = datafusion::sql::sqlparser::ast::TableAliasColumnDef::from_name(function.as_str());
                    match alias {
                        None => {
                            *alias = Some(TableAlias {
                                explicit: true,
                                name: Ident::new(function.as_str()),
                                columns: vec![column],
                                at: None,
                            })
                        }
                        Some(alias) if alias.columns.is_empty() => alias.columns = vec![column],
                        Some(_) => {}
                    }
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Tables are registered under lower-case names; `"userList"`, `APIUSAGE` find them too.
pub(super) fn fold_table_name(name: &mut ObjectName) {
    if let [ObjectNamePart::Identifier(ident)] = name.0.as_mut_slice()
        && Category::from_name(&ident.value).is_some()
    {
        *ident = Ident::new(ident.value.to_lowercase());
    }
}

/// Every column of every table, in lower case (all of them are lower case).
static COLUMNS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    Category::ALL
        .iter()
        .flat_map(|c| c.schema().fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>())
        .collect()
});

/// DuckDB matches quoted names case-insensitively too: `"Type"` is the column `type`.
pub(super) fn fold_identifier(ident: &mut Ident) {
    if ident.quote_style.is_some() {
        let lower = ident.value.to_lowercase();
        if lower != ident.value && (COLUMNS.contains(&lower) || Category::from_name(&lower).is_some()) {
            *ident = Ident::new(lower);
        }
    }
}

/// DuckDB names an unnamed result column by the expression as written (`count_star()` for
/// `count(*)`); DataFusion would name it by its plan (`count(Int64(1))`). Name them as DuckDB.
pub(super) fn name_result_columns(query: &mut Query) {
    let mut body = query.body.as_mut();
    // Set operations take their names from the first branch.
    while let SetExpr::SetOperation { left, .. } = body {
        body = left.as_mut();
    }
    let select = match body {
        SetExpr::Select(select) => select,
        SetExpr::Query(inner) => return name_result_columns(inner),
        _ => return,
    };
    // DataFusion's ORDER BY ALL takes only plain columns; positions work for any expression.
    if let Some(OrderBy { kind: OrderByKind::All(options), .. }) = &query.order_by
        && select
            .projection
            .iter()
            .all(|item| matches!(item, SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }))
    {
        let options = *options;
        let exprs = (1..=select.projection.len())
            .map(|i| OrderByExpr { expr: Expr::value(Value::Number(i.to_string(), false)), options, with_fill: None })
            .collect();
        query.order_by = Some(OrderBy { kind: OrderByKind::Expressions(exprs), interpolate: None });
    }
    let mut taken: HashSet<String> = select
        .projection
        .iter()
        .filter_map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
            SelectItem::UnnamedExpr(Expr::Identifier(i)) => Some(i.value.to_lowercase()),
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => parts.last().map(|i| i.value.to_lowercase()),
            _ => None,
        })
        .collect();
    for item in &mut select.projection {
        let SelectItem::UnnamedExpr(expr) = item else {
            continue;
        };
        if matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
            continue;
        }
        let written = expr.to_string();
        let base = if written.eq_ignore_ascii_case("count(*)") { "count_star()".to_string() } else { written };
        let mut name = base.clone();
        let mut n = 1;
        while !taken.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        *item = SelectItem::ExprWithAlias { expr: expr.clone(), alias: Ident::with_quote('"', name) };
    }
}
