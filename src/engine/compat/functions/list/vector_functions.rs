//! DuckDB's functions over lists of numbers as vectors (`list_*` and `array_*` names):
//! `list_inner_product` / `list_dot_product`, their negatives, `list_cosine_similarity`,
//! `list_cosine_distance`, `list_distance` (Euclidean) and `array_cross_product`; and
//! `list_select(list, positions)` and `list_grade_up(list)` (the positions that sort it).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, ListArray, UInt32Array};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{invalid, list_type, lists, row_udf, shared};

#[derive(Clone, Copy)]
enum Measure {
    Dot,
    NegativeDot,
    Cosine,
    CosineDistance,
    Euclidean,
}

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let double = |t: &[DataType]| Ok(float_of(&t[0]));
    let measure =
        |name: &'static str, aliases: [&'static str; 3], runs: crate::engine::compat::functions::common::Runs| {
            row_udf(name, "two lists of numbers of the same length", 2..=2, double, runs).with_aliases(aliases)
        };
    vec![
        measure("list_inner_product", ["list_dot_product", "array_inner_product", "array_dot_product"], |a| {
            measured(a, Measure::Dot, "list_inner_product")
        }),
        measure(
            "list_negative_inner_product",
            ["list_negative_dot_product", "array_negative_inner_product", "array_negative_dot_product"],
            |a| measured(a, Measure::NegativeDot, "list_negative_inner_product"),
        ),
        row_udf("list_cosine_similarity", "two lists of numbers of the same length", 2..=2, double, |a| {
            measured(a, Measure::Cosine, "list_cosine_similarity")
        })
        .with_aliases(["array_cosine_similarity"]),
        row_udf("list_cosine_distance", "two lists of numbers of the same length", 2..=2, double, |a| {
            measured(a, Measure::CosineDistance, "list_cosine_distance")
        })
        .with_aliases(["array_cosine_distance"]),
        row_udf("list_distance", "two lists of numbers of the same length", 2..=2, double, |a| {
            measured(a, Measure::Euclidean, "list_distance")
        })
        .with_aliases(["array_distance"]),
        row_udf(
            "array_cross_product",
            "two lists of three numbers",
            2..=2,
            |t| Ok(DataType::List(Arc::new(Field::new_list_field(float_of(&t[0]), true)))),
            cross_product,
        ),
        row_udf("list_select", "list_select(list, positions)", 2..=2, |t| list_type(&t[0]), list_select)
            .with_aliases(["array_select"]),
        row_udf(
            "list_grade_up",
            "list_grade_up(list [, 'ASC' | 'DESC' [, 'NULLS FIRST' | 'NULLS LAST']])",
            1..=3,
            |_| Ok(positions_list()),
            grade_up,
        )
        .with_aliases(["array_grade_up", "grade_up"]),
    ]
}

/// DuckDB answers in the lists' own float type: FLOAT for FLOAT lists, else DOUBLE.
fn float_of(list: &DataType) -> DataType {
    match list {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _)
            if f.data_type() == &DataType::Float32 =>
        {
            DataType::Float32
        }
        _ => DataType::Float64,
    }
}

fn positions_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)))
}

/// Each row's list as numbers; `None` for a NULL list; an error for a NULL element.
fn vectors(array: &ArrayRef, function: &str) -> Result<Vec<Option<Vec<f64>>>> {
    let list = lists(array)?;
    let values = cast(list.values(), &DataType::Float64)?;
    let values = values.as_primitive::<Float64Type>();
    (0..list.len())
        .map(|row| {
            if list.is_null(row) {
                return Ok(None);
            }
            let (start, end) = (list.value_offsets()[row] as usize, list.value_offsets()[row + 1] as usize);
            if (start..end).any(|i| values.is_null(i)) {
                return Err(invalid(format!("Invalid Input Error: {function}: a list can not contain NULL values")));
            }
            Ok(Some((start..end).map(|i| values.value(i)).collect()))
        })
        .collect()
}

/// The measure in the lists' precision (DuckDB computes FLOAT lists in single precision).
macro_rules! measure_in {
    ($name:ident, $float:ty) => {
        fn $name(a: &[f64], b: &[f64], measure: Measure) -> f64 {
            let (a, b): (Vec<$float>, Vec<$float>) =
                (a.iter().map(|x| *x as $float).collect(), b.iter().map(|x| *x as $float).collect());
            let dot: $float = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            // DuckDB divides by the root of the product of the squared norms.
            let squares = |v: &[$float]| v.iter().map(|x| x * x).sum::<$float>();
            let similarity = || dot / (squares(&a) * squares(&b)).sqrt();
            let value = match measure {
                Measure::Dot => dot,
                Measure::NegativeDot => -dot,
                Measure::Cosine => similarity(),
                Measure::CosineDistance => 1.0 - similarity(),
                Measure::Euclidean => a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum::<$float>().sqrt(),
            };
            value as f64
        }
    };
}
measure_in!(measure_f32, f32);
measure_in!(measure_f64, f64);

fn measured(arrays: &[ArrayRef], measure: Measure, function: &str) -> Result<ArrayRef> {
    let single = float_of(arrays[0].data_type()) == DataType::Float32;
    let (left, right) = (vectors(&arrays[0], function)?, vectors(&arrays[1], function)?);
    let mut out = Vec::with_capacity(left.len());
    for (a, b) in left.iter().zip(&right) {
        let (Some(a), Some(b)) = (a, b) else {
            out.push(None);
            continue;
        };
        if a.len() != b.len() {
            return Err(invalid(format!(
                "Invalid Input Error: {function}: list dimensions must be equal, got left length '{}' and right length '{}'",
                a.len(),
                b.len()
            )));
        }
        out.push(Some(if single { measure_f32(a, b, measure) } else { measure_f64(a, b, measure) }));
    }
    Ok(cast(&shared(Float64Array::from(out)), &float_of(arrays[0].data_type()))?)
}

fn cross_product(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (left, right) = (vectors(&arrays[0], "array_cross_product")?, vectors(&arrays[1], "array_cross_product")?);
    let (mut values, mut valid) = (Vec::new(), Vec::with_capacity(left.len()));
    for (a, b) in left.iter().zip(&right) {
        match (a, b) {
            (Some(a), Some(b)) if a.len() == 3 && b.len() == 3 => {
                values.extend([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]);
                valid.push(true);
            }
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "Invalid Input Error: array_cross_product: both lists must have 3 elements".into(),
                ));
            }
            _ => valid.push(false),
        }
    }
    let lengths = valid.iter().map(|v| if *v { 3 } else { 0 });
    let float = float_of(arrays[0].data_type());
    let field = Arc::new(Field::new_list_field(float.clone(), true));
    let values = cast(&shared(Float64Array::from(values)), &float)?;
    Ok(Arc::new(ListArray::try_new(field, OffsetBuffer::from_lengths(lengths), values, Some(NullBuffer::from(valid)))?))
}

/// The elements at the 1-based positions (NULL outside the list), as DuckDB's `list_select`.
fn list_select(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (values, positions) = (lists(&arrays[0])?, lists(&arrays[1])?);
    let indexes = cast(positions.values(), &DataType::Int64)?;
    let indexes = indexes.as_primitive::<Int64Type>();
    let (mut picked, mut lengths) = (Vec::new(), Vec::with_capacity(values.len()));
    for row in 0..values.len() {
        if values.is_null(row) || positions.is_null(row) {
            lengths.push(0);
            continue;
        }
        let (start, length) = (values.value_offsets()[row] as i64, values.value_length(row) as i64);
        let (from, to) = (positions.value_offsets()[row] as usize, positions.value_offsets()[row + 1] as usize);
        for i in from..to {
            let position = if indexes.is_null(i) { 0 } else { indexes.value(i) };
            picked.push((1..=length).contains(&position).then(|| (start + position - 1) as u32));
        }
        lengths.push(to - from);
    }
    let taken = take(values.values().as_ref(), &UInt32Array::from(picked), None)?;
    let DataType::List(field) = list_type(arrays[0].data_type())? else { unreachable!("a list") };
    let nulls: NullBuffer = (0..values.len()).map(|r| values.is_valid(r) && positions.is_valid(r)).collect();
    Ok(Arc::new(ListArray::try_new(field, OffsetBuffer::from_lengths(lengths), taken, Some(nulls))?))
}

/// The 1-based positions that sort each list (ascending and NULLs last unless told otherwise).
fn grade_up(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let list = lists(&arrays[0])?;
    let option = |i: usize| -> Result<Option<String>> {
        Ok(arrays
            .get(i)
            .map(crate::engine::compat::functions::common::texts)
            .transpose()?
            .and_then(|t| t.first().cloned().flatten()))
    };
    // A NULL sort option gives NULL.
    if (1..arrays.len()).any(|i| arrays[i].data_type().is_null() || arrays[i].is_null(0)) {
        return Ok(datafusion::arrow::array::new_null_array(&positions_list(), list.len()));
    }
    let descending = option(1)?.is_some_and(|o| o.eq_ignore_ascii_case("desc"));
    let nulls_first = option(2)?.is_some_and(|o| o.eq_ignore_ascii_case("nulls first"));
    let (mut positions, mut lengths) = (Vec::new(), Vec::with_capacity(list.len()));
    for row in 0..list.len() {
        if list.is_null(row) {
            lengths.push(0);
            continue;
        }
        let values = list.value(row);
        let order = datafusion::arrow::compute::sort_to_indices(
            &values,
            Some(datafusion::arrow::compute::SortOptions { descending, nulls_first }),
            None,
        )?;
        positions.extend(order.values().iter().map(|i| *i as i64 + 1));
        lengths.push(values.len());
    }
    let DataType::List(field) = positions_list() else { unreachable!("a list") };
    let nulls: NullBuffer = (0..list.len()).map(|r| list.is_valid(r)).collect();
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::from_lengths(lengths),
        shared(Int64Array::from(positions)),
        Some(nulls),
    )?))
}
