//! The catalogue of DuckDB's function names: for each, how this layer serves it, read from one
//! table (`names.tsv`, beside this file). "Where is DuckDB's function X handled?" is a line
//! of that file. The renames and the refusals are served from it; the other kinds name where the
//! code is, and the tests below hold every row to what the code does.

use std::collections::HashMap;
use std::sync::LazyLock;

/// How a DuckDB function is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Served {
    /// DataFusion's own function (or datafusion-functions-json's), as DuckDB computes it; the
    /// note says what else applies (DuckDB's result types).
    DataFusion(&'static str),
    /// DataFusion's function under another name.
    Renamed(&'static str),
    /// A DataFusion expression over its arguments (`rewrite::templates`).
    Template,
    /// Its call rewritten before planning, by the modules named.
    Reshaped(&'static str),
    /// A function of this layer, in the family named.
    Layer(&'static str),
    /// No DuckDB name: a function of this layer the rewrites write, in the family named.
    Helper(&'static str),
    /// Not served: what to write instead.
    Refused(&'static str),
}

impl Served {
    /// The kind's name, as the table and the README write it.
    #[cfg(test)]
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Served::DataFusion(_) => "datafusion",
            Served::Renamed(_) => "renamed",
            Served::Template => "template",
            Served::Reshaped(_) => "reshaped",
            Served::Layer(_) => "layer",
            Served::Helper(_) => "helper",
            Served::Refused(_) => "refused",
        }
    }
}

const TABLE: &str = include_str!("names.tsv");

/// The rows of the table, in its order (by name); a row that does not read is left out (the
/// tests fail on it).
pub(crate) fn entries() -> &'static [(&'static str, Served)] {
    static ENTRIES: LazyLock<Vec<(&'static str, Served)>> = LazyLock::new(|| rows().filter_map(Result::ok).collect());
    &ENTRIES
}

pub(crate) fn rows() -> impl Iterator<Item = Result<(&'static str, Served), String>> {
    TABLE.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()).map(|line| {
        let mut fields = line.split('\t');
        let (name, kind, detail) =
            (fields.next().unwrap_or(""), fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        let served = match (kind, detail.is_empty()) {
            ("datafusion", _) => Served::DataFusion(detail),
            ("renamed", false) => Served::Renamed(detail),
            ("template", true) => Served::Template,
            ("reshaped", false) => Served::Reshaped(detail),
            ("layer", false) => Served::Layer(detail),
            ("helper", false) => Served::Helper(detail),
            ("refused", false) => Served::Refused(detail),
            _ => return Err(format!("names.tsv: the row {line:?} does not read as name, how, detail")),
        };
        Ok((name, served))
    })
}

/// How the DuckDB function `name` (lower case) is served, if the catalogue has it.
pub(crate) fn served(name: &str) -> Option<Served> {
    static BY_NAME: LazyLock<HashMap<&'static str, Served>> = LazyLock::new(|| entries().iter().copied().collect());
    BY_NAME.get(name).copied()
}

/// DataFusion's name for a DuckDB function that it computes the same way under another name.
pub(crate) fn datafusion_name(name: &str) -> Option<&'static str> {
    match served(name)? {
        Served::Renamed(to) => Some(to),
        _ => None,
    }
}

/// Whether DuckDB has a function `name` (lower case), served here or not.
pub(crate) fn duckdb_has(name: &str) -> bool {
    static NAMES: LazyLock<std::collections::HashSet<&'static str>> =
        LazyLock::new(|| include_str!("duckdb_functions.txt").lines().filter(|l| !l.starts_with('#')).collect());
    NAMES.contains(name)
}

/// What to write instead of a DuckDB function this layer does not serve.
pub(crate) fn refusal(name: &str) -> Option<&'static str> {
    match served(name)? {
        Served::Refused(instead) => Some(instead),
        _ => None,
    }
}
