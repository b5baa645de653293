//! `export`: the flags made into an export request, checked (and the target refused when it
//! exists) before anything is fetched.

use crate::category::Category;
use crate::cli::ExportArgs;
use crate::context::{Context, Parallelism};
use crate::engine::compat::{prepare, referenced_categories};
use crate::error::{Error, Result};
use crate::export::{Destination, ExportRequest, Subject, Written, check_targets, export};

pub(super) async fn run(context: &Context, args: ExportArgs) -> Result<Vec<Written>> {
    let range = args.range.resolve()?;
    let (subjects, categories) = match &args.sql {
        Some(sql) => {
            let mut statements = prepare(sql)?;
            if statements.len() != 1 {
                return Err(Error::Usage(
                    "export --sql takes one query; run the others in exports of their own".into(),
                ));
            }
            let categories = referenced_categories(&statements);
            (vec![Subject::Query(Box::new(statements.remove(0)))], categories)
        }
        None => {
            let mut categories =
                if args.categories.is_empty() { Category::ALL.to_vec() } else { args.categories.clone() };
            categories.sort();
            categories.dedup();
            (categories.iter().map(|c| Subject::Category(*c)).collect(), categories)
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
