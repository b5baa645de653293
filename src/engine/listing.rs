//! What DuckDB answers about its own catalogue, answered the same way: `SHOW TABLES`,
//! `DESCRIBE <table>` and `DESCRIBE <query>`, the `tables` command, and DuckDB's names for types.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::sql::sqlparser::ast::Statement;

use crate::category::Category;
use crate::error::{Error, Result};

/// `SHOW TABLES` and `DESCRIBE <table>` as DuckDB answers them; `None` for other statements.
pub(crate) fn duckdb_listing(statement: &Statement) -> Result<Option<RecordBatch>> {
    match statement {
        Statement::ShowTables { .. } => {
            let mut names: Vec<String> = Category::ALL.iter().map(|c| c.name().to_string()).collect();
            names.sort();
            batch(vec![("name", names)]).map(Some)
        }
        Statement::ExplainTable { table_name, .. } => {
            let category = table_name.0.last().and_then(|p| p.as_ident()).and_then(|i| Category::from_name(&i.value));
            category.map(describe).transpose()
        }
        _ => Ok(None),
    }
}

/// `DESCRIBE <table>`: each column with its DuckDB type and whether it may be NULL.
fn describe(category: Category) -> Result<RecordBatch> {
    let schema = category.schema();
    described(schema.fields(), |f| f.is_nullable())
}

/// `DESCRIBE <query>`: each result column with its DuckDB type (DuckDB says any result column may
/// be NULL).
pub(crate) fn describe_result(schema: &datafusion::arrow::datatypes::Schema) -> Result<RecordBatch> {
    described(schema.fields(), |_| true)
}

/// DuckDB's six columns describing columns (`key`, `default` and `extra` empty here).
fn described(
    fields: &datafusion::arrow::datatypes::Fields,
    nullable: impl Fn(&datafusion::arrow::datatypes::Field) -> bool,
) -> Result<RecordBatch> {
    let none = || datafusion::arrow::array::new_null_array(&DataType::Utf8, fields.len());
    let text = |values: Vec<String>| Arc::new(StringArray::from(values)) as ArrayRef;
    RecordBatch::try_from_iter([
        ("column_name", text(fields.iter().map(|f| f.name().clone()).collect())),
        ("column_type", text(fields.iter().map(|f| field_type_name(f)).collect())),
        ("null", text(fields.iter().map(|f| if nullable(f) { "YES" } else { "NO" }.to_string()).collect())),
        ("key", none()),
        ("default", none()),
        ("extra", none()),
    ])
    .map_err(|e| Error::internal("describing columns")(e.to_string()))
}

/// Every column of every table, for the `tables` command.
pub(crate) fn all_columns() -> Result<RecordBatch> {
    let (mut names, mut columns, mut types) = (Vec::new(), Vec::new(), Vec::new());
    for category in Category::ALL {
        for field in category.schema().fields() {
            names.push(category.name().to_string());
            columns.push(field.name().clone());
            types.push(duckdb_type_name(field.data_type()));
        }
    }
    batch(vec![("table_name", names), ("column_name", columns), ("column_type", types)])
}

fn batch(columns: Vec<(&str, Vec<String>)>) -> Result<RecordBatch> {
    RecordBatch::try_from_iter(
        columns.into_iter().map(|(name, values)| (name, Arc::new(StringArray::from(values)) as ArrayRef)),
    )
    .map_err(|e| Error::internal("listing the tables")(e.to_string()))
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
    if super::compat::is_json(field) {
        "JSON".into()
    } else if super::compat::aggregate_state(field).is_some() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_duckdb_types() {
        let described = describe(Category::UserList).unwrap();
        let types = described.column(1).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(types.value(3), "TIMESTAMP WITH TIME ZONE");
        assert_eq!(types.value(4), "VARCHAR[]");
        assert_eq!(all_columns().unwrap().num_rows(), 17);
    }
}
