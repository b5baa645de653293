//! DuckDB's generic functions that DataFusion lacks: `len` (of a text or a list), `bit_count(x)`,
//! `nextafter(x, toward)`, `xor(a, b)`, `~x` (`bitwise_not`); `sleep_ms(ms)` and `pg_sleep(seconds)`,
//! which wait (per row) and answer NULL; `error(message)`, which fails the query, and
//! `assert_true(condition [, message])`, which fails it unless every row's condition holds (and
//! is NULL otherwise).

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray, new_null_array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{ScalarUDF, Volatility};

use crate::engine::compat::functions::common::{doubles, row_udf_with, strings, texts};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let null = |_: &[DataType]| Ok(DataType::Null);
    vec![
        // `try(x)` as planned, before `planner::try_calls` replaces it: the value itself.
        row_udf_with(
            Volatility::Immutable,
            "try",
            "one expression: try(expr)",
            1..=1,
            |t| Ok(t[0].clone()),
            |a| Ok(a[0].clone()),
        ),
        row_udf_with(
            Volatility::Immutable,
            "len",
            "one argument: len(string or list)",
            1..=1,
            |_| Ok(DataType::Int64),
            |a| len(&a[0]),
        ),
        row_udf_with(Volatility::Volatile, "sleep_ms", "one argument: sleep_ms(milliseconds)", 1..=1, null, |a| {
            sleep(a, 1.0)
        }),
        row_udf_with(Volatility::Volatile, "pg_sleep", "one argument: pg_sleep(seconds)", 1..=1, null, |a| {
            sleep(a, 1000.0)
        }),
        row_udf_with(
            Volatility::Immutable,
            "bit_count",
            "one integer: bit_count(x)",
            1..=1,
            |_| Ok(DataType::Int8),
            bit_count,
        ),
        row_udf_with(
            Volatility::Immutable,
            "xor",
            "two integers: xor(a, b)",
            2..=2,
            |t| Ok(xor_type(&t[0], &t[1])),
            xor,
        ),
        row_udf_with(
            Volatility::Immutable,
            "bitwise_not",
            "one integer: ~x",
            1..=1,
            |t| match &t[0] {
                DataType::Null => Ok(DataType::Int64),
                t if t.is_integer() => Ok(t.clone()),
                t => datafusion::common::plan_err!(
                    "~ takes an integer, not {}: cast it to BIGINT",
                    crate::engine::compat::types::sql_type_name(t)
                ),
            },
            bitwise_not,
        ),
        row_udf_with(
            Volatility::Immutable,
            "nextafter",
            "nextafter(x, toward)",
            2..=2,
            |t| Ok(if t.iter().all(|t| *t == DataType::Float32) { DataType::Float32 } else { DataType::Float64 }),
            nextafter,
        ),
        error_function(),
        row_udf_with(
            Volatility::Volatile,
            "assert_true",
            "assert_true(condition [, message])",
            1..=2,
            null,
            assert_true,
        ),
    ]
}

/// Waits the sum of the rows' durations (negative and NULL ones are none).
fn sleep(arrays: &[ArrayRef], milliseconds_per_unit: f64) -> Result<ArrayRef> {
    let total: f64 = doubles(&arrays[0])?.iter().flatten().filter(|d| **d > 0.0).sum();
    std::thread::sleep(Duration::from_secs_f64(total * milliseconds_per_unit / 1000.0));
    Ok(new_null_array(&DataType::Null, arrays[0].len()))
}

/// `error(message)`. Volatile, so that planning does not fold it: it fails only for the rows
/// that reach it.
pub(crate) fn error_function() -> ScalarUDF {
    row_udf_with(Volatility::Volatile, "error", "one argument: error(message)", 1..=1, |_| Ok(DataType::Null), raise)
}

/// Fails with the first row's message (a query whose rows never reach `error` does not fail).
fn raise(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    match texts(&arrays[0])?.into_iter().next() {
        Some(message) => exec_err!("{}", message.unwrap_or_default()),
        None => Ok(new_null_array(&DataType::Null, 0)),
    }
}

/// NULL for every row, or DuckDB's "Assertion failed" ("Assertion: <message>") for the first row
/// whose condition is false or NULL.
fn assert_true(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let conditions = cast(&arrays[0], &DataType::Boolean)?;
    let conditions = conditions.as_boolean();
    let messages = arrays.get(1).map(texts).transpose()?;
    for r in 0..conditions.len() {
        if conditions.is_null(r) || !conditions.value(r) {
            return match messages.as_ref().and_then(|m| m[r].clone()) {
                Some(message) => exec_err!("Assertion: {message}"),
                None => exec_err!("Assertion failed"),
            };
        }
    }
    Ok(new_null_array(&DataType::Null, conditions.len()))
}

/// The bits set in each integer, in its type's width (`bit_count(-1::INTEGER)` is 32).
fn bit_count(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    use datafusion::arrow::datatypes::Int64Type;
    let width = match arrays[0].data_type() {
        DataType::Int8 | DataType::UInt8 => 8,
        DataType::Int16 | DataType::UInt16 => 16,
        DataType::Int32 | DataType::UInt32 => 32,
        _ => 64,
    };
    let values = cast(&arrays[0], &DataType::Int64)?;
    let counts: datafusion::arrow::array::Int8Array = values
        .as_primitive::<Int64Type>()
        .iter()
        .map(|v| v.map(|v| (v as u64 & (u64::MAX >> (64 - width))).count_ones() as i8))
        .collect();
    Ok(Arc::new(counts))
}

/// The type of `xor(a, b)`: the wider of the two integers, signed if either is (INTEGER for
/// literals, as DuckDB types them).
fn xor_type(a: &DataType, b: &DataType) -> DataType {
    let rank = |t: &DataType| match t {
        DataType::Int8 | DataType::UInt8 => (8, matches!(t, DataType::Int8)),
        DataType::Int16 | DataType::UInt16 => (16, matches!(t, DataType::Int16)),
        DataType::Int32 | DataType::UInt32 => (32, matches!(t, DataType::Int32)),
        DataType::UInt64 => (64, false),
        _ => (64, true),
    };
    let ((wa, sa), (wb, sb)) = (rank(a), rank(b));
    match (wa.max(wb), sa || sb) {
        (8, true) => DataType::Int8,
        (8, false) => DataType::UInt8,
        (16, true) => DataType::Int16,
        (16, false) => DataType::UInt16,
        (32, true) => DataType::Int32,
        (32, false) => DataType::UInt32,
        (_, false) => DataType::UInt64,
        _ => DataType::Int64,
    }
}

/// DuckDB's bitwise exclusive or of two integers.
fn xor(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    use datafusion::arrow::datatypes::{Int64Type, UInt64Type};
    let target = xor_type(arrays[0].data_type(), arrays[1].data_type());
    let unsigned = matches!(target, DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64);
    let wide = if unsigned { DataType::UInt64 } else { DataType::Int64 };
    let (a, b) = (cast(&cast(&arrays[0], &target)?, &wide)?, cast(&cast(&arrays[1], &target)?, &wide)?);
    let result: ArrayRef = if unsigned {
        Arc::new(datafusion::arrow::compute::kernels::bitwise::bitwise_xor(
            a.as_primitive::<UInt64Type>(),
            b.as_primitive::<UInt64Type>(),
        )?)
    } else {
        Arc::new(datafusion::arrow::compute::kernels::bitwise::bitwise_xor(
            a.as_primitive::<Int64Type>(),
            b.as_primitive::<Int64Type>(),
        )?)
    };
    Ok(cast(&result, &target)?)
}

/// DuckDB's `~x`: every bit of an integer flipped, in its own type.
fn bitwise_not(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    use datafusion::arrow::compute::kernels::bitwise::bitwise_not as not;
    use datafusion::arrow::datatypes::{
        Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
    };
    let a = &arrays[0];
    Ok(match a.data_type() {
        DataType::Int8 => Arc::new(not(a.as_primitive::<Int8Type>())?),
        DataType::Int16 => Arc::new(not(a.as_primitive::<Int16Type>())?),
        DataType::Int32 => Arc::new(not(a.as_primitive::<Int32Type>())?),
        DataType::Int64 => Arc::new(not(a.as_primitive::<Int64Type>())?),
        DataType::UInt8 => Arc::new(not(a.as_primitive::<UInt8Type>())?),
        DataType::UInt16 => Arc::new(not(a.as_primitive::<UInt16Type>())?),
        DataType::UInt32 => Arc::new(not(a.as_primitive::<UInt32Type>())?),
        DataType::UInt64 => Arc::new(not(a.as_primitive::<UInt64Type>())?),
        _ => new_null_array(&DataType::Int64, a.len()),
    })
}

/// `len` of a string (characters) or of a list (elements).
fn len(array: &ArrayRef) -> Result<ArrayRef> {
    Ok(match array.data_type() {
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            Arc::new(
                (0..list.len()).map(|r| list.is_valid(r).then(|| list.value_length(r) as i64)).collect::<Int64Array>(),
            )
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            Arc::new((0..list.len()).map(|r| list.is_valid(r).then(|| list.value_length(r))).collect::<Int64Array>())
        }
        _ => {
            let texts = strings(array)?;
            let texts: &StringArray = texts.as_string::<i32>();
            Arc::new(texts.iter().map(|t| t.map(|s| s.chars().count() as i64)).collect::<Int64Array>())
        }
    })
}

/// The next double after `x` toward `toward`; the next float when both are floats, as DuckDB's
/// FLOAT overload gives.
fn nextafter(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (x, toward) = (doubles(&arrays[0])?, doubles(&arrays[1])?);
    let pairs = (0..x.len()).map(|r| x[r].zip(toward[r]));
    if arrays.iter().all(|a| *a.data_type() == DataType::Float32) {
        let step = |(a, b): (f64, f64)| {
            if a.is_nan() || b.is_nan() {
                f32::NAN
            } else {
                next_float(a as f32, b as f32, f32::to_bits, f32::from_bits)
            }
        };
        return Ok(Arc::new(datafusion::arrow::array::Float32Array::from_iter(pairs.map(|p| p.map(step)))));
    }
    let step = |(a, b): (f64, f64)| {
        if a.is_nan() || b.is_nan() { f64::NAN } else { next_float(a, b, f64::to_bits, f64::from_bits) }
    };
    Ok(Arc::new(datafusion::arrow::array::Float64Array::from_iter(pairs.map(|p| p.map(step)))))
}

/// C's nextafter over a float type given by its bit conversions, for numbers (not NaN).
fn next_float<F, B>(x: F, y: F, to_bits: fn(F) -> B, from_bits: fn(B) -> F) -> F
where
    F: Copy + PartialOrd + std::ops::Neg<Output = F> + Default,
    B: Copy + std::ops::Add<Output = B> + std::ops::Sub<Output = B> + From<u8>,
{
    let zero = F::default();
    if x == y {
        return y;
    }
    if x == zero {
        let tiny = from_bits(B::from(1));
        return if y > zero { tiny } else { -tiny };
    }
    let up = (y > x) == (x > zero);
    from_bits(if up { to_bits(x) + B::from(1) } else { to_bits(x) - B::from(1) })
}
