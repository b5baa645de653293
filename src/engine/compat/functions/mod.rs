//! DuckDB's functions DataFusion lacks (or computes otherwise), one folder per family, each
//! with its `functions()` list; [`common`] holds what the families share.

pub(crate) mod aggregate;
pub(crate) mod common;
pub(crate) mod datetime;
pub(crate) mod generic;
pub(crate) mod json;
pub(crate) mod list;
pub(crate) mod regex;
pub(crate) mod text;
