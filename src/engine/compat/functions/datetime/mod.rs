//! DuckDB's date, time and interval functions.

pub(crate) mod complete_parts;
pub(crate) mod intervals;
pub(crate) mod strptime;
pub(crate) mod temporal_values;
pub(crate) mod time_buckets;
pub(crate) mod time_zones;
