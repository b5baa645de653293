//! The end-to-end tests, one binary (each test binary links DataFusion): the CLI run as a user
//! runs it, against the demo source, folders of files, and a local server that speaks CARTO's
//! wire contract with fault injection. DuckDB is the oracle.

mod common;

mod demo_pipeline;
mod duckdb_compat;
mod exports;
mod mcp;
mod packaging;
mod published;
mod readme;
mod report;
mod resilience;
mod shell;
mod sources;
mod sync;
