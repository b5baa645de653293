//! Runs each subcommand on one [`Context`]: the dispatcher, and Ctrl-C.

mod cache;
mod days;
mod export;
mod mcp;
mod query;
mod report;
mod shell;
mod sync;

use std::panic::AssertUnwindSafe;
use std::sync::Mutex;

use futures::FutureExt;

use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::printer::Printer;

/// Runs the command; Ctrl-C or SIGTERM ends it with [`Error::Interrupted`]. Files being written are
/// temporary until complete, so an interrupted run leaves the cache and exports as they were;
/// a CARTO job being awaited is cancelled.
pub async fn run(cli: Cli, printer: Printer) -> Result<()> {
    let Cli { global, command } = cli;
    printer.timing("runtime started");
    let context = Context::new(global.settings(), printer);
    // The shell handles Ctrl-C itself: it cancels a statement, not the session.
    let ctrl_c_ends = !matches!(command, Command::Shell(_));
    let finished = {
        let work = guarded(dispatch(&context, command));
        tokio::pin!(work);
        tokio::select! {
            result = &mut work => Some(result),
            _ = tokio::signal::ctrl_c(), if ctrl_c_ends => None,
            _ = terminated() => None,
        }
        // The abandoned command's future is dropped here: whatever it was waiting for is
        // given up, and a CARTO job's waiter sends its cancellation.
    };
    match finished {
        Some(result) => result,
        None => {
            context.finish_interrupted().await;
            Err(Error::Interrupted)
        }
    }
}

/// SIGTERM (what `kill`, systemd and schedulers send) ends a command as Ctrl-C does: the files
/// it was writing are removed. Without a handler it would end the process on the spot.
async fn terminated() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut signal) => {
            signal.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

/// The message of the last panic, kept by [`quiet_panics`] for the one-line error.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Panics (ours or DataFusion's) print nothing themselves: the command that hit one ends with
/// one line naming it (see [`guarded`]), never a backtrace.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        // The shipped executable aborts on a panic (it is smaller without unwinding tables), so
        // nothing unwinds to `guarded`: the command's one line is printed here and the process
        // ends with its status. Files being written stay temporaries, which the cache removes.
        if cfg!(panic = "abort") {
            let error = Error::panicked(&message, &place);
            Printer::error_line(&error.to_string());
            std::process::exit(error.exit_code());
        }
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(format!("{message}{place}"));
        }
    }));
}

/// A panic while the command runs becomes an error of its own (exit 1: SQL is what reaches the
/// engine's code paths that can panic).
async fn guarded(work: impl std::future::Future<Output = Result<()>>) -> Result<()> {
    AssertUnwindSafe(work).catch_unwind().await.unwrap_or_else(|payload| {
        let recorded = LAST_PANIC.lock().ok().and_then(|mut last| last.take());
        let message = recorded
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        Err(Error::panicked(&message, ""))
    })
}

async fn dispatch(context: &Context, command: Command) -> Result<()> {
    match command {
        Command::Query(args) => query::run(context, args).await,
        Command::Export(args) => export::run(context, args).await.map(drop),
        Command::Report(args) => report::run(context, args).await.map(drop),
        Command::Shell(args) => shell::run(context, args).await,
        Command::Sync(args) => sync::run(context, args).await,
        Command::Mcp(args) => mcp::serve(context, args).await,
        Command::Tables => cache::tables(),
        Command::Cache { command } => cache::run(context, command),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_one_line_with_status_1() {
        quiet_panics();
        let err = guarded(async { panic!("index out of bounds:\nthe len is 0") }).await.unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::QUERY);
        let text = err.to_string();
        assert!(
            text.starts_with("internal error while running the command: index out of bounds: the len is 0"),
            "{text}"
        );
        assert!(text.ends_with("(please report it with the SQL)") && !text.contains('\n'), "{text}");
        let _ = std::panic::take_hook();
    }
}
