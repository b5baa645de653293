//! The names of a query's result columns as DuckDB gives them, where the plan's differ: the
//! aliases as written (DataFusion folds them), the fields of an unnested struct by their own
//! names (`unnest(s)` gives `a`, not `t.s.a`), and a struct's field read as `s.a` by its name (`a`,
//! not `t.s[a]`).

use datafusion::logical_expr::{Expr, LogicalPlan};

use crate::error::{Error, Result};
use crate::shred;

/// The plan with its result columns renamed to the aliases as written (see
/// [`crate::engine::compat::written_aliases`]) and to their fields' names where they unnest a
/// struct: one projection on top, when a name needs it.
pub(super) fn as_written(plan: LogicalPlan, aliases: &[(String, String)]) -> Result<LogicalPlan> {
    // (Never the name of a shredded column, which the plan's output hides.)
    let written = |name: &str| {
        aliases
            .iter()
            .find(|(folded, written)| folded == name && !shred::hidden_columns().any(|h| h == written))
            .map(|(_, written)| written.clone())
    };
    let fields = plan.schema().fields();
    let mut names: Vec<Option<String>> =
        fields.iter().enumerate().map(|(i, f)| written(f.name()).or_else(|| unnested_field(&plan, i))).collect();
    // A field's name that another result column has already stays as DataFusion made it.
    for i in 0..names.len() {
        let taken = |name: &str| {
            fields.iter().enumerate().any(|(j, f)| j != i && names[j].as_deref().unwrap_or(f.name()) == name)
        };
        if names[i].as_deref().is_some_and(|name| taken(name) && written(fields[i].name()).is_none()) {
            names[i] = None;
        }
    }
    if names.iter().all(Option::is_none) {
        return Ok(plan);
    }
    let columns: Vec<Expr> = plan
        .schema()
        .columns()
        .into_iter()
        .zip(names)
        .map(|(column, name)| match name {
            Some(name) => Expr::Column(column).alias(name),
            None => Expr::Column(column),
        })
        .collect();
    datafusion::logical_expr::LogicalPlanBuilder::from(plan)
        .project(columns)
        .and_then(|b| b.build())
        .map_err(Error::query)
}

/// The field's own name, where the plan's `index`th column is a field of a struct `unnest`
/// spreads into columns (DataFusion names it `table.column.field`, DuckDB `field`), followed
/// down through the projections, sorts and limits that pass it on.
fn unnested_field(plan: &LogicalPlan, index: usize) -> Option<String> {
    match plan {
        LogicalPlan::Sort(s) => unnested_field(&s.input, index),
        LogicalPlan::Limit(l) => unnested_field(&l.input, index),
        LogicalPlan::Projection(p) => match p.expr.get(index)? {
            Expr::Alias(alias) => {
                let Expr::Column(column) = alias.expr.as_ref() else { return None };
                let rest = column.name.strip_prefix("__unnest_placeholder(")?;
                Some(rest.rsplit_once(").")?.1.to_string())
            }
            // `s.a` without an alias (other field reads are named before planning).
            Expr::ScalarFunction(call) if call.name() == "get_field" => match call.args.last()? {
                Expr::Literal(datafusion::common::ScalarValue::Utf8(Some(field)), _) => Some(field.clone()),
                _ => None,
            },
            Expr::Column(column) => unnested_field(&p.input, p.input.schema().index_of_column(column).ok()?),
            _ => None,
        },
        _ => None,
    }
}
