//! DuckDB's functions and operators, translated before planning into what DataFusion (with this
//! layer's functions) computes the same way: each expression goes through the expression forms
//! (`rewrite::expression_forms`), then a call through [`rewrite_function`]: the reshapes of its
//! form, the templates, the renames of the catalogue, then the reshapes of its plain call.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CastKind, DataType as SqlType, DuplicateTreatment, Expr, Function, FunctionArguments, Interval,
    TypedString, UnaryOperator, Value, ValueWithSpan,
};

use crate::engine::compat::ast::{as_instant, call, renamed_call, text, try_as_instant};
use crate::engine::compat::functions::json::json_path::json_call;
use crate::engine::compat::rewrite::json_casts::is_json_type;
use crate::engine::compat::rewrite::names::fold_identifier;
use crate::engine::compat::rewrite::reshapes::{CALLS, FORMS, ORDERED, reshaped};
use crate::error::{Error, Result};

/// Whether a type is DuckDB's TIMESTAMPTZ (`TIMESTAMP WITH TIME ZONE`).
fn is_timestamptz(data_type: &SqlType) -> bool {
    use datafusion::sql::sqlparser::ast::TimezoneInfo;
    matches!(data_type, SqlType::Timestamp(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz))
}

pub(crate) fn rewrite_expr(expr: &mut Expr) -> Result<()> {
    crate::engine::compat::rewrite::like::duckdb_like(expr)?;
    crate::engine::compat::rewrite::expression_forms::distinct_order_keys(expr);
    if let Expr::Array(list) = expr {
        crate::engine::compat::rewrite::query_forms::floating_column(&mut list.elem.iter_mut().collect::<Vec<_>>());
        // A tuple in a list is DuckDB's unnamed struct (DataFusion plans a tuple of constants only).
        for element in &mut list.elem {
            if let Expr::Tuple(items) = element {
                *element = call("struct", std::mem::take(items));
            }
        }
    }
    if let Expr::TypedString(TypedString { data_type: SqlType::Timestamp(..), value, .. }) = expr
        && let Value::SingleQuotedString(text) = &mut value.value
        && let Some(full) = crate::engine::compat::planner::timestamp_texts::completed_text(text)
    {
        *text = full;
    }
    if let Expr::Cast { data_type, .. } | Expr::TypedString(TypedString { data_type, .. }) = expr
        && !is_json_type(data_type)
    {
        crate::engine::compat::rewrite::type_names::duckdb_type(data_type);
    }
    use crate::engine::compat::rewrite::expression_forms as forms;
    let forms: [fn(&Expr) -> Option<Expr>; 14] = [
        forms::chained_call,
        crate::engine::compat::planner::try_calls::try_cast,
        forms::extract_call,
        forms::text_subscript,
        forms::boolean_test,
        forms::state_cast,
        crate::engine::compat::functions::regex::regex_quantified::quantified_match,
        crate::engine::compat::functions::regex::regex_quantified::similar_to,
        crate::engine::compat::rewrite::json_casts::rewritten,
        crate::engine::compat::functions::text::binary_functions::blob_literal,
        forms::duckdb_substring,
        forms::overlay_call,
        crate::engine::compat::functions::text::text_casts::text_cast,
        crate::engine::compat::functions::text::nested_texts::nested_cast,
    ];
    if let Some(rewritten) = forms.iter().find_map(|form| form(expr)) {
        // A form may give a DuckDB function of this layer (`EXTRACT(century ...)`): its call too.
        *expr = match &rewritten {
            Expr::Function(f) => rewrite_function(f)?.unwrap_or(rewritten),
            _ => rewritten,
        };
        return Ok(());
    }
    let replacement = match expr {
        Expr::Cast { kind, data_type, expr: value, .. } if is_timestamptz(data_type) => match kind {
            CastKind::TryCast | CastKind::SafeCast => try_as_instant((**value).clone()),
            CastKind::Cast | CastKind::DoubleColon => as_instant((**value).clone()),
        },
        Expr::TypedString(typed) if is_timestamptz(&typed.data_type) => as_instant(Expr::Value(typed.value.clone())),
        Expr::Identifier(ident) => {
            fold_identifier(ident);
            return Ok(());
        }
        Expr::CompoundIdentifier(parts) => {
            parts.iter_mut().for_each(fold_identifier);
            return Ok(());
        }
        Expr::BinaryOp { left, op: BinaryOperator::LongArrow, right } => {
            json_call("json_as_text", (**left).clone(), right)?
        }
        // `->` and json_extract give DuckDB's JSON.
        Expr::BinaryOp { left, op: BinaryOperator::Arrow, right } => {
            crate::engine::compat::functions::json::json_path::extracted_json((**left).clone(), right)?
        }
        Expr::UnaryOp { op: UnaryOperator::BitwiseNot, expr } => call("bitwise_not", vec![(**expr).clone()]),
        Expr::AtTimeZone { timestamp, time_zone } => {
            call("at_time_zone", vec![(**timestamp).clone(), (**time_zone).clone()])
        }
        // DuckDB's integer division truncates, as DataFusion's `/` does on integers.
        Expr::BinaryOp { left, op: BinaryOperator::DuckIntegerDivide, right } => Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(call(
                "trunc",
                vec![Expr::BinaryOp { left: left.clone(), op: BinaryOperator::Divide, right: right.clone() }],
            )),
            data_type: SqlType::BigInt(None),
            array: false,
            format: None,
        },
        // A number with an exponent is a DOUBLE in DuckDB (other fractional numbers are DECIMALs).
        Expr::Value(ValueWithSpan { value: Value::Number(n, _), .. }) if n.contains(['e', 'E']) => Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(text(n)),
            data_type: SqlType::Double(datafusion::sql::sqlparser::ast::ExactNumberInfo::None),
            array: false,
            format: None,
        },
        // DuckDB writes the time of an interval as `03:04:05`; DataFusion reads units only.
        // `INTERVAL 1 DAY` as `INTERVAL '1 DAY'`, the one form window frames take.
        Expr::Interval(Interval { value, leading_field, last_field: None, .. })
            if matches!(value.as_ref(), Expr::Value(_)) =>
        {
            match value.as_mut() {
                Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(s), .. }) if leading_field.is_none() => {
                    *s = interval_units(s)?
                }
                Expr::Value(ValueWithSpan { value: number @ Value::Number(..), .. }) if leading_field.is_some() => {
                    let (Value::Number(n, _), Some(unit)) = (&*number, leading_field.take()) else { return Ok(()) };
                    *number = Value::SingleQuotedString(format!("{n} {unit}"));
                }
                _ => {}
            }
            return Ok(());
        }
        // `INTERVAL (expr) DAY`: that many units.
        Expr::Interval(Interval { value, leading_field: Some(unit), last_field: None, .. }) => {
            crate::engine::compat::ast::units_interval((**value).clone(), &unit.to_string())
        }
        Expr::Function(f) => match rewrite_function(f)? {
            Some(e) => e,
            None => return Ok(()),
        },
        _ => return Ok(()),
    };
    *expr = replacement;
    Ok(())
}

/// An interval's text as DuckDB reads it (`1 day 03:04:05.5`, `1.5 days`, `2 days ago`), written
/// in units both DataFusion and DuckDB read (the rewrite may see its own output again).
fn interval_units(text: &str) -> Result<String> {
    let value =
        crate::engine::compat::functions::datetime::interval_texts::duckdb_interval(text).map_err(Error::Query)?;
    Ok(format!("{} months {} days {} microseconds", value.months, value.days, value.nanoseconds / 1000))
}

/// Every expression in `expr` rewritten, innermost first.
fn rewrite_all(expr: &mut Expr) -> Result<()> {
    match crate::engine::compat::ast::each_expr_mut(expr, |e: &mut Expr| match rewrite_expr(e) {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => ControlFlow::Break(Some(e)),
    }) {
        ControlFlow::Break(Some(e)) => Err(e),
        ControlFlow::Break(None) | ControlFlow::Continue(()) => Ok(()),
    }
}

/// A call to an aggregate template (`histogram(x) FILTER (WHERE ...)`, `favg(x) OVER w`) gives
/// its FILTER and OVER to the aggregates the template computes with, and its DISTINCT to the
/// one that collects the values (`list_histogram(array_agg(DISTINCT x))`); where the values are
/// not collected by one, DISTINCT is refused rather than lost.
fn carry_aggregate_clauses(f: &Function, expanded: &mut Expr) -> Result<()> {
    let distinct =
        matches!(&f.args, FunctionArguments::List(l) if l.duplicate_treatment == Some(DuplicateTreatment::Distinct));
    if f.filter.is_none() && f.over.is_none() && !distinct {
        return Ok(());
    }
    /// The template's own aggregates (any DuckDB aggregate: no list of them to keep in step),
    /// not those of a subquery in its arguments.
    struct Carried<'a> {
        call: &'a Function,
        distinct: bool,
        subqueries: usize,
        aggregates: usize,
        collecting: usize,
    }
    impl crate::engine::compat::ast::WalkMut for Carried<'_> {
        fn pre_visit_query(&mut self, _: &mut datafusion::sql::sqlparser::ast::Query) -> ControlFlow<()> {
            self.subqueries += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &mut datafusion::sql::sqlparser::ast::Query) -> ControlFlow<()> {
            self.subqueries -= 1;
            ControlFlow::Continue(())
        }
        fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
            if self.subqueries == 0
                && let Expr::Function(g) = e
            {
                let name = g.name.to_string().to_lowercase();
                if crate::engine::compat::rewrite::subqueries::is_aggregate_name(&name) {
                    self.aggregates += 1;
                    g.filter = self.call.filter.clone();
                    g.over = self.call.over.clone();
                    if self.distinct
                        && name == "array_agg"
                        && let FunctionArguments::List(l) = &mut g.args
                    {
                        l.duplicate_treatment = Some(DuplicateTreatment::Distinct);
                        self.collecting += 1;
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut carried = Carried { call: f, distinct, subqueries: 0, aggregates: 0, collecting: 0 };
    let _ = crate::engine::compat::ast::walk_mut(expanded, &mut carried);
    let (aggregates, collecting) = (carried.aggregates, carried.collecting);
    if aggregates == 0 {
        return Err(Error::Query(format!(
            "{}() is not an aggregate: FILTER, OVER and DISTINCT do not apply to it",
            f.name
        )));
    }
    if distinct && collecting == 0 {
        return Err(Error::Query(format!(
            "{}(DISTINCT ...) is not supported: give it the distinct values, {}(x) FROM (SELECT DISTINCT x ...)",
            f.name, f.name
        )));
    }
    Ok(())
}

/// A DuckDB call as DataFusion takes it; `None` when it goes on as written.
fn rewrite_function(f: &Function) -> Result<Option<Expr>> {
    let name = f.name.to_string().to_lowercase();
    if let Some(mut reshaped) = reshaped(FORMS, &name, f)? {
        rewrite_all(&mut reshaped)?;
        return Ok(Some(reshaped));
    }
    if let Some(sorted) = reshaped(ORDERED, &name, f)? {
        return Ok(Some(sorted));
    }
    // A macro's named parameters (`sep := '-'`) are its arguments in order.
    if let Some(args) = crate::engine::compat::ast::positional_args(f)
        && let Some(mut expanded) = crate::engine::compat::rewrite::templates::expand(&name, &args)?
    {
        carry_aggregate_clauses(f, &mut expanded)?;
        // The template's own calls (`last_day`, `json_extract`) are DuckDB's too.
        rewrite_all(&mut expanded)?;
        return Ok(Some(Expr::Nested(Box::new(expanded))));
    }
    if crate::engine::compat::ast::plain_args(f).is_none() {
        return Ok(None);
    }
    if let Some(to) = crate::engine::compat::catalogue::datafusion_name(&name)
        && to != name
    {
        let Expr::Function(g) = renamed_call(f, to) else { unreachable!("renamed_call gives a call") };
        return Ok(Some(rewrite_function(&g)?.unwrap_or(Expr::Function(g))));
    }
    reshaped(CALLS, &name, f)
}
