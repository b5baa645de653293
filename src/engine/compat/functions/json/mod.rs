//! DuckDB's JSON functions.

pub(crate) mod deep_json;
pub(crate) mod json_builders;
pub(crate) mod json_contains;
pub(crate) mod json_edit;
pub(crate) mod json_inspect;
pub(crate) mod json_path;
pub(crate) mod json_raw;
pub(crate) mod json_tables;
pub(crate) mod json_transform;
pub(crate) mod json_type;
pub(crate) mod json_wildcards;

use crate::engine::compat::functions::LayerFunction;

/// The family's functions, as a session registers them.
pub(crate) fn functions() -> Vec<LayerFunction> {
    [
        deep_json::functions(),
        json_inspect::functions(),
        json_builders::functions(),
        json_edit::functions(),
        json_transform::functions(),
        json_type::functions(),
        json_wildcards::functions(),
        json_tables::functions(),
        json_raw::functions(),
        vec![json_contains::json_contains()],
    ]
    .into_iter()
    .flatten()
    .map(LayerFunction::from)
    .collect()
}
