//! DuckDB's types: their names (`typeof`, `DESCRIBE`, table headers), and the types Arrow has
//! none for, as markers on a field: JSON (text whose field carries Arrow's JSON extension name)
//! and exported aggregate states (the aggregate's result, its field naming the aggregate).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};

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

/// DuckDB's names for types, as its table header shows them (`int64`, `varchar`, ...).
pub(crate) fn duckdb_type_name(data_type: &DataType) -> String {
    let name = sql_type_name(data_type);
    let header = match name.as_str() {
        "TINYINT" => "int8",
        "SMALLINT" => "int16",
        "INTEGER" => "int32",
        "BIGINT" => "int64",
        "HUGEINT" => "int128",
        "UTINYINT" => "uint8",
        "USMALLINT" => "uint16",
        "UINTEGER" => "uint32",
        "UBIGINT" => "uint64",
        _ => return name.to_lowercase(),
    };
    header.into()
}

/// DuckDB's SQL name for a column's type: its data type's, or JSON for text marked as JSON.
pub(crate) fn field_type_name(field: &datafusion::arrow::datatypes::Field) -> String {
    if is_json(field) {
        "JSON".into()
    } else if aggregate_state(field).is_some() {
        "AGGREGATE_STATE".into()
    } else {
        sql_type_name(field.data_type())
    }
}

/// DuckDB's SQL names for types, as `typeof` and `DESCRIBE` give them.
pub(crate) fn sql_type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Null => "\"NULL\"".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INTEGER".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::UInt8 => "UTINYINT".into(),
        DataType::UInt16 => "USMALLINT".into(),
        DataType::UInt32 => "UINTEGER".into(),
        DataType::UInt64 => "UBIGINT".into(),
        DataType::Float16 | DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "VARCHAR".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => "BLOB".into(),
        DataType::Date32 | DataType::Date64 => "DATE".into(),
        DataType::Timestamp(_, Some(_)) => "TIMESTAMP WITH TIME ZONE".into(),
        DataType::Timestamp(TimeUnit::Second, None) => "TIMESTAMP_S".into(),
        DataType::Timestamp(TimeUnit::Millisecond, None) => "TIMESTAMP_MS".into(),
        DataType::Timestamp(_, None) => "TIMESTAMP".into(),
        DataType::Time32(_) | DataType::Time64(_) => "TIME".into(),
        DataType::Interval(_) | DataType::Duration(_) => "INTERVAL".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("DECIMAL({p},{s})"),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f) => format!("{}[]", sql_type_name(f.data_type())),
        // DuckDB's unnamed structs (`row(...)`, `struct_values`, `list_zip`'s) are TUPLEs.
        DataType::Struct(fields) if crate::encode::unnamed_struct(fields) => {
            format!("TUPLE({})", fields.iter().map(|f| sql_type_name(f.data_type())).collect::<Vec<_>>().join(", "))
        }
        DataType::Struct(fields) => format!(
            "STRUCT({})",
            fields
                .iter()
                .map(|f| format!("{} {}", quoted_field(f.name()), sql_type_name(f.data_type())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DataType::Dictionary(_, value) => sql_type_name(value),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!("MAP({}, {})", sql_type_name(kv[0].data_type()), sql_type_name(kv[1].data_type()))
            }
            _ => "MAP".into(),
        },
        other => other.to_string().to_uppercase(),
    }
}

/// A struct field's name as DuckDB writes it in a type: quoted unless a plain lower-case name.
fn quoted_field(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain { name.to_string() } else { format!("\"{}\"", name.replace('"', "\"\"")) }
}
/// Whether a SQL type is DuckDB text (VARCHAR and its other names).
pub(crate) fn is_text_type(data_type: &datafusion::sql::sqlparser::ast::DataType) -> bool {
    matches!(
        data_type,
        datafusion::sql::sqlparser::ast::DataType::Varchar(_)
            | datafusion::sql::sqlparser::ast::DataType::Text
            | datafusion::sql::sqlparser::ast::DataType::String(_)
            | datafusion::sql::sqlparser::ast::DataType::Char(_)
            | datafusion::sql::sqlparser::ast::DataType::CharVarying(_)
    ) || matches!(data_type, datafusion::sql::sqlparser::ast::DataType::Custom(name, _) if name.to_string().eq_ignore_ascii_case("string"))
}
