use std::process::ExitCode;

use clap::Parser;

use carto_activity::cli::Cli;
use carto_activity::commands::run;
use carto_activity::error::exit;
use carto_activity::printer::Printer;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and --version print to stdout and succeed; bad flags are usage errors.
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { exit::USAGE as u8 } else { exit::OK as u8 });
        }
    };
    let printer = Printer::new(cli.global.quiet, cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            printer.error(&format!("cannot start: {err}"));
            return ExitCode::from(exit::LOCAL_IO as u8);
        }
    };
    let result = runtime.block_on(run(cli, printer));
    // Do not wait for a fetch that an interrupt abandoned: its files are only temporaries.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            printer.error(&err.to_string());
            ExitCode::from(err.exit_code() as u8)
        }
    }
}
