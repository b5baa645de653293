//! The end-to-end tests, one binary (each test binary links DataFusion): the CLI run as a user
//! runs it, against the demo source, folders of files, and a local server that speaks CARTO's
//! wire contract with fault injection. DuckDB is the oracle.

mod common;

mod api_source;
mod bad_input;
mod confinement;
mod defects;
mod demo_cache;
mod demo_pipeline;
mod duckdb_compat;
mod exports;
mod folder_source;
mod hostile;
mod inferred_range;
mod mcp;
mod reliability;
mod report;
mod shell;
mod sync;
