//! carto-activity: a CARTO organisation's Activity Data, cached as Parquet, queried with
//! DuckDB-flavoured SQL on Apache DataFusion, and exported.
//!
//! Data flows one way: [`source`] → [`cache`] → `engine` → `output`, `export`, `sync` or [`report`];
//! `commands` runs each subcommand on one `Context`. The public modules are those the tests
//! and benchmarks use.

mod atomic;
pub mod cache;
pub mod category;
mod choice;
pub mod cli;
mod commands;
mod context;
pub mod dates;
pub mod encode;
mod engine;
pub mod error;
mod export;
mod input;
pub mod output;
pub mod printer;
pub mod report;
mod shred;
pub mod source;
mod sync;
mod type_words;
mod write_policy;

pub use commands::{quiet_panics, run};
pub use export::remove_abandoned_staging;
