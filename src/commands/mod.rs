//! Runs each subcommand on one [`Context`]: the dispatcher, and Ctrl-C.

mod cache;
mod export;
mod query;
mod report;

use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::printer::Printer;

/// Runs the command; Ctrl-C ends it with [`Error::Interrupted`]. Files being written are
/// temporary until complete, so an interrupted run leaves the cache and exports as they were;
/// a CARTO job being awaited is cancelled.
pub async fn run(cli: Cli, printer: Printer) -> Result<()> {
    let Cli { global, command } = cli;
    let context = Context::new(global, printer);
    let finished = {
        let work = dispatch(&context, command);
        tokio::pin!(work);
        tokio::select! {
            result = &mut work => Some(result),
            _ = tokio::signal::ctrl_c() => None,
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

async fn dispatch(context: &Context, command: Command) -> Result<()> {
    match command {
        Command::Query(args) => query::run(context, args).await,
        Command::Export(args) => export::run(context, args).await,
        Command::Report(args) => report::run(context, args).await,
        Command::Tables => cache::tables(),
        Command::Cache { command } => cache::run(context, command),
    }
}
