//! A table over cached files the manifest describes: planning lists no folder and opens no
//! file, statistics are exact (so `count(*)`, `min(ts)` and `max(ts)` are answered without a
//! scan), and days outside a `ts` filter are left out before any file is opened.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, TimestampMicrosecondArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::pruning::PruningStatistics;
use datafusion::common::stats::Precision;
use datafusion::common::{Column, ColumnStatistics, DFSchema, ScalarValue, Statistics};
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingTableUrl, PartitionedFile};
use datafusion::datasource::physical_plan::parquet::ParquetRowSelection;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::Result as DFResult;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::expr_rewriter::unnormalize_col;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::parquet::arrow::arrow_reader::{RowSelection, RowSelector};
use datafusion::physical_optimizer::pruning::PruningPredicateBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;

use crate::cache::{FileFacts, KnownFile};
use crate::error::{Error, Result};

/// The column whose range each file's facts give.
const TS: &str = "ts";

#[derive(Debug)]
pub(crate) struct KnownFilesTable {
    schema: SchemaRef,
    /// Files with rows, in the order they were given (day order: exports read days in turn).
    files: Vec<Located>,
    ts: Option<(usize, Option<Arc<str>>)>,
}

#[derive(Debug)]
struct Located {
    /// Of what is read: all of the file, or some days of a month file.
    facts: FileFacts,
    /// The rows read, when only some days of the file are: in runs of `(rows, read)`.
    runs: Option<Vec<(u64, bool)>>,
    location: datafusion::object_store::path::Path,
}

impl KnownFilesTable {
    /// A table in `schema` (the cached one) over `files`.
    pub(crate) fn new(schema: SchemaRef, files: &[KnownFile]) -> Result<KnownFilesTable> {
        let ts = schema.index_of(TS).ok().and_then(|index| match schema.field(index).data_type() {
            DataType::Timestamp(_, tz) => Some((index, tz.clone())),
            _ => None,
        });
        let mut located = Vec::with_capacity(files.len());
        // Folders are resolved once each (a year is 365 files in one folder).
        let mut folders: Vec<(&Path, datafusion::object_store::path::Path)> = Vec::new();
        // A day without rows adds nothing to any answer: it is not read at all.
        for known in files {
            let facts = known.read_facts();
            if facts.rows == 0 {
                continue;
            }
            let (Some(folder), Some(name)) = (known.path.parent(), known.path.file_name()) else {
                return Err(Error::Internal(format!("{} is not a file path", known.path.display())));
            };
            let resolved = match folders.iter().find(|(f, _)| *f == folder) {
                Some((_, resolved)) => resolved.clone(),
                None => {
                    let resolved = file_url(folder)?.prefix().clone();
                    folders.push((folder, resolved.clone()));
                    resolved
                }
            };
            let location = resolved.join(name.to_string_lossy().as_ref());
            let runs = known.read_rows().transpose().map_err(|counted| {
                Error::Internal(format!(
                    "the cached file {} lists {counted} rows for its days but holds {} (`carto-activity cache clear` removes it)",
                    known.path.display(),
                    known.facts.rows
                ))
            })?;
            located.push(Located { facts, runs, location });
        }
        Ok(KnownFilesTable { schema, files: located, ts })
    }

    /// Exact statistics of `files`: rows, and the range of `ts`.
    fn statistics<'a>(&self, files: impl IntoIterator<Item = &'a Located>) -> Statistics {
        let (mut rows, mut bytes, mut min, mut max) = (0u64, 0u64, None::<i64>, None::<i64>);
        for file in files {
            let facts = &file.facts;
            rows += facts.rows;
            bytes += facts.bytes;
            min = match (min, facts.min_ts) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            max = max.max(facts.max_ts);
        }
        let mut statistics = Statistics::new_unknown(&self.schema);
        statistics.num_rows = Precision::Exact(usize::try_from(rows).unwrap_or(usize::MAX));
        statistics.total_byte_size = Precision::Inexact(usize::try_from(bytes).unwrap_or(usize::MAX));
        if let Some((index, tz)) = &self.ts {
            let value = |v: Option<i64>| match v {
                Some(v) => Precision::Exact(ScalarValue::TimestampMicrosecond(Some(v), tz.clone())),
                None => Precision::Absent,
            };
            statistics.column_statistics[*index] = ColumnStatistics {
                null_count: Precision::Exact(0),
                min_value: value(min),
                max_value: value(max),
                ..ColumnStatistics::new_unknown()
            };
        }
        statistics
    }

    /// Which files `filters` may keep rows of, by their `ts` ranges.
    fn kept(&self, state: &dyn Session, filters: &[Expr]) -> Vec<bool> {
        let mut keep = vec![true; self.files.len()];
        if self.ts.is_none() || filters.is_empty() {
            return keep;
        }
        let Ok(df_schema) = DFSchema::try_from(self.schema.as_ref().clone()) else { return keep };
        let ranges = FileRanges { table: self };
        for filter in filters {
            // A filter that cannot be turned into a pruning predicate simply prunes nothing.
            let Ok(expr) = state.create_physical_expr(unnormalize_col(filter.clone()), &df_schema) else { continue };
            let Some(predicate) = PruningPredicateBuilder::new().with_file_schema(self.schema.clone()).build(expr)
            else {
                continue;
            };
            if let Ok(may_match) = predicate.prune(&ranges) {
                keep.iter_mut().zip(may_match).for_each(|(k, m)| *k &= m);
            }
        }
        keep
    }
}

/// The files' `ts` ranges and row counts, as a pruning predicate reads them.
struct FileRanges<'a> {
    table: &'a KnownFilesTable,
}

impl FileRanges<'_> {
    fn ts(&self, column: &Column, value: impl Fn(&Located) -> Option<i64>) -> Option<ArrayRef> {
        let (_, tz) = self.table.ts.as_ref().filter(|_| column.name == TS)?;
        let values: Vec<Option<i64>> = self.table.files.iter().map(value).collect();
        Some(Arc::new(TimestampMicrosecondArray::from(values).with_timezone_opt(tz.clone())))
    }
}

impl PruningStatistics for FileRanges<'_> {
    fn min_values(&self, column: &Column) -> Option<ArrayRef> {
        self.ts(column, |f| f.facts.min_ts)
    }
    fn max_values(&self, column: &Column) -> Option<ArrayRef> {
        self.ts(column, |f| f.facts.max_ts)
    }
    fn num_containers(&self) -> usize {
        self.table.files.len()
    }
    fn null_counts(&self, column: &Column) -> Option<ArrayRef> {
        (column.name == TS).then(|| Arc::new(UInt64Array::from(vec![0; self.table.files.len()])) as ArrayRef)
    }
    fn row_counts(&self) -> Option<ArrayRef> {
        Some(Arc::new(UInt64Array::from_iter_values(self.table.files.iter().map(|f| f.facts.rows))))
    }
    fn contained(
        &self,
        _: &Column,
        _: &std::collections::HashSet<ScalarValue>,
    ) -> Option<datafusion::arrow::array::BooleanArray> {
        None
    }
}

fn selection(runs: &[(u64, bool)]) -> RowSelection {
    let selector = |&(rows, read): &(u64, bool)| {
        let rows = usize::try_from(rows).unwrap_or(usize::MAX);
        if read { RowSelector::select(rows) } else { RowSelector::skip(rows) }
    };
    RowSelection::from(runs.iter().map(selector).collect::<Vec<_>>())
}

/// `files` in `groups` runs of about equal bytes, each in the given order.
fn grouped<'a>(files: &[&'a Located], groups: usize) -> Vec<Vec<&'a Located>> {
    let total: u64 = files.iter().map(|f| f.facts.bytes).sum();
    let per_group = total.div_ceil(groups.max(1) as u64).max(1);
    let mut out: Vec<Vec<&Located>> = vec![Vec::new()];
    let mut filled = 0;
    for file in files {
        if filled >= per_group && out.len() < groups {
            out.push(Vec::new());
            filled = 0;
        }
        filled += file.facts.bytes;
        if let Some(group) = out.last_mut() {
            group.push(*file);
        }
    }
    out
}

#[async_trait]
impl TableProvider for KnownFilesTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn table_type(&self) -> TableType {
        TableType::Base
    }
    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        let kept: Vec<&Located> =
            self.files.iter().zip(self.kept(state, filters)).filter(|(_, keep)| *keep).map(|(f, _)| f).collect();
        if kept.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        let mut options = state.table_options().parquet.clone();
        // A page index serves a filter, and lets the days of a month file a scan leaves out be
        // skipped page by page; otherwise it is an extra read per file.
        options.global.enable_page_index = !filters.is_empty() || kept.iter().any(|f| f.runs.is_some());
        let source = ParquetSource::new(TableSchema::from(self.schema.clone()));
        let format = ParquetFormat::default().with_options(options);
        let groups = grouped(&kept, state.config_options().execution.target_partitions)
            .into_iter()
            .map(|group| {
                let statistics = self.statistics(group.iter().copied());
                let files = group
                    .into_iter()
                    .map(|file| {
                        let facts = &file.facts;
                        let mut partitioned = PartitionedFile::new_from_meta(datafusion::object_store::ObjectMeta {
                            location: file.location.clone(),
                            last_modified: chrono::DateTime::from_timestamp_nanos(
                                i64::try_from(facts.mtime_ns).unwrap_or(i64::MAX),
                            ),
                            size: facts.bytes,
                            e_tag: None,
                            version: None,
                        })
                        .with_statistics(Arc::new(self.statistics([file])))
                        .with_arrow_schema(self.schema.clone());
                        if let Ok(hint) = usize::try_from(facts.footer_bytes) {
                            partitioned = partitioned.with_metadata_size_hint(hint);
                        }
                        if let Some(runs) = &file.runs {
                            // Exactly the chosen days' rows: the statistics stay exact, so
                            // `count(*)` of some days of a month is still read from them.
                            partitioned = partitioned.with_extension(ParquetRowSelection::new(selection(runs)));
                        }
                        partitioned
                    })
                    .collect();
                FileGroup::new(files).with_statistics(Arc::new(statistics))
            })
            .collect();
        let config = FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), Arc::new(source))
            .with_file_groups(groups)
            .with_statistics(self.statistics(kept.iter().copied()))
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        format.create_physical_plan(state, config).await
    }
    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DFResult<Vec<TableProviderFilterPushDown>> {
        // Pruning and the Parquet scan's own filtering are not exact: the filter stays above.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }
}

/// Refuses, before anything is fetched, a cache folder whose files the engine could not address.
pub(crate) fn check_cache_path(root: &Path) -> Result<()> {
    file_url(&root.join("v0/source/category/2025-01-01.parquet")).map(|_| ())
}

/// A cached file as the engine addresses it: a `file://` URL of the path itself (percent-encoded),
/// so that `*`, `?`, `[` or `#` in a folder name are characters, never a glob or a fragment.
fn file_url(path: &Path) -> Result<ListingTableUrl> {
    let unusable = |why: &dyn std::fmt::Display| {
        // Quoted with escapes: the path may hold a newline, and the message is one line.
        Error::Usage(format!("the cache path {path:?} cannot be used ({why}): choose another --cache-dir"))
    };
    if path.to_str().is_none() {
        return Err(unusable(&"it is not UTF-8"));
    }
    let absolute = resolved(path).map_err(|e| unusable(&e))?;
    let url = url::Url::from_file_path(&absolute).map_err(|()| unusable(&"not an absolute path"))?;
    ListingTableUrl::try_new(url, None).map_err(|_| unusable(&"it holds a control character such as a tab or newline"))
}

/// `path` absolute and without `.` or `..` (which a store path cannot hold): its deepest
/// existing folder resolved by the file system, the rest (not yet created) appended.
fn resolved(path: &Path) -> std::io::Result<std::path::PathBuf> {
    use std::path::Component;
    if let Ok(path) = path.canonicalize() {
        return Ok(path);
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => resolved(p)?,
        _ => std::env::current_dir()?,
    };
    Ok(match path.components().next_back() {
        // As `create_dir_all` walks it: `x/..` is where `x` is.
        Some(Component::ParentDir) => parent.parent().map_or(parent.clone(), Path::to_path_buf),
        Some(Component::CurDir) | None => parent,
        Some(last) => parent.join(last),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::FileFacts;

    fn located(day: u32, bytes: u64) -> Located {
        let facts = FileFacts::example(1, bytes);
        let path = format!("/c/activity/2025-10-{day:02}.parquet");
        Located { facts, runs: None, location: path.as_str().into() }
    }

    #[test]
    fn groups_are_runs_of_days_of_about_equal_bytes() {
        let files: Vec<Located> =
            [10, 10, 10, 10, 40, 5, 5].iter().enumerate().map(|(i, b)| located(i as u32 + 1, *b)).collect();
        let refs: Vec<&Located> = files.iter().collect();
        let days = |groups: Vec<Vec<&Located>>| -> Vec<Vec<u64>> {
            groups.iter().map(|g| g.iter().map(|f| f.facts.bytes).collect()).collect()
        };
        assert_eq!(days(grouped(&refs, 2)), vec![vec![10, 10, 10, 10, 40], vec![5, 5]]);
        assert_eq!(days(grouped(&refs, 1)), vec![vec![10, 10, 10, 10, 40, 5, 5]], "one partition reads days in order");
        let many = grouped(&refs, 16);
        assert!(many.len() <= 7 && many.iter().all(|g| !g.is_empty()), "no empty group");
    }
}
