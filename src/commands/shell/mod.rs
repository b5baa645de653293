//! `shell`: an interactive session over one range, with a line editor (reedline), history, TAB
//! completion that knows the data, and DuckDB's dot commands. Ctrl-C cancels what runs and
//! returns to the prompt; Ctrl-D leaves. With standard input not a terminal it runs the piped
//! statements and dot commands in order, stopping at the first error, without editor or history.

mod complete;
mod dot;
mod session;
mod statements;

use std::borrow::Cow;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::Days;
use reedline::{
    ColumnarMenu, Emacs, FileBackedHistory, KeyCode, KeyModifiers, MenuBuilder, Prompt, PromptEditMode,
    PromptHistorySearch, Reedline, ReedlineEvent, ReedlineMenu, Signal, default_emacs_keybindings,
};
use tokio::signal::unix::{SignalKind, signal};

use crate::category::Category;
use crate::cli::ShellArgs;
use crate::context::Context;
use crate::dates::DateRange;
use crate::error::{Error, Result};
use complete::{SqlCompleter, Vocabulary};
use session::{Flow, Session};
use statements::{StatementValidator, no_code, statement_complete};

/// Statements kept in the history file.
const HISTORY_ENTRIES: usize = 10_000;

pub(super) async fn run(context: &Context, args: ShellArgs) -> Result<()> {
    let range = match (args.start_date, args.end_date) {
        (Some(start), Some(end)) => DateRange::new(start, end).map_err(Error::Usage)?,
        _ => last_complete_week(),
    };
    let runtime = tokio::runtime::Handle::current();
    let vocabulary = Arc::new(Mutex::new(Vocabulary::new(runtime.clone())));
    let mut session = Session::new(context, range, args.no_cache, vocabulary.clone());
    // Ctrl-C is ours from here on: it cancels what runs, it does not end the process.
    let mut interrupts =
        signal(SignalKind::interrupt()).map_err(|e| Error::Internal(format!("cannot handle Ctrl-C: {e}")))?;
    if !std::io::stdin().is_terminal() {
        let script = match interruptible(&mut interrupts, crate::input::read_stdin("the SQL on standard input")).await {
            Some(script) => script?,
            None => return Err(Error::Interrupted),
        };
        for input in split_script(script.trim_start_matches('\u{feff}')) {
            match interruptible(&mut interrupts, session.run(&input)).await {
                Some(Ok(Flow::Continue)) => {}
                Some(Ok(Flow::Quit)) => break,
                Some(Err(e)) => return Err(e),
                None => {
                    context.finish_interrupted().await;
                    return Err(Error::Interrupted);
                }
            }
        }
        return Ok(());
    }
    let history = if args.no_history { None } else { history_file(context) };
    let mut editor = editor(vocabulary, history)?;
    tokio::task::block_in_place(|| interactive(context, &mut session, &mut editor, &mut interrupts, &runtime))
}

/// The last 7 complete UTC days (a day is complete at 05:00 UTC the next day).
fn last_complete_week() -> DateRange {
    let end = crate::source::api::newest_ready_day(chrono::Utc::now());
    DateRange { start: end - Days::new(6), end }
}

fn interactive(
    context: &Context,
    session: &mut Session,
    editor: &mut Reedline,
    interrupts: &mut tokio::signal::unix::Signal,
    runtime: &tokio::runtime::Handle,
) -> Result<()> {
    let printer = *context.printer();
    let range = session.range();
    printer.info(&format!(
        "carto-activity shell over {} to {} ({} days) of {}. Statements end with ';'; .help lists the commands; Ctrl-D leaves.",
        range.start,
        range.end,
        range.len_days(),
        context.source_label()
    ));
    let report = |outcome: Option<Result<Flow>>| -> Result<Flow> {
        match outcome {
            Some(Err(Error::OutputClosed)) => Ok(Flow::Quit),
            Some(Err(e)) => {
                printer.error(&e.to_string());
                Ok(Flow::Continue)
            }
            Some(flow) => flow,
            None => {
                runtime.block_on(context.finish_interrupted());
                printer.info("interrupted");
                Ok(Flow::Continue)
            }
        }
    };
    report(runtime.block_on(interruptible(interrupts, async {
        session.engine(&[Category::Activity]).await.map(|_| Flow::Continue)
    })))?;
    let prompt = ShellPrompt;
    loop {
        match editor.read_line(&prompt) {
            Ok(Signal::Success(line)) => {
                if let Err(e) = editor.sync_history() {
                    printer.warn(&format!("the history was not saved: {e}"));
                }
                if line.trim().is_empty() {
                    continue;
                }
                let typed_ahead = TypedAhead::start();
                let flow = report(runtime.block_on(interruptible(interrupts, session.run(&line))))?;
                drop(typed_ahead);
                if flow == Flow::Quit {
                    return Ok(());
                }
            }
            // Ctrl-C at the prompt clears the line, as in DuckDB's shell; it never leaves.
            Ok(Signal::CtrlC) => {}
            Ok(Signal::CtrlD) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(Error::Internal(format!("the line editor failed: {e}"))),
        }
    }
}

/// While a statement runs, the terminal keeps each line typed ahead ending in `\r`, as the
/// Enter key sends it once the editor reads: with the terminal's usual `\n`, the editor would
/// take the lines as one batch and run only the first. (The kernel holds them until then.)
struct TypedAhead(Option<rustix::termios::Termios>);

impl TypedAhead {
    fn start() -> TypedAhead {
        use rustix::termios::{InputModes, OptionalActions, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        let Ok(saved) = tcgetattr(&stdin) else { return TypedAhead(None) };
        let mut typed = saved.clone();
        typed.input_modes.remove(InputModes::ICRNL);
        typed.input_modes.insert(InputModes::INLCR);
        match tcsetattr(&stdin, OptionalActions::Now, &typed) {
            Ok(()) => TypedAhead(Some(saved)),
            Err(_) => TypedAhead(None),
        }
    }
}

impl Drop for TypedAhead {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = rustix::termios::tcsetattr(std::io::stdin(), rustix::termios::OptionalActions::Now, saved);
        }
    }
}

/// Runs `work` until it ends, or until Ctrl-C (`None`: the work is dropped, which cancels it).
async fn interruptible<T>(interrupts: &mut tokio::signal::unix::Signal, work: impl Future<Output = T>) -> Option<T> {
    // A Ctrl-C that came after the last statement had finished is not meant for this one.
    while futures::FutureExt::now_or_never(interrupts.recv()).is_some() {}
    tokio::select! {
        result = work => Some(result),
        _ = interrupts.recv() => None,
    }
}

fn editor(vocabulary: Arc<Mutex<Vocabulary>>, history: Option<PathBuf>) -> Result<Reedline> {
    let mut keybindings = default_emacs_keybindings();
    keybindings.add_binding(
        KeyModifiers::NONE,
        KeyCode::Tab,
        ReedlineEvent::UntilFound(vec![ReedlineEvent::Menu("completion_menu".into()), ReedlineEvent::MenuNext]),
    );
    // A LF that reaches the editor (raw mode reads it as Ctrl-J: text pasted without bracketed
    // paste) starts a new line of the statement; the Enter key's CR runs what is complete. Lines
    // typed ahead while a statement runs arrive with CRs (see `TypedAhead`).
    keybindings.add_binding(
        KeyModifiers::CONTROL,
        KeyCode::Char('j'),
        ReedlineEvent::Edit(vec![reedline::EditCommand::InsertNewline]),
    );
    let menu = ColumnarMenu::default().with_name("completion_menu");
    let mut editor = Reedline::create()
        .with_completer(Box::new(SqlCompleter(vocabulary)))
        .with_menu(ReedlineMenu::EngineCompleter(Box::new(menu)))
        .with_quick_completions(true)
        .with_partial_completions(true)
        .with_edit_mode(Box::new(Emacs::new(keybindings)))
        .with_validator(Box::new(StatementValidator));
    if let Some(path) = history {
        let history = FileBackedHistory::with_file(HISTORY_ENTRIES, path.clone())
            .map_err(|e| Error::Internal(format!("cannot open the history {}: {e}", path.display())))?;
        editor = editor.with_history(Box::new(history));
    }
    Ok(editor)
}

/// `$XDG_STATE_HOME/carto-activity/history` (else `~/.local/state/...`), readable by the user
/// alone: statements can name people and projects. `None` (with a warning) when it cannot be made.
fn history_file(context: &Context) -> Option<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let dir = dirs::state_dir()?.join("carto-activity");
    let path = dir.join("history");
    // A link in their place would have its target appended to and made private: never followed.
    for place in [&dir, &path] {
        if std::fs::symlink_metadata(place).is_ok_and(|m| m.file_type().is_symlink()) {
            context.printer().warn(&format!(
                "no history this time: {} is a symbolic link (remove it, and a history file is made there)",
                place.display()
            ));
            return None;
        }
    }
    if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
        context.printer().warn(&format!("no history this time: {} is not a regular file", path.display()));
        return None;
    }
    let made = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).and_then(|()| {
        let file = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(&path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
    });
    match made {
        Ok(()) => Some(path),
        Err(e) => {
            context.printer().warn(&format!("no history this time: cannot write {}: {e}", path.display()));
            None
        }
    }
}

/// A script's statements (each ended by `;`, over as many lines as it takes) and dot commands
/// (a line each, between statements), in order.
pub(super) fn split_script(script: &str) -> Vec<String> {
    let mut inputs = Vec::new();
    let mut pending = String::new();
    for line in script.lines() {
        let trimmed = line.trim_start();
        if no_code(&pending) && (trimmed.starts_with('.') || trimmed.starts_with('\\')) {
            inputs.push(trimmed.to_string());
            pending.clear();
            continue;
        }
        pending.push_str(line);
        pending.push('\n');
        if statement_complete(&pending) {
            inputs.push(std::mem::take(&mut pending));
        }
    }
    if !no_code(&pending) {
        inputs.push(pending);
    }
    inputs
}

struct ShellPrompt;

impl Prompt for ShellPrompt {
    fn render_prompt_left(&self) -> Cow<'_, str> {
        Cow::Borrowed("carto")
    }
    fn render_prompt_right(&self) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
    fn render_prompt_indicator(&self, _: PromptEditMode) -> Cow<'_, str> {
        Cow::Borrowed("> ")
    }
    fn render_prompt_multiline_indicator(&self) -> Cow<'_, str> {
        Cow::Borrowed("   ·> ")
    }
    fn render_prompt_history_search_indicator(&self, search: PromptHistorySearch) -> Cow<'_, str> {
        Cow::Owned(format!("(search: {}) ", search.term))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_split_into_statements_and_dot_commands() {
        let script = "-- header\n.mode json\nSELECT 1;\n.mode csv\nSELECT\n  ';' AS x; SELECT 2;\n.maxrows 3\nSELECT 3";
        assert_eq!(
            split_script(script),
            [".mode json", "SELECT 1;\n", ".mode csv", "SELECT\n  ';' AS x; SELECT 2;\n", ".maxrows 3", "SELECT 3\n"]
        );
    }

    #[test]
    fn the_default_range_is_the_last_seven_complete_days() {
        let range = last_complete_week();
        assert_eq!(range.len_days(), 7);
        assert!(range.end < chrono::Utc::now().date_naive());
    }
}
