//! DuckDB calls DataFusion takes in another shape, by name: each table row names the functions
//! a reshape applies to, in the order they are tried. A reshape answers `None` for a call it
//! does not change (another argument count or form), which then goes on as it is.
//!
//! [`FORMS`] come first, on the call as written (named arguments, clauses, lists); the result
//! is rewritten again. [`ORDERED`] aggregates follow; then the templates and renames
//! (`rewrite::calls`), then [`CALLS`], on the plain arguments of the (renamed) call.

mod aggregate;
mod datetime;
mod generic;
mod json;
mod list;
mod text;

use datafusion::sql::sqlparser::ast::{Expr, Function};

use crate::error::Result;

/// A reshape of a call named `name`: the call it becomes, `None` when it keeps its shape.
pub(crate) type Reshape = fn(name: &str, f: &Function) -> Result<Option<Expr>>;

/// The names of the functions that take several quantiles or an ordered quantile.
const QUANTILES: &[&str] = &["quantile_cont", "quantile_disc", "quantile", "percentile_cont", "percentile_disc"];
const DATE_PARTS: &[&str] = &["date_part", "datepart", "date_trunc", "datetrunc"];

/// Reshapes of the call as written, tried in this order; every call (a tuple argument) where the
/// names are empty.
#[rustfmt::skip]
pub(crate) const FORMS: &[(&[&str], Reshape)] = &[
    (&["struct_pack"], generic::struct_pack),
    (&["struct_update"], generic::struct_update),
    (QUANTILES, aggregate::ordered_quantile),
    (&["mode"], aggregate::mode_within_group),
    (&["any_value"], aggregate::ordered_any_value),
    (&["lead", "lag"], generic::lead_lag),
    (&["row"], generic::row),
    (&[], generic::tuple_arguments),
    (&["to_aggregate_state"], aggregate::to_state),
    (&["date_part", "datepart"], datetime::parts_struct),
    (&["date_part", "datepart"], datetime::zone_part),
    (&["date_trunc", "datetrunc"], datetime::truncation_units),
    (&["list_position", "array_position", "list_indexof", "array_indexof"], list::null_position),
    (&["list_concat", "list_cat", "array_concat", "array_cat"], list::without_null_lists),
    (DATE_PARTS, datetime::null_part),
    (&["date_part", "datepart"], datetime::column_part),
    (&["json_keys", "json_exists", "json_value", "json_type", "json_array_length"], json::path_lists),
    (&["min", "max", "arg_min", "argmin", "min_by", "arg_max", "argmax", "max_by"], aggregate::least_n),
    (&["sum", "avg", "mean"], aggregate::of_null),
    (&["json_group_array", "json_group_object"], json::groups),
    (&["list_zip", "array_zip"], list::zipped),
    (&["regexp_extract", "regexp_extract_all"], text::named_groups),
    (&["list_aggregate", "list_aggr", "array_aggregate", "array_aggr", "aggregate"], list::aggregate_by_name),
    (&["regexp_replace", "regexp_matches", "regexp_full_match", "regexp_like"], text::regex_options),
    (&["quantile_cont", "quantile_disc", "quantile", "median", "approx_quantile"], aggregate::quantile_lists),
];

/// Aggregates ordered by their own value, as a sort of the collected list (not rewritten again).
pub(crate) const ORDERED: &[(&[&str], Reshape)] =
    &[(&["string_agg", "group_concat", "listagg", "list", "array_agg"], aggregate::sorted)];

/// Reshapes of a plain call, after the templates and renames.
#[rustfmt::skip]
pub(crate) const CALLS: &[(&[&str], Reshape)] = &[
    (&["strftime"], datetime::strftime),
    (&["to_timestamp"], datetime::to_timestamp),
    (&["add", "subtract", "multiply", "mod"], generic::arithmetic),
    (&["lpad", "rpad"], text::pads),
    (&["list_distinct", "array_distinct"], list::distinct),
    (&["list_contains", "list_has", "array_contains", "array_has"], list::contains),
    (&["if", "iff"], generic::if_then),
    (&["map"], list::empty_map),
    (&["count_if", "countif", "count_star"], aggregate::counts),
    (&["string_agg"], aggregate::string_agg),
    (datetime::TO_UNITS, datetime::to_units),
    (&["json_extract_string", "json_extract"], json::extract),
    (datetime::PARTS, datetime::part),
    (&["dayname", "monthname"], datetime::names),
    (&["date_add"], datetime::date_add),
    (&["last_day"], datetime::last_day),
    (
        &["arg_max", "max_by", "arg_min", "min_by", "arg_max_null", "arg_min_null", "arg_max_nulls_last", "arg_min_nulls_last"],
        aggregate::arg_extreme,
    ),
];

/// The first reshape of `table` that changes the call `f` named `name`.
pub(crate) fn reshaped(table: &[(&[&str], Reshape)], name: &str, f: &Function) -> Result<Option<Expr>> {
    for (names, reshape) in table {
        if (names.is_empty() || names.contains(&name))
            && let Some(reshaped) = reshape(name, f)?
        {
            return Ok(Some(reshaped));
        }
    }
    Ok(None)
}

/// Every name a reshape applies to.
#[cfg(test)]
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    [FORMS, ORDERED, CALLS].into_iter().flatten().flat_map(|(names, _)| names.iter().copied())
}
