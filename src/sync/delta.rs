//! `sync --format delta`: a Delta Lake table per category, written with delta-rs. Each day is
//! one commit of its data files and an application transaction (app id: the source, version:
//! the day as `YYYYMMDD`), so the table itself says which days it holds: a re-run, or a run
//! after a kill, skips them. Snapshots are replaced whole, in one commit. The table's comment
//! says it is ours and whose data it holds.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::parquet::file::properties::WriterProperties;
use deltalake_core::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake_core::kernel::{Action, Add, StructType, Transaction};
use deltalake_core::logstore::{StorageConfig, default_logstore};
use deltalake_core::operations::create::CreateBuilder;
use deltalake_core::protocol::{DeltaOperation, SaveMode};
use deltalake_core::writer::{DeltaWriter, RecordBatchWriter};
use deltalake_core::{DeltaTable, DeltaTableBuilder, DeltaTableError};

use super::{Added, DATE_COLUMN, DatedRows, day_version, synced_schema, version_day};
use crate::category::Category;
use crate::error::{Error, Result};
use crate::export::Destination;
use crate::export::ExportCompression;

/// Rows buffered by the writer before its files are flushed (memory stays bounded on big days).
const FLUSH_ROWS: usize = 500_000;

pub(crate) struct DeltaSync {
    category: Category,
    table: DeltaTable,
    /// Whether the table exists yet (it is created with the first commit).
    exists: bool,
    source: String,
    last: Option<NaiveDate>,
    location: String,
    properties: WriterProperties,
}

/// A failure of delta-rs while `doing` something to the table at `location`, named so.
fn failed<'a>(doing: &'a str, location: &'a str) -> impl Fn(DeltaTableError) -> Error + 'a {
    move |e| {
        let message = crate::error::one_line(&e.to_string());
        let message =
            if message.contains("No space left on device") { format!("the disk is full ({message})") } else { message };
        Error::Write { context: format!("cannot {doing} the Delta table {location}"), message }
    }
}

/// What the comment of a table of ours says.
fn marker(category: Category, source: &str) -> String {
    format!("carto-activity sync of {category} from {source}")
}

const MARKER_START: &str = "carto-activity sync of ";

/// The commit information that names the day a commit added.
const DAY_KEY: &str = "cartoActivityDay";

impl DeltaSync {
    pub(super) async fn open(
        destination: &Destination,
        category: Category,
        source: &str,
        compression: ExportCompression,
    ) -> Result<DeltaSync> {
        let root = destination.child(category.name());
        let location = destination.shown(&root);
        let mut table = table_at(destination, category, &location)?;
        let log = destination.child(&format!("{category}/_delta_log"));
        let exists = destination.exists(&log).await?;
        let mut last = None;
        if exists {
            table.load().await.map_err(failed("read", &location))?;
            check_ours(&table, category, source, &location)?;
            let snapshot = table.snapshot().map_err(failed("read", &location))?;
            let version = snapshot
                .transaction_version(table.log_store().as_ref(), source)
                .await
                .map_err(failed("read", &location))?;
            last = version.and_then(version_day);
        } else if destination.exists(&root).await? {
            return Err(Error::Usage(format!(
                "{location} holds files but no Delta table (no _delta_log): pick another --to"
            )));
        }
        let properties = crate::export::parquet_properties(compression, 122_880);
        Ok(DeltaSync { category, table, exists, source: source.to_string(), last, location, properties })
    }

    pub(super) fn category(&self) -> Category {
        self.category
    }

    pub(super) fn last_day(&self) -> Option<NaiveDate> {
        self.last
    }

    /// The days the table holds: those of its files' `date` partitions, and, when that leaves
    /// days out between the first and the last (days without rows have no file), the days its
    /// commits name.
    pub(super) async fn days_held(&self) -> Result<BTreeSet<NaiveDate>> {
        if !self.exists {
            return Ok(BTreeSet::new());
        }
        let snapshot = self.table.snapshot().map_err(failed("read", &self.location))?;
        let mut days: BTreeSet<NaiveDate> = snapshot
            .log_data()
            .iter()
            .filter_map(|file| file.partition_values_map().remove(DATE_COLUMN).flatten()?.parse().ok())
            .collect();
        days.extend(self.last);
        let whole = match (days.first(), days.last()) {
            (Some(first), Some(last)) => first.iter_days().take_while(|d| d <= last).all(|d| days.contains(&d)),
            _ => true,
        };
        if !whole {
            let mut history = self.table.history(None);
            while let Some(commit) = futures::StreamExt::next(&mut history).await {
                let commit = commit.map_err(failed("read the history of", &self.location))?;
                days.extend(commit.info.get(DAY_KEY).and_then(|d| d.as_str()?.parse::<NaiveDate>().ok()));
            }
        }
        Ok(days)
    }

    pub(super) fn location(&self) -> String {
        self.location.clone()
    }

    pub(super) fn version(&self) -> Option<i64> {
        self.table.version().and_then(|v| i64::try_from(v).ok())
    }

    async fn ensure_created(&mut self) -> Result<()> {
        if self.exists {
            return Ok(());
        }
        let schema: StructType = deltalake_core::kernel::engine::arrow_conversion::TryIntoKernel::try_into_kernel(
            synced_schema(self.category).as_ref(),
        )
        .map_err(|e| Error::internal("describing the table to Delta")(e.to_string()))?;
        let partitions: Vec<String> =
            if self.category.is_snapshot() { Vec::new() } else { vec![DATE_COLUMN.to_string()] };
        self.table = CreateBuilder::new()
            .with_log_store(self.table.log_store())
            .with_table_name(self.category.name())
            .with_comment(marker(self.category, &self.source))
            .with_columns(schema.fields().cloned())
            .with_partition_columns(partitions)
            .with_save_mode(SaveMode::ErrorIfExists)
            .await
            .map_err(failed("create", &self.location))?;
        self.exists = true;
        Ok(())
    }

    /// Writes `rows` to data files, flushing as it goes; the files' `add` actions.
    async fn write_files(&mut self, rows: &mut DatedRows) -> Result<(Vec<Add>, u64)> {
        let location = self.location.clone();
        let mut writer = RecordBatchWriter::for_table(&self.table)
            .map_err(failed("write data files to", &location))?
            .with_writer_properties(self.properties.clone());
        let (mut adds, mut count, mut buffered) = (Vec::new(), 0u64, 0usize);
        while let Some(batch) = rows.next().await {
            let batch = batch?;
            count += batch.num_rows() as u64;
            buffered += batch.num_rows();
            writer.write(batch).await.map_err(failed("write data files to", &location))?;
            if buffered >= FLUSH_ROWS {
                adds.extend(writer.flush().await.map_err(failed("write data files to", &location))?);
                buffered = 0;
            }
        }
        adds.extend(writer.flush().await.map_err(failed("write data files to", &location))?);
        Ok((adds, count))
    }

    async fn commit(&mut self, actions: Vec<Action>, properties: CommitProperties, mode: SaveMode) -> Result<()> {
        let location = self.location.clone();
        let partition_by = (!self.category.is_snapshot()).then(|| vec![DATE_COLUMN.to_string()]);
        let operation = DeltaOperation::Write { mode, partition_by, predicate: None };
        let snapshot = self.table.snapshot().map_err(failed("read", &location))?;
        CommitBuilder::from(properties)
            .with_actions(actions)
            .build(Some(snapshot), self.table.log_store(), operation)
            .await
            .map_err(failed("commit to", &location))?;
        self.table.update_state().await.map_err(failed("read back", &location))?;
        Ok(())
    }

    /// The day's rows and its application transaction, in one commit.
    pub(super) async fn append_day(&mut self, mut rows: DatedRows, day: NaiveDate) -> Result<Added> {
        self.ensure_created().await?;
        let (adds, count) = self.write_files(&mut rows).await?;
        let bytes = adds.iter().map(|a| a.size.max(0) as u64).sum();
        // The day is named in the commit too: a day without rows leaves no file to say it is held.
        let properties = CommitProperties::default()
            // The transaction keeps the newest day (a day filled behind it does not lower it).
            .with_application_transaction(Transaction::new(
                &self.source,
                day_version(self.last.unwrap_or(day).max(day)),
            ))
            .with_metadata([(DAY_KEY.to_string(), serde_json::Value::from(day.to_string()))]);
        self.commit(adds.into_iter().map(Action::Add).collect(), properties, SaveMode::Append).await?;
        self.last = self.last.max(Some(day));
        Ok(Added { rows: count, bytes })
    }

    /// The snapshot's rows in place of the table's, in one commit.
    pub(super) async fn replace(&mut self, mut rows: DatedRows) -> Result<Added> {
        self.ensure_created().await?;
        let (adds, count) = self.write_files(&mut rows).await?;
        let bytes = adds.iter().map(|a| a.size.max(0) as u64).sum();
        let snapshot = self.table.snapshot().map_err(failed("read", &self.location))?;
        let mut actions: Vec<Action> =
            snapshot.log_data().iter().map(|file| Action::Remove(file.remove_action(true))).collect();
        actions.extend(adds.into_iter().map(Action::Add));
        self.commit(actions, CommitProperties::default(), SaveMode::Overwrite).await?;
        Ok(Added { rows: count, bytes })
    }
}

/// The table's handle: delta-rs's own local store for a folder; for object stores, ours (the
/// one exports use, with its credentials) under the table's prefix.
fn table_at(destination: &Destination, category: Category, location: &str) -> Result<DeltaTable> {
    let bad = |e: String| Error::Usage(format!("--to {location}: {e}"));
    if let Some(dir) = destination.local_dir() {
        let dir = std::path::absolute(dir.join(category.name())).map_err(|e| bad(e.to_string()))?;
        let url = url::Url::from_directory_path(&dir).map_err(|()| bad("not a path Delta can name".into()))?;
        return DeltaTableBuilder::from_url(url).and_then(|b| b.build()).map_err(failed("open", location));
    }
    let url = url::Url::parse(&format!("{location}/")).map_err(|e| bad(e.to_string()))?;
    let root = destination.store();
    let prefix = destination.child(category.name());
    let prefixed: Arc<dyn datafusion::object_store::ObjectStore> =
        Arc::new(datafusion::object_store::prefix::PrefixStore::new(root.clone(), prefix));
    Ok(DeltaTable::new(default_logstore(prefixed, root, &url, &StorageConfig::default())))
}

/// Refuses a table that is not ours, of another source, or of another shape.
fn check_ours(table: &DeltaTable, category: Category, source: &str, location: &str) -> Result<()> {
    let snapshot = table.snapshot().map_err(failed("read", location))?;
    let metadata = snapshot.metadata();
    let comment = metadata.description().unwrap_or_default().to_string();
    let Some(rest) = comment.strip_prefix(MARKER_START) else {
        return Err(Error::Usage(format!(
            "{location} is a Delta table carto-activity did not create: pick another --to"
        )));
    };
    if comment != marker(category, source) {
        return Err(Error::Usage(format!(
            "{location} holds the sync of {rest}, not of {category} from {source}: use another --to"
        )));
    }
    let expected: Vec<String> = synced_schema(category).fields().iter().map(|f| f.name().clone()).collect();
    let found: Vec<String> = snapshot.snapshot().arrow_schema().fields().iter().map(|f| f.name().clone()).collect();
    let partitions: Vec<String> = metadata.partition_columns().to_vec();
    let wanted: Vec<String> = if category.is_snapshot() { Vec::new() } else { vec![DATE_COLUMN.to_string()] };
    if found != expected || partitions != wanted {
        return Err(Error::Usage(format!(
            "{location} has other columns ({}) than the sync of {category} writes ({}): use another --to",
            found.join(", "),
            expected.join(", ")
        )));
    }
    Ok(())
}
