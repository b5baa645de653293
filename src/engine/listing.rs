//! What DuckDB answers about its own catalogue, answered the same way: `SHOW TABLES`,
//! `DESCRIBE <table>`, the `tables` command, and DuckDB's names for types.

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
    let fields = schema.fields();
    batch(vec![
        ("column_name", fields.iter().map(|f| f.name().clone()).collect()),
        ("column_type", fields.iter().map(|f| duckdb_type_name(f.data_type()).to_uppercase()).collect()),
        ("null", fields.iter().map(|f| if f.is_nullable() { "YES" } else { "NO" }.to_string()).collect()),
    ])
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

/// DuckDB's names for types, as its table header shows them.
pub(crate) fn duckdb_type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Null => "\"null\"".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "int8".into(),
        DataType::Int16 => "int16".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt8 => "uint8".into(),
        DataType::UInt16 => "uint16".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Float16 | DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "varchar".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => "blob".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, Some(_)) => "timestamp with time zone".into(),
        DataType::Timestamp(_, None) => "timestamp".into(),
        DataType::Time32(_) | DataType::Time64(_) => "time".into(),
        DataType::Interval(_) | DataType::Duration(_) => "interval".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f) => {
            format!("{}[]", duckdb_type_name(f.data_type()))
        }
        DataType::Struct(fields) => format!(
            "struct({})",
            fields
                .iter()
                .map(|f| format!("{} {}", f.name(), duckdb_type_name(f.data_type())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DataType::Dictionary(_, value) => duckdb_type_name(value),
        DataType::Map(_, _) => "map".into(),
        other => other.to_string().to_lowercase(),
    }
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
