//! DuckDB's distances between texts: `damerau_levenshtein`, `mismatches`/`hamming`, `jaccard`,
//! and the Jaro similarities.

use std::collections::HashMap;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{doubles, invalid, row_udf, shared, texts};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let int64 = |_: &[DataType]| Ok(DataType::Int64);
    let double = |_: &[DataType]| Ok(DataType::Float64);
    vec![
        row_udf("damerau_levenshtein", "damerau_levenshtein(a, b)", 2..=2, int64, |a| {
            pairs(a, |x, y| {
                let (x, y): (Vec<char>, Vec<char>) = (x.chars().collect(), y.chars().collect());
                Ok(damerau_levenshtein(&x, &y) as i64)
            })
        }),
        row_udf("mismatches", "mismatches(a, b)", 2..=2, int64, mismatches),
        row_udf("hamming", "hamming(a, b)", 2..=2, int64, mismatches),
        row_udf("jaccard", "jaccard(a, b)", 2..=2, double, jaccard),
        row_udf("jaro_similarity", "jaro_similarity(a, b [, cutoff])", 2..=3, double, |a| similarity(a, strsim::jaro)),
        row_udf("jaro_winkler_similarity", "jaro_winkler_similarity(a, b [, cutoff])", 2..=3, double, |a| {
            similarity(a, strsim::jaro_winkler)
        }),
    ]
}

fn pairs(arrays: &[ArrayRef], f: impl Fn(&str, &str) -> Result<i64>) -> Result<ArrayRef> {
    let (a, b) = (texts(&arrays[0])?, texts(&arrays[1])?);
    let out: Vec<Option<i64>> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| x.as_deref().zip(y.as_deref()).map(|(x, y)| f(x, y)).transpose())
        .collect::<Result<_>>()?;
    Ok(shared(Int64Array::from(out)))
}

/// The Lowrance–Wagner distance over characters, as DuckDB computes it.
fn damerau_levenshtein(source: &[char], target: &[char]) -> usize {
    let (n, m) = (source.len(), target.len());
    if n == 0 || m == 0 {
        return n + m;
    }
    let inf = n + m + 1;
    let mut d = vec![vec![inf; m + 2]; n + 2];
    for i in 0..=n {
        d[i + 1][1] = i;
    }
    for j in 1..=m {
        d[1][j + 1] = j;
    }
    let mut last_row: HashMap<char, usize> = HashMap::new();
    for i in 0..n {
        let mut last_match_col = 0;
        for j in 0..m {
            let i1 = last_row.get(&target[j]).copied().unwrap_or(0);
            let j1 = last_match_col;
            let cost = if source[i] == target[j] {
                last_match_col = j + 1;
                0
            } else {
                1
            };
            let transposition = d[i1][j1] + (i - i1) + 1 + (j - j1);
            d[i + 2][j + 2] =
                (d[i + 1][j + 1] + cost).min(d[i + 2][j + 1] + 1).min(d[i + 1][j + 2] + 1).min(transposition);
        }
        last_row.insert(source[i], i + 1);
    }
    d[n + 1][m + 1]
}

fn mismatches(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    pairs(arrays, |a, b| {
        if a.len() != b.len() {
            return Err(invalid("Invalid Input Error: Mismatch Function: Strings must be of equal length!".into()));
        }
        if a.is_empty() {
            return Err(invalid("Invalid Input Error: Mismatch Function: Strings must be of length > 0!".into()));
        }
        Ok(a.bytes().zip(b.bytes()).filter(|(x, y)| x != y).count() as i64)
    })
}

fn jaccard(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (a, b) = (texts(&arrays[0])?, texts(&arrays[1])?);
    let set = |s: &str| {
        let mut bits = [false; 256];
        s.bytes().for_each(|b| bits[b as usize] = true);
        bits
    };
    let mut out = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(&b) {
        out.push(match (x, y) {
            (Some(x), Some(y)) => {
                if x.is_empty() || y.is_empty() {
                    return Err(invalid("Invalid Input Error: Jaccard Function: An argument too short!".into()));
                }
                let (sx, sy) = (set(x), set(y));
                let both = (0..256).filter(|&i| sx[i] && sy[i]).count();
                let either = (0..256).filter(|&i| sx[i] || sy[i]).count();
                Some(both as f64 / either as f64)
            }
            _ => None,
        });
    }
    Ok(shared(Float64Array::from(out)))
}

fn similarity(arrays: &[ArrayRef], measure: fn(&str, &str) -> f64) -> Result<ArrayRef> {
    let (a, b) = (texts(&arrays[0])?, texts(&arrays[1])?);
    let cutoffs = arrays.get(2).map(doubles).transpose()?;
    let out: Vec<Option<f64>> = (0..a.len())
        .map(|r| {
            let (Some(x), Some(y)) = (&a[r], &b[r]) else { return None };
            // Two empty texts are not alike in DuckDB (0.0); below the cutoff is 0.
            let score = if x.is_empty() && y.is_empty() { 0.0 } else { measure(x, y) };
            let cutoff = match &cutoffs {
                Some(c) => c[r]?,
                None => 0.0,
            };
            Some(if score >= cutoff { score } else { 0.0 })
        })
        .collect();
    Ok(shared(Float64Array::from(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_duckdbs() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(damerau_levenshtein(&chars("hello"), &chars("ehlo")), 2);
        assert_eq!(damerau_levenshtein(&chars("ca"), &chars("abc")), 2);
        assert_eq!(damerau_levenshtein(&chars(""), &chars("ñandú")), 5);
    }
}
