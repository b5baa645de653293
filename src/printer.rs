//! Everything that is not a result goes to stderr through the `Printer`: warnings, notes,
//! progress. Results are written to stdout by `output` alone.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    verbosity: Verbosity,
    stderr_is_terminal: bool,
    /// When the command started (just after its arguments were parsed), for [`Printer::timing`].
    started: Instant,
}

/// clap's rendered error as one line: its message and tip, without the usage text.
pub(crate) fn usage_line(rendered: &str) -> String {
    let parts: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .collect();
    parts.join(" ")
}

impl Printer {
    pub fn new(quiet: bool, verbose: u8) -> Self {
        let verbosity = match (quiet, verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, _) => Verbosity::Verbose,
        };
        Printer { verbosity, stderr_is_terminal: std::io::stderr().is_terminal(), started: Instant::now() }
    }

    /// Something the user should know even when all goes well (not shown with --quiet).
    pub fn warn(&self, message: &str) {
        if self.verbosity != Verbosity::Quiet {
            say(format_args!("warning: {message}"));
        }
    }

    /// A short note on what was done (not shown with --quiet).
    pub fn info(&self, message: &str) {
        if self.verbosity != Verbosity::Quiet {
            say(format_args!("{message}"));
        }
    }

    /// Detail for -v.
    pub fn debug(&self, message: &str) {
        if self.verbosity == Verbosity::Verbose {
            say(format_args!("{message}"));
        }
    }

    /// For -v: how long after the start a step of the command ended (where fixed costs go).
    pub fn timing(&self, step: &str) {
        self.debug(&format!("timing: {step} at {:.1} ms", self.started.elapsed().as_secs_f64() * 1000.0));
    }

    /// A flag the parser refused, as one line: its message and tip, without the usage text.
    pub fn usage_error(rendered: &str) {
        say(format_args!("{}", usage_line(rendered)));
    }

    pub fn error(&self, message: &str) {
        Self::error_line(message);
    }

    /// An error's line where no printer is at hand (a panic hook).
    pub(crate) fn error_line(message: &str) {
        say(format_args!("error: {message}"));
    }

    fn bar(&self, total: Option<u64>, template: &str, what: &str) -> ProgressBar {
        if self.verbosity == Verbosity::Quiet || !self.stderr_is_terminal {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    }

    /// A progress bar of items on stderr, hidden when stderr is not a terminal or with --quiet.
    pub fn progress(&self, total: u64, what: &str) -> ProgressBar {
        self.bar(Some(total), "{msg:>12} [{bar:30}] {pos}/{len} {elapsed}", what)
    }

    /// A progress bar of bytes (downloads, exports), hidden like [`Printer::progress`].
    pub fn bytes(&self, total: u64, what: &str) -> ProgressBar {
        self.bar(Some(total), "{msg:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}", what)
    }

    /// A spinner with a changing message (a job's status), hidden like [`Printer::progress`].
    pub fn spinner(&self, what: &str) -> ProgressBar {
        self.bar(None, "{spinner} {msg} {elapsed}", what)
    }
}

/// One line on stderr. A closed or full stderr is no reason to fail (nor to panic, as
/// `eprintln!` would): the line is lost.
fn say(line: std::fmt::Arguments) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
