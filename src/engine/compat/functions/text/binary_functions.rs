//! DuckDB's functions between text, numbers and BLOBs: `to_hex`, `unhex`/`from_hex`, `to_binary`/`bin`,
//! `from_binary`/`unbin`, `sha1`, `sha256`, `md5_number` (and its upper and lower halves), `octet_length`
//! (of a BLOB too, a BIGINT as DuckDB's); and BLOB literals,
//! whose `\xAA` escapes are bytes (`'\xff'::BLOB`, `BLOB '\x00'`).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, BinaryArray, Decimal256Array, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, i256};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;
use datafusion::sql::sqlparser::ast::{DataType as SqlType, Expr, Value, ValueWithSpan};

use crate::engine::compat::functions::common::{integers, invalid, row_udf, shared, texts};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let blob = |_: &[DataType]| Ok(DataType::Binary);
    let utf8 = |_: &[DataType]| Ok(DataType::Utf8);
    let unsigned = |_: &[DataType]| Ok(DataType::UInt64);
    vec![
        row_udf("to_hex", "one argument: to_hex(value)", 1..=1, utf8, to_hex),
        row_udf("unhex", "one argument: unhex(text)", 1..=1, blob, |a| decode(&a[0], Base::Hex)),
        row_udf("from_hex", "one argument: from_hex(text)", 1..=1, blob, |a| decode(&a[0], Base::Hex)),
        row_udf("from_binary", "one argument: from_binary(text)", 1..=1, blob, |a| decode(&a[0], Base::Binary)),
        row_udf("unbin", "one argument: unbin(text)", 1..=1, blob, |a| decode(&a[0], Base::Binary)),
        row_udf("to_binary", "one argument: to_binary(value)", 1..=1, utf8, to_binary),
        row_udf("bin", "one argument: bin(value)", 1..=1, utf8, to_binary),
        row_udf("sha1", "one argument: sha1(value)", 1..=1, utf8, |a| {
            use sha1::Digest;
            digests(&a[0], |bytes| hex::encode(sha1::Sha1::digest(bytes)))
        }),
        // DataFusion's sha256 gives the digest's bytes; DuckDB's their hexadecimal text.
        row_udf("sha256", "one argument: sha256(value)", 1..=1, utf8, |a| {
            use sha2::Digest;
            digests(&a[0], |bytes| hex::encode(sha2::Sha256::digest(bytes)))
        }),
        row_udf(
            "md5_number",
            "one argument: md5_number(value)",
            1..=1,
            |_| Ok(DataType::Decimal256(39, 0)),
            md5_number,
        ),
        row_udf(
            "octet_length",
            "one argument: octet_length(blob)",
            1..=1,
            |_| Ok(DataType::Int64),
            |a| {
                let bytes = match a[0].data_type() {
                    DataType::Null => datafusion::arrow::compute::cast(&a[0], &DataType::Binary)?,
                    _ => a[0].clone(),
                };
                Ok(datafusion::arrow::compute::cast(
                    &datafusion::arrow::compute::kernels::length::length(&bytes)?,
                    &DataType::Int64,
                )?)
            },
        ),
        row_udf("md5_number_upper", "one argument: md5_number_upper(value)", 1..=1, unsigned, |a| md5_half(&a[0], 0)),
        row_udf("md5_number_lower", "one argument: md5_number_lower(value)", 1..=1, unsigned, |a| md5_half(&a[0], 8)),
    ]
}

/// A string literal cast to BLOB as DuckDB reads it: `\xAA` is the byte 0xAA, anything else its
/// UTF-8 bytes. Written as a hexadecimal literal, which DataFusion takes as bytes.
pub(crate) fn blob_literal(expr: &Expr) -> Option<Expr> {
    let (data_type, value) = match expr {
        Expr::Cast { data_type, expr: value, .. } => match value.as_ref() {
            Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(s), .. }) => (data_type, s),
            _ => return None,
        },
        Expr::TypedString(typed) => match &typed.value.value {
            Value::SingleQuotedString(s) => (&typed.data_type, s),
            _ => return None,
        },
        _ => return None,
    };
    if !matches!(data_type, SqlType::Bytea) {
        return None;
    }
    let hex = hex::encode(blob_bytes(value));
    Some(Expr::Value(Value::HexStringLiteral(hex).into()))
}

fn blob_bytes(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes[i] == b'\\' && bytes.get(i + 1).is_some_and(|b| *b == b'x' || *b == b'X');
        let byte = escaped.then(|| std::str::from_utf8(bytes.get(i + 2..i + 4)?).ok()).flatten();
        match byte.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(value) => {
                out.push(value);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

/// An argument's bytes: a BLOB's own, text's UTF-8 (`None` for NULL).
fn bytes_of(array: &ArrayRef) -> Result<Vec<Option<Vec<u8>>>> {
    Ok(match array.data_type() {
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            let values = datafusion::arrow::compute::cast(array, &DataType::Binary)?;
            values.as_binary::<i32>().iter().map(|v| v.map(<[u8]>::to_vec)).collect()
        }
        _ => texts(array)?.into_iter().map(|v| v.map(String::into_bytes)).collect(),
    })
}

fn digests(array: &ArrayRef, digest: impl Fn(&[u8]) -> String) -> Result<ArrayRef> {
    let out: Vec<Option<String>> = bytes_of(array)?.iter().map(|v| v.as_deref().map(&digest)).collect();
    Ok(shared(StringArray::from(out)))
}

fn md5_digest(bytes: &[u8]) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(bytes).into()
}

/// The MD5 digest read as one little-endian 128-bit number, as DuckDB's `md5_number` reads it.
fn md5_number(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let out: Vec<Option<i256>> = bytes_of(&arrays[0])?
        .iter()
        .map(|v| v.as_deref().map(|b| i256::from_parts(u128::from_le_bytes(md5_digest(b)), 0)))
        .collect();
    Ok(Arc::new(Decimal256Array::from(out).with_precision_and_scale(39, 0)?))
}

/// Eight bytes of the MD5 digest from `offset`, little-endian.
fn md5_half(array: &ArrayRef, offset: usize) -> Result<ArrayRef> {
    let out: Vec<Option<u64>> = bytes_of(array)?
        .iter()
        .map(|v| {
            v.as_deref().map(|b| {
                let digest = md5_digest(b);
                let mut half = [0u8; 8];
                half.copy_from_slice(&digest[offset..offset + 8]);
                u64::from_le_bytes(half)
            })
        })
        .collect();
    Ok(shared(UInt64Array::from(out)))
}

#[derive(Clone, Copy)]
enum Base {
    Hex,
    Binary,
}

/// Hexadecimal or binary digits as bytes; a short first byte is padded with zeros (`'5'` is 0x05).
fn decode(array: &ArrayRef, base: Base) -> Result<ArrayRef> {
    let (radix, digits_per_byte, name) = match base {
        Base::Hex => (16, 2, "hexadecimal"),
        Base::Binary => (2, 8, "binary"),
    };
    let values = texts(array)?;
    let mut out = Vec::with_capacity(values.len());
    for value in &values {
        let Some(text) = value else {
            out.push(None);
            continue;
        };
        let digits: Vec<u32> = text
            .chars()
            .map(|c| c.to_digit(radix))
            .collect::<Option<_>>()
            .ok_or_else(|| invalid(format!("'{text}' is not a {name} string: write only {name} digits")))?;
        let padding = (digits_per_byte - digits.len() % digits_per_byte) % digits_per_byte;
        let padded: Vec<u32> = std::iter::repeat_n(0, padding).chain(digits).collect();
        out.push(Some(
            padded
                .chunks(digits_per_byte)
                .map(|c| c.iter().fold(0u32, |acc, d| acc * radix + d) as u8)
                .collect::<Vec<u8>>(),
        ));
    }
    Ok(shared(BinaryArray::from_iter(out)))
}

/// DuckDB's `to_binary`: an integer's bits without leading zeros (64 of them when negative),
/// text and BLOBs eight bits a byte.
fn to_binary(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let array = &arrays[0];
    let out: Vec<Option<String>> = if array.data_type().is_integer() {
        integers(array)?.iter().map(|v| v.map(|v| format!("{v:b}"))).collect()
    } else {
        bytes_of(array)?.iter().map(|v| v.as_deref().map(|b| b.iter().map(|b| format!("{b:08b}")).collect())).collect()
    };
    Ok(shared(StringArray::from(out)))
}

/// DuckDB's `to_hex`: an integer in upper-case hexadecimal (two's complement when negative), text
/// and blobs byte by byte.
fn to_hex(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let array = &arrays[0];
    let hex_bytes = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02X}")).collect::<String>();
    let out: Vec<Option<String>> = match array.data_type() {
        DataType::UInt64 | DataType::UInt32 | DataType::UInt16 | DataType::UInt8 => {
            let values = datafusion::arrow::compute::cast(array, &DataType::UInt64)?;
            values
                .as_primitive::<datafusion::arrow::datatypes::UInt64Type>()
                .iter()
                .map(|v| v.map(|v| format!("{v:X}")))
                .collect()
        }
        t if t.is_integer() || t.is_null() => integers(array)?.iter().map(|v| v.map(|v| format!("{v:X}"))).collect(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let values = datafusion::arrow::compute::cast(array, &DataType::Binary)?;
            values.as_binary::<i32>().iter().map(|v| v.map(hex_bytes)).collect()
        }
        _ => texts(array)?.iter().map(|v| v.as_deref().map(|t| hex_bytes(t.as_bytes()))).collect(),
    };
    Ok(shared(StringArray::from(out)))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::Array;

    use super::*;

    #[test]
    fn blob_literals_read_escaped_bytes() {
        assert_eq!(blob_bytes(r"\xff\xFFa"), vec![0xff, 0xff, b'a']);
        assert_eq!(blob_bytes(r"\x0"), b"\\x0".to_vec());
    }

    #[test]
    fn digits_decode_into_bytes() {
        let array: ArrayRef = Arc::new(StringArray::from(vec![Some("5"), Some("6475"), None]));
        let decoded = decode(&array, Base::Hex).unwrap();
        let decoded = decoded.as_binary::<i32>();
        assert_eq!(decoded.value(0), &[5]);
        assert_eq!(decoded.value(1), b"du");
        assert!(decoded.is_null(2));
        let bad: ArrayRef = Arc::new(StringArray::from(vec!["xyz"]));
        assert!(decode(&bad, Base::Binary).is_err());
    }
}
