//! DuckDB aggregates that DataFusion lacks (or computes otherwise), as UDAFs.

use std::any::Any;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, IntervalUnit};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility};
use datafusion::physical_expr::expressions::Literal;

use super::statistics::{decimal_mad, discrete_index, doubles, entropy, exact_mean, median, most_frequent};
use crate::engine::compat::functions::datetime::temporal_values::{self, is_temporal, kept};

pub(crate) fn functions() -> Vec<AggregateUDF> {
    [
        Collect::Mode,
        Collect::QuantileDisc,
        Collect::QuantileCont,
        Collect::Product,
        Collect::Kurtosis,
        Collect::KurtosisPop,
        Collect::Skewness,
        Collect::Entropy,
        Collect::Mad,
        Collect::Sem,
        Collect::TopK,
        Collect::TemporalAvg,
    ]
    .into_iter()
    .map(|kind| AggregateUDF::new_from_impl(CollectAggregate::new(kind)))
    .collect()
}

/// One of these aggregates, by name.
pub(crate) fn aggregate_named(name: &str) -> Option<std::sync::Arc<AggregateUDF>> {
    functions().into_iter().find(|f| f.name() == name).map(std::sync::Arc::new)
}

/// Aggregates that need every value of a group: `mode`, the exact quantiles (DataFusion's
/// `quantile_cont` is approximate), and DuckDB's statistics `product`, `kurtosis` (sample, bias
/// corrected), `kurtosis_pop`, `skewness`, `entropy` (base 2), `mad` (median absolute deviation),
/// `sem` (standard error of the mean), `approx_top_k` (computed exactly) and `temporal_avg`
/// (DuckDB's `avg` of dates, timestamps, times and intervals). `quantile_cont` and `mad` take
/// temporal values too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Collect {
    Mode,
    QuantileDisc,
    QuantileCont,
    Product,
    Kurtosis,
    KurtosisPop,
    Skewness,
    Entropy,
    Mad,
    Sem,
    TopK,
    TemporalAvg,
}

impl Collect {
    /// The statistics of one number (a DOUBLE).
    fn of_one_number(self) -> bool {
        matches!(
            self,
            Collect::Product
                | Collect::Kurtosis
                | Collect::KurtosisPop
                | Collect::Skewness
                | Collect::Mad
                | Collect::Sem
        )
    }

    /// Whether the values are collected as doubles.
    fn numeric(self) -> bool {
        !matches!(self, Collect::Mode | Collect::QuantileDisc | Collect::Entropy | Collect::TopK)
    }
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
            Collect::Product => "product",
            Collect::Kurtosis => "kurtosis",
            Collect::KurtosisPop => "kurtosis_pop",
            Collect::Skewness => "skewness",
            Collect::Entropy => "entropy",
            Collect::Mad => "mad",
            Collect::Sem => "sem",
            Collect::TopK => "approx_top_k",
            Collect::TemporalAvg => "temporal_avg",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match (self.kind, args.len()) {
            (Collect::Mode, 1) | (Collect::QuantileDisc, 2) => Ok(args[0].clone()),
            (Collect::QuantileCont, 2) if args[0].is_numeric() => Ok(DataType::Float64),
            (Collect::QuantileCont | Collect::TemporalAvg, _) if is_temporal(&args[0]) => Ok(kept(&args[0])),
            (Collect::Mad, 1) if is_temporal(&args[0]) => Ok(DataType::Interval(IntervalUnit::MonthDayNano)),
            (Collect::Entropy, 1) => Ok(DataType::Float64),
            (Collect::TopK, 2) => Ok(DataType::List(Arc::new(Field::new_list_field(args[0].clone(), true)))),
            (Collect::TopK, _) => plan_err!("approx_top_k takes a value and a constant count: approx_top_k(x, 5)"),
            // DuckDB's median absolute deviation of decimals is a decimal of the same type.
            (Collect::Mad, 1) if matches!(args[0], DataType::Decimal128(..)) => Ok(args[0].clone()),
            (kind, 1) if kind.of_one_number() && (args[0].is_numeric() || args[0].is_null()) => Ok(DataType::Float64),
            (kind, _) if kind.of_one_number() => plan_err!("{} takes one number: {}(x)", self.name(), self.name()),
            (Collect::Mode, _) => plan_err!("mode takes one argument: mode(x)"),
            (_, _) => plan_err!("{} takes a number and a constant quantile, e.g. {}(x, 0.5)", self.name(), self.name()),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let item = if self.kind.numeric() { DataType::Float64 } else { args.input_fields[0].data_type().clone() };
        Ok(vec![Arc::new(Field::new(
            format!("{}[values]", args.name),
            DataType::List(Arc::new(Field::new_list_field(item, true))),
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let mut exact = None;
        let quantile = match self.kind {
            Collect::QuantileDisc | Collect::QuantileCont => {
                let literal = args.exprs.get(1).and_then(|e| (e.as_ref() as &dyn Any).downcast_ref::<Literal>());
                // DuckDB picks a discrete quantile's element in integers when q is a DECIMAL.
                exact = literal.and_then(|l| match l.value() {
                    ScalarValue::Decimal128(Some(v), _, s) => Some((v.abs(), 10i128.checked_pow(*s as u32)?)),
                    _ => None,
                });
                let q = literal.and_then(|l| match l.value().clone() {
                    ScalarValue::Float64(Some(q)) => Some(q),
                    ScalarValue::Float32(Some(q)) => Some(q as f64),
                    ScalarValue::Decimal128(Some(v), _, s) => Some(v as f64 / 10f64.powi(s as i32)),
                    ScalarValue::Int64(Some(q)) => Some(q as f64),
                    _ => None,
                });
                match q {
                    Some(q) if (-1.0..=1.0).contains(&q) => q,
                    _ => {
                        return plan_err!(
                            "{} needs a constant quantile between 0 and 1 (negative: of the values in descending order), e.g. {}(x, 0.5)",
                            self.name(),
                            self.name()
                        );
                    }
                }
            }
            _ => 0.0,
        };
        let top = match self.kind {
            Collect::TopK => {
                let literal = args.exprs.get(1).and_then(|e| (e.as_ref() as &dyn Any).downcast_ref::<Literal>());
                match literal.map(|l| l.value().cast_to(&DataType::Int64)) {
                    Some(Ok(ScalarValue::Int64(Some(k)))) if k > 0 => k as usize,
                    _ => return plan_err!("approx_top_k needs a constant count above 0, e.g. approx_top_k(x, 5)"),
                }
            }
            _ => 0,
        };
        let data_type = if self.kind.numeric() { DataType::Float64 } else { args.expr_fields[0].data_type().clone() };
        Ok(Box::new(CollectAccumulator {
            kind: self.kind,
            quantile,
            exact_quantile: exact,
            top,
            distinct: args.is_distinct,
            data_type,
            return_type: args.return_field.data_type().clone(),
            values: Vec::new(),
        }))
    }
}

#[derive(Debug)]
struct CollectAccumulator {
    kind: Collect,
    quantile: f64,
    /// A DECIMAL quantile as (|integral|, scaling): `0.25` is (25, 100).
    exact_quantile: Option<(i128, i128)>,
    /// How many values `approx_top_k` keeps.
    top: usize,
    /// `agg(DISTINCT x)`: each value counted once, when the aggregate is computed (the values
    /// kept are all of them, so that partial states merge and sliding frames take rows back).
    distinct: bool,
    /// The type of the collected values.
    data_type: DataType,
    return_type: DataType,
    values: Vec<ScalarValue>,
}

impl Accumulator for CollectAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let column = if self.kind.numeric() { &temporal_values::doubles(&values[0])? } else { &values[0] };
        for r in 0..column.len() {
            if column.is_valid(r) {
                self.values.push(ScalarValue::try_from_array(column, r)?);
            }
        }
        Ok(())
    }

    // Sliding window frames (`median(x) OVER (ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)`) take
    // back the rows that leave the frame, the oldest first.
    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let column = if self.kind.numeric() { &temporal_values::doubles(&values[0])? } else { &values[0] };
        for r in 0..column.len() {
            if column.is_valid(r) {
                let value = ScalarValue::try_from_array(column, r)?;
                if let Some(at) = self.values.iter().position(|v| *v == value) {
                    self.values.remove(at);
                }
            }
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
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
        let value = if self.distinct {
            let all = std::mem::take(&mut self.values);
            let mut seen = std::collections::HashSet::new();
            self.values = all.iter().filter(|v| seen.insert(*v)).cloned().collect();
            let value = self.evaluate_number();
            self.values = all;
            value?
        } else {
            self.evaluate_number()?
        };
        // A temporal result was computed in microseconds: rounded to one.
        match value {
            ScalarValue::Float64(Some(micros)) if is_temporal(&self.return_type) => {
                let micros = micros.round();
                temporal_values::from_micros(micros, &self.return_type)
            }
            ScalarValue::Float64(None) if is_temporal(&self.return_type) => ScalarValue::try_from(&self.return_type),
            value => Ok(value),
        }
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.values.iter().map(ScalarValue::size).sum::<usize>()
    }
}

impl CollectAccumulator {
    /// The aggregate's value; a temporal one in microseconds, as a DOUBLE.
    fn evaluate_number(&mut self) -> Result<ScalarValue> {
        if self.kind == Collect::Entropy {
            return Ok(ScalarValue::Float64(Some(entropy(&self.values))));
        }
        if self.values.is_empty() {
            return ScalarValue::try_from(&self.return_type);
        }
        // `mode`: of the most frequent values, the first the rows gave, as DuckDB's (over one
        // partition, the input's order; `list_mode`, the list's).
        if self.kind == Collect::TopK || self.kind == Collect::Mode {
            let top = most_frequent(&self.values, self.top.max(1));
            if self.kind == Collect::Mode {
                return Ok(top[0].clone());
            }
            let DataType::List(item) = &self.return_type else {
                return plan_err!("approx_top_k returns a list");
            };
            return Ok(ScalarValue::List(ScalarValue::new_list_nullable(&top, item.data_type())));
        }
        if let (Collect::Mad, DataType::Decimal128(_, scale)) = (self.kind, &self.return_type) {
            let deviation = decimal_mad(&doubles(&self.values), *scale);
            return ScalarValue::Float64(Some(deviation)).cast_to(&self.return_type);
        }
        if let Some(statistic) = statistic(self.kind, &self.values) {
            if is_temporal(&self.return_type) {
                return Ok(ScalarValue::Float64(statistic));
            }
            return ScalarValue::Float64(statistic).cast_to(&self.return_type);
        }
        let mut sorted = self.values.clone();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        // A negative quantile (-0.0 too) is of the values in descending order, as in DuckDB.
        if self.quantile.is_sign_negative() {
            sorted.reverse();
        }
        let quantile = self.quantile.abs();
        Ok(match self.kind {
            Collect::QuantileDisc => sorted[discrete_index(sorted.len(), quantile, self.exact_quantile)].clone(),
            // Linear interpolation between the two closest ranks, as DuckDB computes it.
            Collect::QuantileCont => {
                let value = |i: usize| match &sorted[i] {
                    ScalarValue::Float64(Some(v)) => *v,
                    _ => f64::NAN,
                };
                let position = (sorted.len() - 1) as f64 * quantile;
                let (lower, upper) = (position.floor() as usize, position.ceil() as usize);
                let (a, b) = (value(lower), value(upper));
                ScalarValue::Float64(Some(a + (b - a) * (position - lower as f64)))
            }
            _ => unreachable!("the statistics are evaluated above"),
        })
    }
}

/// DuckDB's formulas for the moment statistics, the product and the median absolute deviation;
/// `None` for the other aggregates, `Some(None)` where DuckDB answers NULL.
fn statistic(kind: Collect, values: &[ScalarValue]) -> Option<Option<f64>> {
    let x = doubles(values);
    let n = x.len() as f64;
    let power = |k: i32| x.iter().map(|v| v.powi(k)).sum::<f64>();
    let (sum, sum_sqr, sum_cub, sum_four) = (power(1), power(2), power(3), power(4));
    let temp = 1.0 / n;
    Some(match kind {
        Collect::Product => Some(x.iter().product()),
        Collect::Skewness => {
            let div = (temp * (sum_sqr - sum * sum * temp)).powi(3).sqrt();
            if n <= 2.0 || div == 0.0 {
                None
            } else {
                let temp1 = (n * (n - 1.0)).sqrt() / (n - 2.0);
                Some(temp1 * temp * (sum_cub - 3.0 * sum_sqr * sum * temp + 2.0 * sum.powi(3) * temp * temp) / div)
            }
        }
        Collect::Kurtosis | Collect::KurtosisPop => {
            let m4 = temp
                * (sum_four - 4.0 * sum_cub * sum * temp + 6.0 * sum_sqr * sum * sum * temp * temp
                    - 3.0 * sum.powi(4) * temp.powi(3));
            let m2 = temp * (sum_sqr - sum * sum * temp);
            if m2 <= 0.0 || (kind == Collect::Kurtosis && n <= 3.0) {
                None
            } else if kind == Collect::Kurtosis {
                Some((n - 1.0) * ((n + 1.0) * m4 / (m2 * m2) - 3.0 * (n - 1.0)) / ((n - 2.0) * (n - 3.0)))
            } else {
                Some(m4 / (m2 * m2) - 3.0)
            }
        }
        Collect::Mad => {
            let mut sorted = x.clone();
            sorted.sort_by(f64::total_cmp);
            let middle = median(&sorted);
            let mut deviations: Vec<f64> = sorted.iter().map(|v| (v - middle).abs()).collect();
            deviations.sort_by(f64::total_cmp);
            Some(median(&deviations))
        }
        Collect::Sem => Some(((sum_sqr - sum * sum * temp) * temp).max(0.0).sqrt() / n.sqrt()),
        Collect::TemporalAvg => Some(exact_mean(&x)),
        _ => return None,
    })
}
