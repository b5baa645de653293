//! DuckDB's numbers drawn as text: `bar` (a bar of block characters) and `to_base` (digits in a
//! radix).

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{doubles, integers, invalid, row_udf, shared};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let utf8 = |_: &[DataType]| Ok(DataType::Utf8);
    vec![
        row_udf("bar", "bar(x, min, max [, width])", 3..=4, utf8, bar),
        row_udf("to_base", "to_base(number, radix [, min_length])", 2..=3, utf8, to_base),
    ]
}

const PARTIAL_BLOCKS: [&str; 8] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

fn bar_of(x: f64, min: f64, max: f64, max_width: f64) -> std::result::Result<String, String> {
    if !max_width.is_finite() {
        return Err("Max bar width must not be NaN or infinity".into());
    }
    if max_width < 1.0 {
        return Err("Max bar width must be >= 1".into());
    }
    if max_width > 1000.0 {
        return Err("Max bar width must be <= 1000".into());
    }
    let width = if x.is_nan() || min.is_nan() || max.is_nan() || x <= min {
        0.0
    } else if x >= max {
        max_width
    } else {
        max_width * (x - min) / (max - min)
    };
    if !width.is_finite() {
        return Err("Bar width must not be NaN or infinity".into());
    }
    let eighths = (width * 8.0) as u32;
    let (full, remaining) = ((eighths / 8) as usize, (eighths % 8) as usize);
    let mut out = "█".repeat(full);
    let mut used = full;
    if remaining > 0 {
        used += 1;
        out.push_str(PARTIAL_BLOCKS[remaining]);
    }
    out.push_str(&" ".repeat((max_width as usize).saturating_sub(used)));
    Ok(out)
}

fn bar(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let columns: Vec<Vec<Option<f64>>> = arrays.iter().map(doubles).collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(columns[0].len());
    for row in 0..columns[0].len() {
        let width = columns.get(3).map_or(Some(80.0), |w| w[row]);
        out.push(match (columns[0][row], columns[1][row], columns[2][row], width) {
            (Some(x), Some(min), Some(max), Some(width)) => {
                Some(bar_of(x, min, max, width).map_err(|e| invalid(format!("Out of Range Error: {e}")))?)
            }
            _ => None,
        });
    }
    Ok(shared(StringArray::from(out)))
}

fn to_base(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let (numbers, radixes) = (integers(&arrays[0])?, integers(&arrays[1])?);
    let lengths = arrays.get(2).map(integers).transpose()?;
    let mut out = Vec::with_capacity(numbers.len());
    for row in 0..numbers.len() {
        let length = lengths.as_ref().map_or(Some(0), |l| l[row]);
        let (Some(mut number), Some(radix), Some(length)) = (numbers[row], radixes[row], length) else {
            out.push(None);
            continue;
        };
        if number < 0 {
            return Err(invalid("Invalid Input Error: 'to_base' number must be greater than or equal to 0".into()));
        }
        if !(2..=36).contains(&radix) {
            return Err(invalid("Invalid Input Error: 'to_base' radix must be between 2 and 36".into()));
        }
        if !(0..=64).contains(&length) {
            return Err(invalid("Invalid Input Error: 'to_base' min_length must be between 0 and 64".into()));
        }
        let mut digits = Vec::new();
        loop {
            digits.push(ALPHABET[(number % radix) as usize]);
            number /= radix;
            if number == 0 {
                break;
            }
        }
        while digits.len() < length as usize {
            digits.push(b'0');
        }
        digits.reverse();
        out.push(Some(String::from_utf8_lossy(&digits).into_owned()));
    }
    Ok(shared(StringArray::from(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_duckdbs() {
        assert_eq!(bar_of(5.0, 0.0, 20.0, 10.0).unwrap(), "██▌       ");
    }
}
