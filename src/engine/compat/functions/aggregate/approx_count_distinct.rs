//! DuckDB's `approx_count_distinct(x)`: its HyperLogLog sketch (DuckDB 2.0's: 1,024 registers,
//! Ertl's estimator, DuckDB's hash of each value), so that the estimate is DuckDB's own number
//! rather than another sketch's equally good but different one.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility};

use crate::engine::compat::functions::generic::duckdb_hash::hash_rows;

/// log2 of the number of registers.
const P: u32 = 10;
const M: usize = 1 << P;
/// The bits of a hash left for the register's value.
const Q: usize = 64 - P as usize;
/// 1 / (2 ln 2).
const ALPHA: f64 = 0.721_347_520_444_481_7;

pub(crate) fn udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(ApproxCountDistinct { signature: Signature::any(1, Volatility::Immutable) })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ApproxCountDistinct {
    signature: Signature,
}

impl AggregateUDFImpl for ApproxCountDistinct {
    fn name(&self) -> &str {
        "approx_count_distinct"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Sketch { registers: vec![0; M] }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(format!("{}[registers]", args.name), DataType::Binary, true))])
    }
    fn default_value(&self, _: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(0)))
    }
}

#[derive(Debug)]
struct Sketch {
    registers: Vec<u8>,
}

impl Sketch {
    fn insert(&mut self, hash: u64) {
        let register = (hash & (M as u64 - 1)) as usize;
        let rest = (hash >> P) | (1u64 << Q);
        let zeros = rest.trailing_zeros() as u8 + 1;
        self.registers[register] = self.registers[register].max(zeros);
    }

    fn estimate(&self) -> i64 {
        let mut counts = [0u32; Q + 2];
        for &r in &self.registers {
            counts[r as usize] += 1;
        }
        let m = M as f64;
        let mut z = m * tau((m - f64::from(counts[Q])) / m);
        for k in (1..=Q).rev() {
            z += f64::from(counts[k]);
            z *= 0.5;
        }
        z += m * sigma(f64::from(counts[0]) / m);
        (ALPHA * m * m / z).round() as i64
    }
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let previous = z;
        z += x * y;
        y += y;
        if previous == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let previous = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if previous == z {
            return z / 3.0;
        }
    }
}

impl Accumulator for Sketch {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(column) = values.first() else { return Ok(()) };
        let hashes = hash_rows(std::slice::from_ref(column))?;
        // Logical: a NULL-typed argument has no null buffer, yet every value is NULL.
        let nulls = column.logical_nulls();
        for (row, hash) in hashes.into_iter().enumerate() {
            if nulls.as_ref().is_none_or(|n| n.is_valid(row)) {
                self.insert(hash);
            }
        }
        Ok(())
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(self.estimate())))
    }
    fn size(&self) -> usize {
        size_of::<Self>() + self.registers.capacity()
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Binary(Some(self.registers.clone()))])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(states) = states.first() else { return Ok(()) };
        let states = states.as_binary::<i32>();
        for state in states.iter().flatten() {
            if state.len() != M {
                return exec_err!("approx_count_distinct: a partial sketch has {} registers, not {M}", state.len());
            }
            for (register, &other) in self.registers.iter_mut().zip(state) {
                *register = (*register).max(other);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int32Array, Int64Array, NullArray, StringArray};

    use super::*;

    fn estimate(values: ArrayRef) -> i64 {
        let mut sketch = Sketch { registers: vec![0; M] };
        sketch.update_batch(&[values]).unwrap();
        sketch.estimate()
    }

    #[test]
    fn estimates_are_duckdbs() {
        // DuckDB 2.0: `SELECT approx_count_distinct(i::INTEGER) FROM range(n) t(i)`, of BIGINTs, of texts.
        let integers = |n: i32| Arc::new(Int32Array::from((0..n).collect::<Vec<_>>())) as ArrayRef;
        assert_eq!(estimate(integers(0)), 0);
        assert_eq!(estimate(Arc::new(NullArray::new(3))), 0);
        assert_eq!(estimate(integers(7)), 7);
        assert_eq!(estimate(integers(100)), 102);
        assert_eq!(estimate(Arc::new(Int64Array::from((0..100_000).collect::<Vec<i64>>()))), 99467);
        let texts: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
        assert_eq!(estimate(Arc::new(StringArray::from(texts))), 5148);
    }
}
