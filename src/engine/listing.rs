//! What DuckDB answers about its own catalogue, answered the same way: `SHOW TABLES`,
//! `DESCRIBE <table>` and `DESCRIBE <query>`, and the `tables` command.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::sql::sqlparser::ast::Statement;

use super::compat::types::{duckdb_type_name, field_type_name};
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

/// `DESCRIBE <table>`: each column with its DuckDB type.
fn describe(category: Category) -> Result<RecordBatch> {
    described(category.schema().fields())
}

/// `DESCRIBE <query>`: each result column with its DuckDB type.
pub(crate) fn describe_result(schema: &datafusion::arrow::datatypes::Schema) -> Result<RecordBatch> {
    described(schema.fields())
}

/// DuckDB's six columns describing columns (`key`, `default` and `extra` empty here). `null` is
/// YES for every column: DuckDB says so of any column without a NOT NULL constraint, and the
/// tables over the cached files (as over any Parquet file) declare none.
fn described(fields: &datafusion::arrow::datatypes::Fields) -> Result<RecordBatch> {
    let none = || datafusion::arrow::array::new_null_array(&DataType::Utf8, fields.len());
    let text = |values: Vec<String>| Arc::new(StringArray::from(values)) as ArrayRef;
    RecordBatch::try_from_iter([
        ("column_name", text(fields.iter().map(|f| f.name().clone()).collect())),
        ("column_type", text(fields.iter().map(|f| field_type_name(f)).collect())),
        ("null", text(vec!["YES".to_string(); fields.len()])),
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
