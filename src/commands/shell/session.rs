//! One shell session: its range and engine (holding the cache lease), its settings, and what each
//! statement or dot command does. The engine is replaced when the range changes or a statement
//! reads a table not fetched yet; completion sees the new one.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;

use super::complete::Vocabulary;
use super::dot::{Dot, HELP, OutputFile};
use crate::category::Category;
use crate::context::{Context, Parallelism};
use crate::dates::DateRange;
use crate::engine::explore::{EVENT_TYPES_SQL, PayloadKeys, payload_keys};
use crate::engine::{Engine, Prepared, sql_type_name};
use crate::error::{Error, Result};
use crate::output::OutputFormat;
use crate::output::{DEFAULT_TABLE_ROWS, Output, terminal_width};
use crate::write_policy::Replace;

/// `.read` files may read others, not without end.
const MAX_READ_DEPTH: usize = 16;

/// What the shell does after an input.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    Quit,
}

pub(super) struct Session<'c> {
    context: &'c Context,
    range: DateRange,
    /// `--no-cache`: the next fetch replaces the cached days.
    refresh: bool,
    engine: Option<Arc<Engine>>,
    fetched: Vec<Category>,
    vocabulary: Arc<Mutex<Vocabulary>>,
    mode: OutputFormat,
    max_rows: usize,
    timer: bool,
    output: Option<(PathBuf, std::fs::File)>,
    once: Option<(PathBuf, std::fs::File)>,
    /// The files `.output` and `.once` created in this session: they may be replaced.
    written: std::collections::HashSet<PathBuf>,
    read_depth: usize,
}

impl<'c> Session<'c> {
    pub(super) fn new(
        context: &'c Context,
        range: DateRange,
        refresh: bool,
        vocabulary: Arc<Mutex<Vocabulary>>,
    ) -> Self {
        Session {
            context,
            range,
            refresh,
            engine: None,
            fetched: Vec::new(),
            vocabulary,
            mode: OutputFormat::Table,
            max_rows: DEFAULT_TABLE_ROWS,
            timer: false,
            output: None,
            once: None,
            written: std::collections::HashSet::new(),
            read_depth: 0,
        }
    }

    pub(super) fn range(&self) -> DateRange {
        self.range
    }

    /// An engine over the range with `needed` fetched (and what was fetched before).
    pub(super) async fn engine(&mut self, needed: &[Category]) -> Result<Arc<Engine>> {
        let mut wanted = self.fetched.clone();
        wanted.extend(needed.iter().filter(|c| !self.fetched.contains(c)));
        if let Some(engine) = &self.engine
            && wanted.len() == self.fetched.len()
        {
            return Ok(engine.clone());
        }
        self.fetch(self.range, wanted).await
    }

    /// An engine over `range` with `categories` fetched, made the session's only once it is
    /// ready: an interrupted or failed fetch leaves the session as it was.
    async fn fetch(&mut self, range: DateRange, categories: Vec<Category>) -> Result<Arc<Engine>> {
        let engine = Arc::new(self.context.engine(range, &categories, self.refresh, Parallelism::AllCores).await?);
        self.range = range;
        self.refresh = false;
        self.fetched = categories;
        self.engine = Some(engine.clone());
        if let Ok(mut vocabulary) = self.vocabulary.lock() {
            vocabulary.set_engine(engine.clone());
        }
        Ok(engine)
    }

    /// Runs a line or statement the user entered.
    pub(super) async fn run(&mut self, input: &str) -> Result<Flow> {
        let trimmed = input.trim();
        if trimmed.starts_with('.') || trimmed.starts_with('\\') {
            return Box::pin(self.run_dot(super::dot::parse(trimmed)?)).await;
        }
        self.run_sql(input).await.map(|()| Flow::Continue)
    }

    async fn run_sql(&mut self, sql: &str) -> Result<()> {
        let Prepared { statements, categories } = Prepared::new(sql)?;
        if statements.is_empty() {
            return Ok(());
        }
        let engine = self.engine(&categories).await?;
        for statement in statements {
            let started = Instant::now();
            for warning in engine.names_not_held(&statement) {
                self.context.printer().warn(&warning);
            }
            let stream = engine.plan(statement).await?.execute_stream().await.map_err(Error::query)?;
            self.print(stream).await?;
            if self.timer {
                self.context.printer().info(&format!("Run Time: {:.3} s", started.elapsed().as_secs_f64()));
            }
        }
        Ok(())
    }

    /// Prints one result in the current mode to the current target.
    async fn print(&mut self, stream: SendableRecordBatchStream) -> Result<()> {
        let printer = *self.context.printer();
        let (mode, max_rows) = (self.mode, (self.max_rows > 0).then_some(self.max_rows));
        let rows_limit = if mode == OutputFormat::Table { max_rows } else { None };
        let results = futures::stream::once(async { Ok(stream) });
        let on_terminal = self.once.is_none() && self.output.is_none();
        let target: Box<dyn Write + Send + '_> = match (self.once.take(), &mut self.output) {
            (Some((_, file)), _) => Box::new(file),
            (None, Some((_, file))) => Box::new(file),
            (None, None) => Box::new(std::io::stdout()),
        };
        let width = if on_terminal { terminal_width() } else { None };
        Output::new(target, mode, rows_limit, printer).fitted(width, ".maxrows").write_all(results, 1).await
    }

    async fn print_batch(&mut self, batch: RecordBatch) -> Result<()> {
        let stream = RecordBatchStreamAdapter::new(batch.schema(), futures::stream::once(async { Ok(batch) }));
        self.print(Box::pin(stream)).await
    }

    async fn run_dot(&mut self, dot: Dot) -> Result<Flow> {
        match dot {
            Dot::Tables => {
                let names: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
                self.print_batch(text_batch(vec![("name", names.iter().map(|n| n.to_string()).collect())])?).await?;
            }
            Dot::Schema(table) => {
                let categories: Vec<Category> = match &table {
                    None => Category::ALL.to_vec(),
                    Some(name) => vec![Category::from_name(name).ok_or_else(|| {
                        Error::Usage(format!(
                            "no table named '{name}': the tables are activity, apiUsage, userList and groupList"
                        ))
                    })?],
                };
                let text: String = categories.iter().map(|c| format!("{}\n", create_table(*c))).collect();
                self.print_text(&text)?;
            }
            Dot::Mode(mode) => self.mode = mode,
            Dot::MaxRows(n) => self.max_rows = n,
            Dot::Timer(on) => self.timer = on,
            Dot::Output(None) => self.output = None,
            Dot::Output(Some(target)) => self.output = Some(self.open_output(".output", target)?),
            Dot::Once(target) => self.once = Some(self.open_output(".once", target)?),
            Dot::Read(path) => return self.read(path).await,
            Dot::Range(range) => {
                let categories = if self.fetched.is_empty() { vec![Category::Activity] } else { self.fetched.clone() };
                self.fetch(range, categories).await?;
                self.context.printer().info(&format!(
                    "range: {} to {} ({} days)",
                    range.start,
                    range.end,
                    range.len_days()
                ));
            }
            Dot::Types => self.run_sql(EVENT_TYPES_SQL).await?,
            Dot::Keys(event_type) => {
                let engine = self.engine(&[Category::Activity]).await?;
                let PayloadKeys { payloads, keys } = payload_keys(&engine, Some(&event_type), None).await?;
                if payloads == 0 {
                    return Err(Error::Usage(format!(
                        "no events of type '{event_type}' from {} to {}: .types lists the types",
                        self.range.start, self.range.end
                    )));
                }
                let batch = RecordBatch::try_from_iter(vec![
                    ("key", strings(keys.iter().map(|k| k.path.clone()).collect())),
                    ("json_path", strings(keys.iter().map(|k| format!("$.{}", k.path)).collect())),
                    (
                        "payloads",
                        Arc::new(Int64Array::from(keys.iter().map(|k| k.count as i64).collect::<Vec<_>>())) as ArrayRef,
                    ),
                    ("example", strings(keys.iter().map(|k| k.example.to_string()).collect())),
                ])
                .map_err(|e| Error::internal("listing the keys")(e.to_string()))?;
                self.context.printer().info(&format!("{payloads} payloads of {event_type}"));
                self.print_batch(batch).await?;
            }
            Dot::Help => self.print_text(&format!("{HELP}\n"))?,
            Dot::Quit => return Ok(Flow::Quit),
        }
        Ok(Flow::Continue)
    }

    /// A new file for `.output`/`.once`: never through a link, over a device or into the cache;
    /// over an existing file only if this session wrote it or `--overwrite` was given.
    fn open_output(&mut self, what: &str, target: OutputFile) -> Result<(PathBuf, std::fs::File)> {
        let written = self.written.contains(&target.path);
        let replace = if target.overwrite { Replace::Always } else { Replace::IfWrittenHere(written) };
        let path = self.context.write_policy().file(&target.path, what, &[], replace)?;
        if path.exists() {
            std::fs::remove_file(&path).map_err(Error::io("cannot replace", &path))?;
        }
        // Created new: if a link or another file took the name meanwhile, this fails.
        let file = std::fs::File::create_new(&path).map_err(Error::io("cannot write", &path))?;
        self.written.insert(target.path);
        Ok((path, file))
    }

    /// `.read FILE`: its statements and dot commands in order; the first error ends it.
    async fn read(&mut self, path: PathBuf) -> Result<Flow> {
        if self.read_depth >= MAX_READ_DEPTH {
            return Err(Error::Usage(format!("{}: .read nested more than {MAX_READ_DEPTH} deep", path.display())));
        }
        let script = crate::input::read_file_async(&path, "the script", crate::input::MAX_TEXT_BYTES).await?;
        self.read_depth += 1;
        let mut flow = Ok(Flow::Continue);
        for input in super::split_script(script.trim_start_matches('\u{feff}')) {
            flow = Box::pin(self.run(&input)).await;
            if !matches!(flow, Ok(Flow::Continue)) {
                break;
            }
        }
        self.read_depth -= 1;
        flow
    }

    fn print_text(&mut self, text: &str) -> Result<()> {
        match (self.once.take(), &mut self.output) {
            (Some((path, mut file)), _) => file.write_all(text.as_bytes()).map_err(Error::io("cannot write", path)),
            (None, Some((path, file))) => {
                file.write_all(text.as_bytes()).map_err(Error::io("cannot write", path.clone()))
            }
            (None, None) => crate::output::print_text(text.trim_end_matches('\n')),
        }
    }
}

/// DuckDB's `.schema` line for a table.
fn create_table(category: Category) -> String {
    let columns: Vec<String> =
        category.schema().fields().iter().map(|f| format!("{} {}", f.name(), sql_type_name(f.data_type()))).collect();
    format!("CREATE TABLE {}({});", category.name(), columns.join(", "))
}

fn strings(values: Vec<String>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

fn text_batch(columns: Vec<(&str, Vec<String>)>) -> Result<RecordBatch> {
    RecordBatch::try_from_iter(columns.into_iter().map(|(name, values)| (name, strings(values))))
        .map_err(|e| Error::internal("listing the tables")(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_lines_are_create_table_statements() {
        assert_eq!(create_table(Category::GroupList), "CREATE TABLE groupList(group_id VARCHAR, group_alias VARCHAR);");
    }
}
