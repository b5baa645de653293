//! Reading Activity Data files (Parquet, CSV, CSV.gz, as CARTO's jobs and `export` write them)
//! as batches of a category's normalised schema, and ingesting one into a [`RowSink`].

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, ListBuilder, RecordBatch, StringArray, StringBuilder, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use flate2::read::MultiGzDecoder;

use crate::category::Category;
use crate::error::{Error, Result};
use crate::shred;
use crate::source::RowSink;

/// Reads one file into `sink` on the blocking pool: decoding, shredding and the cache's
/// encoding are CPU work that must not hold up the async threads.
pub(crate) async fn ingest_file<S: RowSink>(path: PathBuf, category: Category, mut sink: S) -> Result<S> {
    tokio::task::spawn_blocking(move || {
        for batch in shredded_batches(&path, category)? {
            let batch = batch?;
            if category.is_snapshot() {
                sink.write_snapshot(category, &batch)?;
            } else {
                sink.write_dated(category, &batch)?;
            }
        }
        Ok(sink)
    })
    .await
    .map_err(|e| Error::internal("ingesting a file")(e.to_string()))?
}

/// Reads a downloaded or exported file as batches of `category`'s normalised schema, one batch
/// at a time (memory does not grow with the file). Gzip is recognised by its magic bytes.
pub(crate) fn file_batches(
    path: &Path,
    category: Category,
) -> Result<Box<dyn Iterator<Item = Result<RecordBatch>> + Send>> {
    let mut file = File::open(path).map_err(Error::io("cannot read", path))?;
    let mut magic = [0u8; 4];
    let read = file.read(&mut magic).map_err(Error::io("cannot read", path))?;
    file.seek(SeekFrom::Start(0)).map_err(Error::io("cannot read", path))?;
    let name = path.display().to_string();
    if read == 4 && &magic == b"PAR1" {
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.with_batch_size(BATCH_ROWS).build())
            .map_err(|e| Error::Source(format!("{name} is not a readable Parquet file: {e}")))?;
        return Ok(Box::new(reader.map(move |batch| {
            let batch = batch.map_err(|e| Error::Source(format!("{name}: {e}")))?;
            normalise(category, &batch).map_err(|e| Error::Source(format!("{name}: {e}")))
        })));
    }
    let input: Box<dyn Read + Send> = if read >= 2 && magic[..2] == [0x1f, 0x8b] {
        Box::new(BufReader::new(MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    csv_batches(input, category, name)
}

const BATCH_ROWS: usize = 8192;

/// [`file_batches`] with the reading, decoding and JSON shredding done on another thread, so
/// that they overlap with the cache writer's encoding and compression.
fn shredded_batches(path: &Path, category: Category) -> Result<impl Iterator<Item = Result<RecordBatch>>> {
    let batches = file_batches(path, category)?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<RecordBatch>>(4);
    std::thread::spawn(move || {
        for batch in batches {
            let batch = batch.and_then(|b| shred::shred(category, &b).map_err(Error::Source));
            // A closed channel means the writer stopped (an error): stop reading too.
            if tx.send(batch).is_err() {
                break;
            }
        }
    });
    Ok(rx.into_iter())
}

/// CSV as CARTO writes it: RFC 4180 (newlines inside quoted fields), a header naming the
/// columns in any order, ISO 8601 timestamps, `group_ids` as a JSON array.
fn csv_batches(
    input: Box<dyn Read + Send>,
    category: Category,
    name: String,
) -> Result<Box<dyn Iterator<Item = Result<RecordBatch>> + Send>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(input);
    let headers =
        reader.headers().map_err(|e| Error::Source(format!("{name} is not a CSV file with a header: {e}")))?.clone();
    let schema = category.schema();
    let mut positions = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        match headers.iter().position(|h| h.trim().eq_ignore_ascii_case(field.name())) {
            Some(p) => positions.push(p),
            None => {
                let wanted: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(Error::Source(format!(
                    "{name} has no column '{}': a {category} file has the columns {}",
                    field.name(),
                    wanted.join(", ")
                )));
            }
        }
    }
    let mut records = reader.into_records();
    let mut line = 1u64;
    Ok(Box::new(std::iter::from_fn(move || {
        let mut rows = Vec::with_capacity(BATCH_ROWS);
        for record in records.by_ref() {
            line += 1;
            match record {
                Ok(r) => rows.push(r),
                Err(e) => return Some(Err(Error::Source(format!("{name}: record {line}: {e}")))),
            }
            if rows.len() == BATCH_ROWS {
                break;
            }
        }
        if rows.is_empty() {
            return None;
        }
        Some(csv_batch(category, &rows, &positions).map_err(|e| Error::Source(format!("{name}: {e}"))))
    })))
}

fn csv_batch(category: Category, rows: &[csv::StringRecord], positions: &[usize]) -> Result<RecordBatch, String> {
    let schema = category.schema();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(positions.len());
    for (field, &at) in schema.fields().iter().zip(positions) {
        let cells = rows.iter().map(|r| r.get(at).filter(|c| !c.is_empty()));
        let column: ArrayRef = match field.data_type() {
            DataType::Utf8 if field.is_nullable() => Arc::new(StringArray::from_iter(cells)),
            DataType::Utf8 => Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.get(at).unwrap_or("")))),
            DataType::Float64 => Arc::new(
                cells
                    .map(|c| {
                        c.map(|c| {
                            c.trim().parse::<f64>().map_err(|_| format!("{} '{c}' is not a number", field.name()))
                        })
                        .transpose()
                    })
                    .collect::<Result<Float64Array, String>>()?,
            ),
            DataType::Timestamp(_, _) => Arc::new(
                cells
                    .map(|c| {
                        c.map(|c| {
                            parse_timestamp(c)
                                .ok_or_else(|| format!("{} '{c}' is not an ISO 8601 timestamp", field.name()))
                        })
                        .transpose()
                    })
                    .collect::<Result<TimestampMicrosecondArray, String>>()?
                    .with_timezone("UTC"),
            ),
            DataType::List(_) => {
                let mut lists = ListBuilder::new(StringBuilder::new());
                for cell in cells {
                    match cell {
                        None => lists.append(false),
                        Some(c) => {
                            let items: Vec<String> = serde_json::from_str(c)
                                .map_err(|_| format!("{} '{c}' is not a JSON array of strings", field.name()))?;
                            for item in items {
                                lists.values().append_value(item);
                            }
                            lists.append(true);
                        }
                    }
                }
                Arc::new(lists.finish())
            }
            other => return Err(format!("no CSV reading for {other}")),
        };
        columns.push(column);
    }
    RecordBatch::try_new(schema, columns).map_err(|e| format!("rows do not fit the {category} schema: {e}"))
}

/// The contract's timestamp forms: `2025-10-01T08:15:02.311Z`, `2025-10-01 08:15:02.311` and
/// `2025-10-01 08:15:02.311 UTC` (fractions optional), all UTC; as microseconds.
pub(crate) fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text
        .strip_suffix(" UTC")
        .or_else(|| text.strip_suffix('Z'))
        .or_else(|| text.strip_suffix("+00:00"))
        .unwrap_or(text);
    let normal = text.replacen('T', " ", 1);
    let parsed = chrono::NaiveDateTime::parse_from_str(&normal, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDate::parse_from_str(&normal, "%Y-%m-%d").map(|d| d.and_time(chrono::NaiveTime::MIN)))
        .ok()?;
    Some(parsed.and_utc().timestamp_micros())
}

/// Casts a batch to `category`'s schema: columns found by name in any case, timestamps to
/// microseconds in UTC, other types to the schema's.
fn normalise(category: Category, batch: &RecordBatch) -> Result<RecordBatch, String> {
    let schema = category.schema();
    let source = batch.schema();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let Some((index, _)) =
            source.fields().iter().enumerate().find(|(_, f)| f.name().eq_ignore_ascii_case(field.name()))
        else {
            return Err(format!(
                "no column '{}' (a {category} file has {})",
                field.name(),
                schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(", ")
            ));
        };
        let column = batch.column(index);
        let cast = if column.data_type() == field.data_type() {
            column.clone()
        } else {
            datafusion::arrow::compute::cast(column, field.data_type()).map_err(|e| {
                format!("column '{}' ({}) cannot become {}: {e}", field.name(), column.data_type(), field.data_type())
            })?
        };
        columns.push(cast);
    }
    RecordBatch::try_new(schema, columns).map_err(|e| format!("rows do not fit the {category} schema: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::AsArray;
    use std::fs;
    use std::io::Write;

    #[test]
    fn timestamps_in_the_contracts_three_forms() {
        let expected = Some(1_759_306_502_311_000);
        assert_eq!(parse_timestamp("2025-10-01T08:15:02.311Z"), expected);
        assert_eq!(parse_timestamp("2025-10-01 08:15:02.311"), expected);
        assert_eq!(parse_timestamp("2025-10-01 08:15:02.311 UTC"), expected);
        assert_eq!(parse_timestamp("2025-10-01T08:15:02Z"), Some(1_759_306_502_000_000));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn gzipped_csv_with_quoted_newlines_and_lists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("userList.csv.gz");
        let mut gz = flate2::write::GzEncoder::new(File::create(&path).unwrap(), flate2::Compression::default());
        gz.write_all(b"email,user_id,role,created_at,group_ids\n\"a,\nb@x.io\",u1,Admin,2025-10-01 08:15:02.311 UTC,\"[\"\"g1\"\",\"\"g2\"\"]\"\nc@x.io,u2,Viewer,2025-10-01T00:00:00Z,\n").unwrap();
        gz.finish().unwrap();
        let batches: Vec<RecordBatch> =
            file_batches(&path, Category::UserList).unwrap().collect::<Result<_>>().unwrap();
        let batch = &batches[0];
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.column(1).as_string::<i32>().value(0), "a,\nb@x.io");
        assert_eq!(batch.column(4).as_list::<i32>().value(0).len(), 2);
        assert!(batch.column(4).is_null(1));
    }

    #[test]
    fn csv_with_wrong_columns_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("activity.csv");
        fs::write(&path, "kind,when\nx,y\n").unwrap();
        let err = file_batches(&path, Category::Activity).err().unwrap().to_string();
        assert!(err.contains("no column 'type'"), "{err}");
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use std::fs;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Arbitrary bytes as a CSV (or gzip, or Parquet) file: rows or a clear error, never a panic.
        #[test]
        fn csv_ingest_of_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400), header in any::<bool>()) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("activity.csv");
            let mut content = if header { b"type,ts,data\n".to_vec() } else { vec![] };
            content.extend(bytes);
            fs::write(&path, content).unwrap();
            if let Ok(batches) = file_batches(&path, Category::Activity) {
                for batch in batches {
                    match batch {
                        Ok(b) => prop_assert_eq!(b.schema(), Category::Activity.schema()),
                        Err(e) => prop_assert!(!e.to_string().contains('\n')),
                    }
                }
            }
        }

        #[test]
        fn timestamps_parse_or_refuse(text in "\\PC{0,32}") {
            let _ = parse_timestamp(&text);
        }
    }
}
