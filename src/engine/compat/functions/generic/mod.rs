//! DuckDB's generic functions (`len`, `typeof`, `error`, `hash`, `create_sort_key`, `gamma`, `binom`, `roundbankers`, ...), file paths, and the helper
//! functions the rewrites write.

pub(crate) mod duckdb_hash;
pub(crate) mod file_paths;
pub(crate) mod generic_functions;
pub(crate) mod named_cast;
pub(crate) mod numeric_functions;
pub(crate) mod sort_keys;
pub(crate) mod type_of;

use crate::engine::compat::functions::LayerFunction;

/// The family's functions, as a session registers them.
pub(crate) fn functions() -> Vec<LayerFunction> {
    [
        generic_functions::functions(),
        type_of::functions(),
        file_paths::functions(),
        named_cast::functions(),
        duckdb_hash::functions(),
        sort_keys::functions(),
        numeric_functions::functions(),
    ]
    .into_iter()
    .flatten()
    .map(LayerFunction::from)
    .collect()
}
