//! DuckDB compares list elements with values of another number type (and a BOOLEAN as 0 or 1):
//! `list_contains([1.0, 2.0], 1)`, `list_has_any([true], [1])`, `list_position([1, 2], 1.0)`.
//! DataFusion's `array_has`, `array_has_all`, `array_has_any`, `array_position` and
//! `array_intersect` refuse to coerce those, so each is wrapped: the arguments meet in a common
//! number type first, then the function coerces and runs as it does. `array_position` of a
//! struct or a map, which Arrow's comparison kernels refuse, compares values one by one.
//! `list_has_any` and `list_has_all` skip NULL elements, as DuckDB's do (a NULL matches nothing and
//! need not be matched).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    use datafusion::functions_nested::array_has::{array_has_all_udf, array_has_any_udf, array_has_udf};
    use datafusion::functions_nested::{position::array_position_udf, set_ops::array_intersect_udf};
    [
        (array_has_udf(), false),
        (array_has_all_udf(), true),
        (array_has_any_udf(), true),
        (array_position_udf(), false),
        (array_intersect_udf(), true),
    ]
    .into_iter()
    .map(|(inner, lists)| {
        ScalarUDF::new_from_impl(NumberCoercing {
            inner,
            lists,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    })
    .collect()
}

#[derive(Debug)]
struct NumberCoercing {
    inner: Arc<ScalarUDF>,
    /// Both arguments are lists (`array_has_all`, `array_has_any`); else a list and a value.
    lists: bool,
    signature: Signature,
}

crate::engine::compat::functions::common::compared_by_name!(NumberCoercing, udf => udf.inner.name());

impl ScalarUDFImpl for NumberCoercing {
    crate::engine::compat::functions::common::as_inner_named!();

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let mut types = arg_types.to_vec();
        if let [list, other] = types.as_mut_slice()
            && let Some(left) = element(list)
        {
            let right = if self.lists { element(other) } else { Some(other.clone()) };
            if let Some(common) = right.and_then(|right| common_number(&left, &right)) {
                *list = DataType::new_list(common.clone(), true);
                *other = if self.lists { DataType::new_list(common, true) } else { common };
            }
        }
        let fields: Vec<FieldRef> = types.iter().map(|t| Arc::new(Field::new("argument", t.clone(), true))).collect();
        Ok(fields_with_udf(&fields, self.inner.as_ref())?.iter().map(|f| f.data_type().clone()).collect())
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if self.inner.name() == "array_position"
            && let [list, value] = args.args.as_slice()
            && matches!(value.data_type(), DataType::Struct(_) | DataType::Map(..))
        {
            return nested_position(list, value, args.number_rows);
        }
        if matches!(self.inner.name(), "array_has_all" | "array_has_any") {
            let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
            let rows = args.number_rows;
            let lists = args.args.iter().map(|a| a.to_array(rows).and_then(without_null_elements));
            let lists = lists.map(|l| l.map(ColumnarValue::Array)).collect::<Result<Vec<_>>>()?;
            let result = self.inner.invoke_with_args(ScalarFunctionArgs { args: lists, ..args })?;
            return match result {
                ColumnarValue::Array(array) => crate::engine::compat::functions::common::columnar(array, scalar),
                scalar_result => Ok(scalar_result),
            };
        }
        self.inner.invoke_with_args(args)
    }
}

/// The 1-based position of the first element equal to the value (NULL when none is), for
/// elements Arrow cannot compare in bulk.
fn nested_position(list: &ColumnarValue, value: &ColumnarValue, rows: usize) -> Result<ColumnarValue> {
    use datafusion::arrow::array::{Array, AsArray, UInt64Array};
    use datafusion::common::ScalarValue;
    let scalar = matches!((list, value), (ColumnarValue::Scalar(_), ColumnarValue::Scalar(_)));
    let (lists, values) = (list.to_array(rows)?, value.to_array(rows)?);
    let lists = datafusion::arrow::compute::cast(&lists, &DataType::new_list(values.data_type().clone(), true))?;
    let lists = lists.as_list::<i32>();
    let mut positions = Vec::with_capacity(rows);
    for r in 0..rows {
        if lists.is_null(r) || values.is_null(r) {
            positions.push(None);
            continue;
        }
        let wanted = ScalarValue::try_from_array(&values, r)?;
        let elements = lists.value(r);
        let mut found = None;
        for i in 0..elements.len() {
            if ScalarValue::try_from_array(&elements, i)? == wanted {
                found = Some(i as u64 + 1);
                break;
            }
        }
        positions.push(found);
    }
    crate::engine::compat::functions::common::columnar(Arc::new(UInt64Array::from(positions)), scalar)
}

/// A list array with its NULL elements left out (NULL lists stay NULL).
fn without_null_elements(array: datafusion::arrow::array::ArrayRef) -> Result<datafusion::arrow::array::ArrayRef> {
    use datafusion::arrow::array::{Array, AsArray, ListArray};
    use datafusion::arrow::buffer::OffsetBuffer;
    let Some(lists) = array.as_list_opt::<i32>() else { return Ok(array) };
    let offsets = lists.offsets();
    let start = offsets.first().copied().unwrap_or(0) as usize;
    let values = lists.values().slice(start, offsets.last().copied().unwrap_or(0) as usize - start);
    if values.null_count() == 0 {
        return Ok(array);
    }
    let lengths =
        offsets.windows(2).map(|w| (w[0] as usize..w[1] as usize).filter(|&i| values.is_valid(i - start)).count());
    let offsets = OffsetBuffer::from_lengths(lengths);
    let values = datafusion::arrow::compute::filter(&values, &datafusion::arrow::compute::is_not_null(&values)?)?;
    let field = match lists.data_type() {
        DataType::List(f) => f.clone(),
        _ => return Ok(array),
    };
    Ok(Arc::new(ListArray::try_new(field, offsets, values, lists.nulls().cloned())?))
}

fn element(t: &DataType) -> Option<DataType> {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => Some(f.data_type().clone()),
        _ => None,
    }
}

/// The type two different number (or BOOLEAN) types meet in, as DuckDB compares them.
fn common_number(a: &DataType, b: &DataType) -> Option<DataType> {
    let number = |t: &DataType| t.is_numeric() || *t == DataType::Boolean;
    if a == b || !number(a) || !number(b) {
        return None;
    }
    if *a == DataType::Boolean || *b == DataType::Boolean {
        let other = if *a == DataType::Boolean { b } else { a };
        return Some(if other.is_integer() || *other == DataType::Boolean { DataType::Int64 } else { other.clone() });
    }
    datafusion::logical_expr::type_coercion::binary::comparison_coercion(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_meet_before_the_list_functions_coerce() {
        let has = &functions()[0];
        let list_of = |t: DataType| DataType::new_list(t, true);
        let types = has.coerce_types(&[list_of(DataType::Decimal128(2, 1)), DataType::Int64]).unwrap();
        assert!(matches!(&types[1], DataType::Decimal128(..)), "{types:?}");
        let any = &functions()[2];
        let types = any.coerce_types(&[list_of(DataType::Boolean), list_of(DataType::Int64)]).unwrap();
        assert_eq!(types[0], list_of(DataType::Int64));
    }
}
