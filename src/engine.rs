//! The SQL engine: a DataFusion `SessionContext` with the four tables registered over the
//! cached Parquet files of the requested days, and the DuckDB compatibility layer in front.

use std::path::Path;
use std::sync::Arc;

use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::Statement;

use crate::category::Category;
use crate::error::{Error, Result};

pub struct Engine {
    ctx: SessionContext,
}

/// The name a category's table is registered under. Unquoted identifiers are folded to lower
/// case by the planner; the compatibility layer folds quoted ones that name a table.
pub fn table_name(category: Category) -> String {
    category.name().to_lowercase()
}

impl Engine {
    pub fn new() -> Result<Engine> {
        let mut config = SessionConfig::new()
            .with_information_schema(true)
            .with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()));
        let options = config.options_mut();
        // Evaluate selective filters (and the JSON functions in them) inside the Parquet scan.
        options.execution.parquet.pushdown_filters = true;
        options.execution.parquet.reorder_filters = true;
        options.execution.time_zone = Some("+00:00".into());
        let mut ctx = SessionContext::new_with_config(config);
        datafusion_functions_json::register_all(&mut ctx).map_err(Error::query)?;
        Ok(Engine { ctx })
    }

    /// Registers `category` as a table over exactly these Parquet files.
    pub async fn register(&self, category: Category, files: &[impl AsRef<Path>]) -> Result<()> {
        let urls = files
            .iter()
            .map(|f| {
                let path = f.as_ref();
                let text = path.to_str().ok_or_else(|| {
                    Error::Usage(format!(
                        "the cache path {} is not UTF-8: choose another --cache-dir",
                        path.display()
                    ))
                })?;
                ListingTableUrl::parse(text).map_err(Error::query)
            })
            .collect::<Result<Vec<_>>>()?;
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .with_schema(category.schema());
        let table = ListingTable::try_new(config).map_err(Error::query)?;
        self.ctx
            .register_table(table_name(category), Arc::new(table))
            .map_err(Error::query)?;
        Ok(())
    }

    /// Registers empty tables, so that `tables` and `DESCRIBE` work without data.
    pub fn register_empty(&self, category: Category) -> Result<()> {
        let table = datafusion::datasource::MemTable::try_new(category.schema(), vec![vec![]])
            .map_err(Error::query)?;
        self.ctx
            .register_table(table_name(category), Arc::new(table))
            .map_err(Error::query)?;
        Ok(())
    }

    /// Plans one prepared (read-only, rewritten) statement and starts running it.
    pub async fn execute(&self, statement: Statement) -> Result<SendableRecordBatchStream> {
        let state = self.ctx.state();
        let plan = state
            .statement_to_plan(DFStatement::Statement(Box::new(statement)))
            .await
            .map_err(Error::query)?;
        SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false)
            .verify_plan(&plan)
            .map_err(Error::query)?;
        let frame = self
            .ctx
            .execute_logical_plan(plan)
            .await
            .map_err(Error::query)?;
        frame.execute_stream().await.map_err(Error::query)
    }
}
