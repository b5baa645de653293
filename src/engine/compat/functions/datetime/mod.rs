//! DuckDB's date, time and interval functions.

pub(crate) mod bigint_parts;
pub(crate) mod common;
pub(crate) mod complete_parts;
pub(crate) mod date_diff;
mod date_truncs;
pub(crate) mod interval_texts;
pub(crate) mod intervals;
pub(crate) mod strptime;
mod strptime_parser;
pub(crate) mod temporal_values;
pub(crate) mod time_buckets;
pub(crate) mod time_zones;

use crate::engine::compat::functions::LayerFunction;

/// The family's functions, as a session registers them.
pub(crate) fn functions() -> Vec<LayerFunction> {
    let mut functions: Vec<LayerFunction> =
        date_diff::functions().into_iter().chain(strptime::functions()).map(LayerFunction::from).collect();
    functions.extend(
        [
            time_zones::at_time_zone(),
            complete_parts::date_sub(),
            complete_parts::age(),
            time_buckets::time_bucket(),
            bigint_parts::date_part(),
            date_truncs::date_trunc(),
        ]
        .map(LayerFunction::from),
    );
    functions
}
