//! What DuckDB answers about its own catalogue, answered the same way: `SHOW TABLES`,
//! `DESCRIBE <table>` and `DESCRIBE <query>`, the `tables` command, and the tables
//! `information_schema.tables` and `information_schema.columns` (DuckDB's columns, names and
//! types: an agent's first look at the tables).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int32Array, RecordBatch, StringArray};
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
            let mut listed = Columns::new(names.len());
            listed.texts("name", names);
            listed.batch().map(Some)
        }
        Statement::ExplainTable { table_name, .. } => described_table(table_name),
        // `SHOW COLUMNS FROM t`: DataFusion reads its own information_schema for it, which this
        // engine replaces with DuckDB's; described as `DESCRIBE t` is.
        Statement::ShowColumns { show_options, .. } => {
            match show_options.show_in.as_ref().and_then(|i| i.parent_name.as_ref()) {
                Some(table_name) => described_table(table_name),
                None => Ok(None),
            }
        }
        _ => Ok(None),
    }
}

/// `DESCRIBE <table>` of one of the tables; `None` for another name.
fn described_table(table_name: &datafusion::sql::sqlparser::ast::ObjectName) -> Result<Option<RecordBatch>> {
    let category = table_name.0.last().and_then(|p| p.as_ident()).and_then(|i| Category::from_name(&i.value));
    category.map(describe).transpose()
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
    let mut listed = Columns::new(names.len());
    listed.texts("table_name", names).texts("column_name", columns).texts("column_type", types);
    listed.batch()
}

/// Registers DuckDB's `information_schema` in place of DataFusion's (which names the tables in
/// lower case and their types as Arrow's).
pub(crate) fn register_information_schema(ctx: &datafusion::prelude::SessionContext) -> Result<()> {
    let catalog = ctx
        .catalog(&ctx.state().config().options().catalog.default_catalog)
        .ok_or_else(|| Error::internal("registering the catalogue")("no default catalogue".into()))?;
    let schema = Arc::new(datafusion::catalog::MemorySchemaProvider::new());
    catalog.register_schema("information_schema", schema).map_err(Error::query)?;
    for (name, batch) in information_schema()? {
        let table =
            datafusion::datasource::MemTable::try_new(batch.schema(), vec![vec![batch]]).map_err(Error::query)?;
        ctx.register_table(format!("information_schema.{name}"), Arc::new(table)).map_err(Error::query)?;
    }
    Ok(())
}

/// DuckDB's `information_schema.tables` and `information_schema.columns` over the four tables,
/// with every column of DuckDB's (the catalogue `memory`, the schema `main`).
fn information_schema() -> Result<Vec<(&'static str, RecordBatch)>> {
    let names: Vec<String> = Category::ALL.iter().map(|c| c.name().to_string()).collect();
    let mut tables = Columns::new(names.len());
    tables.text("table_catalog", "memory").text("table_schema", "main").texts("table_name", names);
    tables.text("table_type", "BASE TABLE");
    for name in [
        "self_referencing_column_name",
        "reference_generation",
        "user_defined_type_catalog",
        "user_defined_type_schema",
        "user_defined_type_name",
    ] {
        tables.null(name, DataType::Utf8);
    }
    tables.text("is_insertable_into", "YES").text("is_typed", "NO");
    tables.null("commit_action", DataType::Utf8).null("TABLE_COMMENT", DataType::Utf8);

    let (mut table_names, mut column_names, mut positions, mut types, mut precisions) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for category in Category::ALL {
        for (i, field) in category.schema().fields().iter().enumerate() {
            table_names.push(category.name().to_string());
            column_names.push(field.name().clone());
            positions.push(i32::try_from(i + 1).ok());
            types.push(field_type_name(field));
            precisions.push(numeric_precision(field.data_type()));
        }
    }
    let mut columns = Columns::new(column_names.len());
    columns.text("table_catalog", "memory").text("table_schema", "main");
    columns.texts("table_name", table_names).texts("column_name", column_names);
    columns.integers("ordinal_position", positions);
    columns.null("column_default", DataType::Utf8).text("is_nullable", "YES").texts("data_type", types);
    columns.null("character_maximum_length", DataType::Int32).null("character_octet_length", DataType::Int32);
    columns.integers("numeric_precision", precisions.iter().map(|p| p.map(|p| p.0)).collect());
    columns.integers("numeric_precision_radix", precisions.iter().map(|p| p.map(|p| p.1)).collect());
    columns.integers("numeric_scale", precisions.iter().map(|p| p.map(|p| p.2)).collect());
    columns.null("datetime_precision", DataType::Int32);
    columns.null("interval_type", DataType::Utf8).null("interval_precision", DataType::Int32);
    for kind in ["character_set", "collation", "domain", "udt", "scope"] {
        for part in ["catalog", "schema", "name"] {
            columns.null(&format!("{kind}_{part}"), DataType::Utf8);
        }
    }
    columns.null("maximum_cardinality", DataType::Int64).null("dtd_identifier", DataType::Utf8);
    columns.null("is_self_referencing", DataType::Boolean).null("is_identity", DataType::Boolean);
    for part in ["generation", "start", "increment", "maximum", "minimum"] {
        columns.null(&format!("identity_{part}"), DataType::Utf8);
    }
    columns.null("identity_cycle", DataType::Boolean).text("is_generated", "NEVER");
    columns.null("generation_expression", DataType::Utf8).null("is_updatable", DataType::Boolean);
    columns.null("COLUMN_COMMENT", DataType::Utf8);
    Ok(vec![("tables", tables.batch()?), ("columns", columns.batch()?)])
}

/// DuckDB's (precision, radix, scale) of a numeric column.
fn numeric_precision(data_type: &DataType) -> Option<(i32, i32, i32)> {
    match data_type {
        DataType::Float64 => Some((53, 2, 0)),
        DataType::Float32 => Some((24, 2, 0)),
        DataType::Int64 => Some((64, 2, 0)),
        DataType::Int32 => Some((32, 2, 0)),
        DataType::Decimal128(p, s) => Some((i32::from(*p), 10, i32::from(*s))),
        _ => None,
    }
}

/// The columns of a catalogue listing of `rows` rows, built one after another.
struct Columns {
    rows: usize,
    built: Vec<(String, ArrayRef)>,
}

impl Columns {
    fn new(rows: usize) -> Columns {
        Columns { rows, built: Vec::new() }
    }

    fn texts(&mut self, name: &str, values: Vec<String>) -> &mut Columns {
        self.built.push((name.to_string(), Arc::new(StringArray::from(values))));
        self
    }

    /// The same text in every row.
    fn text(&mut self, name: &str, value: &str) -> &mut Columns {
        self.texts(name, vec![value.to_string(); self.rows])
    }

    fn integers(&mut self, name: &str, values: Vec<Option<i32>>) -> &mut Columns {
        self.built.push((name.to_string(), Arc::new(Int32Array::from(values))));
        self
    }

    fn null(&mut self, name: &str, data_type: DataType) -> &mut Columns {
        self.built.push((name.to_string(), datafusion::arrow::array::new_null_array(&data_type, self.rows)));
        self
    }

    fn batch(self) -> Result<RecordBatch> {
        RecordBatch::try_from_iter(self.built).map_err(|e| Error::internal("listing the catalogue")(e.to_string()))
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

    #[test]
    fn show_columns_describes_the_table() {
        let statement = datafusion::sql::sqlparser::parser::Parser::parse_sql(
            &datafusion::sql::sqlparser::dialect::GenericDialect {},
            "SHOW COLUMNS FROM userList",
        )
        .unwrap()
        .remove(0);
        let described = duckdb_listing(&statement).unwrap().unwrap();
        assert_eq!((described.num_rows(), described.num_columns()), (5, 6));
    }

    #[test]
    fn information_schema_has_duckdbs_columns() {
        let tables = information_schema().unwrap();
        let (_, columns) = tables.iter().find(|(name, _)| *name == "columns").unwrap();
        assert_eq!((columns.num_rows(), columns.num_columns()), (17, 45));
        let schema = columns.schema();
        assert_eq!(schema.field(4).name(), "ordinal_position");
        assert_eq!(schema.field(44).name(), "COLUMN_COMMENT");
        let names = columns.column(2).as_any().downcast_ref::<StringArray>().unwrap();
        assert!(names.iter().any(|n| n == Some("userList")));
        let (_, listed) = tables.iter().find(|(name, _)| *name == "tables").unwrap();
        assert_eq!((listed.num_rows(), listed.num_columns()), (4, 13));
    }
}
