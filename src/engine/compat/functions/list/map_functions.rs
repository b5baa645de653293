//! DuckDB's `map_from_entries(list)`: a map from a list of two-field structs (key, value), as
//! DuckDB builds it — a NULL list gives NULL, an empty list `{}` (`[]` and NULL too, as maps of
//! NULL keys and values), and a NULL key is an error.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, MapArray, StructArray, UInt32Array};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::row_udf;

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![row_udf(
        "map_from_entries",
        "one argument: map_from_entries(list of (key, value) structs)",
        1..=1,
        |t| map_type(&t[0]),
        map_from_entries,
    )]
}

/// The entries' fields: the struct's two fields, named as Arrow's maps name them.
fn entry_fields(list: &DataType) -> Result<Fields> {
    // NULL, or a list of nothing but NULLs (`[]`): a map of NULL keys and values, as in DuckDB.
    let untyped =
        || Fields::from(vec![Field::new("key", DataType::Null, false), Field::new("value", DataType::Null, true)]);
    if list.is_null() {
        return Ok(untyped());
    }
    let (DataType::List(element) | DataType::LargeList(element)) = list else {
        return plan_err!("map_from_entries takes a list of (key, value) structs, not {list}");
    };
    match element.data_type() {
        DataType::Struct(fields) if fields.len() == 2 => Ok(Fields::from(vec![
            Field::new("key", fields[0].data_type().clone(), false),
            Field::new("value", fields[1].data_type().clone(), true),
        ])),
        DataType::Null => Ok(untyped()),
        other => plan_err!("map_from_entries takes a list of (key, value) structs, not a list of {other}"),
    }
}

fn map_type(list: &DataType) -> Result<DataType> {
    let entries = Field::new("entries", DataType::Struct(entry_fields(list)?), false);
    Ok(DataType::Map(Arc::new(entries), false))
}

fn map_from_entries(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let fields = entry_fields(arrays[0].data_type())?;
    let element_is_struct = matches!(arrays[0].data_type(), DataType::List(e) | DataType::LargeList(e) if matches!(e.data_type(), DataType::Struct(_)));
    if !element_is_struct {
        // NULL, or lists with no entries: empty maps where the list is not NULL.
        let field = Arc::new(Field::new("entries", DataType::Struct(fields.clone()), false));
        let entries = StructArray::new_null(fields.clone(), 0);
        let lengths = std::iter::repeat_n(0, arrays[0].len());
        let nulls = arrays[0].logical_nulls();
        return Ok(Arc::new(MapArray::try_new(field, OffsetBuffer::from_lengths(lengths), entries, nulls, false)?));
    }
    let (DataType::List(element) | DataType::LargeList(element)) = arrays[0].data_type() else {
        return plan_err!("map_from_entries takes a list of (key, value) structs");
    };
    let list = cast(&arrays[0], &DataType::List(element.clone()))?;
    let list = list.as_list::<i32>();
    let entries = list.values().as_struct();
    // Only the entries of non-NULL lists make the maps (a NULL list's slots may hold anything).
    let (mut taken, mut offsets) = (Vec::new(), vec![0i32]);
    for row in 0..list.len() {
        if list.is_valid(row) {
            let (start, end) = (list.value_offsets()[row], list.value_offsets()[row + 1]);
            for i in start..end {
                if entries.is_null(i as usize) || entries.column(0).is_null(i as usize) {
                    return exec_err!("map_from_entries: a map key cannot be NULL");
                }
                taken.push(i as u32);
            }
        }
        offsets.push(taken.len() as i32);
    }
    let indices = UInt32Array::from(taken);
    let columns = vec![take(entries.column(0), &indices, None)?, take(entries.column(1), &indices, None)?];
    let entries = StructArray::try_new(fields.clone(), columns, None)?;
    let field = Arc::new(Field::new("entries", DataType::Struct(fields), false));
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    Ok(Arc::new(MapArray::try_new(field, offsets, entries, list.nulls().cloned(), false)?))
}
