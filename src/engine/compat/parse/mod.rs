//! The text and the dialect: DuckDB's syntax the parser does not take, prepared in the text before
//! parsing, over one token stream.
pub(crate) mod comprehensions;
pub(crate) mod dialect;
pub(crate) mod export_states;
pub(crate) mod markers;
pub(crate) mod prepass;
pub(crate) mod syntax_forms;
pub(crate) mod tokens;
