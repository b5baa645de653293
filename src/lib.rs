//! carto-activity: a CARTO organisation's Activity Data, cached as Parquet, queried with
//! DuckDB-flavoured SQL on Apache DataFusion, and exported.
//!
//! Data flows one way: [`source`] → [`ingest`] → [`cache`] → [`engine`] (with [`compat`]) →
//! [`output`] or [`export`].

pub mod cache;
pub mod carto;
pub mod category;
pub mod cli;
pub mod commands;
pub mod compat;
pub mod credentials;
pub mod dates;
pub mod engine;
pub mod error;
pub mod export;
pub mod fetch;
pub mod ingest;
pub mod output;
pub mod printer;
pub mod report;
pub mod shred;
pub mod source;
