//! The shell's dot commands, named as DuckDB's CLI names them (and datafusion-cli's `\d`, `\q`).

use std::path::PathBuf;

use crate::choice::Named;
use crate::dates::{DateRange, parse_date};
use crate::error::{Error, Result};
use crate::output::OutputFormat;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Dot {
    Tables,
    Schema(Option<String>),
    Mode(OutputFormat),
    MaxRows(usize),
    Timer(bool),
    /// Results to this file from now on; `None`: back to the terminal.
    Output(Option<OutputFile>),
    /// The next result to this file.
    Once(OutputFile),
    Read(PathBuf),
    Range(DateRange),
    Types,
    Keys(String),
    Help,
    Quit,
}

/// A file named by `.output` or `.once`, and whether `--overwrite` came before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OutputFile {
    pub path: PathBuf,
    pub overwrite: bool,
}

/// The names, for completion and `.help`, in the order `.help` lists them.
pub(super) const COMMANDS: &[&str] = &[
    "tables", "schema", "mode", "maxrows", "timer", "output", "once", "read", "range", "types", "keys", "help", "quit",
    "exit",
];

pub(super) const HELP: &str = "\
.tables                 the tables (\\d too)
.schema [TABLE]         their columns as CREATE TABLE statements (\\d TABLE too)
.mode MODE              table, csv, json, ndjson, markdown or line
.maxrows N              rows shown per result in table mode (0: all)
.timer on|off           the time of each statement
.output [FILE]          results to FILE from now on; without FILE, back to the terminal
.once FILE              the next result to FILE (an existing file that this session did not
                        write is replaced only as .once --overwrite FILE; .output likewise)
.read FILE              run the SQL and dot commands of FILE
.range START END        query another range (YYYY-MM-DD, UTC); missing days are fetched
.types                  event types with their counts over the range
.keys TYPE              the JSON keys of TYPE's payloads, with how many payloads have each
.help                   this list
.quit                   leave (Ctrl-D and \\q too)
SQL statements end with `;` and may span lines. TAB completes tables, columns, functions,
event types after `type =` and JSON keys inside `data->>'`. Ctrl-C cancels a running statement.";

/// Parses a line starting with `.` or `\`.
pub(super) fn parse(line: &str) -> Result<Dot> {
    let line = line.trim();
    let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let args: Vec<&str> = rest.split_whitespace().collect();
    let usage = |form: &str| Error::Usage(format!("{name} takes {form}: .help shows every command"));
    let one = |form: &str| match args.as_slice() {
        [only] => Ok(only.to_string()),
        _ => Err(usage(form)),
    };
    let none = |dot: Dot| if args.is_empty() { Ok(dot) } else { Err(usage("no arguments")) };
    match name {
        ".tables" => none(Dot::Tables),
        "\\d" if args.is_empty() => Ok(Dot::Tables),
        ".schema" | "\\d" => match args.as_slice() {
            [] => Ok(Dot::Schema(None)),
            [table] => Ok(Dot::Schema(Some(table.to_string()))),
            _ => Err(usage("at most one table name")),
        },
        ".mode" => {
            let mode = one("a mode: table, csv, json, ndjson, markdown or line")?;
            OutputFormat::from_name(&mode).map(Dot::Mode).ok_or_else(|| {
                Error::Usage(format!("unknown mode '{mode}': use table, csv, json, ndjson, markdown or line"))
            })
        }
        ".maxrows" => {
            let n = one("a number of rows")?;
            n.parse()
                .map(Dot::MaxRows)
                .map_err(|_| Error::Usage(format!("'{n}' is not a number of rows: write e.g. .maxrows 100")))
        }
        ".timer" => match one("on or off")?.to_ascii_lowercase().as_str() {
            "on" => Ok(Dot::Timer(true)),
            "off" => Ok(Dot::Timer(false)),
            _ => Err(usage("on or off")),
        },
        ".output" => match args.as_slice() {
            [] => Ok(Dot::Output(None)),
            [file] | ["--overwrite", file] => Ok(Dot::Output(Some(output_file(&args, file)))),
            _ => Err(usage("one file name ([--overwrite] FILE), or nothing for the terminal")),
        },
        ".once" => match args.as_slice() {
            [file] | ["--overwrite", file] => Ok(Dot::Once(output_file(&args, file))),
            _ => Err(usage("one file name: .once [--overwrite] FILE")),
        },
        ".read" => one("one file name").map(|f| Dot::Read(PathBuf::from(f))),
        ".range" => match args.as_slice() {
            [start, end] => {
                let start = parse_date(start).map_err(Error::Usage)?;
                let end = parse_date(end).map_err(Error::Usage)?;
                DateRange::new(start, end).map(Dot::Range).map_err(Error::Usage)
            }
            _ => Err(usage("two dates: .range 2025-10-01 2025-10-07")),
        },
        ".types" => none(Dot::Types),
        ".keys" => match rest.trim() {
            "" => Err(usage("an event type: .keys MapViewed (.types lists them)")),
            event_type => Ok(Dot::Keys(event_type.trim_matches('\'').to_string())),
        },
        ".help" => Ok(Dot::Help),
        ".quit" | ".exit" | "\\q" => none(Dot::Quit),
        other => Err(Error::Usage(format!("unknown command '{other}': .help lists the commands"))),
    }
}

fn output_file(args: &[&str], file: &str) -> OutputFile {
    OutputFile { path: PathBuf::from(file), overwrite: args.first() == Some(&"--overwrite") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_as_duckdb_names_them() {
        assert_eq!(parse(".tables").unwrap(), Dot::Tables);
        assert_eq!(parse("\\d").unwrap(), Dot::Tables);
        assert_eq!(parse("\\d userList").unwrap(), Dot::Schema(Some("userList".into())));
        assert_eq!(parse(".mode CSV").unwrap(), Dot::Mode(OutputFormat::Csv));
        assert_eq!(parse(".mode line").unwrap(), Dot::Mode(OutputFormat::Line));
        assert_eq!(parse(".maxrows 5").unwrap(), Dot::MaxRows(5));
        assert_eq!(parse(".timer on").unwrap(), Dot::Timer(true));
        assert_eq!(parse(".output").unwrap(), Dot::Output(None));
        let file = |overwrite| OutputFile { path: PathBuf::from("out.csv"), overwrite };
        assert_eq!(parse(".once out.csv").unwrap(), Dot::Once(file(false)));
        assert_eq!(parse(".output --overwrite out.csv").unwrap(), Dot::Output(Some(file(true))));
        assert_eq!(parse(".keys 'MapViewed'").unwrap(), Dot::Keys("MapViewed".into()));
        assert_eq!(parse("\\q").unwrap(), Dot::Quit);
        let Dot::Range(range) = parse(".range 2025-10-01 2025-10-03").unwrap() else { panic!("a range") };
        assert_eq!(range.len_days(), 3);
    }

    #[test]
    fn mistakes_say_what_to_write() {
        for (line, needle) in [
            (".mode box", "unknown mode 'box'"),
            (".maxrows many", "'many' is not a number"),
            (".range 2025-10-03", "two dates"),
            (".range 2025-10-03 2025-10-01", "2025-10-03"),
            (".range 2025-13-01 2025-10-01", "2025-13-01"),
            (".tables x", "no arguments"),
            (".frobnicate", "unknown command '.frobnicate'"),
            (".keys", "an event type"),
        ] {
            let message = parse(line).unwrap_err().to_string();
            assert!(message.contains(needle) && !message.contains('\n'), "{line}: {message}");
        }
    }

    #[test]
    fn every_command_is_listed_in_the_help() {
        for command in COMMANDS {
            assert!(HELP.contains(&format!(".{command}")) || *command == "exit", "{command}");
        }
    }
}
