//! DuckDB's struct functions that DataFusion lacks: `struct_keys(s)`, `struct_values(s)` (an
//! unnamed struct of the values), `struct_extract_at(s, i)` (1-based), `struct_concat(a, b, ...)`,
//! `struct_update(s, updates)` (fields replaced or added, `rewrite::reshapes` writing the named
//! arguments as a struct),
//! and `struct_contains(s, v)` / `struct_position(s, v)` (whether, and where, a field equals `v`:
//! numbers compared as numbers, other values only with values of their own type).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int32Array, ListBuilder, StringBuilder, StructArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::engine::compat::functions::common::{columnar, row_udf};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![
        row_udf(
            "struct_keys",
            "one argument: struct_keys(struct)",
            1..=1,
            |_| Ok(DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))),
            struct_keys,
        ),
        row_udf("struct_values", "one argument: struct_values(struct)", 1..=1, |t| unnamed(&t[0]), struct_values),
        row_udf("struct_concat", "struct_concat(struct, struct, ...)", 1..=usize::MAX, concatenated, struct_concat),
        row_udf(
            "struct_update",
            "struct_update(struct, name := value, ...)",
            2..=2,
            |t| updated(t).map(|(t, _)| t),
            struct_update,
        ),
        ScalarUDF::new_from_impl(StructExtractAt { signature: Signature::any(2, Volatility::Immutable) }),
        row_udf(
            "struct_contains",
            "struct_contains(struct, value)",
            2..=2,
            |_| Ok(DataType::Boolean),
            |a| {
                let found = positions(a, false)?;
                Ok(Arc::new(BooleanArray::from_iter(found.into_iter().map(|p| p.map(|p| p > 0)))) as ArrayRef)
            },
        ),
        row_udf(
            "struct_position",
            "struct_position(struct, value)",
            2..=2,
            |_| Ok(DataType::Int32),
            |a| {
                let found = positions(a, true)?;
                Ok(Arc::new(Int32Array::from_iter(found.into_iter().map(|p| p.filter(|p| *p > 0)))) as ArrayRef)
            },
        ),
    ]
}

/// For each row, the 1-based position of the first field equal to the value (0 for none); `None`
/// for a NULL struct, or a NULL value unless `null_matches` (then the first NULL field).
fn positions(arrays: &[ArrayRef], null_matches: bool) -> Result<Vec<Option<i32>>> {
    let (structs, values) = (&arrays[0], &arrays[1]);
    let columns: Vec<ArrayRef> = structs.as_struct_opt().map(|s| s.columns().to_vec()).unwrap_or_default();
    let mut out = Vec::with_capacity(structs.len());
    for row in 0..structs.len() {
        let value = ScalarValue::try_from_array(values, row)?;
        if structs.data_type().is_null() || structs.is_null(row) || (value.is_null() && !null_matches) {
            out.push(None);
            continue;
        }
        let mut found = 0;
        for (index, column) in columns.iter().enumerate() {
            let field = ScalarValue::try_from_array(column, row)?;
            let equal = match (field.is_null(), value.is_null()) {
                (true, true) => true,
                (false, false) => same_value(&field, &value),
                _ => false,
            };
            if equal {
                found = index as i32 + 1;
                break;
            }
        }
        out.push(Some(found));
    }
    Ok(out)
}

/// Numbers compared as numbers; other values only with values of their type.
fn same_value(field: &ScalarValue, value: &ScalarValue) -> bool {
    let (a, b) = (field.data_type(), value.data_type());
    if a.is_numeric() && b.is_numeric() {
        return match (field.cast_to(&DataType::Float64), value.cast_to(&DataType::Float64)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        };
    }
    let text = |t: &DataType| matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8);
    if text(&a) && text(&b) {
        return field.cast_to(&DataType::Utf8).ok() == value.cast_to(&DataType::Utf8).ok();
    }
    match (field, value) {
        // Lists element by element; structs field by field, by name unless one is unnamed (a ROW).
        (ScalarValue::List(x), ScalarValue::List(y)) => same_elements(x.as_ref(), y.as_ref()),
        (ScalarValue::LargeList(x), ScalarValue::LargeList(y)) => same_elements(x.as_ref(), y.as_ref()),
        (ScalarValue::Struct(x), ScalarValue::Struct(y)) => {
            let (xf, yf) = (x.fields(), y.fields());
            let named = !crate::encode::unnamed_struct(xf) && !crate::encode::unnamed_struct(yf);
            xf.len() == yf.len()
                && (!named || xf.iter().zip(yf.iter()).all(|(p, q)| p.name().eq_ignore_ascii_case(q.name())))
                && same_elements_of(x.columns(), y.columns())
        }
        _ => a == b && field == value,
    }
}

/// Whether two one-row list arrays hold equal elements (NULLs equal), each as [`same_value`].
fn same_elements(x: &dyn Array, y: &dyn Array) -> bool {
    let values = |a: &dyn Array| -> Option<ArrayRef> {
        match a.data_type() {
            DataType::List(_) => Some(a.as_list::<i32>().value(0)),
            DataType::LargeList(_) => Some(a.as_list::<i64>().value(0)),
            _ => None,
        }
    };
    match (values(x), values(y)) {
        (Some(p), Some(q)) => p.len() == q.len() && (0..p.len()).all(|row| equal_at(&p, &q, row)),
        _ => false,
    }
}

/// Whether the first rows of two lists of columns hold equal values, column by column.
fn same_elements_of(x: &[ArrayRef], y: &[ArrayRef]) -> bool {
    x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal_at(p, q, 0))
}

/// Whether two arrays hold equal values at `row` (NULLs equal).
fn equal_at(x: &ArrayRef, y: &ArrayRef, row: usize) -> bool {
    match (ScalarValue::try_from_array(x, row), ScalarValue::try_from_array(y, row)) {
        (Ok(p), Ok(q)) => (p.is_null() && q.is_null()) || (!p.is_null() && !q.is_null() && same_value(&p, &q)),
        _ => false,
    }
}

fn fields_of(data_type: &DataType) -> Result<Fields> {
    match data_type {
        DataType::Struct(fields) => Ok(fields.clone()),
        other => plan_err!("expected a STRUCT, not {other}"),
    }
}

fn struct_keys(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let fields = if arrays[0].data_type().is_null() { Fields::empty() } else { fields_of(arrays[0].data_type())? };
    let mut out = ListBuilder::new(StringBuilder::new());
    for row in 0..arrays[0].len() {
        if arrays[0].data_type().is_null() || arrays[0].is_null(row) {
            out.append(false);
            continue;
        }
        for field in fields.iter() {
            out.values().append_value(field.name());
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

/// The same fields named c0, c1, ...: DuckDB's unnamed struct, printed as a tuple.
fn unnamed(data_type: &DataType) -> Result<DataType> {
    let fields = fields_of(data_type)?;
    Ok(DataType::Struct(
        fields.iter().enumerate().map(|(i, f)| Field::new(format!("c{i}"), f.data_type().clone(), true)).collect(),
    ))
}

fn struct_values(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let DataType::Struct(fields) = unnamed(arrays[0].data_type())? else { unreachable!("a struct") };
    let input = arrays[0].as_struct();
    Ok(Arc::new(StructArray::try_new(fields, input.columns().to_vec(), input.nulls().cloned())?))
}

fn concatenated(types: &[DataType]) -> Result<DataType> {
    let mut fields: Vec<FieldRef> = Vec::new();
    for data_type in types {
        for field in fields_of(data_type)?.iter() {
            if fields.iter().any(|f| f.name() == field.name()) {
                return plan_err!("struct_concat: the field {} is in more than one struct", field.name());
            }
            fields.push(field.clone());
        }
    }
    Ok(DataType::Struct(fields.into()))
}

fn struct_concat(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let types: Vec<DataType> = arrays.iter().map(|a| a.data_type().clone()).collect();
    let DataType::Struct(fields) = concatenated(&types)? else { unreachable!("a struct") };
    let columns: Vec<ArrayRef> = arrays.iter().flat_map(|a| a.as_struct().columns().to_vec()).collect();
    // NULL where any input is NULL.
    let nulls: NullBuffer = (0..arrays[0].len()).map(|r| arrays.iter().all(|a| a.is_valid(r))).collect();
    Ok(Arc::new(StructArray::try_new(fields, columns, Some(nulls))?))
}

/// The type of `struct_update(s, updates)`: `s`'s fields, each replaced by the update of its name
/// (in any case) where there is one, then the other updates; and where each field comes from
/// (`true`: the updates).
fn updated(types: &[DataType]) -> Result<(DataType, Vec<(bool, usize)>)> {
    let (target, updates) = (fields_of(&types[0])?, fields_of(&types[1])?);
    let mut fields: Vec<FieldRef> = Vec::new();
    let mut sources = Vec::new();
    for (at, field) in target.iter().enumerate() {
        match updates.iter().position(|u| u.name().eq_ignore_ascii_case(field.name())) {
            Some(update) => {
                fields.push(Arc::new(Field::new(field.name(), updates[update].data_type().clone(), true)));
                sources.push((true, update));
            }
            None => {
                fields.push(field.clone());
                sources.push((false, at));
            }
        }
    }
    for (at, update) in updates.iter().enumerate() {
        if !target.iter().any(|f| f.name().eq_ignore_ascii_case(update.name())) {
            fields.push(update.clone());
            sources.push((true, at));
        }
    }
    Ok((DataType::Struct(fields.into()), sources))
}

fn struct_update(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let types: Vec<DataType> = arrays.iter().map(|a| a.data_type().clone()).collect();
    let (DataType::Struct(fields), sources) = updated(&types)? else { unreachable!("a struct") };
    let (target, updates) = (arrays[0].as_struct(), arrays[1].as_struct());
    let columns: Vec<ArrayRef> = sources
        .iter()
        .map(|&(from_updates, at)| if from_updates { updates.column(at).clone() } else { target.column(at).clone() })
        .collect();
    // NULL where the struct updated is NULL.
    Ok(Arc::new(StructArray::try_new(fields, columns, target.nulls().cloned())?))
}

/// `struct_extract_at(s, i)`: the i-th field (from 1); the position must be a constant.
#[derive(Debug, PartialEq, Eq, Hash)]
struct StructExtractAt {
    signature: Signature,
}

fn position(value: Option<&ScalarValue>, count: usize) -> Result<usize> {
    let index = match value.map(|v| v.cast_to(&DataType::Int64)) {
        Some(Ok(ScalarValue::Int64(Some(i)))) => i,
        _ => return plan_err!("struct_extract_at: the position must be a constant integer"),
    };
    if index < 1 || index as usize > count {
        return plan_err!("struct_extract_at: position {index} is out of range (the struct has {count} fields)");
    }
    Ok(index as usize - 1)
}

impl ScalarUDFImpl for StructExtractAt {
    fn name(&self) -> &str {
        "struct_extract_at"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("struct_extract_at: the position must be a constant integer")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let fields = fields_of(args.arg_fields[0].data_type())?;
        let at = position(args.scalar_arguments.get(1).copied().flatten(), fields.len())?;
        Ok(Arc::new(Field::new(self.name(), fields[at].data_type().clone(), true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let input = args.args[0].to_array(args.number_rows)?;
        let index = match &args.args[1] {
            ColumnarValue::Scalar(v) => Some(v.clone()),
            ColumnarValue::Array(a) => ScalarValue::try_from_array(a, 0).ok(),
        };
        let structs = input.as_struct();
        let at = position(index.as_ref(), structs.num_columns())?;
        let column = structs.column(at).clone();
        // A NULL struct has NULL fields.
        let column = match structs.nulls() {
            Some(nulls) => datafusion::arrow::compute::nullif(
                &column,
                &datafusion::arrow::array::BooleanArray::new(!nulls.inner(), None),
            )?,
            None => column,
        };
        columnar(column, scalar)
    }
}
