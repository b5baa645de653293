//! DuckDB's types that Arrow has no type for, as markers on a field: JSON (text whose field
//! carries Arrow's JSON extension name) and exported aggregate states (the aggregate's result,
//! its field naming the aggregate).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};

pub(crate) use crate::encode::is_json;
use crate::encode::{EXTENSION_KEY, JSON_EXTENSION};

/// A nullable text field marked as JSON.
pub(super) fn json_field(name: &str) -> FieldRef {
    let metadata = HashMap::from([(EXTENSION_KEY.to_string(), JSON_EXTENSION.to_string())]);
    Arc::new(Field::new(name, DataType::Utf8, true).with_metadata(metadata))
}

const STATE_KEY: &str = "carto:aggregate_state";

/// The aggregate whose exported state a field holds.
pub(crate) fn aggregate_state(field: &Field) -> Option<&str> {
    field.metadata().get(STATE_KEY).map(String::as_str)
}

/// `field` marked as the exported state of `aggregate`.
pub(super) fn state_field(field: &Field, aggregate: &str) -> FieldRef {
    let mut metadata = field.metadata().clone();
    metadata.insert(STATE_KEY.to_string(), aggregate.to_string());
    Arc::new(field.clone().with_metadata(metadata))
}
