//! DuckDB's JSON functions.

pub(crate) mod deep_json;
pub(crate) mod json_builders;
pub(crate) mod json_contains;
pub(crate) mod json_edit;
pub(crate) mod json_path;
pub(crate) mod json_raw;
pub(crate) mod json_tables;
pub(crate) mod json_transform;
pub(crate) mod json_type;
pub(crate) mod json_wildcards;
