//! DuckDB's exported aggregate states: `agg(x) EXPORT_STATE`, `finalize(state)`,
//! `combine(state, state)` and `combine_aggr(states)`. Here a state is the aggregate's result, its
//! field marked with the aggregate's name (`typeof` says AGGREGATE_STATE), so `finalize` gives
//! `agg(x)` as in DuckDB, and states combine where results do: those of sum, count, min, max,
//! product, bool_and, bool_or, list, first, last and any_value (a NULL state is one that saw no
//! rows). DuckDB's own layouts (a state cast to its STRUCT) are not
//! reproduced, and the states of other aggregates are refused by `combine` with a message.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};

use crate::engine::compat::functions::common::{columnar, row_udf};
use crate::engine::compat::types::{aggregate_state, state_field};

/// `finalize(state)`: the aggregate's result a state holds.
pub(crate) fn finalize() -> ScalarUDF {
    row_udf(
        "finalize",
        "one argument: finalize(agg(x) EXPORT_STATE)",
        1..=1,
        |t| Ok(t[0].clone()),
        |a| Ok(a[0].clone()),
    )
}

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(Marked::new(MarkedKind::Export)),
        ScalarUDF::new_from_impl(Marked::new(MarkedKind::Combine)),
    ]
}

pub(crate) fn combine_aggr() -> AggregateUDF {
    AggregateUDF::new_from_impl(CombineAggr { signature: Signature::any(1, Volatility::Immutable) })
}

/// How two states of an aggregate make one.
#[derive(Debug, Clone, Copy)]
enum Combine {
    Sum,
    Min,
    Max,
    Product,
    And,
    Or,
    Concat,
    /// first, any_value: the earlier state's value, unless it saw no rows.
    First,
    Last,
}

impl Combine {
    fn of(aggregate: &str) -> Result<Combine> {
        Ok(match aggregate {
            "sum" | "sum_no_overflow" | "count" | "count_star" | "fsum" | "kahan_sum" | "sumkahan" => Combine::Sum,
            "min" => Combine::Min,
            "max" => Combine::Max,
            "product" => Combine::Product,
            "bool_and" => Combine::And,
            "bool_or" => Combine::Or,
            "list" | "array_agg" => Combine::Concat,
            "first" | "any_value" | "arbitrary" => Combine::First,
            "last" => Combine::Last,
            other if other.ends_with(" (ordered)") => {
                let base = other.trim_end_matches(" (ordered)");
                return plan_err!(
                    "states of an ordered {base}() cannot be combined here (its order would be lost): compute {base}(... ORDER BY ...) over all the rows instead"
                );
            }
            other => {
                return plan_err!(
                    "states of {other}() cannot be combined here (a state is the aggregate's result): compute {other}() over all the rows instead"
                );
            }
        })
    }

    /// The state of the rows of both; a NULL state (no rows) leaves the other.
    fn apply(self, a: &ScalarValue, b: &ScalarValue) -> Result<ScalarValue> {
        if a.is_null() {
            return Ok(b.clone());
        }
        if b.is_null() {
            return Ok(a.clone());
        }
        let pick = |first: bool| Ok(if first { a.clone() } else { b.clone() });
        match self {
            Combine::Sum => a.add(b),
            Combine::Product => a.mul(b),
            Combine::First => pick(true),
            Combine::Last => pick(false),
            Combine::Min => pick(a.partial_cmp(b).is_some_and(|o| o.is_le())),
            Combine::Max => pick(a.partial_cmp(b).is_some_and(|o| o.is_ge())),
            Combine::And | Combine::Or => match (a, b) {
                (ScalarValue::Boolean(Some(x)), ScalarValue::Boolean(Some(y))) => {
                    Ok(ScalarValue::Boolean(Some(if matches!(self, Combine::And) { *x && *y } else { *x || *y })))
                }
                _ => exec_err!("combine: the states of bool_and/bool_or are booleans"),
            },
            Combine::Concat => {
                let (ScalarValue::List(x), ScalarValue::List(y)) = (a, b) else {
                    return exec_err!("combine: the states of list() are lists");
                };
                let values = datafusion::arrow::compute::concat(&[x.value(0).as_ref(), y.value(0).as_ref()])?;
                Ok(ScalarValue::List(Arc::new(
                    datafusion::common::utils::SingleRowListArrayBuilder::new(values).build_list_array(),
                )))
            }
        }
    }
}

/// The aggregate a state argument comes from, from its field.
fn combination(field: &FieldRef) -> Result<Combine> {
    match aggregate_state(field) {
        Some(aggregate) => Combine::of(aggregate),
        None => plan_err!("combine takes exported states: write agg(x) EXPORT_STATE"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum MarkedKind {
    /// `aggregate_state('name', result)`: the result, marked as a state of `name`.
    Export,
    /// `combine(state, state)`.
    Combine,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Marked {
    kind: MarkedKind,
    signature: Signature,
}

impl Marked {
    fn new(kind: MarkedKind) -> Self {
        Marked { kind, signature: Signature::any(2, Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for Marked {
    fn name(&self) -> &str {
        match self.kind {
            MarkedKind::Export => "aggregate_state",
            MarkedKind::Combine => "combine",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args[args.len() - 1].clone())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        match self.kind {
            MarkedKind::Export => {
                let Some(Some(ScalarValue::Utf8(Some(name)))) = args.scalar_arguments.first() else {
                    return plan_err!("aggregate_state takes the aggregate's name first");
                };
                Ok(state_field(&args.arg_fields[1].as_ref().clone().with_name(self.name()), name))
            }
            MarkedKind::Combine => {
                combination(&args.arg_fields[0])?;
                Ok(Arc::new(args.arg_fields[0].as_ref().clone().with_name(self.name())))
            }
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if self.kind == MarkedKind::Export {
            return Ok(args.args[1].clone());
        }
        let combine = combination(&args.arg_fields[0])?;
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let (a, b) = (args.args[0].to_array(args.number_rows)?, args.args[1].to_array(args.number_rows)?);
        let b = datafusion::arrow::compute::cast(&b, a.data_type())?;
        let rows = (0..a.len())
            // As DuckDB combines: the first state into the second (`combine([1], [2])` is [2, 1]).
            .map(|r| combine.apply(&ScalarValue::try_from_array(&b, r)?, &ScalarValue::try_from_array(&a, r)?))
            .collect::<Result<Vec<_>>>()?;
        let out = if rows.is_empty() { a.slice(0, 0) } else { ScalarValue::iter_to_array(rows)? };
        columnar(out, scalar)
    }
}

/// `combine_aggr(state)`: the states of a column combined into one.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CombineAggr {
    signature: Signature,
}

impl AggregateUDFImpl for CombineAggr {
    fn name(&self) -> &str {
        "combine_aggr"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args[0].clone())
    }

    fn return_field(&self, args: &[FieldRef]) -> Result<FieldRef> {
        combination(&args[0])?;
        Ok(Arc::new(args[0].as_ref().clone().with_name(self.name())))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(args.input_fields[0].as_ref().clone().with_name(format!("{}[state]", args.name)))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let data_type = args.expr_fields[0].data_type().clone();
        Ok(Box::new(CombineAccumulator {
            combine: combination(&args.expr_fields[0])?,
            state: ScalarValue::try_from(&data_type)?,
        }))
    }
}

#[derive(Debug)]
struct CombineAccumulator {
    combine: Combine,
    state: ScalarValue,
}

impl Accumulator for CombineAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let column = &values[0];
        for r in 0..column.len() {
            if column.is_valid(r) {
                self.state = self.combine.apply(&self.state, &ScalarValue::try_from_array(column, r)?)?;
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.update_batch(states)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.state.clone()])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(self.state.clone())
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.state.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_combine_as_their_aggregate_does() {
        let (two, three) = (ScalarValue::Int64(Some(2)), ScalarValue::Int64(Some(3)));
        assert_eq!(Combine::Sum.apply(&two, &three).unwrap(), ScalarValue::Int64(Some(5)));
        assert_eq!(Combine::Min.apply(&three, &two).unwrap(), two);
        assert_eq!(Combine::Max.apply(&ScalarValue::Int64(None), &two).unwrap(), two);
        assert!(Combine::of("avg").is_err());
    }
}
