//! DuckDB's aggregates, their exported states and histograms.

pub(crate) mod aggregate_states;
pub(crate) mod approx_count_distinct;
pub(crate) mod checked_sum;
pub(crate) mod collecting;
pub(crate) mod decimal_average;
mod degenerate_statistics;
pub(crate) mod histograms;
mod interval_average;
pub(crate) mod kahan_sum;
mod statistics;
pub(crate) mod temporal_aggregates;

use datafusion::logical_expr::AggregateUDF;

use crate::engine::compat::functions::LayerFunction;

/// The family's functions, as a session registers them.
pub(crate) fn functions() -> Vec<LayerFunction> {
    let mut functions: Vec<LayerFunction> = collecting::functions().into_iter().map(LayerFunction::from).collect();
    functions.extend(temporal_aggregates::temporal_aggregates().into_iter().map(LayerFunction::from));
    functions.push(AggregateUDF::new_from_impl(checked_sum::CheckedSum::new()).into());
    functions.push(AggregateUDF::new_from_impl(decimal_average::DecimalAverage::new()).into());
    functions.push(approx_count_distinct::udaf().into());
    functions.push(kahan_sum::udaf().into());
    functions.extend(degenerate_statistics::functions().into_iter().map(LayerFunction::from));
    functions.extend(aggregate_states::functions().into_iter().map(LayerFunction::from));
    functions.push(aggregate_states::finalize().into());
    functions.push(aggregate_states::combine_aggr().into());
    functions.push(histograms::binned_histogram().into());
    functions.push(histograms::exact_histogram().into());
    functions.push(histograms::is_other_bin().into());
    functions
}
