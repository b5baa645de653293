//! `query`: SQL from `--sql`, a file or standard input, every statement planned before the
//! first runs, results printed as they come.

use std::io::IsTerminal;

use futures::StreamExt;

use super::days::days_to_read;
use crate::cli::QueryArgs;
use crate::context::{Context, Parallelism};
use crate::engine::Prepared;
use crate::error::{Error, Result};
use crate::input::{MAX_TEXT_BYTES, read_file_async, read_stdin};
use crate::output::Output;

pub(super) async fn run(context: &Context, args: QueryArgs) -> Result<()> {
    let given = args.range.resolve()?;
    let sql = read_sql(&args).await?;
    let Prepared { statements, categories } = Prepared::new(&sql)?;
    let ranges = days_to_read(context, given, &statements, &categories).await?;
    let engine = context.engine_over(&ranges, &categories, args.range.no_cache, Parallelism::AllCores).await?;
    context.printer().timing("tables registered");
    // Every statement is planned before any runs: an unknown table or column in the third
    // statement fails the command before the first prints anything.
    let mut frames = Vec::with_capacity(statements.len());
    let mut warnings = Vec::new();
    for statement in statements {
        warnings.extend(engine.names_not_held(&statement));
        frames.push(engine.plan(statement).await?);
    }
    for warning in warnings {
        context.printer().warn(&warning);
    }
    let count = frames.len();
    context.printer().timing("statements planned");
    let results = futures::stream::iter(frames).then(|f| async move { f.execute_stream().await.map_err(Error::query) });
    let mut output = Output::new(
        std::io::BufWriter::new(std::io::stdout()),
        args.output_format(),
        args.max_rows,
        *context.printer(),
    );
    output.write_all(results, count).await?;
    context.printer().timing("results written");
    Ok(())
}

/// The SQL of `--sql`, `-f FILE`, or standard input when it is not a terminal, without the
/// byte-order mark some editors start a file with.
async fn read_sql(args: &QueryArgs) -> Result<String> {
    let sql = match (&args.sql, &args.file) {
        (Some(sql), _) => sql.clone(),
        (None, Some(path)) if path.as_os_str() == "-" => read_stdin("the SQL on standard input").await?,
        (None, Some(path)) => read_file_async(path, "the SQL file", MAX_TEXT_BYTES).await?,
        (None, None) if !std::io::stdin().is_terminal() => read_stdin("the SQL on standard input").await?,
        (None, None) => {
            return Err(Error::Usage(
                "no SQL given: pass --sql \"SELECT ...\", -f FILE, or pipe the SQL on standard input".into(),
            ));
        }
    };
    Ok(sql.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(sql))
}
