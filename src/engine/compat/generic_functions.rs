//! DuckDB's generic functions that DataFusion lacks: `sleep_ms(ms)` and `pg_sleep(seconds)`,
//! which wait (per row) and answer NULL.

use std::time::Duration;

use datafusion::arrow::array::{ArrayRef, new_null_array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{ScalarUDF, Volatility};

use super::udf::{doubles, row_udf_with};

pub(super) fn generic_functions() -> Vec<ScalarUDF> {
    let null = |_: &[DataType]| Ok(DataType::Null);
    vec![
        row_udf_with(Volatility::Volatile, "sleep_ms", "one argument: sleep_ms(milliseconds)", 1..=1, null, |a| {
            sleep(a, 1.0)
        }),
        row_udf_with(Volatility::Volatile, "pg_sleep", "one argument: pg_sleep(seconds)", 1..=1, null, |a| {
            sleep(a, 1000.0)
        }),
    ]
}

/// Waits the sum of the rows' durations (negative and NULL ones are none).
fn sleep(arrays: &[ArrayRef], milliseconds_per_unit: f64) -> Result<ArrayRef> {
    let total: f64 = doubles(&arrays[0])?.iter().flatten().filter(|d| **d > 0.0).sum();
    std::thread::sleep(Duration::from_secs_f64(total * milliseconds_per_unit / 1000.0));
    Ok(new_null_array(&DataType::Null, arrays[0].len()))
}
