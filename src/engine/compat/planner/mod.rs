//! DuckDB's semantics once types are known: DataFusion's expression planners and function
//! rewrites for operators, subscripts, typing rules, overflow, date parts and timestamp texts.

pub(crate) mod date_parts;
pub(crate) mod operators;
pub(crate) mod overflow;
pub(crate) mod subscripts;
pub(crate) mod timestamp_texts;
pub(crate) mod try_calls;
pub(crate) mod typing;
