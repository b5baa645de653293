//! DuckDB's list functions that DataFusion lacks: `list_where(list, mask)`, `list_unique(list)`
//! (distinct non-NULL elements, counted) and `list_histogram(list)` (a MAP from each non-NULL
//! element, in order, to how often it occurs); and `repeat` of lists as well as text and blobs.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, ListArray, MapArray, StructArray, UInt32Array, UInt64Array, new_empty_array,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{list_type, lists, row_udf, shared};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![
        row_udf("list_where", "list_where(list, mask)", 2..=2, |t| list_type(&t[0]), list_where)
            .with_aliases(["array_where"]),
        row_udf("list_unique", "one argument: list_unique(list)", 1..=1, |_| Ok(DataType::UInt64), list_unique)
            .with_aliases(["array_unique"]),
        row_udf("repeat", "repeat(text or list, count)", 2..=2, repeated_type, repeat),
        row_udf(
            "list_histogram",
            "one argument: list_histogram(list)",
            1..=1,
            |t| histogram_type(&t[0]),
            list_histogram,
        ),
    ]
}

fn entries_fields(key: &DataType) -> Fields {
    Fields::from(vec![Field::new("key", key.clone(), false), Field::new("value", DataType::UInt64, true)])
}

fn histogram_type(list: &DataType) -> Result<DataType> {
    let DataType::List(element) = list_type(list)? else { unreachable!("as_list gives a list") };
    Ok(DataType::Map(
        Arc::new(Field::new("entries", DataType::Struct(entries_fields(element.data_type())), false)),
        false,
    ))
}

fn list_where(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (values, masks) = (lists(&arrays[0])?, lists(&arrays[1])?);
    let masks_values = cast(masks.values(), &DataType::Boolean)?;
    let masks_values = masks_values.as_boolean();
    let (mut picked, mut lengths) = (Vec::new(), Vec::with_capacity(values.len()));
    for row in 0..values.len() {
        let mut length = 0;
        if values.is_valid(row) && masks.is_valid(row) {
            let (start, end) = (values.value_offsets()[row] as usize, values.value_offsets()[row + 1] as usize);
            let mask_start = masks.value_offsets()[row] as usize;
            let mask_len = masks.value_length(row) as usize;
            // A true past the list's end picks a NULL, as in DuckDB.
            for k in 0..mask_len {
                if masks_values.is_valid(mask_start + k) && masks_values.value(mask_start + k) {
                    picked.push((start + k < end).then_some((start + k) as u32));
                    length += 1;
                }
            }
        }
        lengths.push(length);
    }
    let taken = take(values.values().as_ref(), &UInt32Array::from(picked), None)?;
    let DataType::List(field) = list_type(arrays[0].data_type())? else { unreachable!("a list") };
    let nulls: NullBuffer = (0..values.len()).map(|r| values.is_valid(r) && masks.is_valid(r)).collect();
    Ok(Arc::new(ListArray::try_new(field, OffsetBuffer::from_lengths(lengths), taken, Some(nulls))?))
}

/// Each row's non-NULL elements, grouped: (index of the first occurrence, count), by value.
fn groups(list: &ListArray, row: usize) -> Result<Vec<(u32, u64)>> {
    let (start, end) = (list.value_offsets()[row] as usize, list.value_offsets()[row + 1] as usize);
    let mut seen: Vec<(ScalarValue, u32, u64)> = Vec::new();
    for element in start..end {
        // (A NULL-typed list's elements are NULL, though they carry no null mask.)
        if list.values().is_null(element) || list.values().data_type().is_null() {
            continue;
        }
        let value = ScalarValue::try_from_array(list.values(), element)?;
        match seen.iter_mut().find(|(v, _, _)| *v == value) {
            Some(entry) => entry.2 += 1,
            None => seen.push((value, element as u32, 1)),
        }
    }
    seen.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    Ok(seen.into_iter().map(|(_, index, count)| (index, count)).collect())
}

fn list_unique(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let list = lists(&arrays[0])?;
    let counts: Vec<Option<u64>> = (0..list.len())
        .map(|r| if list.is_valid(r) { groups(&list, r).map(|g| Some(g.len() as u64)) } else { Ok(None) })
        .collect::<Result<_>>()?;
    Ok(shared(UInt64Array::from(counts)))
}

fn list_histogram(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let list = lists(&arrays[0])?;
    let DataType::Map(entries_field, _) = histogram_type(arrays[0].data_type())? else { unreachable!("a map") };
    let DataType::Struct(fields) = entries_field.data_type() else { unreachable!("map entries are a struct") };
    let (mut firsts, mut counts, mut lengths) = (Vec::new(), Vec::new(), Vec::with_capacity(list.len()));
    for row in 0..list.len() {
        let grouped = if list.is_valid(row) { groups(&list, row)? } else { Vec::new() };
        lengths.push(grouped.len());
        for (first, count) in grouped {
            firsts.push(first);
            counts.push(count);
        }
    }
    let keys = if list.values().data_type().is_null() {
        new_empty_array(fields[0].data_type())
    } else {
        take(list.values().as_ref(), &UInt32Array::from(firsts), None)?
    };
    let entries = StructArray::try_new(fields.clone(), vec![keys, shared(UInt64Array::from(counts))], None)?;
    // A list with no value but NULLs has no histogram (NULL), as DuckDB's aggregate of no rows.
    let nulls: NullBuffer = (0..list.len()).map(|r| list.is_valid(r) && lengths[r] > 0).collect();
    Ok(Arc::new(MapArray::try_new(entries_field, OffsetBuffer::from_lengths(lengths), entries, Some(nulls), false)?))
}

fn repeated_type(args: &[DataType]) -> Result<DataType> {
    Ok(match &args[0] {
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => DataType::Binary,
        t if t.is_nested() => list_type(t)?,
        _ => DataType::Utf8,
    })
}

/// `repeat(x, n)`: text, a blob or a list `n` times over (none for `n` below 1).
fn repeat(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let counts = crate::engine::compat::functions::common::integers(&arrays[1])?;
    let times = |r: usize| counts[r].map(|n| n.max(0) as usize);
    // Arrow's offsets are 32-bit: a result past 1 GiB (or 2^30 elements) is refused, not built.
    let sizes = |r: usize, size: usize| size.saturating_mul(times(r).unwrap_or(0));
    let too_large = || {
        crate::engine::compat::functions::common::invalid(
            "repeat: the result would be larger than 1 GiB; repeat fewer times".into(),
        )
    };
    let limit = 1usize << 30;
    match repeated_type(&[arrays[0].data_type().clone()])? {
        DataType::List(field) => {
            let list = lists(&arrays[0])?;
            let mut pieces: Vec<ArrayRef> = Vec::new();
            let mut lengths = Vec::with_capacity(list.len());
            let mut valid = Vec::with_capacity(list.len());
            for r in 0..list.len() {
                let n = if list.is_valid(r) { times(r) } else { None };
                valid.push(n.is_some());
                let values = list.value(r);
                let n = n.unwrap_or(0);
                if lengths.iter().sum::<usize>() + sizes(r, values.len()) > limit {
                    return Err(too_large());
                }
                lengths.push(values.len() * n);
                pieces.extend(std::iter::repeat_n(values, n));
            }
            let refs: Vec<&dyn Array> = pieces.iter().map(|p| p.as_ref()).collect();
            let values = if refs.is_empty() {
                new_empty_array(field.data_type())
            } else {
                datafusion::arrow::compute::concat(&refs)?
            };
            Ok(Arc::new(ListArray::try_new(
                field,
                OffsetBuffer::from_lengths(lengths),
                values,
                Some(NullBuffer::from(valid)),
            )?))
        }
        DataType::Binary => {
            let blobs = cast(&arrays[0], &DataType::Binary)?;
            let blobs = blobs.as_binary::<i32>();
            if (0..blobs.len()).map(|r| sizes(r, blobs.value_length(r) as usize)).sum::<usize>() > limit {
                return Err(too_large());
            }
            let out: datafusion::arrow::array::BinaryArray = (0..blobs.len())
                .map(|r| blobs.is_valid(r).then(|| times(r).map(|n| blobs.value(r).repeat(n))).flatten())
                .collect();
            Ok(shared(out))
        }
        _ => {
            let texts = crate::engine::compat::functions::common::texts(&arrays[0])?;
            if texts.iter().enumerate().map(|(r, t)| sizes(r, t.as_ref().map_or(0, String::len))).sum::<usize>() > limit
            {
                return Err(too_large());
            }
            let out: datafusion::arrow::array::StringArray =
                texts.iter().enumerate().map(|(r, t)| t.as_ref().and_then(|t| times(r).map(|n| t.repeat(n)))).collect();
            Ok(shared(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_refuses_what_arrow_cannot_hold() {
        let text: ArrayRef = Arc::new(datafusion::arrow::array::StringArray::from(vec!["ab"]));
        let count: ArrayRef = Arc::new(datafusion::arrow::array::Int64Array::from(vec![3]));
        let out = repeat(&[text.clone(), count]).unwrap();
        assert_eq!(out.as_string::<i32>().value(0), "ababab");
        let huge: ArrayRef = Arc::new(datafusion::arrow::array::Int64Array::from(vec![i64::MAX]));
        assert!(repeat(&[text, huge]).is_err());
    }
}
