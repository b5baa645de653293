//! DuckDB's numeric functions DataFusion lacks: `gamma(x)` and `lgamma(x)` (libm's, with DuckDB's
//! answers at the poles: infinity, NaN for gamma of a negative integer), `binom(n, k)` (exact, a
//! HUGEINT), and `roundbankers(x, n)` (halves to the even neighbour; a DECIMAL keeps `n` digits
//! of scale, as DuckDB types it).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::engine::compat::functions::common::{columnar, doubles, integers, row_udf};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![
        row_udf("gamma", "one number: gamma(x)", 1..=1, |_| Ok(DataType::Float64), |a| doubles_through(a, gamma)),
        row_udf("lgamma", "one number: lgamma(x)", 1..=1, |_| Ok(DataType::Float64), |a| doubles_through(a, lgamma)),
        row_udf("binom", "two integers: binom(n, k)", 2..=2, |_| Ok(DataType::Decimal128(38, 0)), binom),
        ScalarUDF::new_from_impl(RoundBankers { signature: Signature::any(2, Volatility::Immutable) }),
    ]
}

fn doubles_through(arrays: &[ArrayRef], f: fn(f64) -> f64) -> Result<ArrayRef> {
    Ok(Arc::new(doubles(&arrays[0])?.into_iter().map(|x| x.map(f)).collect::<Float64Array>()))
}

fn gamma(x: f64) -> f64 {
    if x == 0.0 {
        f64::INFINITY
    } else if x < 0.0 && x.fract() == 0.0 {
        f64::NAN
    } else {
        libm::tgamma(x)
    }
}

fn lgamma(x: f64) -> f64 {
    if x <= 0.0 && x.fract() == 0.0 { f64::INFINITY } else { libm::lgamma(x) }
}

/// n choose k, exactly: the product taken one factor at a time, each step an exact division.
fn binom(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (n, k) = (integers(&arrays[0])?, integers(&arrays[1])?);
    let mut values = Vec::with_capacity(n.len());
    for (n, k) in n.into_iter().zip(k) {
        let Some((n, k)) = n.zip(k) else {
            values.push(None);
            continue;
        };
        if n < 0 || k < 0 {
            return exec_err!("binom with negative input is undefined");
        }
        if k > n {
            values.push(Some(0));
            continue;
        }
        let k = k.min(n - k);
        let mut result: i128 = 1;
        for i in 1..=i128::from(k) {
            // result * factor / i is whole; dividing by their common factors first keeps it in range.
            let common = gcd(result, i);
            let factor = (i128::from(n) - i128::from(k) + i) / (i / common);
            result = (result / common)
                .checked_mul(factor)
                .filter(|r| *r < 10_i128.pow(38))
                .ok_or_else(|| datafusion::error::DataFusionError::Execution("binom: Value out of range".into()))?;
        }
        values.push(Some(result));
    }
    Ok(Arc::new(Decimal128Array::from(values).with_precision_and_scale(38, 0)?))
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RoundBankers {
    signature: Signature,
}

/// The digits kept: the constant second argument.
fn digits(value: Option<&ScalarValue>) -> Option<i64> {
    value.and_then(|v| v.cast_to(&DataType::Int64).ok()).and_then(|v| match v {
        ScalarValue::Int64(n) => n,
        _ => None,
    })
}

impl ScalarUDFImpl for RoundBankers {
    fn name(&self) -> &str {
        "roundbankers"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("roundbankers' type comes from its arguments")
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let data_type = match args.arg_fields[0].data_type() {
            DataType::Decimal128(precision, scale) => {
                let kept = digits(args.scalar_arguments.get(1).copied().flatten()).unwrap_or(i64::from(*scale));
                DataType::Decimal128(*precision, kept.clamp(0, i64::from(*scale)) as i8)
            }
            t if t.is_integer() || *t == DataType::Float32 || *t == DataType::Float64 => t.clone(),
            DataType::Null => DataType::Int64,
            t if t.is_numeric() => DataType::Float64,
            t => return plan_err!("roundbankers(x, n) takes a number, not {t}"),
        };
        Ok(Arc::new(Field::new(self.name(), data_type, true)))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let values = args.args[0].to_array(args.number_rows)?;
        let kept = match &args.args[1] {
            ColumnarValue::Scalar(n) => digits(Some(n)),
            ColumnarValue::Array(_) => return exec_err!("roundbankers(x, n) takes a constant n"),
        };
        let target = args.return_field.data_type().clone();
        let Some(kept) = kept else {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from(&target)?));
        };
        let result: ArrayRef = match values.data_type() {
            DataType::Decimal128(_, scale) => {
                let (scale, kept) = (i64::from(*scale), kept.min(i64::from(*scale)));
                // The unscaled value rounded at 10^(scale - kept), then expressed in the new scale.
                let unit = 10_i128.checked_pow((scale - kept).clamp(0, 38) as u32).unwrap_or(i128::MAX);
                let down = 10_i128.pow((scale - kept.max(0)).clamp(0, 38) as u32);
                let rounded = values.as_primitive::<Decimal128Type>().iter().map(|v| {
                    v.map(|v| {
                        let quotient = half_even(v, unit);
                        quotient * unit / down
                    })
                });
                let DataType::Decimal128(p, s) = target else { return plan_err!("roundbankers: a DECIMAL") };
                Arc::new(rounded.collect::<Decimal128Array>().with_precision_and_scale(p, s)?)
            }
            _ => {
                let scaled = 10f64.powi(kept.clamp(-300, 300) as i32);
                let doubles = cast(&values, &DataType::Float64)?;
                let rounded: Float64Array = doubles
                    .as_primitive::<Float64Type>()
                    .iter()
                    .map(|v| v.map(|v| if v.is_finite() { (v * scaled).round_ties_even() / scaled } else { v }))
                    .collect();
                cast(&(Arc::new(rounded) as ArrayRef), &target)?
            }
        };
        columnar(result, scalar)
    }
}

/// `v / unit` rounded, halves to the even quotient.
fn half_even(v: i128, unit: i128) -> i128 {
    let (quotient, remainder) = (v.div_euclid(unit), v.rem_euclid(unit));
    match (2 * remainder).cmp(&unit) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => quotient + (quotient & 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_duckdbs() {
        assert_eq!((gamma(5.0), gamma(0.0), lgamma(-1.0)), (24.0, f64::INFINITY, f64::INFINITY));
        assert!(gamma(-1.0).is_nan());
        let n: ArrayRef = Arc::new(datafusion::arrow::array::Int64Array::from(vec![5, 100, 5]));
        let k: ArrayRef = Arc::new(datafusion::arrow::array::Int64Array::from(vec![2, 50, 6]));
        let chosen = binom(&[n, k]).unwrap();
        let chosen = chosen.as_primitive::<Decimal128Type>();
        assert_eq!(chosen.values().to_vec(), [10, 100_891_344_545_564_193_334_812_497_256, 0]);
        let (n, k): (ArrayRef, ArrayRef) = (
            Arc::new(datafusion::arrow::array::Int64Array::from(vec![130])),
            Arc::new(datafusion::arrow::array::Int64Array::from(vec![65])),
        );
        let wide = binom(&[n, k]).unwrap();
        assert_eq!(wide.as_primitive::<Decimal128Type>().value(0), 95_067_625_827_960_698_145_584_333_020_095_113_100);
        assert_eq!([half_even(25, 10), half_even(35, 10), half_even(-25, 10), half_even(26, 10)], [2, 4, -2, 3]);
    }
}
