//! DuckDB's regular-expression functions; [`common`] compiles patterns with DuckDB's options.

pub(crate) mod common;
pub(crate) mod globs;
pub(crate) mod regex_quantified;
pub(crate) mod regexp_extract;
pub(crate) mod regexp_struct;

use crate::engine::compat::functions::LayerFunction;

/// The family's functions, as a session registers them.
pub(crate) fn functions() -> Vec<LayerFunction> {
    let mut functions: Vec<LayerFunction> = regexp_extract::functions()
        .into_iter()
        .chain(regexp_struct::functions())
        .chain(globs::functions())
        .map(LayerFunction::from)
        .collect();
    functions.push(regex_quantified::regexp_quantified().into());
    functions
}
