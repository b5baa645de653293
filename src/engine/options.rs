//! How an engine runs plans: threads, the shredded columns, memory and where it spills.

/// How an engine runs plans.
#[derive(Debug, Clone)]
pub(crate) struct EngineOptions {
    /// Threads per plan; 1 reads the cached days in order (exports stream day after day).
    pub partitions: usize,
    /// Reads of shredded JSON paths use the cache's hidden columns.
    pub shredding: bool,
    /// Bytes that sorts, joins and aggregates may hold; past it they spill or fail.
    pub memory_limit: usize,
    /// Where they spill (else the system's temporary folder).
    pub spill_dir: Option<std::path::PathBuf>,
}

impl EngineOptions {
    pub(crate) fn new(partitions: usize, shredding: bool) -> EngineOptions {
        EngineOptions { partitions, shredding, memory_limit: default_memory_limit(), spill_dir: None }
    }
}

/// 60% of the machine's memory (DuckDB takes 80%; what DataFusion does not track, such as
/// strings built by functions, needs the rest).
fn default_memory_limit() -> usize {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|info| {
        let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
        line.split_whitespace().nth(1)?.parse::<usize>().ok().map(|kib| kib * 1024)
    });
    total.map_or(4 << 30, |bytes| bytes / 10 * 6)
}
