//! DuckDB's aggregates.

pub(crate) mod aggregate_states;
pub(crate) mod aggregates;
pub(crate) mod checked_sum;
pub(crate) mod histograms;
pub(crate) mod temporal_aggregates;
