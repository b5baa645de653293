//! DuckDB's `list_reduce(list, (acc, x [, i]) -> expr [, initial])` (also `array_reduce`,
//! `reduce`): the lambda folds the elements left to right, `i` being the 1-based position of `x`;
//! without an initial value the first element starts the fold, and an empty list is an error.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, UInt32Array, new_null_array};
use datafusion::arrow::compute::{cast, interleave, take, take_arrays};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs, HigherOrderSignature, HigherOrderUDF,
    HigherOrderUDFImpl, LambdaParametersProgress, ValueOrLambda, Volatility,
};

pub(crate) fn list_reduce() -> HigherOrderUDF {
    HigherOrderUDF::new_from_impl(ListReduce {
        signature: HigherOrderSignature::user_defined(Volatility::Immutable),
        aliases: vec!["array_reduce".into(), "reduce".into()],
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ListReduce {
    signature: HigherOrderSignature,
    aliases: Vec<String>,
}

const USAGE: &str = "list_reduce takes a list, a lambda (acc, x [, i]) -> ... and an optional initial value";

/// The list's element field and the initial value's field, from the arguments in order.
fn parts<V, L>(args: &[ValueOrLambda<V, L>]) -> Result<(&V, Option<&V>)> {
    match args {
        [ValueOrLambda::Value(list), ValueOrLambda::Lambda(_)] => Ok((list, None)),
        [ValueOrLambda::Value(list), ValueOrLambda::Lambda(_), ValueOrLambda::Value(initial)] => {
            Ok((list, Some(initial)))
        }
        _ => plan_err!("{USAGE}"),
    }
}

fn element_field(list: &DataType) -> Result<FieldRef> {
    match list {
        DataType::List(field) => Ok(field.clone()),
        DataType::Null => Ok(Arc::new(Field::new("item", DataType::Null, true))),
        other => plan_err!("list_reduce takes a list, not {other}"),
    }
}

impl ListReduce {
    /// The accumulator's field: the element's, or the initial value's widened to hold the
    /// elements' digits too (DuckDB folds `[1, 2, 3]` from 2.5 to 15.0, and DECIMALs from 1 in
    /// their scale); an untyped NULL starts as an element.
    fn accumulator(&self, list: &FieldRef, initial: Option<&FieldRef>) -> Result<FieldRef> {
        let element = element_field(list.data_type())?.data_type().clone();
        let data_type = match initial.map(|f| f.data_type().clone()) {
            None | Some(DataType::Null) => element,
            Some(start) => match (&start, &element) {
                (DataType::Decimal128(_, a), DataType::Decimal128(_, b)) => DataType::Decimal128(38, (*a).max(*b)),
                (DataType::Decimal128(_, s), other) | (other, DataType::Decimal128(_, s)) if other.is_integer() => {
                    DataType::Decimal128(38, *s)
                }
                (a, b) if a.is_integer() && b.is_floating() => b.clone(),
                _ => start,
            },
        };
        Ok(Arc::new(Field::new("acc", data_type, true)))
    }
}

impl HigherOrderUDFImpl for ListReduce {
    fn name(&self) -> &str {
        "list_reduce"
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let mut types = arg_types.to_vec();
        match types.first() {
            Some(DataType::LargeList(f) | DataType::FixedSizeList(f, _) | DataType::ListView(f)) => {
                types[0] = DataType::List(f.clone());
            }
            Some(DataType::List(_) | DataType::Null) => {}
            _ => return plan_err!("{USAGE}"),
        }
        Ok(types)
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let (list, initial) = parts(fields)?;
        let element = element_field(list.data_type())?;
        let position = Arc::new(Field::new("i", DataType::Int64, false));
        Ok(LambdaParametersProgress::Complete(vec![vec![self.accumulator(list, initial)?, element, position]]))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<Arc<Field>> {
        let (list, initial) = parts(args.arg_fields)?;
        self.accumulator(list, initial)
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let lambda = match &args.args[1] {
            ValueOrLambda::Lambda(lambda) => lambda,
            ValueOrLambda::Value(_) => return exec_err!("{USAGE}"),
        };
        let list_array = match &args.args[0] {
            ValueOrLambda::Value(v) => v.to_array(rows)?,
            ValueOrLambda::Lambda(_) => return exec_err!("{USAGE}"),
        };
        let acc_type = args.return_type().clone();
        if list_array.data_type().is_null() {
            return Ok(ColumnarValue::Array(new_null_array(&acc_type, rows)));
        }
        let list = list_array.as_list::<i32>();
        let values = list.values();
        let offsets = list.value_offsets();
        let length = |r: usize| (offsets[r + 1] - offsets[r]) as usize;
        let (mut acc, start) = match args.args.get(2) {
            Some(ValueOrLambda::Value(initial)) => (cast(&initial.to_array(rows)?, &acc_type)?, 0),
            _ => {
                if (0..rows).any(|r| list.is_valid(r) && length(r) == 0) {
                    return exec_err!("Cannot perform list_reduce on an empty input list");
                }
                let firsts: UInt32Array = (0..rows).map(|r| (list.is_valid(r)).then_some(offsets[r] as u32)).collect();
                (cast(&take(values.as_ref(), &firsts, None)?, &acc_type)?, 1)
            }
        };
        let longest = (0..rows).filter(|r| list.is_valid(*r)).map(length).max().unwrap_or(0);
        for step in start..longest {
            let active: Vec<u32> =
                (0..rows).filter(|r| list.is_valid(*r) && length(*r) > step).map(|r| r as u32).collect();
            let active = UInt32Array::from(active);
            let elements: UInt32Array =
                active.values().iter().map(|r| offsets[*r as usize] as u32 + step as u32).collect();
            let acc_now = take(acc.as_ref(), &active, None)?;
            let x = take(values.as_ref(), &elements, None)?;
            let position: ArrayRef = Arc::new(Int64Array::from(vec![step as i64 + 1; active.len()]));
            let (acc_arg, x_arg, i_arg) = (|| Ok(acc_now.clone()), || Ok(x.clone()), || Ok(position.clone()));
            let folded = lambda
                .evaluate(&[&acc_arg, &x_arg, &i_arg], |captures| Ok(take_arrays(captures, &active, None)?))?
                .into_array(active.len())?;
            let folded = cast(&folded, &acc_type)?;
            // Rows still folding take the new value, the others keep theirs.
            let mut next = 0;
            let picks: Vec<(usize, usize)> = (0..rows)
                .map(|r| {
                    if next < active.len() && active.value(next) as usize == r {
                        next += 1;
                        (1, next - 1)
                    } else {
                        (0, r)
                    }
                })
                .collect();
            acc = interleave(&[acc.as_ref(), folded.as_ref()], &picks)?;
        }
        // A NULL list reduces to NULL.
        if list.null_count() > 0 {
            let nulls = new_null_array(&acc_type, 1);
            let picks: Vec<(usize, usize)> =
                (0..rows).map(|r| if list.is_valid(r) { (0, r) } else { (1, 0) }).collect();
            acc = interleave(&[acc.as_ref(), nulls.as_ref()], &picks)?;
        }
        Ok(ColumnarValue::Array(acc))
    }
}
