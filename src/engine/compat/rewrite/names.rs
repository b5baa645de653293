//! DuckDB's naming rules: result columns named as DuckDB names them, table and column names
//! matched case-insensitively, unnamed subqueries named.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::LazyLock;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, OrderBy, OrderByExpr, OrderByKind, OrderByOptions, Query, SelectItem,
    SetExpr, Statement, TableAlias, TableFactor, Value,
};

use crate::category::Category;
use crate::engine::compat::rewrite::result_names::Namer;

/// A LATERAL subquery's qualified columns named by their column (`SELECT u.role` is `role`):
/// DataFusion names a column of the outer row `outer_ref(u.role)`. Not where two would share
/// the name.
fn outer_columns_named(subquery: &mut Query) {
    let SetExpr::Select(select) = subquery.body.as_mut() else { return };
    let last = |item: &SelectItem| match item {
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => parts.last().map(|p| p.value.to_lowercase()),
        SelectItem::UnnamedExpr(Expr::Identifier(ident)) | SelectItem::ExprWithAlias { alias: ident, .. } => {
            Some(ident.value.to_lowercase())
        }
        _ => None,
    };
    let names: Vec<Option<String>> = select.projection.iter().map(last).collect();
    for (item, name) in select.projection.iter_mut().zip(&names) {
        let unique = name.is_some() && names.iter().filter(|n| *n == name).count() == 1;
        if let SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) = item
            && unique
            && let Some(column) = parts.last().cloned()
        {
            *item = SelectItem::ExprWithAlias { expr: Expr::CompoundIdentifier(parts.clone()), alias: column };
        }
    }
}

/// DuckDB names subqueries in FROM without an alias `unnamed_subquery`, `unnamed_subquery2`, ...;
/// DataFusion leaves them unqualified, so two of them with a same-named column (`count(*)`)
/// could not be joined. The unnamed columns of subqueries and CTEs are named as DuckDB names
/// them, as the result's are (`(SELECT 1, 1) t(a, b)` has two columns, not one name twice).
pub(crate) struct NameUnnamedSubqueries<'a> {
    pub(crate) count: usize,
    pub(crate) namer: &'a Namer<'a>,
}

impl crate::engine::compat::ast::WalkMut for NameUnnamedSubqueries<'_> {
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        for cte in query.with.iter_mut().flat_map(|with| with.cte_tables.iter_mut()) {
            name_result_columns(&mut cte.query, self.namer);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::Derived { subquery, lateral, .. } = factor {
            name_result_columns(subquery, self.namer);
            if *lateral {
                outer_columns_named(subquery);
            }
        }
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
                    self.count += 1;
                    let name = if self.count == 1 {
                        "unnamed_subquery".to_string()
                    } else {
                        format!("unnamed_subquery{}", self.count)
                    };
                    *alias = Some(TableAlias { explicit: true, name: Ident::new(name), columns, at: None });
                }
            }
            return ControlFlow::Continue(());
        }
        match factor {
            TableFactor::Derived { alias: alias @ None, .. } => {
                self.count += 1;
                let name = if self.count == 1 {
                    "unnamed_subquery".to_string()
                } else {
                    format!("unnamed_subquery{}", self.count)
                };
                *alias = Some(TableAlias { explicit: true, name: Ident::new(name), columns: vec![], at: None });
            }
            // DuckDB's `range(...)` and `generate_series(...)` name their column as themselves
            // (DataFusion: `value`).
            TableFactor::Table { name, args: Some(args), alias, .. } => {
                let function = name.to_string().to_lowercase();
                if matches!(function.as_str(), "range" | "generate_series") {
                    crate::engine::compat::rewrite::type_names::timestamps_in_nanoseconds(&mut args.args);
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
pub(crate) fn fold_table_name(name: &mut ObjectName) {
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
pub(crate) fn fold_identifier(ident: &mut Ident) {
    if ident.quote_style.is_some() {
        let lower = ident.value.to_lowercase();
        if lower != ident.value && (COLUMNS.contains(&lower) || Category::from_name(&lower).is_some()) {
            *ident = Ident::new(lower);
        }
    }
}

/// The options of the statement's `ORDER BY ALL`, when the naming pass left it to be planned
/// (its select list has a `*`).
pub(crate) fn ordered_by_all(statement: &Statement) -> Option<OrderByOptions> {
    match statement {
        Statement::Query(query) => match &query.order_by {
            Some(OrderBy { kind: OrderByKind::All(options), .. }) => Some(*options),
            _ => None,
        },
        _ => None,
    }
}

/// The statement without its ORDER BY, to learn how many columns it has.
pub(crate) fn unordered(statement: &Statement) -> Statement {
    let mut statement = statement.clone();
    if let Statement::Query(query) = &mut statement {
        query.order_by = None;
    }
    statement
}

/// `ORDER BY ALL` as the positions of its `columns` result columns: DataFusion's own ORDER BY ALL
/// names them unquoted, which loses a column named in capitals (`"Country"`) or twice.
pub(crate) fn order_by_positions(statement: &mut Statement, columns: usize, options: OrderByOptions) {
    if let Statement::Query(query) = statement {
        let exprs = (1..=columns)
            .map(|i| OrderByExpr { expr: Expr::value(Value::Number(i.to_string(), false)), options, with_fill: None })
            .collect();
        query.order_by = Some(OrderBy { kind: OrderByKind::Expressions(exprs), interpolate: None });
    }
}

/// DuckDB names an unnamed result column by the expression as written (`count_star()` for
/// `count(*)`); DataFusion would name it by its plan (`count(Int64(1))`). Name them as DuckDB.
pub(crate) fn name_result_columns(query: &mut Query, namer: &Namer) {
    let mut body = query.body.as_mut();
    // Set operations take their names from the first branch.
    while let SetExpr::SetOperation { left, .. } = body {
        body = left.as_mut();
    }
    let select = match body {
        SetExpr::Select(select) => select,
        SetExpr::Query(inner) => return name_result_columns(inner, namer),
        _ => return,
    };
    // DataFusion's ORDER BY ALL takes only plain columns; positions work for any expression.
    // (COLUMNS(...) items are counted once expanded: crate::engine::compat::expand::star_columns does it then.)
    // (A FROM-first query's empty list is every column: the engine counts them.)
    if let Some(OrderBy { kind: OrderByKind::All(options), .. }) = &query.order_by
        && !select.projection.is_empty()
        && !select.projection.iter().any(crate::engine::compat::ast::mentions_columns)
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
    // DuckDB keeps two columns given one name (`type AS c, count(*) AS c`), which a plan cannot
    // hold: the later ones are named as the JSON output names repeated columns, `c_1`, `c_2`.
    let mut aliases: HashSet<String> = HashSet::new();
    let written: HashSet<String> = crate::engine::compat::ast::written_aliases(select).into_iter().collect();
    for item in &mut select.projection {
        let SelectItem::ExprWithAlias { alias, .. } = item else { continue };
        let base = alias.value.clone();
        let mut n = 0;
        while !aliases.insert(alias.value.to_lowercase()) {
            n += 1;
            let candidate = format!("{base}_{n}");
            if !written.contains(&candidate.to_lowercase()) {
                *alias = Ident::with_quote('"', candidate);
            }
        }
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
        // COLUMNS(...) names its copies once expanded (crate::engine::compat::expand::star_columns).
        if matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
            || crate::engine::compat::ast::mentions_columns(expr)
        {
            continue;
        }
        let base = namer.name(expr);
        let mut name = base.clone();
        let mut n = 1;
        while !taken.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        *item = SelectItem::ExprWithAlias { expr: expr.clone(), alias: Ident::with_quote('"', name) };
    }
}

/// The aliases of a statement, as written where DataFusion folds them to lower case
/// (`count(*) AS totalEvents` is planned as `totalevents`): (folded, written) for each unquoted
/// alias with a capital, in its SELECT, a CTE or a subquery (whose names `SELECT *` shows).
/// DuckDB keeps an alias as written.
pub(crate) fn written_aliases(statement: &Statement) -> Vec<(String, String)> {
    let mut found = Vec::new();
    if let Statement::Query(query) = statement {
        aliases_of_query(query, &mut found);
    }
    found
}

fn aliases_of_query(query: &Query, found: &mut Vec<(String, String)>) {
    for cte in query.with.iter().flat_map(|with| with.cte_tables.iter()) {
        aliases_of_query(&cte.query, found);
    }
    aliases_of_body(&query.body, found);
}

fn aliases_of_body(body: &SetExpr, found: &mut Vec<(String, String)>) {
    match body {
        SetExpr::SetOperation { left, right, .. } => {
            aliases_of_body(left, found);
            aliases_of_body(right, found);
        }
        SetExpr::Query(inner) => aliases_of_query(inner, found),
        SetExpr::Select(select) => {
            for item in &select.projection {
                if let SelectItem::ExprWithAlias { alias, .. } = item
                    && alias.quote_style.is_none()
                    && alias.value.chars().any(char::is_uppercase)
                    && !found.iter().any(|(folded, _)| *folded == alias.value.to_lowercase())
                {
                    found.push((alias.value.to_lowercase(), alias.value.clone()));
                }
            }
            for table in &select.from {
                for factor in std::iter::once(&table.relation).chain(table.joins.iter().map(|j| &j.relation)) {
                    if let TableFactor::Derived { subquery, .. } = factor {
                        aliases_of_query(subquery, found);
                    }
                }
            }
        }
        _ => {}
    }
}

/// DataFusion names a cast by what it casts, so `count(DISTINCT CAST(x AS INT))` and
/// `count(DISTINCT x)` get one name and their aggregate is refused ("duplicate field name").
/// A cast given to an aggregate is named with its type through `named_cast(cast, 'TYPE')`, which
/// the optimizer removes again.
pub(crate) fn name_aggregated_casts(expr: &mut Expr) {
    use datafusion::sql::sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments};
    const AGGREGATES: [&str; 12] = [
        "count",
        "sum",
        "avg",
        "min",
        "max",
        "array_agg",
        "string_agg",
        "approx_count_distinct",
        "median",
        "bool_and",
        "bool_or",
        "list",
    ];
    let Expr::Function(f) = expr else { return };
    if !AGGREGATES.contains(&f.name.to_string().to_lowercase().as_str()) {
        return;
    }
    let FunctionArguments::List(list) = &mut f.args else { return };
    for arg in &mut list.args {
        if let FunctionArg::Unnamed(FunctionArgExpr::Expr(cast @ Expr::Cast { .. })) = arg {
            let Expr::Cast { data_type, .. } = &*cast else { continue };
            let type_name = crate::engine::compat::ast::text(&data_type.to_string());
            *cast = crate::engine::compat::ast::call(
                crate::engine::compat::functions::generic::named_cast::NAMED_CAST,
                vec![cast.clone(), type_name],
            );
        }
    }
}

/// Every reference to the column `written` (in any case) spelled `actual`, quoted: DuckDB
/// matches names in any case, quoted or not, where DataFusion matches a quoted or aliased
/// `"ColID"` only as written. Whether a reference changed.
pub(crate) fn spell_as(statement: &mut Statement, written: &str, actual: &str) -> bool {
    let mut changed = false;
    let _ = crate::engine::compat::ast::each_expr_mut(statement, |expr: &mut Expr| {
        let ident = match expr {
            Expr::Identifier(ident) => Some(ident),
            Expr::CompoundIdentifier(parts) => parts.last_mut(),
            _ => None,
        };
        if let Some(ident) = ident
            && ident.value.eq_ignore_ascii_case(written)
            && (ident.value != actual || ident.quote_style.is_none())
        {
            *ident = Ident::with_quote('"', actual);
            changed = true;
        }
        ControlFlow::Continue(())
    });
    changed
}
