//! `export`: the flags made into an export request, checked (and the target refused when it
//! exists) before anything is fetched.

use super::days::days_to_read;
use crate::category::Category;
use crate::cli::ExportArgs;
use crate::context::{Context, Parallelism};
use crate::dates::DateRange;
use crate::engine::Prepared;
use crate::error::{Error, Result};
use crate::export::{Destination, ExportRequest, Subject, Written, check_targets, export};

pub(super) async fn run(context: &Context, args: ExportArgs) -> Result<Vec<Written>> {
    let given = args.range.resolve()?;
    let (subjects, categories, range) = match &args.sql {
        Some(sql) => {
            let Prepared { mut statements, categories } = Prepared::new(sql)?;
            if statements.len() != 1 {
                return Err(Error::Usage(
                    "export --sql takes one query; run the others in exports of their own".into(),
                ));
            }
            // The days the query's filter on ts selects, as one range (the files are named by it).
            let ranges = days_to_read(context, given, &statements, &categories).await?;
            let range = match (ranges.first(), ranges.last()) {
                (Some(first), Some(last)) => DateRange { start: first.start, end: last.end },
                _ => return Err(Error::Internal("no days to export".into())),
            };
            (vec![Subject::Query(Box::new(statements.remove(0)))], categories, range)
        }
        None => {
            let Some(range) = given else {
                return Err(Error::Usage(
                    "export of whole categories needs --start-date and --end-date (only an --sql export takes its days from the SQL)".into(),
                ));
            };
            let mut categories =
                if args.categories.is_empty() { Category::ALL.to_vec() } else { args.categories.clone() };
            categories.sort();
            categories.dedup();
            (categories.iter().map(|c| Subject::Category(*c)).collect(), categories, range)
        }
    };
    let request = ExportRequest {
        subjects,
        range,
        format: args.format,
        compression: args.compression.unwrap_or(ExportRequest::default_compression(args.format)),
        row_group_size: args.row_group_size as usize,
        partition_by: args.partition_by,
        max_rows_per_file: args.max_rows_per_file,
        overwrite: args.overwrite,
    };
    request.validate()?;
    let destination = Destination::parse("--output-dir", &args.output_dir, &context.write_policy())?;
    // From the check of what exists to the last file written, no other export writes here.
    let lock = destination.lock().await?;
    let outcome = async {
        check_targets(&request, &destination).await?;
        let engine = context.engine(range, &categories, args.range.no_cache, Parallelism::InOrder).await?;
        export(&engine, &request, &destination, context.printer()).await
    }
    .await;
    destination.unlock(lock).await;
    outcome
}
