//! Window frames that leave rows out — `EXCLUDE CURRENT ROW`, `GROUP` or `TIES`, marked in the
//! text by `parse::frame_excludes`. DataFusion computes whole frames, so the frame's rows are
//! gathered as a list (`array_agg` over the same frame, each row with its ORDER BY keys and
//! whether its FILTER holds), the excluded rows are taken out of the list, and the function is
//! computed on what is left (`list_aggregate`; `first_value`, `last_value` and `nth_value` pick an
//! element). The current row's place in the list is counted: the rows from the frame's start to
//! it. Ranking functions and `lag`/`lead` ignore frames, as in DuckDB.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, NamedWindowExpr, Query, Select, Statement,
    VisitMut, WindowFrame, WindowFrameBound, WindowFrameUnits, WindowSpec, WindowType,
};
use datafusion::sql::sqlparser::parser::Parser;

use crate::engine::compat::ast::{each_expr_mut, for_each_select};
use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
use crate::engine::compat::parse::frame_excludes::{Exclusion, exclusion};
use crate::error::{Error, Result};

/// Functions whose answer does not depend on the frame.
pub(crate) const FRAMELESS: &[&str] =
    &["row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead"];

/// Whether `name` is a window function only (no aggregate of that name).
pub(crate) fn is_window_function(name: &str) -> bool {
    FRAMELESS.contains(&name) || matches!(name, "first_value" | "last_value" | "nth_value")
}

pub(crate) fn exclusions(statement: &mut Statement) -> Result<()> {
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut NamedWindows);
    let outcome = each_expr_mut(statement, |expr| {
        let Expr::Function(f) = expr else { return ControlFlow::Continue(()) };
        let Some(WindowType::WindowSpec(spec)) = &mut f.over else { return ControlFlow::Continue(()) };
        let Some(excluded) = exclusion(spec) else { return ControlFlow::Continue(()) };
        spec.partition_by.remove(0);
        let name = f.name.to_string().to_ascii_lowercase();
        if FRAMELESS.contains(&name.as_str()) {
            return ControlFlow::Continue(());
        }
        match without_excluded(f, &name, excluded) {
            Ok(rewritten) => {
                *expr = rewritten;
                ControlFlow::Continue(())
            }
            Err(e) => ControlFlow::Break(Some(e)),
        }
    });
    match outcome {
        ControlFlow::Break(Some(e)) => Err(e),
        _ => Ok(()),
    }
}

/// Calls over a named window that excludes rows get the window written out, so that each can be
/// rewritten; the named window itself loses its marker. Calls in QUALIFY get every named window
/// written out.
struct NamedWindows;

impl crate::engine::compat::ast::WalkMut for NamedWindows {
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        for_each_select(&mut query.body, &mut inline_named_windows);
        ControlFlow::Continue(())
    }
}

fn inline_named_windows(select: &mut Select) {
    // DataFusion resolves a named window in the select list only: QUALIFY gets each written out.
    let named = windows_of(select, |_| true);
    written_out(&mut select.qualify, &named);
    let marked = windows_of(select, |spec| exclusion(spec).is_some());
    if marked.is_empty() {
        return;
    }
    written_out(&mut select.projection, &marked);
    for window in &mut select.named_window {
        if let NamedWindowExpr::WindowSpec(spec) = &mut window.1
            && exclusion(spec).is_some()
        {
            spec.partition_by.remove(0);
        }
    }
}

/// The select's named windows (by name) that `wanted` picks.
fn windows_of(select: &Select, wanted: impl Fn(&WindowSpec) -> bool) -> HashMap<String, WindowSpec> {
    select
        .named_window
        .iter()
        .filter_map(|window| match &window.1 {
            NamedWindowExpr::WindowSpec(spec) if wanted(spec) => Some((window.0.value.clone(), spec.clone())),
            _ => None,
        })
        .collect()
}

/// Each call of `node` over one of `windows` by name, over that window written out.
fn written_out<N: VisitMut + ?Sized>(node: &mut N, windows: &HashMap<String, WindowSpec>) {
    let _ = each_expr_mut(node, |expr: &mut Expr| {
        if let Expr::Function(f) = expr
            && let Some(WindowType::NamedWindow(name)) = &f.over
            && let Some(spec) = windows.get(&name.value)
        {
            f.over = Some(WindowType::WindowSpec(spec.clone()));
        }
        ControlFlow::Continue(())
    });
}

fn unsupported(what: &str) -> Error {
    Error::Query(format!(
        "a window frame with EXCLUDE is supported for aggregates of one argument, first_value, last_value and nth_value, not {what}: write the frame without EXCLUDE and take the excluded rows out"
    ))
}

/// The frame as written, or DuckDB's default: from the partition's start to the current row's
/// last peer with an ORDER BY, the whole partition without.
fn frame_of(spec: &WindowSpec) -> WindowFrame {
    spec.window_frame.clone().unwrap_or(WindowFrame {
        units: if spec.order_by.is_empty() { WindowFrameUnits::Rows } else { WindowFrameUnits::Range },
        start_bound: WindowFrameBound::Preceding(None),
        end_bound: Some(if spec.order_by.is_empty() {
            WindowFrameBound::Following(None)
        } else {
            WindowFrameBound::CurrentRow
        }),
    })
}

fn without_excluded(f: &Function, name: &str, excluded: Exclusion) -> Result<Expr> {
    let FunctionArguments::List(list) = &f.args else { return Err(unsupported(&format!("{name}()"))) };
    if !list.clauses.is_empty() || f.null_treatment.is_some() || !f.within_group.is_empty() {
        return Err(unsupported(&format!("{name}() with ORDER BY, IGNORE NULLS or WITHIN GROUP")));
    }
    let args: Vec<String> = list
        .args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e.to_string()),
            FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => Ok("1".to_string()),
            _ => Err(unsupported(&format!("{name}() with named arguments"))),
        })
        .collect::<Result<_>>()?;
    let distinct = list.duplicate_treatment.is_some_and(|d| d.to_string() == "DISTINCT");
    let Some(WindowType::WindowSpec(spec)) = &f.over else { return Err(unsupported(name)) };
    let frame = frame_of(spec);
    let over = |frame: &str| {
        let mut parts = Vec::new();
        if !spec.partition_by.is_empty() {
            parts.push(format!("PARTITION BY {}", join(&spec.partition_by)));
        }
        if !spec.order_by.is_empty() {
            parts.push(format!("ORDER BY {}", join(&spec.order_by)));
        }
        parts.push(frame.to_string());
        format!("OVER ({})", parts.join(" "))
    };
    let bounds = |start: &WindowFrameBound, end: &WindowFrameBound| format!("BETWEEN {start} AND {end}");
    let end = frame.end_bound.clone().unwrap_or(WindowFrameBound::CurrentRow);
    let keys: Vec<String> = spec.order_by.iter().map(|o| o.expr.to_string()).collect();
    let value = args.first().cloned().unwrap_or_else(|| "1".to_string());
    let keep = f.filter.as_ref().map_or("true".to_string(), |w| format!("coalesce(({w}), false)"));
    let fields: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(k, key)| format!("'k{k}': ({key})"))
        .chain([format!("'v': ({value})"), format!("'keep': {keep}")])
        .collect();
    let rows = format!(
        "array_agg({{{}}}) {}",
        fields.join(", "),
        over(&format!("{} {}", frame.units, bounds(&frame.start_bound, &end)))
    );
    // The current row's place in the list (1-based), 0 when the frame does not hold it.
    let holds_current = matches!(frame.start_bound, WindowFrameBound::Preceding(_) | WindowFrameBound::CurrentRow)
        && matches!(end, WindowFrameBound::Following(_) | WindowFrameBound::CurrentRow);
    let to_current = |units: &str, start: &WindowFrameBound| {
        format!("count(*) {}", over(&format!("{units} {}", bounds(start, &WindowFrameBound::CurrentRow))))
    };
    let place = match frame.units {
        _ if !holds_current => "0".to_string(),
        WindowFrameUnits::Rows => to_current("ROWS", &frame.start_bound),
        units => format!(
            "(row_number() {} - ({} - {}))",
            over("ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"),
            to_current("RANGE", &WindowFrameBound::Preceding(None)),
            to_current(&units.to_string(), &frame.start_bound)
        ),
    };
    let peer = if keys.is_empty() {
        "true".to_string()
    } else {
        keys.iter()
            .enumerate()
            .map(|(k, key)| format!("excl_row['k{k}'] IS NOT DISTINCT FROM ({key})"))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let left = match excluded {
        Exclusion::CurrentRow => format!("excl_at <> {place}"),
        Exclusion::Group => format!("NOT ({peer})"),
        Exclusion::Ties => format!("excl_at = {place} OR NOT ({peer})"),
    };
    let values = format!(
        "list_transform(list_filter(list_filter({rows}, (excl_row, excl_at) -> ({left})), excl_kept -> (excl_kept['keep'])), excl_taken -> (excl_taken['v']))"
    );
    let values = if distinct { format!("list_distinct({values})") } else { values };
    let answer = match name {
        "count" if list.args.is_empty() || args[0] == "1" && !distinct => format!("coalesce(length({values}), 0)"),
        "count" => format!("coalesce(length(list_filter({values}, excl_value -> (excl_value IS NOT NULL))), 0)"),
        "first_value" | "first" => format!("({values})[1]"),
        "last_value" | "last" => format!("({values})[-1]"),
        "nth_value" => match args.get(1) {
            Some(n) => format!("({values})[{n}]"),
            None => return Err(unsupported("nth_value() without a position")),
        },
        _ if args.len() == 1 => format!("list_aggregate({values}, '{name}')"),
        _ => {
            let extra = args[1..].join(", ");
            format!("list_aggregate({values}, '{name}', {extra})")
        }
    };
    Parser::new(&DuckDbCompatDialect)
        .try_with_sql(&answer)
        .and_then(|mut p| p.parse_expr())
        .map_err(|_| unsupported(&format!("{name}()")))
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let prepared = crate::engine::compat::parse::prepared(sql);
        let mut statement = Parser::parse_sql(&DuckDbCompatDialect, &prepared).unwrap().remove(0);
        exclusions(&mut statement).unwrap();
        statement.to_string()
    }

    #[test]
    fn ranking_functions_ignore_exclusions_and_aggregates_read_the_frames_list() {
        let text = rewritten(
            "SELECT rank() OVER w, sum(x) OVER w FROM t WINDOW w AS (ORDER BY x ROWS UNBOUNDED PRECEDING EXCLUDE CURRENT ROW)",
        );
        assert!(
            text.starts_with("SELECT rank() OVER (ORDER BY x ROWS UNBOUNDED PRECEDING), list_aggregate("),
            "{text}"
        );
        assert!(text.ends_with("WINDOW w AS (ORDER BY x ROWS UNBOUNDED PRECEDING)"), "{text}");
        assert!(!text.contains("__exclude"), "{text}");
    }
}
