//! DuckDB's query forms that DataFusion plans differently: `SEMI JOIN` and `ANTI JOIN`, and
//! `INTERSECT ALL` / `EXCEPT ALL` (multiset operations: a row kept as many times as it is in
//! both sides, or as many more times as it is on the left; DataFusion would keep every copy);
//! windows defined on other windows (`OVER (w ORDER BY x)`, `WINDOW w AS (base ...)`), which
//! DataFusion reads without what they build on; `lead`/`lag` with DuckDB's named arguments and
//! a frame (which they ignore); HAVING as DuckDB binds it; and VALUES columns that mix DOUBLEs
//! with decimal literals, which DuckDB makes DOUBLE (DataFusion DECIMAL, where a NaN or an
//! infinity cannot go).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, JoinOperator, Query, Select, SelectItem, SetExpr, SetOperator, SetQuantifier,
};
use datafusion::sql::sqlparser::parser::Parser;

use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
use crate::error::{Error, Result};

/// The query forms rewritten, and the first error met (which stops the walk).
pub(crate) struct DuckDbQueries(pub(crate) Option<Error>);

impl crate::engine::compat::ast::WalkMut for DuckDbQueries {
    // The clause forms of PIVOT and UNPIVOT (`FROM t PIVOT (sum(x) FOR k IN (...))`) parse, but
    // DataFusion plans neither: refused by name.
    fn pre_visit_table_factor(&mut self, factor: &mut datafusion::sql::sqlparser::ast::TableFactor) -> ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::TableFactor;
        if matches!(factor, TableFactor::Pivot { .. } | TableFactor::Unpivot { .. }) {
            self.0 = Some(Error::Query(
                "the PIVOT (... FOR ... IN ...) and UNPIVOT (...) clauses are not supported: write the statements PIVOT t ON column USING agg(x) GROUP BY y, or UNPIVOT t ON a, b INTO NAME n VALUE v".into(),
            ));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        crate::engine::compat::rewrite::distinct_on::ordered(query);
        crate::engine::compat::rewrite::lateral_unnest::lateral_unnests(query);
        partial_cte_column_lists(query);
        if let SetExpr::Values(values) = query.body.as_mut() {
            floating_values(&mut values.rows.iter_mut().map(|row| &mut row.content).collect::<Vec<_>>());
        }
        crate::engine::compat::ast::for_each_select(&mut query.body, &mut |select| {
            // `FROM userList` alone is DuckDB's `SELECT * FROM userList`.
            if select.projection.is_empty() {
                select.projection.push(SelectItem::Wildcard(Default::default()));
            }
            resolve_windows(select);
            unqualified_exclusions(select);
            super::having_clauses::having_aliases(select);
            super::having_clauses::having_as_where(select);
            for from in &mut select.from {
                for join in &mut from.joins {
                    let replacement = match &join.join_operator {
                        JoinOperator::Semi(c) => JoinOperator::LeftSemi(c.clone()),
                        JoinOperator::Anti(c) => JoinOperator::LeftAnti(c.clone()),
                        _ => continue,
                    };
                    join.join_operator = replacement;
                }
            }
        });
        match multiset_operations(&mut query.body) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                self.0 = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

/// `WITH c(x) AS (SELECT a, b ...)`: DuckDB renames as many columns as the list names and keeps
/// the others' names, where DataFusion wants a name for every column. The list moves to each
/// reference (`FROM c AS c(x)`), where a shorter one is completed with the other names (see
/// `expand::partial_aliases`); not in a recursive CTE, whose step reads the names.
fn partial_cte_column_lists(query: &mut Query) {
    use datafusion::sql::sqlparser::ast::{Ident, TableAlias, TableFactor};
    struct Referenced<'a> {
        name: &'a Ident,
        columns: &'a [datafusion::sql::sqlparser::ast::TableAliasColumnDef],
    }
    impl crate::engine::compat::ast::WalkMut for Referenced<'_> {
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table { name, alias, .. } = factor
                && let [part] = name.0.as_slice()
                && part.as_ident().is_some_and(|i| i.value.eq_ignore_ascii_case(&self.name.value))
            {
                match alias {
                    // The reference's own names come first; the list names the columns after.
                    Some(alias) => {
                        let own = alias.columns.len();
                        alias.columns.extend(self.columns.iter().skip(own).cloned());
                    }
                    None => {
                        *alias = Some(TableAlias {
                            explicit: true,
                            name: self.name.clone(),
                            columns: self.columns.to_vec(),
                            at: None,
                        })
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let Some(with) = query.with.as_mut() else { return };
    if with.recursive {
        return;
    }
    for at in 0..with.cte_tables.len() {
        let (defined, later) = with.cte_tables.split_at_mut(at + 1);
        let cte = &mut defined[at];
        if cte.alias.columns.is_empty() {
            continue;
        }
        let columns = std::mem::take(&mut cte.alias.columns);
        let mut referenced = Referenced { name: &cte.alias.name, columns: &columns };
        for later in later {
            let _ = crate::engine::compat::ast::walk_mut(later.query.as_mut(), &mut referenced);
        }
        let _ = crate::engine::compat::ast::walk_mut(query.body.as_mut(), &mut referenced);
    }
}

/// `* EXCLUDE (t.a)` over one relation, or `t.* EXCLUDE (t.a)`: the column by its own name, as
/// DataFusion takes it (the qualifier can only name that relation); over a join it is left as
/// written, to be refused.
fn unqualified_exclusions(select: &mut Select) {
    use datafusion::sql::sqlparser::ast::{ExcludeSelectItem, ObjectName, ObjectNamePart};
    let one_relation = matches!(select.from.as_slice(), [from] if from.joins.is_empty());
    for item in &mut select.projection {
        let (options, own_relation) = match item {
            SelectItem::Wildcard(options) => (options, one_relation),
            SelectItem::QualifiedWildcard(_, options) => (options, true),
            _ => continue,
        };
        let names: &mut [ObjectName] = match &mut options.opt_exclude {
            Some(ExcludeSelectItem::Single(name)) => std::slice::from_mut(name),
            Some(ExcludeSelectItem::Multiple(names)) => names,
            None => continue,
        };
        for name in names {
            if own_relation
                && name.0.len() > 1
                && let Some(last) = name.0.pop()
            {
                name.0 = vec![last];
            }
            // Unquoted, the name is any case (DataFusion compares the exclusions as written).
            for part in &mut name.0 {
                if let ObjectNamePart::Identifier(ident) = part
                    && ident.quote_style.is_none()
                {
                    ident.value = ident.value.to_lowercase();
                }
            }
        }
    }
}

/// Decimal literals in a VALUES column with a DOUBLE or FLOAT cast (or a division) in it, cast to
/// that type, and the divisions too (DuckDB divides as DOUBLEs; planned as DECIMALs, `1.0 / 0.0`
/// would be an infinity in a DECIMAL column).
fn floating_values(rows: &mut [&mut Vec<Expr>]) {
    let columns = rows.iter().map(|row| row.len()).max().unwrap_or(0);
    for column in 0..columns {
        floating_column(&mut rows.iter_mut().filter_map(|row| row.get_mut(column)).collect::<Vec<_>>());
    }
}

/// The cells of one column (of VALUES, or the elements of a list literal) made DOUBLE where one
/// of them is, as DuckDB types them.
pub(crate) fn floating_column(cells: &mut [&mut Expr]) {
    use datafusion::sql::sqlparser::ast::{BinaryOperator, DataType as SqlType, ExactNumberInfo, Value, ValueWithSpan};
    let floating = cells.iter().find_map(|cell| match &**cell {
        Expr::Cast { data_type, .. }
            if matches!(
                data_type,
                SqlType::Double(_)
                    | SqlType::DoublePrecision
                    | SqlType::Float(_)
                    | SqlType::Real
                    | SqlType::Float4
                    | SqlType::Float8
                    | SqlType::Float64
            ) =>
        {
            Some(data_type.clone())
        }
        // `/` is a DOUBLE in DuckDB (`1.0 / 0.0` is infinity).
        Expr::BinaryOp { op: BinaryOperator::Divide, .. } => Some(SqlType::Double(ExactNumberInfo::None)),
        _ => None,
    });
    let Some(data_type) = floating else { return };
    for cell in cells.iter_mut() {
        let decimal =
            matches!(&**cell, Expr::Value(ValueWithSpan { value: Value::Number(n, _), .. }) if n.contains('.'));
        let division = matches!(&**cell, Expr::BinaryOp { op: BinaryOperator::Divide, .. });
        if decimal || division {
            **cell = crate::engine::compat::ast::cast((**cell).clone(), data_type.clone());
        }
    }
}

/// A window built on a named one (`(w ORDER BY x)`) written out in full: the named window's
/// partitioning, its ordering and frame unless the window gives its own.
fn resolve_windows(select: &mut Select) {
    use datafusion::sql::sqlparser::ast::{NamedWindowExpr, WindowSpec, WindowType};
    if select.named_window.is_empty() {
        return;
    }
    fn built(spec: &WindowSpec, base: &WindowSpec) -> WindowSpec {
        WindowSpec {
            window_name: None,
            partition_by: if spec.partition_by.is_empty() {
                base.partition_by.clone()
            } else {
                spec.partition_by.clone()
            },
            order_by: if spec.order_by.is_empty() { base.order_by.clone() } else { spec.order_by.clone() },
            window_frame: spec.window_frame.clone().or_else(|| base.window_frame.clone()),
        }
    }
    // Definitions in order, each resolved on those before it.
    let mut resolved: Vec<(String, WindowSpec)> = Vec::new();
    for definition in &mut select.named_window {
        let lookup = |name: &str, resolved: &[(String, WindowSpec)]| {
            resolved.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, s)| s.clone())
        };
        let spec = match &definition.1 {
            NamedWindowExpr::NamedWindow(name) => lookup(&name.value, &resolved),
            NamedWindowExpr::WindowSpec(spec) => match &spec.window_name {
                Some(name) => lookup(&name.value, &resolved).map(|base| built(spec, &base)),
                None => Some(spec.clone()),
            },
        };
        if let Some(spec) = spec {
            definition.1 = NamedWindowExpr::WindowSpec(spec.clone());
            resolved.push((definition.0.value.clone(), spec));
        }
    }
    let _ = crate::engine::compat::ast::each_expr_mut(&mut select.projection, |expr: &mut Expr| {
        if let Expr::Function(f) = expr
            && let Some(WindowType::WindowSpec(spec)) = &mut f.over
            && let Some(name) = &spec.window_name
            && let Some((_, base)) = resolved.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name.value))
        {
            *spec = built(spec, base);
        }
        ControlFlow::Continue(())
    });
}

/// `lead`/`lag` with DuckDB's named arguments (`col :=`, `"offset" :=`, `"default" :=`) in
/// their places, and without their window's frame, which DuckDB's ignore (DataFusion refuses a
/// frame that ends before it starts); `None` when there is nothing to change.
pub(crate) fn lead_lag(name: &str, f: &datafusion::sql::sqlparser::ast::Function) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments, Value, WindowType};
    if !matches!(name, "lead" | "lag") {
        return None;
    }
    let mut g = f.clone();
    let mut changed = false;
    if let Some(WindowType::WindowSpec(spec)) = &mut g.over
        && spec.window_frame.take().is_some()
    {
        changed = true;
    }
    if let FunctionArguments::List(list) = &mut g.args
        && list.args.iter().any(|a| matches!(a, FunctionArg::Named { .. }))
    {
        let place = |a: &FunctionArg| match a {
            FunctionArg::Named { name, .. } => match name.value.to_lowercase().as_str() {
                "col" | "expr" => 0,
                "offset" => 1,
                _ => 2,
            },
            _ => 0,
        };
        let mut args = list.args.clone();
        args.sort_by_key(place);
        let mut positional: Vec<FunctionArg> = args
            .into_iter()
            .map(|a| match a {
                FunctionArg::Named { arg, .. } => FunctionArg::Unnamed(arg),
                other => other,
            })
            .collect();
        // A default without an offset: the offset is 1.
        if list.args.iter().any(|a| place(a) == 2) && !list.args.iter().any(|a| place(a) == 1) {
            positional
                .insert(1, FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::value(Value::Number("1".into(), false)))));
        }
        list.args = positional;
        changed = true;
    }
    changed.then_some(Expr::Function(g))
}

/// The names of a branch's result columns, when its projection is explicit.
fn column_names(body: &SetExpr) -> Option<Vec<String>> {
    match body {
        SetExpr::Select(select) => select
            .projection
            .iter()
            .map(|item| match item {
                SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
                SelectItem::UnnamedExpr(Expr::Identifier(i)) => Some(i.value.clone()),
                SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => parts.last().map(|i| i.value.clone()),
                SelectItem::UnnamedExpr(e) => Some(e.to_string()),
                _ => None,
            })
            .collect(),
        SetExpr::Query(query) => column_names(&query.body),
        SetExpr::SetOperation { left, .. } => column_names(left),
        _ => None,
    }
}

/// Rewrites every `INTERSECT ALL` and `EXCEPT ALL` below `body`, innermost first: each copy of a
/// row is numbered within its side, and the distinct operation runs on (row, number).
fn multiset_operations(body: &mut SetExpr) -> Result<()> {
    let SetExpr::SetOperation { op, set_quantifier, left, right } = body else {
        return Ok(());
    };
    multiset_operations(left)?;
    multiset_operations(right)?;
    if !matches!(op, SetOperator::Intersect | SetOperator::Except | SetOperator::Minus)
        || !matches!(set_quantifier, SetQuantifier::All)
    {
        return Ok(());
    }
    let operation = if matches!(op, SetOperator::Intersect) { "INTERSECT" } else { "EXCEPT" };
    let names = column_names(left).ok_or_else(|| {
        Error::Query(format!("{operation} ALL needs the columns of its first query listed: write them instead of *"))
    })?;
    let columns: Vec<String> = (1..=names.len()).map(|i| format!("__c{i}")).collect();
    let columns = columns.join(", ");
    let side = |query: &SetExpr, alias: &str| {
        format!(
            "SELECT {columns}, row_number() OVER (PARTITION BY {columns}) AS __copy FROM ({query}) AS {alias}({columns})"
        )
    };
    let outputs: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| format!("__s.__c{} AS \"{}\"", i + 1, name.replace('"', "\"\"")))
        .collect();
    let sql =
        format!("SELECT {} FROM ({} {operation} {}) AS __s", outputs.join(", "), side(left, "__l"), side(right, "__r"));
    let mut parsed = Parser::parse_sql(&DuckDbCompatDialect, &sql)
        .map_err(|e| Error::internal("rewriting a set operation")(e.to_string()))?;
    let Some(datafusion::sql::sqlparser::ast::Statement::Query(query)) = parsed.pop() else {
        return Err(Error::internal("rewriting a set operation")("not a query".into()));
    };
    *body = SetExpr::Query(query);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_short_cte_column_list_names_the_first_columns() {
        let rewritten = crate::engine::compat::rewrite::rewritten_by(
            |s| {
                let _ = crate::engine::compat::ast::walk_mut(s, &mut super::DuckDbQueries(None));
            },
            "WITH c(z) AS (SELECT 1 AS a, 2 AS b) SELECT * FROM c",
        );
        assert_eq!(rewritten, "WITH c AS (SELECT 1 AS a, 2 AS b) SELECT * FROM c AS c (z)");
    }
}
