//! The files of a job the test server finished: the demo organisation's rows in CARTO's formats,
//! split into parts that do not align with days.

use carto_activity::category::Category;
use carto_activity::source::carto::wire::{FileFormat, JobFile, JobRequest};
use carto_activity::source::demo::DemoOrg;
use chrono::{Duration, NaiveDate, Utc};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::parquet::arrow::ArrowWriter;

use super::server::Shared;

/// A job's files: each dated category in several files whose rows are not aligned to days.
pub(super) fn job_files(shared: &Shared, id: &str, request: &JobRequest) -> Vec<JobFile> {
    let mut listing = vec![];
    for name in &request.categories {
        let category = Category::from_name(name).unwrap();
        let ext = match request.format {
            FileFormat::Parquet => "parquet",
            FileFormat::Csv => "csv.gz",
        };
        let made_key = format!("{name}|{}|{}|{ext}", request.start_date, request.end_date);
        let cached = shared.inner.lock().unwrap().made.get(&made_key).cloned();
        let parts = cached.unwrap_or_else(|| {
            let batch = category_rows(&shared.org, category, request.start_date, request.end_date);
            let count = if category.is_snapshot() { 1 } else { 1 + (batch.num_rows() / 7000).min(4) };
            let chunk = batch.num_rows().div_ceil(count).max(1);
            let parts: Vec<Vec<u8>> = (0..count)
                .map(|part| {
                    let offset = (part * chunk).min(batch.num_rows());
                    let rows = batch.slice(offset, chunk.min(batch.num_rows() - offset));
                    match request.format {
                        FileFormat::Parquet => parquet_bytes(&rows),
                        FileFormat::Csv => csv_gz_bytes(&rows),
                    }
                })
                .collect();
            shared.inner.lock().unwrap().made.insert(made_key, parts.clone());
            parts
        });
        for (part, bytes) in parts.into_iter().enumerate() {
            let file_name = format!("{name}-{part}.{ext}");
            let key = format!("{id}/{file_name}");
            listing.push(JobFile {
                category: name.clone(),
                url: format!("{}/files/{key}?signature=sig-{}", shared.base, shared.inner.lock().unwrap().log.len()),
                size_bytes: Some(bytes.len() as u64),
                expires_at: Some((Utc::now() + Duration::hours(1)).to_rfc3339()),
            });
            shared.inner.lock().unwrap().files.insert(key, bytes);
        }
    }
    listing
}

fn category_rows(org: &DemoOrg, category: Category, start: NaiveDate, end: NaiveDate) -> RecordBatch {
    let batches: Vec<RecordBatch> = match category {
        Category::UserList => vec![org.user_list().unwrap()],
        Category::GroupList => vec![org.group_list().unwrap()],
        Category::Activity => start.iter_days().take_while(|d| *d <= end).map(|d| org.activity(d).unwrap()).collect(),
        Category::ApiUsage => start.iter_days().take_while(|d| *d <= end).map(|d| org.api_usage(d).unwrap()).collect(),
    };
    concat_batches(&category.schema(), &batches).unwrap()
}

fn parquet_bytes(batch: &RecordBatch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
    out
}

fn csv_gz_bytes(batch: &RecordBatch) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut writer = csv::Writer::from_writer(&mut gz);
        carto_activity::encode::write_csv_header(&mut writer, &batch.schema()).unwrap();
        carto_activity::encode::write_csv_rows(&mut writer, batch).unwrap();
        writer.flush().unwrap();
    }
    gz.finish().unwrap()
}
