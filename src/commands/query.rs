//! `query`: SQL from `--sql`, a file or standard input, every statement planned before the
//! first runs, results printed as they come.

use std::io::{IsTerminal, Read};

use futures::StreamExt;

use crate::cli::QueryArgs;
use crate::context::{Context, Parallelism};
use crate::engine::compat::{prepare, referenced_categories};
use crate::error::{Error, Result};
use crate::output::Output;

pub(super) async fn run(context: &Context, args: QueryArgs) -> Result<()> {
    let range = args.range.resolve()?;
    let sql = read_sql(&args)?;
    let statements = prepare(&sql)?;
    let categories = referenced_categories(&statements);
    let engine = context.engine(range, &categories, args.range.no_cache, Parallelism::AllCores).await?;
    context.printer().timing("tables registered");
    // Every statement is planned before any runs: an unknown table or column in the third
    // statement fails the command before the first prints anything.
    let mut frames = Vec::with_capacity(statements.len());
    for statement in statements {
        frames.push(engine.plan(statement).await?);
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
fn read_sql(args: &QueryArgs) -> Result<String> {
    let sql = read_sql_text(args)?;
    Ok(sql.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(sql))
}

/// SQL longer than this is refused: no one writes it, and `-f /dev/zero` must not read forever.
const MAX_SQL_BYTES: u64 = 16 * 1024 * 1024;

fn read_sql_text(args: &QueryArgs) -> Result<String> {
    match (&args.sql, &args.file) {
        (Some(sql), _) => Ok(sql.clone()),
        (None, Some(path)) if path.as_os_str() == "-" => read_limited(std::io::stdin(), "the SQL on standard input"),
        (None, Some(path)) => {
            let file = std::fs::File::open(path).map_err(Error::io("cannot read the SQL file", path))?;
            read_limited(file, &path.display().to_string())
        }
        (None, None) if !std::io::stdin().is_terminal() => read_limited(std::io::stdin(), "the SQL on standard input"),
        (None, None) => Err(Error::Usage(
            "no SQL given: pass --sql \"SELECT ...\", -f FILE, or pipe the SQL on standard input".into(),
        )),
    }
}

pub(super) fn read_limited(input: impl Read, what: &str) -> Result<String> {
    let mut bytes = Vec::new();
    input.take(MAX_SQL_BYTES + 1).read_to_end(&mut bytes).map_err(Error::io("cannot read", what))?;
    if bytes.len() as u64 > MAX_SQL_BYTES {
        return Err(Error::Usage(format!(
            "{what} is longer than {} MiB: that is not SQL to run (check the file name)",
            MAX_SQL_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|_| Error::Usage(format!("{what} is not UTF-8 text")))
}
