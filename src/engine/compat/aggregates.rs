//! DuckDB aggregates that DataFusion lacks (or computes otherwise), as UDAFs.

use std::any::Any;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility};
use datafusion::physical_expr::expressions::Literal;

pub(super) fn aggregate_functions() -> Vec<AggregateUDF> {
    [Collect::Mode, Collect::QuantileDisc, Collect::QuantileCont]
        .into_iter()
        .map(|kind| AggregateUDF::new_from_impl(CollectAggregate::new(kind)))
        .collect()
}

/// Aggregates that need every value of a group: `mode` and the exact quantiles (DataFusion's
/// `quantile_cont` is approximate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Collect {
    Mode,
    QuantileDisc,
    QuantileCont,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct CollectAggregate {
    kind: Collect,
    signature: Signature,
}

impl CollectAggregate {
    fn new(kind: Collect) -> Self {
        CollectAggregate { kind, signature: Signature::variadic_any(Volatility::Immutable) }
    }
}

impl AggregateUDFImpl for CollectAggregate {
    fn name(&self) -> &str {
        match self.kind {
            Collect::Mode => "mode",
            Collect::QuantileDisc => "quantile_disc",
            Collect::QuantileCont => "quantile_cont",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match (self.kind, args.len()) {
            (Collect::Mode, 1) | (Collect::QuantileDisc, 2) => Ok(args[0].clone()),
            (Collect::QuantileCont, 2) if args[0].is_numeric() => Ok(DataType::Float64),
            (Collect::Mode, _) => plan_err!("mode takes one argument: mode(x)"),
            (_, _) => plan_err!("{} takes a number and a constant quantile, e.g. {}(x, 0.5)", self.name(), self.name()),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let item = match self.kind {
            Collect::QuantileCont => DataType::Float64,
            _ => args.input_fields[0].data_type().clone(),
        };
        Ok(vec![Arc::new(Field::new(
            format!("{}[values]", args.name),
            DataType::List(Arc::new(Field::new_list_field(item, true))),
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let quantile = match self.kind {
            Collect::Mode => 0.0,
            Collect::QuantileDisc | Collect::QuantileCont => {
                let literal = args.exprs.get(1).and_then(|e| (e.as_ref() as &dyn Any).downcast_ref::<Literal>());
                let q = literal.and_then(|l| match l.value().clone() {
                    ScalarValue::Float64(Some(q)) => Some(q),
                    ScalarValue::Float32(Some(q)) => Some(q as f64),
                    ScalarValue::Decimal128(Some(v), _, s) => Some(v as f64 / 10f64.powi(s as i32)),
                    ScalarValue::Int64(Some(q)) => Some(q as f64),
                    _ => None,
                });
                match q {
                    Some(q) if (0.0..=1.0).contains(&q) => q,
                    _ => {
                        return plan_err!(
                            "{} needs a constant quantile between 0 and 1, e.g. {}(x, 0.5)",
                            self.name(),
                            self.name()
                        );
                    }
                }
            }
        };
        Ok(Box::new(CollectAccumulator {
            kind: self.kind,
            quantile,
            data_type: args.return_field.data_type().clone(),
            values: Vec::new(),
        }))
    }
}

#[derive(Debug)]
struct CollectAccumulator {
    kind: Collect,
    quantile: f64,
    data_type: DataType,
    values: Vec<ScalarValue>,
}

impl Accumulator for CollectAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let column = match self.kind {
            Collect::QuantileCont => &cast(&values[0], &DataType::Float64)?,
            _ => &values[0],
        };
        for r in 0..column.len() {
            if column.is_valid(r) {
                self.values.push(ScalarValue::try_from_array(column, r)?);
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let lists = states[0].as_list::<i32>();
        for r in 0..lists.len() {
            if lists.is_valid(r) {
                self.update_batch(&[lists.value(r)])?;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let list = ScalarValue::new_list_nullable(&self.values, &self.data_type);
        Ok(vec![ScalarValue::List(list)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.values.is_empty() {
            return ScalarValue::try_from(&self.data_type);
        }
        let mut sorted = self.values.clone();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        Ok(match self.kind {
            Collect::QuantileDisc => {
                let index = ((sorted.len() - 1) as f64 * self.quantile).floor() as usize;
                sorted[index].clone()
            }
            // Linear interpolation between the two closest ranks, as DuckDB computes it.
            Collect::QuantileCont => {
                let value = |i: usize| match &sorted[i] {
                    ScalarValue::Float64(Some(v)) => *v,
                    _ => f64::NAN,
                };
                let position = (sorted.len() - 1) as f64 * self.quantile;
                let (lower, upper) = (position.floor() as usize, position.ceil() as usize);
                let (a, b) = (value(lower), value(upper));
                ScalarValue::Float64(Some(a + (b - a) * (position - lower as f64)))
            }
            // The most frequent value; among equally frequent ones, the smallest.
            Collect::Mode => {
                let (mut best, mut best_count) = (&sorted[0], 0);
                let mut i = 0;
                while i < sorted.len() {
                    let j = sorted[i..].iter().take_while(|v| *v == &sorted[i]).count();
                    if j > best_count {
                        best = &sorted[i];
                        best_count = j;
                    }
                    i += j;
                }
                best.clone()
            }
        })
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.values.iter().map(ScalarValue::size).sum::<usize>()
    }
}
