//! DuckDB's list slices with a step (`l[a:b:s]`, `l[:-:2]`, `l[5:1:-1]`), read as DuckDB reads
//! them (its `array_slice`): bounds 1-based and inclusive, negative ones from the end, bounds past
//! either end clamped, an empty bound (`l[:b:s]`, `l[a:-:s]`) the list's own end, and a negative
//! step walking back from the end of the range. Written as `list_slice_step(l, a, b, s,
//! a_is_empty, b_is_empty)`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray, UInt32Array};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{invalid, list_type, lists, row_udf};

pub(crate) const NAME: &str = "list_slice_step";

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![row_udf(
        NAME,
        "list_slice_step(list, begin, end, step, begin_is_empty, end_is_empty)",
        6..=6,
        |t| match t[0] {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Binary => {
                Err(invalid("a slice with a step takes a list, not text: slice text without a step (s[1:3])".into()))
            }
            ref other => list_type(other),
        },
        slice_steps,
    )]
}

fn integers(array: &ArrayRef) -> Result<Int64Array> {
    Ok(cast(array, &DataType::Int64)?.as_primitive::<Int64Type>().clone())
}

fn flags(array: &ArrayRef) -> Result<BooleanArray> {
    Ok(cast(array, &DataType::Boolean)?.as_boolean().clone())
}

fn slice_steps(args: &[ArrayRef]) -> Result<ArrayRef> {
    let list = lists(&args[0])?;
    let (begins, ends, steps) = (integers(&args[1])?, integers(&args[2])?, integers(&args[3])?);
    let (begin_empty, end_empty) = (flags(&args[4])?, flags(&args[5])?);
    let offsets = list.value_offsets();
    let (mut picked, mut lengths, mut valid) = (Vec::new(), Vec::with_capacity(list.len()), Vec::new());
    for row in 0..list.len() {
        let empty = |f: &BooleanArray| f.is_valid(row) && f.value(row);
        let (begin_empty, end_empty) = (empty(&begin_empty), empty(&end_empty));
        let known = |a: &Int64Array, is_empty: bool| is_empty || a.is_valid(row);
        if list.is_null(row) || !known(&begins, begin_empty) || !known(&ends, end_empty) || steps.is_null(row) {
            lengths.push(0);
            valid.push(false);
            continue;
        }
        let length = (offsets[row + 1] - offsets[row]) as i64;
        let step = steps.value(row);
        if step == 0 {
            return Err(invalid("Slice step cannot be zero".into()));
        }
        let mut begin = if begin_empty { 0 } else { begins.value(row) };
        let mut end = if end_empty { length } else { ends.value(row) };
        if step < 0 {
            std::mem::swap(&mut begin, &mut end);
            if end_empty {
                begin = 0;
            }
            if begin_empty {
                end = length;
            }
        }
        let (begin, end) = clamped(begin, end, length);
        let count = slice_length(begin, end, step);
        let base = offsets[row] as i64;
        let mut at = if step < 0 { base + end - 1 } else { base + begin };
        for _ in 0..count {
            picked.push(u32::try_from(at).map_err(|_| invalid("list_slice_step: a list too large to slice".into()))?);
            at = at.saturating_add(step);
        }
        lengths.push(count as usize);
        valid.push(true);
    }
    let values = take(list.values().as_ref(), &UInt32Array::from(picked), None)?;
    let DataType::List(field) = list.data_type() else { return Err(invalid("list_slice_step takes a list".into())) };
    Ok(Arc::new(ListArray::try_new(
        field.clone(),
        OffsetBuffer::from_lengths(lengths),
        values,
        Some(NullBuffer::from(valid)),
    )?))
}

/// DuckDB's clamping of 1-based bounds into 0-based `[begin, end)` within `length`.
fn clamped(mut begin: i64, end: i64, length: i64) -> (i64, i64) {
    begin = if begin != 0 && begin != i64::MIN { begin - 1 } else { begin };
    let is_min = begin == i64::MIN;
    if is_min {
        begin += 1;
    }
    if begin < 0 && -begin > length && end < 0 && end < -length {
        return (0, 0);
    }
    if begin < 0 && -begin > length {
        begin = 0;
    }
    let clamp = |index: i64, is_min: bool| {
        if index < 0 { length + if is_min { index } else { index + 1 } } else { index.min(length) }
    };
    let (begin, end) = (clamp(begin, is_min), clamp(end, false));
    (begin, end.max(begin))
}

/// How many elements a step picks from `[begin, end)`.
fn slice_length(begin: i64, end: i64, step: i64) -> i64 {
    let (span, step) = (end - begin, step.checked_abs().unwrap_or(i64::MAX));
    match span {
        0 => 0,
        _ if step == 1 => span,
        _ if step >= span => 1,
        _ if span % step != 0 => span / step + 1,
        _ => span / step,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sliced(begin: Option<i64>, end: Option<i64>, step: i64) -> Vec<i64> {
        let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some((1..=5).map(Some).collect::<Vec<_>>())]);
        let number = |v: Option<i64>| Arc::new(Int64Array::from(vec![v.unwrap_or(0)])) as ArrayRef;
        let flag = |v: Option<i64>| Arc::new(BooleanArray::from(vec![v.is_none()])) as ArrayRef;
        let args = [Arc::new(list) as ArrayRef, number(begin), number(end), number(Some(step)), flag(begin), flag(end)];
        let out = slice_steps(&args).unwrap();
        out.as_list::<i32>().value(0).as_primitive::<Int64Type>().values().to_vec()
    }

    #[test]
    fn slices_with_steps_are_duckdbs() {
        // DuckDB 2.0 on [1, 2, 3, 4, 5].
        assert_eq!(sliced(Some(1), None, 2), [1, 3, 5]);
        assert_eq!(sliced(None, None, 2), [1, 3, 5]);
        assert_eq!(sliced(None, Some(3), 2), [1, 3]);
        assert_eq!(sliced(Some(5), Some(1), -1), [5, 4, 3, 2, 1]);
        assert_eq!(sliced(Some(i64::MIN), Some(i64::MAX), 1), [1, 2, 3, 4, 5]);
        assert_eq!(sliced(None, None, -2), [5, 3, 1]);
        // Steps and bounds at the integers' limits neither overflow nor panic.
        assert_eq!(sliced(Some(i64::MIN), Some(i64::MIN), i64::MIN), Vec::<i64>::new());
        assert_eq!(sliced(Some(-i64::MAX), Some(i64::MAX), i64::MAX), [1]);
    }
}
