//! DuckDB's binned `histogram(x, bins)`: a MAP from each bin's upper bound to how many values
//! fall in it (the first bin whose bound is at or above the value), every bin listed; values
//! above the last bound count in an "other" bin keyed by the type's largest value ('' for text).
//! `histogram_exact(x, bins)` the same with each value counted in the bin equal to it.
//! Written as `binned_histogram(list(x), bins)`; `is_histogram_other_bin(key)` tells the other bin.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, MapArray, StructArray, UInt64Array};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{invalid, list_type, lists, row_udf};

pub(crate) fn binned_histogram() -> ScalarUDF {
    row_udf("binned_histogram", "histogram(x, bins)", 2..=2, |t| map_type(&t[0]), |a| histogram(a, false))
}

/// `is_histogram_other_bin(bin)`: whether a histogram's key is its "other" bin (the type's
/// largest value).
pub(crate) fn is_other_bin() -> ScalarUDF {
    row_udf(
        "is_histogram_other_bin",
        "is_histogram_other_bin(bin)",
        1..=1,
        |_| Ok(DataType::Boolean),
        |a| {
            let other = other_bin(a[0].data_type()).ok();
            let flags: BooleanArray = (0..a[0].len())
                .map(|i| {
                    let value = ScalarValue::try_from_array(&a[0], i).ok()?;
                    if value.is_null() {
                        return None;
                    }
                    Some(other.as_ref().is_some_and(|o| *o == value))
                })
                .collect();
            Ok(Arc::new(flags) as ArrayRef)
        },
    )
}

/// `histogram_exact(x, bins)`: the values equal to each bin, and those equal to none in the
/// other bin.
pub(crate) fn exact_histogram() -> ScalarUDF {
    row_udf("exact_histogram", "histogram_exact(x, bins)", 2..=2, |t| map_type(&t[0]), |a| histogram(a, true))
}

fn entries(key: &DataType) -> Fields {
    Fields::from(vec![Field::new("key", key.clone(), false), Field::new("value", DataType::UInt64, true)])
}

/// The MAP of bins to counts, keyed by the values' type (the bins are cast to it, as DuckDB binds
/// them).
fn map_type(values: &DataType) -> Result<DataType> {
    let DataType::List(element) = list_type(values)? else { unreachable!("list_type gives a list") };
    Ok(DataType::Map(Arc::new(Field::new("entries", DataType::Struct(entries(element.data_type())), false)), false))
}

/// The key of the bin for values above every bound.
fn other_bin(data_type: &DataType) -> Result<ScalarValue> {
    Ok(match data_type {
        DataType::Int8 => ScalarValue::Int8(Some(i8::MAX)),
        DataType::Int16 => ScalarValue::Int16(Some(i16::MAX)),
        DataType::Int32 => ScalarValue::Int32(Some(i32::MAX)),
        DataType::Int64 => ScalarValue::Int64(Some(i64::MAX)),
        DataType::UInt64 => ScalarValue::UInt64(Some(u64::MAX)),
        DataType::Float32 => ScalarValue::Float32(Some(f32::INFINITY)),
        DataType::Float64 => ScalarValue::Float64(Some(f64::INFINITY)),
        DataType::Utf8 => ScalarValue::Utf8(Some(String::new())),
        other => {
            return Err(invalid(format!(
                "histogram: values above the last bin of type {other} have no bin; add a larger bin"
            )));
        }
    })
}

/// Each value counted in the first bin at least as large (`exact`: the bin equal to it), or else
/// in the other bin.
fn histogram(arrays: &[ArrayRef], exact: bool) -> Result<ArrayRef> {
    let DataType::Map(entries_field, _) = map_type(arrays[0].data_type())? else { unreachable!("a map") };
    let DataType::Struct(fields) = entries_field.data_type() else { unreachable!("map entries are a struct") };
    let key_type = fields[0].data_type().clone();
    let (values, bins) = (lists(&arrays[0])?, lists(&arrays[1])?);
    let (mut keys, mut counts, mut lengths, mut valid) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for row in 0..values.len() {
        if !values.is_valid(row) || !bins.is_valid(row) {
            lengths.push(0);
            valid.push(false);
            continue;
        }
        let row_bins = datafusion::arrow::compute::cast(&bins.value(row), &key_type)?;
        let mut bounds: Vec<ScalarValue> = (0..row_bins.len())
            .filter(|i| row_bins.is_valid(*i))
            .map(|i| ScalarValue::try_from_array(&row_bins, i))
            .collect::<Result<_>>()?;
        bounds.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        bounds.dedup();
        let mut tally = vec![0u64; bounds.len() + 1];
        let row_values = values.value(row);
        for i in 0..row_values.len() {
            if row_values.is_valid(i) {
                let value = ScalarValue::try_from_array(&row_values, i)?;
                let at = bounds.partition_point(|b| b.partial_cmp(&value).is_some_and(|o| o.is_lt()));
                let bin = if exact && bounds.get(at) != Some(&value) { bounds.len() } else { at };
                tally[bin] += 1;
            }
        }
        let above = tally[bounds.len()];
        if above > 0 {
            bounds.push(other_bin(&key_type)?);
        }
        lengths.push(bounds.len());
        valid.push(true);
        counts.extend(tally.into_iter().take(bounds.len()));
        keys.extend(bounds);
    }
    let keys = if keys.is_empty() {
        datafusion::arrow::array::new_empty_array(&key_type)
    } else {
        ScalarValue::iter_to_array(keys)?
    };
    let entries = StructArray::try_new(fields.clone(), vec![keys, Arc::new(UInt64Array::from(counts))], None)?;
    Ok(Arc::new(MapArray::try_new(
        entries_field,
        OffsetBuffer::from_lengths(lengths),
        entries,
        Some(NullBuffer::from(valid)),
        false,
    )?))
}
