//! The SQL engine: a DataFusion `SessionContext` with the four tables registered over the
//! cached Parquet files of the requested days, and the DuckDB compatibility layer in front.

use std::path::Path;
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::Statement;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};

use crate::category::Category;
use crate::error::{Error, Result};
use crate::output::duckdb_type_name;
use crate::shred::{self, ReadShreddedColumns, ShreddedTable};

pub struct Engine {
    ctx: SessionContext,
}

/// The name a category's table is registered under. Unquoted identifiers are folded to lower
/// case by the planner; the compatibility layer folds quoted ones that name a table.
pub fn table_name(category: Category) -> String {
    category.name().to_lowercase()
}

impl Engine {
    /// A session that runs plans on `partitions` threads.
    /// With `shredding`, reads of shredded JSON paths use the cache's hidden columns.
    pub fn new(partitions: usize, shredding: bool) -> Result<Engine> {
        let mut config = SessionConfig::new().with_information_schema(true).with_target_partitions(partitions.max(1));
        let options = config.options_mut();
        // Evaluate selective filters (and the JSON functions in them) inside the Parquet scan.
        options.execution.parquet.pushdown_filters = true;
        options.execution.parquet.reorder_filters = true;
        let mut ctx = SessionContext::new_with_config(config);
        crate::compat::register(&mut ctx).map_err(Error::query)?;
        if shredding {
            ctx.add_analyzer_rule(Arc::new(ReadShreddedColumns));
        }
        Ok(Engine { ctx })
    }

    /// Registers `category` as a table over exactly these Parquet files.
    pub async fn register(&self, category: Category, files: &[impl AsRef<Path>]) -> Result<()> {
        let urls = files
            .iter()
            .map(|f| {
                let path = f.as_ref();
                let text = path.to_str().ok_or_else(|| {
                    Error::Usage(format!("the cache path {} is not UTF-8: choose another --cache-dir", path.display()))
                })?;
                ListingTableUrl::parse(text).map_err(Error::query)
            })
            .collect::<Result<Vec<_>>>()?;
        let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .with_schema(shred::cached_schema(category));
        let table = ListingTable::try_new(config).map_err(Error::query)?;
        let table: Arc<dyn TableProvider> =
            if category == Category::Activity { Arc::new(ShreddedTable::new(table)) } else { Arc::new(table) };
        self.ctx.register_table(table_name(category), table).map_err(Error::query)?;
        Ok(())
    }

    /// Registers empty tables, so that `tables` and `DESCRIBE` work without data.
    pub fn register_empty(&self, category: Category) -> Result<()> {
        let table = datafusion::datasource::MemTable::try_new(category.schema(), vec![vec![]]).map_err(Error::query)?;
        self.ctx.register_table(table_name(category), Arc::new(table)).map_err(Error::query)?;
        Ok(())
    }

    /// Plans one prepared (read-only, rewritten) statement, without running it.
    pub async fn plan(&self, statement: Statement) -> Result<DataFrame> {
        if let Some(batch) = duckdb_listing(&statement)? {
            return self.ctx.read_batch(batch).map_err(Error::query);
        }
        let state = self.ctx.state();
        let plan = state.statement_to_plan(DFStatement::Statement(Box::new(statement))).await.map_err(Error::query)?;
        SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false)
            .verify_plan(&plan)
            .map_err(Error::query)?;
        self.ctx.execute_logical_plan(plan).await.map_err(Error::query)
    }

    /// Plans one statement and starts running it.
    pub async fn execute(&self, statement: Statement) -> Result<SendableRecordBatchStream> {
        self.plan(statement).await?.execute_stream().await.map_err(Error::query)
    }
}

/// `SHOW TABLES` and `DESCRIBE <table>` answered as DuckDB answers them, with DuckDB's type names.
fn duckdb_listing(statement: &Statement) -> Result<Option<RecordBatch>> {
    let text = |values: Vec<String>| Arc::new(StringArray::from(values)) as ArrayRef;
    let batch = match statement {
        Statement::ShowTables { .. } => {
            let mut names: Vec<String> = Category::ALL.iter().map(|c| c.name().to_string()).collect();
            names.sort();
            RecordBatch::try_from_iter(vec![("name", text(names))])
        }
        Statement::ExplainTable { table_name, .. } => {
            let Some(category) =
                table_name.0.last().and_then(|p| p.as_ident()).and_then(|i| Category::from_name(&i.value))
            else {
                return Ok(None);
            };
            let schema = category.schema();
            let fields = schema.fields();
            RecordBatch::try_from_iter(vec![
                ("column_name", text(fields.iter().map(|f| f.name().clone()).collect())),
                ("column_type", text(fields.iter().map(|f| duckdb_type_name(f.data_type()).to_uppercase()).collect())),
                ("null", text(fields.iter().map(|f| if f.is_nullable() { "YES" } else { "NO" }.to_string()).collect())),
            ])
        }
        _ => return Ok(None),
    };
    batch.map(Some).map_err(|e| Error::Query(e.to_string()))
}
