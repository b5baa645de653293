//! DuckDB's generic functions, and the scalar functions of several families kept as one UDF type.

pub(crate) mod file_paths;
pub(crate) mod generic_functions;
pub(crate) mod scalars;
