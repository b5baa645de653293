//! DuckDB's `url_encode` and `url_decode`.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{invalid, map_texts, row_udf};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let utf8 = |_: &[DataType]| Ok(DataType::Utf8);
    vec![
        row_udf("url_encode", "one argument: url_encode(text)", 1..=1, utf8, |a| {
            map_texts(&a[0], |t| Ok(url_encode(t)))
        }),
        row_udf("url_decode", "one argument: url_decode(text)", 1..=1, utf8, |a| map_texts(&a[0], url_decode)),
    ]
}

/// Every byte but ASCII letters, digits and `-_.~` as `%XX`.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn url_decode(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| invalid(format!("Invalid Input Error: Failed to decode '{text}': not UTF-8")))
}
