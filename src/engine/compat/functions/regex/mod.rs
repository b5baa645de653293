//! DuckDB's regular-expression functions.

pub(crate) mod regex_quantified;
pub(crate) mod regexp_struct;
