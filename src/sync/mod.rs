//! `sync`: keeps one table per category at a destination current, day by day. Dated categories
//! (`activity`, `apiUsage`) get the complete days they lack, each day in one commit (a Delta
//! Lake version recording the day as an application transaction, or a `date=` folder published
//! whole and then recorded in the sync state file); snapshots (`userList`, `groupList`) are
//! replaced whole when days were added. Everything found at the destination is checked before
//! anything is fetched, and the caller holds the destination's lock throughout.

mod delta;
mod hive;

use chrono::NaiveDate;
use datafusion::arrow::array::{ArrayRef, Date32Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::execution::SendableRecordBatchStream;

use crate::category::Category;
use crate::dates::epoch_day;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::export::Destination;
use crate::export::ExportCompression;
use crate::printer::Printer;

/// The name of the partition column, and of the day column every synced row carries.
pub(crate) const DATE_COLUMN: &str = "date";

/// The format of the synced tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncFormat {
    Delta,
    Parquet,
}

impl crate::choice::Named for SyncFormat {
    const NAMES: &'static [(&'static str, Self, &'static str)] = &[
        ("delta", SyncFormat::Delta, "Delta Lake tables, partitioned by `date` (dated categories)"),
        (
            "parquet",
            SyncFormat::Parquet,
            "Hive-partitioned Parquet folders (`date=YYYY-MM-DD/part-00000.parquet`) with a sync state file",
        ),
    ];
}

/// A table at the destination, of either format.
pub(crate) enum Table {
    Delta(Box<delta::DeltaSync>),
    Parquet(hive::HiveSync),
}

/// What one table got in a run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct TableSummary {
    pub category: String,
    pub location: String,
    pub days_added: usize,
    pub rows: u64,
    pub bytes: u64,
    /// The last day the table holds, after the run (dated categories).
    pub last_day: Option<String>,
    /// The Delta table's version after the run.
    pub version: Option<i64>,
}

/// What a commit wrote.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Added {
    pub rows: u64,
    pub bytes: u64,
}

impl Table {
    /// Opens (or plans to create) the table of `category` at `destination`, refusing what is
    /// not a table of ours: another format, files that are no table, another source's table, another schema.
    pub(crate) async fn open(
        format: SyncFormat,
        destination: &Destination,
        category: Category,
        source: &str,
        compression: ExportCompression,
    ) -> Result<Table> {
        hive::refuse_other_format(format, destination, category).await?;
        Ok(match format {
            SyncFormat::Delta => {
                Table::Delta(Box::new(delta::DeltaSync::open(destination, category, source, compression).await?))
            }
            SyncFormat::Parquet => {
                Table::Parquet(hive::HiveSync::open(destination, category, source, compression).await?)
            }
        })
    }

    /// The last day the table holds (dated categories), `None` when it holds none yet.
    pub(crate) fn last_day(&self) -> Option<NaiveDate> {
        match self {
            Table::Delta(t) => t.last_day(),
            Table::Parquet(t) => t.last_day(),
        }
    }

    /// The days a dated table holds (see each format's own record).
    pub(crate) async fn days_held(&self, destination: &Destination) -> Result<std::collections::BTreeSet<NaiveDate>> {
        match self {
            Table::Delta(t) => t.days_held().await,
            Table::Parquet(t) => t.days_held(destination).await,
        }
    }

    pub(crate) fn location(&self) -> String {
        match self {
            Table::Delta(t) => t.location(),
            Table::Parquet(t) => t.location(),
        }
    }

    pub(crate) fn version(&self) -> Option<i64> {
        match self {
            Table::Delta(t) => t.version(),
            Table::Parquet(_) => None,
        }
    }

    /// Adds `day`, read from `engine` (whose tables hold that day only), in one commit.
    pub(crate) async fn append_day(
        &mut self,
        engine: &Engine,
        destination: &Destination,
        day: NaiveDate,
        printer: &Printer,
    ) -> Result<Added> {
        match self {
            Table::Delta(t) => t.append_day(rows_of(engine, t.category(), Some(day)).await?, day).await,
            Table::Parquet(t) => t.append_day(engine, destination, day, printer).await,
        }
    }

    /// Replaces a snapshot's table with what `engine` holds.
    pub(crate) async fn replace(
        &mut self,
        engine: &Engine,
        destination: &Destination,
        printer: &Printer,
    ) -> Result<Added> {
        match self {
            Table::Delta(t) => t.replace(rows_of(engine, t.category(), None).await?).await,
            Table::Parquet(t) => t.replace(engine, destination, printer).await,
        }
    }
}

/// The columns a synced table has: the category's, and `date` for dated categories.
pub(crate) fn synced_schema(category: Category) -> SchemaRef {
    let mut fields: Vec<Field> = category.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    if !category.is_snapshot() {
        fields.push(Field::new(DATE_COLUMN, DataType::Date32, false));
    }
    std::sync::Arc::new(Schema::new(fields))
}

/// The category's rows as `engine` holds them, in the synced schema (`date` set to `day`).
async fn rows_of(engine: &Engine, category: Category, day: Option<NaiveDate>) -> Result<DatedRows> {
    let statement = crate::export::select_all(category)?;
    Ok(DatedRows { stream: engine.execute(statement).await?, schema: synced_schema(category), day })
}

/// A stream of a category's rows, turned batch by batch into the synced schema.
pub(crate) struct DatedRows {
    stream: SendableRecordBatchStream,
    schema: SchemaRef,
    day: Option<NaiveDate>,
}

impl DatedRows {
    pub(crate) async fn next(&mut self) -> Option<Result<RecordBatch>> {
        let batch = futures::StreamExt::next(&mut self.stream).await?;
        Some(batch.map_err(Error::query).and_then(|b| self.conform(b)))
    }

    fn conform(&self, batch: RecordBatch) -> Result<RecordBatch> {
        let failed = |e: datafusion::arrow::error::ArrowError| Error::internal("shaping rows to sync")(e.to_string());
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
            columns.push(if column.data_type() == field.data_type() {
                column.clone()
            } else {
                datafusion::arrow::compute::cast(column, field.data_type()).map_err(failed)?
            });
        }
        if let Some(day) = self.day {
            columns.push(std::sync::Arc::new(Date32Array::from(vec![epoch_day(day); batch.num_rows()])));
        }
        RecordBatch::try_new(self.schema.clone(), columns).map_err(failed)
    }
}

/// The application transaction version of a day: its date as a number, `20251001`.
pub(crate) fn day_version(day: NaiveDate) -> i64 {
    use chrono::Datelike;
    i64::from(day.year()) * 10_000 + i64::from(day.month()) * 100 + i64::from(day.day())
}

pub(crate) fn version_day(version: i64) -> Option<NaiveDate> {
    let (year, month, day) = (version / 10_000, (version / 100) % 100, version % 100);
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_its_version_and_back() {
        let day = NaiveDate::from_ymd_opt(2025, 10, 1).unwrap();
        assert_eq!(day_version(day), 20251001);
        assert_eq!(version_day(20251001), Some(day));
        assert_eq!(version_day(20251301), None);
    }

    #[test]
    fn synced_tables_carry_the_day() {
        let schema = synced_schema(Category::Activity);
        assert_eq!(schema.field(3).name(), DATE_COLUMN);
        assert_eq!(synced_schema(Category::UserList).fields().len(), Category::UserList.schema().fields().len());
    }
}
