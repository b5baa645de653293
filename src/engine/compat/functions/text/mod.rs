//! DuckDB's text functions.

pub(crate) mod binary_functions;
pub(crate) mod case_mapping;
pub(crate) mod formatting;
pub(crate) mod string_tools;
pub(crate) mod text_casts;
pub(crate) mod text_functions;
