//! DuckDB's list, vector and struct functions.

pub(crate) mod list_aggregates;
pub(crate) mod list_coercion;
pub(crate) mod list_functions;
pub(crate) mod list_reduce;
pub(crate) mod struct_functions;
pub(crate) mod vector_functions;
