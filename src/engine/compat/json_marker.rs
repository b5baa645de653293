//! DuckDB's JSON type as a field: text whose field carries Arrow's JSON extension name.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};

const EXTENSION_KEY: &str = "ARROW:extension:name";
const JSON_EXTENSION: &str = "arrow.json";

/// Whether a field holds DuckDB's JSON.
pub(crate) fn is_json(field: &Field) -> bool {
    field.metadata().get(EXTENSION_KEY).is_some_and(|v| v == JSON_EXTENSION)
}

/// A nullable text field marked as JSON.
pub(super) fn json_field(name: &str) -> FieldRef {
    let metadata = HashMap::from([(EXTENSION_KEY.to_string(), JSON_EXTENSION.to_string())]);
    Arc::new(Field::new(name, DataType::Utf8, true).with_metadata(metadata))
}
