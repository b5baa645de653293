//! Runs each subcommand: source → cache → engine → output or export.

use std::io::{IsTerminal, Read};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use datafusion::sql::sqlparser::ast::{ObjectName, ObjectNamePart, Statement, visit_relations};
use futures::StreamExt;

use crate::cache::Cache;
use crate::category::Category;
use crate::cli::{CacheCommand, Cli, Command, ExportArgs, GlobalArgs, QueryArgs, RangeArgs, ReportArgs};
use crate::dates::DateRange;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::export::{Destination, ExportRequest, Subject, check_targets, export};
use crate::fetch::{CachedRange, cached_range};
use crate::output::{Output, duckdb_type_name, render_table};
use crate::printer::Printer;
use crate::report::{self, spec::ChartKind, spec::Panel, spec::Spec};
use crate::source::Source;

/// Runs the command; Ctrl-C ends it with [`Error::Interrupted`]. Files being written are
/// temporary until complete, so an interrupted run leaves the cache and exports as they were.
pub async fn run(cli: Cli, printer: Printer) -> Result<()> {
    tokio::select! {
        result = dispatch(cli, printer) => result,
        _ = tokio::signal::ctrl_c() => {
            crate::carto::client::cancel_active_job().await;
            Err(Error::Interrupted)
        }
    }
}

async fn dispatch(cli: Cli, printer: Printer) -> Result<()> {
    let Cli { global, command } = cli;
    match command {
        Command::Query(args) => query(&global, args, printer).await,
        Command::Export(args) => export_command(&global, args, printer).await,
        Command::Report(args) => report_command(&global, args, printer).await,
        Command::Tables => tables(),
        Command::Cache { command } => cache_command(&global, command, printer),
    }
}

fn range(args: &RangeArgs) -> Result<DateRange> {
    DateRange::new(args.start_date, args.end_date).map_err(Error::Usage)
}

/// The SQL of `--sql`, `-f FILE`, or standard input when it is not a terminal.
fn read_sql(args: &QueryArgs) -> Result<String> {
    let from_stdin = |what: &str| -> Result<String> {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map_err(Error::io("cannot read", what))?;
        String::from_utf8(bytes).map_err(|_| Error::Usage("the SQL on standard input is not UTF-8 text".into()))
    };
    match (&args.sql, &args.file) {
        (Some(sql), _) => Ok(sql.clone()),
        (None, Some(path)) if path.as_os_str() == "-" => from_stdin("standard input"),
        (None, Some(path)) => {
            let bytes = std::fs::read(path).map_err(Error::io("cannot read the SQL file", path))?;
            String::from_utf8(bytes).map_err(|_| Error::Usage(format!("{} is not UTF-8 text", path.display())))
        }
        (None, None) if !std::io::stdin().is_terminal() => from_stdin("standard input"),
        (None, None) => Err(Error::Usage(
            "no SQL given: pass --sql \"SELECT ...\", -f FILE, or pipe the SQL on standard input".into(),
        )),
    }
}

/// The categories whose tables the statements read, so that only those are fetched.
fn referenced_categories(statements: &[Statement]) -> Vec<Category> {
    let mut found = Vec::new();
    let _ = visit_relations(&statements.to_vec(), |name: &ObjectName| {
        if let Some(ObjectNamePart::Identifier(ident)) = name.0.last()
            && let Some(category) = Category::from_name(&ident.value)
            && !found.contains(&category)
        {
            found.push(category);
        }
        ControlFlow::<()>::Continue(())
    });
    found.sort();
    found
}

/// Fetches what is missing, then registers every table: the fetched ones over their cached
/// files, the others empty (they are not read, but DESCRIBE and SHOW TABLES list them).
async fn engine_over(
    global: &GlobalArgs,
    range: DateRange,
    categories: &[Category],
    refresh: bool,
    printer: Printer,
    partitions: usize,
) -> Result<(Engine, Option<CachedRange>)> {
    let engine = Engine::new(partitions, !global.no_shredding)?;
    let cached = if categories.is_empty() {
        None
    } else {
        let cache = Cache::locate(global.cache_dir.clone())?;
        let source = Source::from_flags(global, &cache, &printer)?;
        let categories = categories.to_vec();
        let cached =
            tokio::task::spawn_blocking(move || cached_range(&source, &cache, range, &categories, refresh, &printer))
                .await
                .map_err(|e| Error::Source(format!("the fetch stopped unexpectedly: {e}")))??;
        Some(cached)
    };
    for category in Category::ALL {
        match cached.as_ref().and_then(|c| c.files.get(&category)).filter(|f| !f.is_empty()) {
            Some(files) => engine.register(category, files).await?,
            None => engine.register_empty(category)?,
        }
    }
    Ok((engine, cached))
}

async fn query(global: &GlobalArgs, args: QueryArgs, printer: Printer) -> Result<()> {
    let range = range(&args.range)?;
    let sql = read_sql(&args)?;
    let statements = crate::compat::prepare(&sql)?;
    let categories = referenced_categories(&statements);
    let (engine, _cached) = engine_over(global, range, &categories, args.range.no_cache, printer, cores()).await?;
    // Every statement is planned before any runs: an unknown table or column in the third
    // statement fails the command before the first prints anything.
    let mut frames = Vec::with_capacity(statements.len());
    for statement in statements {
        frames.push(engine.plan(statement).await?);
    }
    let count = frames.len();
    let results = futures::stream::iter(frames).then(|f| async move { f.execute_stream().await.map_err(Error::query) });
    let mut output =
        Output::new(std::io::BufWriter::new(std::io::stdout()), args.output_format(), args.max_rows, printer);
    output.write_all(results, count).await
}

/// A panel's failure, named after the panel.
fn in_panel(panel: &Panel, error: Error) -> Error {
    match error {
        Error::Query(message) => Error::Query(format!("panel '{}': {message}", panel.title)),
        Error::WriteRefused(_) => Error::Query(format!("panel '{}': {error}", panel.title)),
        other => other,
    }
}

async fn report_command(global: &GlobalArgs, args: ReportArgs, printer: Printer) -> Result<()> {
    let range = range(&args.range)?;
    let spec = match &args.spec {
        Some(path) => Spec::load(path)?,
        None => Spec::builtin(),
    };
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("carto-activity-report_{}_{}.html", range.start, range.end)));
    // Every panel's SQL is checked before anything is fetched.
    let mut planned = Vec::new();
    for panel in spec.all_panels() {
        let sql = report::fill_dates(&panel.sql, &range);
        let statements = crate::compat::prepare(&sql).map_err(|e| in_panel(&panel, e))?;
        let [statement] = <[Statement; 1]>::try_from(statements).map_err(|s| {
            Error::Query(format!("panel '{}' has {} SQL statements: give each panel one", panel.title, s.len()))
        })?;
        planned.push((panel, sql, statement));
    }
    let categories = referenced_categories(&planned.iter().map(|p| p.2.clone()).collect::<Vec<_>>());
    let (engine, _) = engine_over(global, range, &categories, args.range.no_cache, printer, cores()).await?;
    let previous_range = previous_period(&range);
    let previous_engine = match previous_range {
        Some(previous) if planned.iter().any(|p| p.0.chart == ChartKind::Figure) => {
            Some(engine_over(global, previous, &categories, false, printer, cores()).await?.0)
        }
        _ => None,
    };
    let mut panels = Vec::with_capacity(planned.len());
    for (panel, sql, statement) in planned {
        let table = run_panel(&engine, &panel, statement.clone()).await?;
        let previous = match &previous_engine {
            Some(engine) if panel.chart == ChartKind::Figure => Some(run_panel(engine, &panel, statement).await?),
            _ => None,
        };
        panels.push(report::PanelResult { panel, sql, table, previous });
    }
    let source = match (global.demo, global.source.as_deref()) {
        (true, _) | (_, Some("demo")) => "the demo organisation".to_string(),
        (_, Some(dir)) if dir != "api" => format!("files in {dir}"),
        _ => global.api_url.clone(),
    };
    let panel_count = panels.len();
    let page = report::html::render(&report::Report {
        title: spec.title.clone().unwrap_or_else(|| "CARTO activity report".into()),
        range,
        source,
        generated_at: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        panels,
    });
    write_whole_file(&output, page.as_bytes())?;
    printer.info(&format!("wrote {} ({} panels)", output.display(), panel_count));
    Ok(())
}

/// The period of the same length just before `range`, when the data can reach it.
fn previous_period(range: &DateRange) -> Option<DateRange> {
    let days = chrono::Days::new(range.len_days() as u64);
    let start = range.start.checked_sub_days(days)?;
    let end = range.start.pred_opt()?;
    (start >= crate::dates::EARLIEST).then(|| DateRange::new(start, end).ok()).flatten()
}

async fn run_panel(engine: &Engine, panel: &Panel, statement: Statement) -> Result<report::Table> {
    let frame = engine.plan(statement).await.map_err(|e| in_panel(panel, e))?;
    let columns = frame.schema().fields().iter().map(|f| f.name().clone()).collect();
    let batches = frame.collect().await.map_err(|e| in_panel(panel, Error::query(e)))?;
    Ok(report::Table::from_batches(columns, &batches))
}

/// Writes `bytes` to `path` through a temporary file in the same folder: the file is whole or
/// absent, never half-written.
fn write_whole_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-report-")
        .tempfile_in(&dir)
        .map_err(Error::io("cannot write the report in", &dir))?;
    temp.write_all(bytes)
        .and_then(|_| temp.as_file().sync_all())
        .map_err(Error::io("cannot write", temp.path().to_path_buf()))?;
    // A report is made to be shared: readable by others, as files the user writes usually are.
    std::fs::set_permissions(temp.path(), std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .map_err(Error::io("cannot write", temp.path().to_path_buf()))?;
    temp.persist(path).map_err(|e| Error::io("cannot write", path)(e.error))?;
    Ok(())
}

async fn export_command(global: &GlobalArgs, args: ExportArgs, printer: Printer) -> Result<()> {
    let range = range(&args.range)?;
    let (subjects, categories) = match &args.sql {
        Some(sql) => {
            let mut statements = crate::compat::prepare(sql)?;
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
    let destination = Destination::parse(&args.output_dir)?;
    check_targets(&request, &destination).await?;
    // One partition: the cached days are read in order, so each output file is finished
    // before the next opens and memory does not grow with the range.
    let (engine, _cached) = engine_over(global, range, &categories, args.range.no_cache, printer, 1).await?;
    export(&engine, &request, &destination, &printer).await?;
    Ok(())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn print_table(batch: RecordBatch) -> Result<()> {
    println!("{}", render_table(&batch.schema(), &[batch]));
    Ok(())
}

fn tables() -> Result<()> {
    let (mut names, mut columns, mut types) = (Vec::new(), Vec::new(), Vec::new());
    for category in Category::ALL {
        for field in category.schema().fields() {
            names.push(category.name());
            columns.push(field.name().clone());
            types.push(duckdb_type_name(field.data_type()));
        }
    }
    let batch = RecordBatch::try_from_iter(vec![
        ("table_name", Arc::new(StringArray::from(names)) as ArrayRef),
        ("column_name", Arc::new(StringArray::from(columns))),
        ("column_type", Arc::new(StringArray::from(types))),
    ])
    .map_err(|e| Error::Query(e.to_string()))?;
    print_table(batch)
}

fn cache_command(global: &GlobalArgs, command: CacheCommand, printer: Printer) -> Result<()> {
    let cache = Cache::locate(global.cache_dir.clone())?;
    match command {
        CacheCommand::Path => {
            println!("{}", cache.root().display());
            Ok(())
        }
        CacheCommand::List => {
            let entries = cache.list()?;
            let batch = RecordBatch::try_from_iter(vec![
                (
                    "source",
                    Arc::new(StringArray::from_iter_values(entries.iter().map(|e| e.source.clone()))) as ArrayRef,
                ),
                ("category", Arc::new(StringArray::from_iter_values(entries.iter().map(|e| e.category.name())))),
                ("days", Arc::new(UInt64Array::from_iter_values(entries.iter().map(|e| e.days.len() as u64)))),
                (
                    "first_day",
                    Arc::new(StringArray::from_iter(entries.iter().map(|e| e.days.first().map(|d| d.to_string())))),
                ),
                (
                    "last_day",
                    Arc::new(StringArray::from_iter(entries.iter().map(|e| e.days.last().map(|d| d.to_string())))),
                ),
                (
                    "snapshot",
                    Arc::new(StringArray::from_iter_values(
                        entries.iter().map(|e| if e.has_snapshot { "yes" } else { "no" }),
                    )),
                ),
                ("bytes", Arc::new(UInt64Array::from_iter_values(entries.iter().map(|e| e.bytes)))),
            ])
            .map_err(|e| Error::Query(e.to_string()))?;
            print_table(batch)
        }
        CacheCommand::Clear { source } => {
            let cleared = cache.clear(source.as_deref(), &printer)?;
            if cleared.is_empty() {
                printer.info("the cache was already empty");
            } else {
                printer.info(&format!("cleared {}", cleared.join(", ")));
            }
            Ok(())
        }
    }
}
