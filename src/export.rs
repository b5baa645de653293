//! `export`: whole categories of a range written to files, one per category, streamed from the
//! engine batch by batch. Files are written under temporary names and moved into place together
//! once all are complete, so a failed export leaves no file that looks whole.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use datafusion::parquet::arrow::ArrowWriter;
use datafusion::sql::sqlparser::ast::Statement;
use futures::StreamExt;
use tempfile::TempPath;

use crate::category::Category;
use crate::cli::ExportFormat;
use crate::dates::DateRange;
use crate::engine::{Engine, table_name};
use crate::error::{Error, Result};
use crate::ingest::cache_writer_properties;
use crate::output::{write_csv_header, write_csv_rows};
use crate::printer::Printer;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFile {
    pub category: Category,
    pub path: PathBuf,
    pub rows: u64,
    pub bytes: u64,
}

pub fn file_name(category: Category, range: &DateRange, format: ExportFormat) -> String {
    format!("{}_{}_{}.{}", category.name(), range.start, range.end, format.extension())
}

pub struct ExportRequest<'a> {
    pub categories: &'a [Category],
    pub range: DateRange,
    pub format: ExportFormat,
    pub output_dir: &'a Path,
    pub overwrite: bool,
}

/// Refuses existing files (without --overwrite) before anything is fetched or written.
pub fn check_targets(request: &ExportRequest) -> Result<Vec<PathBuf>> {
    let targets: Vec<PathBuf> = request
        .categories
        .iter()
        .map(|c| request.output_dir.join(file_name(*c, &request.range, request.format)))
        .collect();
    if !request.overwrite
        && let Some(existing) = targets.iter().find(|t| t.exists())
    {
        return Err(Error::OutputExists(existing.clone()));
    }
    Ok(targets)
}

pub async fn export(engine: &Engine, request: &ExportRequest<'_>, printer: &Printer) -> Result<Vec<ExportedFile>> {
    let targets = check_targets(request)?;
    fs::create_dir_all(request.output_dir).map_err(Error::io("cannot create the output folder", request.output_dir))?;
    let mut written = Vec::new();
    for (&category, target) in request.categories.iter().zip(&targets) {
        let (temp, rows) = write_category(engine, category, request, target).await?;
        written.push((category, temp, target.clone(), rows));
    }
    let mut files = Vec::new();
    for (category, temp, target, rows) in written {
        temp.persist(&target).map_err(|e| Error::io("cannot move into place", &target)(e.error))?;
        let bytes = fs::metadata(&target).map_err(Error::io("cannot read", &target))?.len();
        printer.info(&format!("wrote {} ({rows} rows, {bytes} bytes)", target.display()));
        files.push(ExportedFile { category, path: target, rows, bytes });
    }
    crate::cache::sync_dir(request.output_dir)?;
    Ok(files)
}

async fn write_category(
    engine: &Engine,
    category: Category,
    request: &ExportRequest<'_>,
    target: &Path,
) -> Result<(TempPath, u64)> {
    let (file, temp) = tempfile::Builder::new()
        .prefix(&format!(".tmp-{}", file_name(category, &request.range, request.format)))
        .tempfile_in(request.output_dir)
        .map_err(Error::io("cannot create a file in", request.output_dir))?
        .into_parts();
    let failed = |e: String| Error::Write { context: format!("cannot write {}", target.display()), message: e };
    let mut stream = engine.execute(select_all(category)).await?;
    let mut rows = 0u64;
    let file = match request.format {
        ExportFormat::Parquet => {
            let mut writer = ArrowWriter::try_new(file, stream.schema(), Some(cache_writer_properties()))
                .map_err(|e| failed(e.to_string()))?;
            while let Some(batch) = stream.next().await {
                let batch = batch.map_err(Error::query)?;
                rows += batch.num_rows() as u64;
                writer.write(&batch).map_err(|e| failed(e.to_string()))?;
            }
            writer.into_inner().map_err(|e| failed(e.to_string()))?
        }
        ExportFormat::Csv => {
            let mut writer = csv::Writer::from_writer(BufWriter::new(file));
            write_csv_header(&mut writer, &stream.schema()).map_err(|e| failed(e.to_string()))?;
            while let Some(batch) = stream.next().await {
                let batch = batch.map_err(Error::query)?;
                rows += batch.num_rows() as u64;
                write_csv_rows(&mut writer, &batch).map_err(|e| failed(e.to_string()))?;
            }
            let mut buffered = writer.into_inner().map_err(|e| failed(e.to_string()))?;
            buffered.flush().map_err(Error::io("cannot write", target))?;
            buffered.into_inner().map_err(|e| failed(e.to_string()))?
        }
    };
    file.sync_all().map_err(Error::io("cannot sync", target))?;
    let _: File = file;
    Ok((temp, rows))
}

fn select_all(category: Category) -> Statement {
    let sql = format!("SELECT * FROM {}", table_name(category));
    crate::compat::prepare(&sql).ok().and_then(|mut s| s.pop()).expect("SELECT * FROM a table is valid SQL")
}
