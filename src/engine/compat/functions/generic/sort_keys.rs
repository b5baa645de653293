//! `create_sort_key(x, 'ASC NULLS LAST' [, y, 'DESC NULLS FIRST', ...])`: one BLOB per row whose
//! byte order is the order of the values under those modifiers, for sorting or comparing rows by
//! several keys as one. The bytes are Arrow's row format (the encoding DataFusion's own sorts
//! compare) after a byte that places NULLs, not DuckDB's: blobs from DuckDB and from this tool
//! order alike but are not equal.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BinaryBuilder};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Expr, ScalarUDF, lit};

use crate::engine::compat::functions::common::{row_udf, texts};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![sort_key_udf()]
}

/// `create_sort_key(x, modifier)` as an expression: how the rewrites that order lists and structs
/// as DuckDB does (a NULL inside them the largest value) compare and sort them.
pub(crate) fn sort_key_of(x: Expr, modifier: &str) -> Expr {
    Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(sort_key_udf()), vec![x, lit(modifier.to_string())]))
}

/// Whether values of `t` have NULLs inside them that Arrow orders otherwise than DuckDB.
pub(crate) fn is_nested(t: &DataType) -> bool {
    matches!(t, DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) | DataType::Struct(_))
}

fn sort_key_udf() -> ScalarUDF {
    row_udf(
        "create_sort_key",
        "values each followed by its order: create_sort_key(x, 'ASC NULLS LAST', ...)",
        2..=usize::MAX,
        |_| Ok(DataType::Binary),
        sort_keys,
    )
}

/// DuckDB's modifier text (`'DESC NULLS LAST'`, `'asc nulls first'`) as sort options; like
/// DuckDB, the NULLs' place must be said.
fn sort_options(modifier: &str) -> Option<SortOptions> {
    let words: Vec<String> = modifier.split_whitespace().map(str::to_ascii_uppercase).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let (descending, rest) = match words.as_slice() {
        ["ASC" | "ASCENDING", rest @ ..] => (false, rest),
        ["DESC" | "DESCENDING", rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    let nulls_first = match rest {
        ["NULLS", "LAST"] => false,
        ["NULLS", "FIRST"] => true,
        _ => return None,
    };
    Some(SortOptions { descending, nulls_first })
}

fn sort_keys(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    if !arrays.len().is_multiple_of(2) {
        return exec_err!("create_sort_key takes pairs: a value, then its order ('ASC NULLS LAST')");
    }
    let rows = arrays.first().map_or(0, |a| a.len());
    let mut keys: Vec<Vec<u8>> = vec![Vec::new(); rows];
    for pair in arrays.chunks(2) {
        let modifier = texts(&pair[1])?.into_iter().next().flatten().unwrap_or_default();
        let Some(options) = sort_options(&modifier) else {
            return exec_err!(
                "create_sort_key: '{modifier}' is not an order: write 'ASC' or 'DESC', then NULLS FIRST or NULLS LAST"
            );
        };
        // The modifier places a NULL value; a NULL inside a list or struct sorts as DuckDB sorts
        // it there, as the largest value (last ascending, first descending). So the column is
        // encoded with nested NULLs largest, after a byte of its own that places a NULL value.
        let nested = SortOptions { descending: options.descending, nulls_first: options.descending };
        let converter = RowConverter::new(vec![SortField::new_with_options(pair[0].data_type().clone(), nested)])?;
        let encoded = converter.convert_columns(std::slice::from_ref(&pair[0]))?;
        let null_place = if options.nulls_first { 0 } else { 2 };
        for (row, key) in keys.iter_mut().enumerate() {
            if pair[0].is_null(row) {
                key.push(null_place);
            } else {
                key.push(1);
                key.extend_from_slice(encoded.row(row).as_ref());
            }
        }
    }
    let mut built = BinaryBuilder::with_capacity(rows, keys.iter().map(Vec::len).sum());
    for key in keys {
        built.append_value(key);
    }
    Ok(Arc::new(built.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{AsArray, Int32Array, StringArray};

    #[test]
    fn keys_order_as_the_modifiers_say() {
        let values: ArrayRef = Arc::new(Int32Array::from(vec![Some(2), None, Some(1)]));
        let order = |modifier: &str| {
            let modifiers: ArrayRef = Arc::new(StringArray::from(vec![modifier; 3]));
            let keys = sort_keys(&[values.clone(), modifiers]).unwrap();
            let keys = keys.as_binary::<i32>();
            let mut rows: Vec<usize> = (0..3).collect();
            rows.sort_by_key(|&r| keys.value(r).to_vec());
            rows
        };
        assert_eq!(order("ASC NULLS LAST"), [2, 0, 1]);
        assert_eq!(order("desc nulls first"), [1, 0, 2]);
        assert_eq!(order("DESC NULLS LAST"), [0, 2, 1]);
        assert!(sort_options("SIDEWAYS").is_none() && sort_options("DESC").is_none());
    }
}
