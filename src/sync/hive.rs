//! `sync --format parquet`: the hive layout `export --partition-by day` writes
//! (`<category>/date=YYYY-MM-DD/part-00000.parquet`, each folder with its `_SUCCESS` manifest),
//! kept current. A day's folder is written under `_tmp/` and moved into place whole, then
//! recorded in `<category>/_carto_activity_sync.json`, the state file: a folder the state does not
//! record (a run killed in between) is written again by the next run.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use datafusion::object_store::path::Path as StorePath;
use datafusion::object_store::{ObjectStoreExt, PutPayload};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use super::SyncFormat;
use super::{Added, DATE_COLUMN, synced_schema};
use crate::category::Category;
use crate::dates::DateRange;
use crate::engine::sql_type_name;
use crate::error::{Error, Result};
use crate::export::{Destination, ExportRequest, SUCCESS_FILE, Subject, export_folder};
use crate::export::{ExportCompression, ExportFormat, PartitionBy};
use crate::printer::Printer;

pub(super) const STATE_FILE: &str = "_carto_activity_sync.json";
const DELTA_LOG: &str = "_delta_log";
/// Rows per part file of a day (a day of a large organisation is a few files, not one huge one).
const ROWS_PER_FILE: u64 = 2_000_000;
const LAYOUT: u32 = 1;

/// The state file: whose table this is, and how far it goes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SyncState {
    writer: String,
    layout: u32,
    source: String,
    category: String,
    /// `name TYPE` of each column of the files (the `date` of dated categories is in the path).
    columns: Vec<String>,
    last_day: Option<NaiveDate>,
    days: u64,
}

pub(crate) struct HiveSync {
    category: Category,
    state: SyncState,
    /// Whether the state file exists: it is written before the first folder, so that a run
    /// killed after that folder finds the table its own.
    saved: bool,
    compression: ExportCompression,
    root: StorePath,
    location: String,
}

fn file_columns(category: Category) -> Vec<String> {
    synced_schema(category)
        .fields()
        .iter()
        .filter(|f| f.name() != DATE_COLUMN)
        .map(|f| format!("{} {}", f.name(), sql_type_name(f.data_type())))
        .collect()
}

/// A table of the other format where this run would write is refused, naming the flag to pass.
pub(super) async fn refuse_other_format(
    format: SyncFormat,
    destination: &Destination,
    category: Category,
) -> Result<()> {
    let (found, other) = match format {
        SyncFormat::Delta => (destination.child(&format!("{category}/{STATE_FILE}")), "parquet"),
        SyncFormat::Parquet => (destination.child(&format!("{category}/{DELTA_LOG}")), "delta"),
    };
    if destination.exists(&found).await? {
        let kind = if other == "parquet" { "a Parquet sync" } else { "a Delta table" };
        return Err(Error::Usage(format!(
            "{} holds {kind} ({} exists): pass --format {other}, or another --to",
            destination.shown(&destination.child(category.name())),
            destination.shown(&found)
        )));
    }
    Ok(())
}

impl HiveSync {
    pub(super) async fn open(
        destination: &Destination,
        category: Category,
        source: &str,
        compression: ExportCompression,
    ) -> Result<HiveSync> {
        let root = destination.child(category.name());
        let location = destination.shown(&root);
        let state_path = destination.child(&format!("{category}/{STATE_FILE}"));
        let mut saved = true;
        let state = match destination.store().get(&state_path).await {
            Ok(found) => {
                let bytes = found.bytes().await.map_err(|e| destination.failed("read", &state_path, e))?;
                let state: SyncState = serde_json::from_slice(&bytes).map_err(|e| {
                    Error::Usage(format!(
                        "{} is not a carto-activity sync state ({e}): pick another --to",
                        destination.shown(&state_path)
                    ))
                })?;
                state
            }
            Err(datafusion::object_store::Error::NotFound { .. }) => {
                if destination.exists(&root).await? {
                    return Err(Error::Usage(format!(
                        "{location} holds files that carto-activity did not sync (no {STATE_FILE}): pick another --to"
                    )));
                }
                saved = false;
                SyncState {
                    writer: "carto-activity".into(),
                    layout: LAYOUT,
                    source: source.to_string(),
                    category: category.name().to_string(),
                    columns: file_columns(category),
                    last_day: None,
                    days: 0,
                }
            }
            Err(e) => return Err(destination.failed("read", &state_path, e)),
        };
        if state.source != source {
            return Err(Error::Usage(format!(
                "{location} was synced from {}, not {source}: use another --to for this source",
                state.source
            )));
        }
        if state.layout != LAYOUT || state.category != category.name() || state.columns != file_columns(category) {
            return Err(Error::Usage(format!(
                "{location} holds {} with columns ({}), not {category} as this version writes it ({}): use another --to",
                state.category,
                state.columns.join(", "),
                file_columns(category).join(", ")
            )));
        }
        Ok(HiveSync { category, state, saved, compression, root, location })
    }

    pub(super) fn last_day(&self) -> Option<NaiveDate> {
        self.state.last_day
    }

    /// The days whose folder is whole (its `_SUCCESS` manifest, written last, is there): the
    /// table's own record, whatever the state file says.
    pub(super) async fn days_held(&self, destination: &Destination) -> Result<BTreeSet<NaiveDate>> {
        let objects: Vec<_> = destination
            .store()
            .list(Some(&self.root))
            .try_collect()
            .await
            .map_err(|e| destination.failed("list", &self.root, e))?;
        let prefix = format!("{DATE_COLUMN}=");
        Ok(objects
            .iter()
            .filter_map(|object| {
                let mut parts = object.location.parts().collect::<Vec<_>>().into_iter().rev();
                let (file, folder) = (parts.next()?, parts.next()?);
                (file.as_ref() == SUCCESS_FILE).then(|| folder.as_ref().strip_prefix(&prefix)?.parse().ok())?
            })
            .collect())
    }

    pub(super) fn location(&self) -> String {
        self.location.clone()
    }

    fn request(&self, day: NaiveDate) -> ExportRequest {
        ExportRequest {
            subjects: Vec::new(),
            range: DateRange { start: day, end: day },
            format: ExportFormat::Parquet,
            compression: self.compression,
            row_group_size: 122_880,
            partition_by: PartitionBy::None,
            max_rows_per_file: Some(ROWS_PER_FILE),
            overwrite: false,
        }
    }

    pub(super) async fn append_day(
        &mut self,
        engine: &crate::engine::Engine,
        destination: &Destination,
        day: NaiveDate,
        printer: &Printer,
    ) -> Result<Added> {
        self.save_once(destination).await?;
        let target = destination.child(&format!("{}/{DATE_COLUMN}={day}", self.category));
        // A folder the state does not record is a killed run's: it is written again.
        destination.remove_all(&target).await?;
        let written =
            export_folder(engine, &self.request(day), destination, &Subject::Category(self.category), &target, printer)
                .await?;
        self.state.last_day = self.state.last_day.max(Some(day));
        self.state.days += 1;
        self.save(destination).await?;
        Ok(Added { rows: written.rows, bytes: written.bytes })
    }

    /// Replaces a snapshot's files: the old ones are removed, the new written, `_SUCCESS` last.
    pub(super) async fn replace(
        &mut self,
        engine: &crate::engine::Engine,
        destination: &Destination,
        printer: &Printer,
    ) -> Result<Added> {
        self.save_once(destination).await?;
        let store = destination.store();
        let old: Vec<_> =
            store.list(Some(&self.root)).try_collect().await.map_err(|e| destination.failed("list", &self.root, e))?;
        for object in old.iter().filter(|o| o.location.filename() != Some(STATE_FILE)) {
            store.delete(&object.location).await.map_err(|e| destination.failed("remove", &object.location, e))?;
        }
        let today = chrono::Utc::now().date_naive();
        let written = export_folder(
            engine,
            &self.request(today),
            destination,
            &Subject::Category(self.category),
            &self.root,
            printer,
        )
        .await?;
        self.save(destination).await?;
        Ok(Added { rows: written.rows, bytes: written.bytes })
    }

    async fn save_once(&mut self, destination: &Destination) -> Result<()> {
        if !self.saved {
            self.save(destination).await?;
            self.saved = true;
        }
        Ok(())
    }

    async fn save(&self, destination: &Destination) -> Result<()> {
        let path = destination.child(&format!("{}/{STATE_FILE}", self.category));
        let text = serde_json::to_vec_pretty(&self.state)
            .map_err(|e| Error::internal("encoding the sync state")(e.to_string()))?;
        destination
            .store()
            .put(&path, PutPayload::from(text))
            .await
            .map_err(|e| destination.failed("write", &path, e))?;
        Ok(())
    }
}
