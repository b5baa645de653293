//! DuckDB's text functions.

pub(crate) mod binary_functions;
pub(crate) mod byte_sizes;
pub(crate) mod case_mapping;
pub(crate) mod character_positions;
pub(crate) mod distances;
mod format_specs;
pub(crate) mod formatting;
pub(crate) mod graphemes;
mod nested_text_reader;
pub(crate) mod nested_texts;
pub(crate) mod number_text;
pub(crate) mod string_split;
pub(crate) mod text_casts;
pub(crate) mod urls;

use crate::engine::compat::functions::LayerFunction;

/// The family's functions, as a session registers them.
pub(crate) fn functions() -> Vec<LayerFunction> {
    let mut functions: Vec<LayerFunction> = [
        formatting::functions(),
        case_mapping::functions(),
        string_split::functions(),
        distances::functions(),
        byte_sizes::functions(),
        number_text::functions(),
        graphemes::functions(),
        character_positions::functions(),
        urls::functions(),
        binary_functions::functions(),
        nested_texts::functions(),
    ]
    .into_iter()
    .flatten()
    .map(LayerFunction::from)
    .collect();
    functions.push(text_casts::varchar_text().into());
    functions
}
