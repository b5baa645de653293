//! The `carto-activity` executable: parses the flags, runs the command, maps its error to an
//! exit status.

use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

use carto_activity::cli::Cli;
use carto_activity::error::{Error, exit};
use carto_activity::printer::Printer;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // Help and --version print to stdout and succeed.
            let _ = err.print();
            return ExitCode::from(exit::OK as u8);
        }
        // No command (`carto-activity` alone, or with only global flags): the help, laid out as
        // help, on stderr.
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand
            ) =>
        {
            let _ = write!(std::io::stderr(), "{}", Cli::command().render_help());
            return ExitCode::from(exit::USAGE as u8);
        }
        Err(err) => {
            Printer::usage_error(&err.render().to_string());
            return ExitCode::from(exit::USAGE as u8);
        }
    };
    let printer = Printer::new(cli.global.quiet, cli.global.verbose);
    carto_activity::quiet_panics();
    // One worker more than the engine's partitions: while queries keep the others busy, it
    // still reads signals, stdin and the network (Ctrl-C, an MCP client's cancellation).
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        // The planner recurses over the query's tree; DataFusion's own CLI gives it room as well.
        .thread_stack_size(16 << 20)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            printer.error(&format!("cannot start: {err}"));
            return ExitCode::from(exit::LOCAL_IO as u8);
        }
    };
    let result = runtime.block_on(carto_activity::run(cli, printer));
    if matches!(result, Err(Error::Interrupted)) {
        // An abandoned export's last uploads may still be landing in its staging folder: give
        // them a moment, then remove the folder for good. (A fetch's files are only temporaries.)
        runtime.shutdown_timeout(std::time::Duration::from_secs(2));
        carto_activity::remove_abandoned_staging();
    } else {
        runtime.shutdown_background();
    }
    match result {
        Ok(()) | Err(Error::OutputClosed) => ExitCode::SUCCESS,
        Err(err) => {
            printer.error(&err.to_string());
            ExitCode::from(err.exit_code() as u8)
        }
    }
}
