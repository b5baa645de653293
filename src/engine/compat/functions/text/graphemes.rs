//! DuckDB's functions over graphemes (what a reader sees as one character: `length_grapheme`,
//! `substring_grapheme`, `left_grapheme`, `right_grapheme`) and `strip_accents` (combining marks
//! removed).

use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;
use unicode_segmentation::UnicodeSegmentation;

use crate::engine::compat::functions::common::{integers, map_texts, row_udf, shared, texts};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let utf8 = |_: &[DataType]| Ok(DataType::Utf8);
    vec![
        row_udf(
            "length_grapheme",
            "one argument: length_grapheme(text)",
            1..=1,
            |_| Ok(DataType::Int64),
            |a| {
                let values = texts(&a[0])?;
                Ok(shared(Int64Array::from_iter(
                    values.iter().map(|v| v.as_ref().map(|t| t.graphemes(true).count() as i64)),
                )))
            },
        ),
        row_udf("substring_grapheme", "substring_grapheme(text, start [, length])", 2..=3, utf8, substring_grapheme),
        row_udf("left_grapheme", "left_grapheme(text, count)", 2..=2, utf8, |a| side_graphemes(a, true)),
        row_udf("right_grapheme", "right_grapheme(text, count)", 2..=2, utf8, |a| side_graphemes(a, false)),
        row_udf("strip_accents", "one argument: strip_accents(text)", 1..=1, utf8, |a| {
            use unicode_normalization::UnicodeNormalization;
            map_texts(&a[0], |t| Ok(t.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).collect()))
        }),
    ]
}

fn substring_grapheme(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (values, starts) = (texts(&arrays[0])?, integers(&arrays[1])?);
    let lengths = arrays.get(2).map(integers).transpose()?;
    let out: Vec<Option<String>> = (0..values.len())
        .map(|r| {
            let (Some(text), Some(start)) = (&values[r], starts[r]) else { return None };
            let graphemes: Vec<&str> = text.graphemes(true).collect();
            let count = graphemes.len() as i64;
            // 1-based; a negative start counts from the end, as DuckDB's substring does.
            let from = if start > 0 {
                start - 1
            } else if start < 0 {
                (count + start).max(0)
            } else {
                0
            };
            let length = match &lengths {
                Some(l) => l[r]?,
                None => count,
            };
            let to = (from + length.max(0)).min(count);
            Some(graphemes[(from.min(count)) as usize..to.max(from.min(count)) as usize].concat())
        })
        .collect();
    Ok(shared(StringArray::from(out)))
}

fn side_graphemes(arrays: &[ArrayRef], left: bool) -> Result<ArrayRef> {
    let (values, counts) = (texts(&arrays[0])?, integers(&arrays[1])?);
    let out: Vec<Option<String>> = (0..values.len())
        .map(|r| {
            let (Some(text), Some(n)) = (&values[r], counts[r]) else { return None };
            let graphemes: Vec<&str> = text.graphemes(true).collect();
            let len = graphemes.len() as i64;
            // A negative count keeps all but that many from the other side.
            let take = if n >= 0 { n.min(len) } else { (len + n).max(0) } as usize;
            Some(if left { graphemes[..take].concat() } else { graphemes[graphemes.len() - take..].concat() })
        })
        .collect();
    Ok(shared(StringArray::from(out)))
}
