//! What an export is asked to write, and where each subject's output goes.

use datafusion::object_store::path::Path as StorePath;
use datafusion::parquet::basic::{Compression, GzipLevel, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::sql::sqlparser::ast::Statement;

use super::destination::Destination;
use crate::category::Category;
use crate::dates::DateRange;
use crate::error::{Error, Result};

/// What one export writes: a category, or the result of `--sql`.
#[derive(Debug, Clone)]
pub enum Subject {
    Category(Category),
    Query(Box<Statement>),
}

impl Subject {
    pub(super) fn name(&self) -> &str {
        match self {
            Subject::Category(c) => c.name(),
            Subject::Query(_) => "query",
        }
    }
}

pub struct ExportRequest {
    pub subjects: Vec<Subject>,
    pub range: DateRange,
    pub format: ExportFormat,
    pub compression: ExportCompression,
    pub row_group_size: usize,
    pub partition_by: PartitionBy,
    pub max_rows_per_file: Option<u64>,
    pub overwrite: bool,
}

impl ExportRequest {
    pub fn default_compression(format: ExportFormat) -> ExportCompression {
        match format {
            ExportFormat::Parquet => ExportCompression::Zstd,
            ExportFormat::Csv | ExportFormat::Ndjson => ExportCompression::None,
        }
    }

    /// Checks the combination of flags before anything is fetched.
    pub fn validate(&self) -> Result<()> {
        let text = self.format != ExportFormat::Parquet;
        if text && !matches!(self.compression, ExportCompression::None | ExportCompression::Gzip) {
            return Err(Error::Usage(
                format!("--compression {:?} is for Parquet: CSV and NDJSON take gzip or none", self.compression)
                    .to_lowercase(),
            ));
        }
        Ok(())
    }

    pub(super) fn extension(&self) -> String {
        let gz = self.format != ExportFormat::Parquet && self.compression == ExportCompression::Gzip;
        format!("{}{}", self.format.extension(), if gz { ".gz" } else { "" })
    }

    /// One file, or a folder of parts.
    pub(super) fn single_file(&self) -> bool {
        self.partition_by == PartitionBy::None && self.max_rows_per_file.is_none()
    }

    fn base_name(&self, subject: &Subject) -> String {
        format!("{}_{}_{}", subject.name(), self.range.start, self.range.end)
    }

    /// Where a subject's output goes: its file, or its folder.
    pub(super) fn target(&self, destination: &Destination, subject: &Subject) -> StorePath {
        if self.single_file() {
            destination.child(&format!("{}.{}", self.base_name(subject), self.extension()))
        } else if self.partition_by == PartitionBy::None {
            destination.child(&self.base_name(subject))
        } else {
            destination.child(subject.name())
        }
    }

    /// How a subject's rows are partitioned: snapshots (user and group lists) are not dated,
    /// so they go whole into their folder.
    pub(super) fn partition_of(&self, subject: &Subject) -> PartitionBy {
        match subject {
            Subject::Category(c) if c.is_snapshot() => PartitionBy::None,
            _ => self.partition_by,
        }
    }

    pub(super) fn parquet_properties(&self) -> WriterProperties {
        parquet_properties(self.compression, self.row_group_size)
    }
}

/// How Parquet files are written: the codec, and rows per row group.
pub(crate) fn parquet_properties(compression: ExportCompression, row_group_size: usize) -> WriterProperties {
    let compression = match compression {
        ExportCompression::Zstd => Compression::ZSTD(ZstdLevel::default()),
        ExportCompression::Snappy => Compression::SNAPPY,
        ExportCompression::Gzip => Compression::GZIP(GzipLevel::default()),
        ExportCompression::Lz4 => Compression::LZ4_RAW,
        ExportCompression::None => Compression::UNCOMPRESSED,
    };
    WriterProperties::builder().set_compression(compression).set_max_row_group_row_count(Some(row_group_size)).build()
}

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Parquet,
    Ndjson,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Parquet => "parquet",
            ExportFormat::Ndjson => "ndjson",
        }
    }
}

impl crate::choice::Named for ExportFormat {
    const NAMES: &'static [(&'static str, Self, &'static str)] =
        &[("csv", ExportFormat::Csv, ""), ("parquet", ExportFormat::Parquet, ""), ("ndjson", ExportFormat::Ndjson, "")];
}

/// The compression of exported (and synced) files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportCompression {
    Zstd,
    Snappy,
    Gzip,
    Lz4,
    None,
}

impl crate::choice::Named for ExportCompression {
    const NAMES: &'static [(&'static str, Self, &'static str)] = &[
        ("zstd", ExportCompression::Zstd, ""),
        ("snappy", ExportCompression::Snappy, ""),
        ("gzip", ExportCompression::Gzip, ""),
        ("lz4", ExportCompression::Lz4, ""),
        ("none", ExportCompression::None, ""),
    ];
}

/// Hive-partitioned folders by the `ts` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionBy {
    None,
    Day,
    Month,
}

impl crate::choice::Named for PartitionBy {
    const NAMES: &'static [(&'static str, Self, &'static str)] =
        &[("none", PartitionBy::None, ""), ("day", PartitionBy::Day, ""), ("month", PartitionBy::Month, "")];
}
