//! DuckDB's list, vector, struct and map functions.

pub(crate) mod list_aggregates;
pub(crate) mod list_coercion;
pub(crate) mod list_functions;
pub(crate) mod list_reduce;
pub(crate) mod list_steps;
pub(crate) mod map_functions;
pub(crate) mod struct_functions;
pub(crate) mod vector_functions;

use crate::engine::compat::functions::LayerFunction;

/// The family's functions, as a session registers them.
pub(crate) fn functions() -> Vec<LayerFunction> {
    let mut functions: Vec<LayerFunction> = [
        list_functions::functions(),
        list_aggregates::functions(),
        vector_functions::functions(),
        struct_functions::functions(),
        map_functions::functions(),
        list_coercion::functions(),
        list_steps::functions(),
    ]
    .into_iter()
    .flatten()
    .map(LayerFunction::from)
    .collect();
    functions.push(list_reduce::list_reduce().into());
    functions
}
