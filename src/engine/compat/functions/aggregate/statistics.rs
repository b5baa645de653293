//! The statistics the collecting aggregates compute over a group's values, as DuckDB does.

use datafusion::common::ScalarValue;

/// DuckDB's element for a discrete quantile `q` of `n` sorted values: `max(1, n - floor(n - n q)) - 1`.
pub(super) fn discrete_index(n: usize, q: f64, exact: Option<(i128, i128)>) -> usize {
    let floored = match exact {
        Some((integral, scaling)) => ((n as i128 * scaling - n as i128 * integral) / scaling).max(0) as usize,
        None => (n as f64 - n as f64 * q).floor().max(0.0) as usize,
    };
    n.saturating_sub(floored).max(1) - 1
}

pub(super) fn doubles(values: &[ScalarValue]) -> Vec<f64> {
    values.iter().filter_map(|v| if let ScalarValue::Float64(Some(x)) = v { Some(*x) } else { None }).collect()
}

/// Linear interpolation at the middle rank of sorted values, as DuckDB's median.
pub(super) fn median(sorted: &[f64]) -> f64 {
    let position = (sorted.len() - 1) as f64 * 0.5;
    let (lower, upper) = (sorted[position.floor() as usize], sorted[position.ceil() as usize]);
    lower + (upper - lower) * (position - position.floor())
}

/// The median absolute deviation of DECIMALs as DuckDB computes it: in the decimal's integers,
/// each median interpolated with its fraction truncated (the MAD of -128 and 127 is 127).
pub(super) fn decimal_mad(values: &[f64], scale: i8) -> f64 {
    let unit = 10f64.powi(i32::from(scale));
    let median = |sorted: &[f64]| {
        let position = (sorted.len() - 1) as f64 * 0.5;
        let (lower, upper) = (sorted[position.floor() as usize], sorted[position.ceil() as usize]);
        lower + ((upper - lower) * (position - position.floor())).trunc()
    };
    let mut scaled: Vec<f64> = values.iter().map(|v| (v * unit).round()).collect();
    scaled.sort_by(f64::total_cmp);
    let middle = median(&scaled);
    let mut deviations: Vec<f64> = scaled.iter().map(|v| (v - middle).abs()).collect();
    deviations.sort_by(f64::total_cmp);
    median(&deviations) / unit
}

/// The mean of whole numbers (microseconds), summed exactly and rounded to the nearest (a half
/// down), as DuckDB averages temporal values.
pub(super) fn exact_mean(values: &[f64]) -> f64 {
    let n = values.len() as i128;
    let sum: i128 = values.iter().map(|v| *v as i128).sum();
    let (quotient, remainder) = (sum.div_euclid(n), sum.rem_euclid(n));
    (quotient + i128::from(2 * remainder > n)) as f64
}

/// The `k` most frequent values, the more frequent first; among equally frequent ones, the first seen.
pub(super) fn most_frequent(values: &[ScalarValue], k: usize) -> Vec<ScalarValue> {
    let mut counts: Vec<(&ScalarValue, usize)> = Vec::new();
    let mut index: std::collections::HashMap<&ScalarValue, usize> = std::collections::HashMap::new();
    for value in values {
        let at = *index.entry(value).or_insert_with(|| {
            counts.push((value, 0));
            counts.len() - 1
        });
        counts[at].1 += 1;
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts.into_iter().take(k).map(|(value, _)| value.clone()).collect()
}

/// The entropy in bits of the values' distribution (NULLs left out).
pub(super) fn entropy(values: &[ScalarValue]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = sorted.len() as f64;
    let mut total = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let run = sorted[i..].iter().take_while(|v| *v == &sorted[i]).count();
        let p = run as f64 / n;
        total -= p * p.log2();
        i += run;
    }
    total
}
