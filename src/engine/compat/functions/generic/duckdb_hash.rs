//! DuckDB's `hash(x, ...)`: its own 64-bit hash of each value (a UBIGINT), the arguments'
//! hashes combined in order — the same number DuckDB gives, which scripts may store or compare.
//! `approx_count_distinct` feeds its sketch with these hashes too, so its estimates are DuckDB's.
//!
//! Values hash by DuckDB's storage of them: integers of up to 32 bits (and booleans, dates,
//! DECIMALs of up to 9 digits) as 32-bit words, 64-bit ones (timestamps, times, DECIMALs of up to
//! 18 digits) as 64-bit words, wider DECIMALs as their two halves, floats by their bits (one zero,
//! one NaN), text and blobs by their bytes, a struct as its fields' combined hashes, a list as
//! its elements', NULL as a constant.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, UInt64Array};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Time64MicrosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{ScalarUDF, Volatility};

use crate::engine::compat::functions::common::row_udf_with;

/// DuckDB's hash of a NULL.
const NULL_HASH: u64 = 0xbf58476d1ce4e5b9;
/// DuckDB's hash of a struct without fields.
const EMPTY_STRUCT_HASH: u64 = 0x9e3779b97f4a7c15;
const MULTIPLIER: u64 = 0xd6e8feb86659fd93;

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![row_udf_with(
        Volatility::Immutable,
        "hash",
        "one or more values: hash(x, ...)",
        1..=usize::MAX,
        |_| Ok(DataType::UInt64),
        |args| Ok(Arc::new(UInt64Array::from(hash_rows(args)?)) as ArrayRef),
    )]
}

/// Each row's hash of `columns`, combined in order as DuckDB combines them.
pub(crate) fn hash_rows(columns: &[ArrayRef]) -> Result<Vec<u64>> {
    let rows = columns.first().map_or(0, |c| c.len());
    let mut hashes = vec![0; rows];
    for (i, column) in columns.iter().enumerate() {
        hash_into(column.as_ref(), &mut hashes, i == 0)?;
    }
    Ok(hashes)
}

fn murmur(mut x: u64) -> u64 {
    x ^= x >> 32;
    x = x.wrapping_mul(MULTIPLIER);
    x ^= x >> 32;
    x = x.wrapping_mul(MULTIPLIER);
    x ^ (x >> 32)
}

fn combine(mut a: u64, b: u64) -> u64 {
    a ^= a >> 32;
    a.wrapping_mul(MULTIPLIER) ^ b
}

fn bytes_hash(bytes: &[u8]) -> u64 {
    let mut h = 0xe17a1465u64 ^ (bytes.len() as u64).wrapping_mul(0xc6a4a7935bd1e995);
    for block in bytes.chunks(8) {
        let mut word = [0u8; 8];
        word[..block.len()].copy_from_slice(block);
        h ^= u64::from_le_bytes(word);
        h = h.wrapping_mul(MULTIPLIER);
    }
    murmur(h)
}

/// Each row's value hash put in `hashes` (the first column) or combined into it.
fn hash_into(array: &dyn Array, hashes: &mut [u64], first: bool) -> Result<()> {
    match array.data_type() {
        DataType::Struct(fields) => {
            let structs = array.as_struct();
            if fields.is_empty() {
                if first {
                    hashes.fill(EMPTY_STRUCT_HASH);
                }
                return Ok(());
            }
            for (i, child) in structs.columns().iter().enumerate() {
                hash_into(child.as_ref(), hashes, first && i == 0)?;
            }
            Ok(())
        }
        DataType::List(_) | DataType::LargeList(_) => {
            let (values, bounds) = list_parts(array);
            let element_hashes = hash_rows(&[values])?;
            for (row, hash) in hashes.iter_mut().enumerate() {
                let (start, end) = bounds[row];
                if array.is_null(row) || start == end {
                    if first {
                        *hash = NULL_HASH;
                    }
                    continue;
                }
                let elements = &element_hashes[start..end];
                let (mut h, rest) = if first { (elements[0], &elements[1..]) } else { (*hash, elements) };
                for &e in rest {
                    h = combine(h, e);
                }
                *hash = h;
            }
            Ok(())
        }
        _ => {
            let values = value_hashes(array)?;
            for (row, hash) in hashes.iter_mut().enumerate() {
                let value = if array.is_null(row) { NULL_HASH } else { values(row) };
                *hash = if first { value } else { combine(*hash, value) };
            }
            Ok(())
        }
    }
}

/// A list's values and each row's range of them.
fn list_parts(array: &dyn Array) -> (ArrayRef, Vec<(usize, usize)>) {
    match array.data_type() {
        DataType::LargeList(_) => {
            let lists = array.as_list::<i64>();
            let offsets = lists.value_offsets();
            let bounds = offsets.windows(2).map(|w| (w[0] as usize, w[1] as usize)).collect();
            (lists.values().clone(), bounds)
        }
        _ => {
            let lists = array.as_list::<i32>();
            let offsets = lists.value_offsets();
            let bounds = offsets.windows(2).map(|w| (w[0] as usize, w[1] as usize)).collect();
            (lists.values().clone(), bounds)
        }
    }
}

/// The hash of a row's (non-NULL) value, by the array's type.
fn value_hashes(array: &dyn Array) -> Result<Box<dyn Fn(usize) -> u64 + '_>> {
    // Words of up to 32 bits are hashed as DuckDB's `uint32_t` of them (sign-extended).
    macro_rules! word32 {
        ($t:ty) => {{
            let a = array.as_primitive::<$t>();
            Box::new(move |i| murmur(u64::from(a.value(i) as u32)))
        }};
    }
    macro_rules! word64 {
        ($t:ty) => {{
            let a = array.as_primitive::<$t>();
            Box::new(move |i| murmur(a.value(i) as u64))
        }};
    }
    Ok(match array.data_type() {
        DataType::Null => Box::new(|_| NULL_HASH),
        DataType::Boolean => {
            let a = array.as_boolean();
            Box::new(move |i| murmur(u64::from(a.value(i))))
        }
        DataType::Int8 => word32!(Int8Type),
        DataType::Int16 => word32!(Int16Type),
        DataType::Int32 => word32!(Int32Type),
        DataType::UInt8 => word32!(UInt8Type),
        DataType::UInt16 => word32!(UInt16Type),
        DataType::UInt32 => word32!(UInt32Type),
        DataType::Date32 => word32!(Date32Type),
        DataType::Int64 => word64!(Int64Type),
        DataType::UInt64 => word64!(UInt64Type),
        DataType::Time64(TimeUnit::Microsecond) => word64!(Time64MicrosecondType),
        DataType::Timestamp(TimeUnit::Second, _) => word64!(TimestampSecondType),
        DataType::Timestamp(TimeUnit::Millisecond, _) => word64!(TimestampMillisecondType),
        DataType::Timestamp(TimeUnit::Microsecond, _) => word64!(TimestampMicrosecondType),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => word64!(TimestampNanosecondType),
        DataType::Float32 => {
            let a = array.as_primitive::<Float32Type>();
            Box::new(move |i| {
                let v = a.value(i);
                let v = if v == 0.0 {
                    0.0f32
                } else if v.is_nan() {
                    f32::NAN
                } else {
                    v
                };
                murmur(u64::from(v.to_bits()))
            })
        }
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            Box::new(move |i| {
                let v = a.value(i);
                let v = if v == 0.0 {
                    0.0f64
                } else if v.is_nan() {
                    f64::NAN
                } else {
                    v
                };
                murmur(v.to_bits())
            })
        }
        DataType::Decimal128(precision, _) => {
            let a = array.as_primitive::<Decimal128Type>();
            let precision = *precision;
            Box::new(move |i| {
                let v = a.value(i);
                match precision {
                    0..=9 => murmur(u64::from(v as i32 as u32)),
                    10..=18 => murmur(v as i64 as u64),
                    _ => murmur(v as u64) ^ murmur((v >> 64) as i64 as u64),
                }
            })
        }
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            Box::new(move |i| bytes_hash(a.value(i).as_bytes()))
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            Box::new(move |i| bytes_hash(a.value(i).as_bytes()))
        }
        DataType::Utf8View => {
            let a = array.as_string_view();
            Box::new(move |i| bytes_hash(a.value(i).as_bytes()))
        }
        DataType::Binary => {
            let a = array.as_binary::<i32>();
            Box::new(move |i| bytes_hash(a.value(i)))
        }
        DataType::LargeBinary => {
            let a = array.as_binary::<i64>();
            Box::new(move |i| bytes_hash(a.value(i)))
        }
        DataType::BinaryView => {
            let a = array.as_binary_view();
            Box::new(move |i| bytes_hash(a.value(i)))
        }
        other => return exec_err!("hash() of a {other} value is not supported: hash its text, hash(x::VARCHAR)"),
    })
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int32Array, Int64Array, ListArray, StringArray};
    use datafusion::arrow::datatypes::Int32Type;

    use super::*;

    fn hash_of(columns: &[ArrayRef]) -> u64 {
        hash_rows(columns).unwrap()[0]
    }

    #[test]
    fn hashes_are_duckdbs() {
        // The numbers DuckDB 2.0 gives for `hash(...)` of the same values.
        let int = |v: i32| Arc::new(Int32Array::from(vec![v])) as ArrayRef;
        let text = |v: &str| Arc::new(StringArray::from(vec![v])) as ArrayRef;
        assert_eq!(hash_of(&[int(1)]), 4717996019076358352);
        assert_eq!(hash_of(&[Arc::new(Int64Array::from(vec![1i64]))]), 4717996019076358352);
        assert_eq!(hash_of(&[int(-1)]), 4739667815145166545);
        assert_eq!(hash_of(&[text("a")]), 12561829011207016135);
        assert_eq!(hash_of(&[text("")]), 5104928228550385088);
        assert_eq!(hash_of(&[text("hello world longer")]), 3609831705502072128);
        assert_eq!(hash_of(&[Arc::new(Int32Array::from(vec![None::<i32>]))]), 13787848793156543929);
        assert_eq!(hash_of(&[int(1), text("a")]), 16748857609561410660);
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1), Some(2)])]);
        assert_eq!(hash_of(&[Arc::new(list)]), 6530802887144669425);
    }
}
