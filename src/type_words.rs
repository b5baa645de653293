//! Arrow's type names in an engine message (`Utf8`, `Int64`, `List(Struct("a": Int32))`)
//! written as DuckDB names the types (`VARCHAR`, `BIGINT`, `STRUCT(a INTEGER)[]`): a user reads
//! the types of their SQL, not of the engine under it.

use std::sync::LazyLock;

use regex::Regex;

/// Whole words naming a type without parameters.
const PLAIN: &[(&str, &str)] = &[
    ("Utf8View", "VARCHAR"),
    ("LargeUtf8", "VARCHAR"),
    ("Utf8", "VARCHAR"),
    ("BinaryView", "BLOB"),
    ("LargeBinary", "BLOB"),
    ("Binary", "BLOB"),
    ("Int8", "TINYINT"),
    ("Int16", "SMALLINT"),
    ("Int32", "INTEGER"),
    ("Int64", "BIGINT"),
    ("UInt8", "UTINYINT"),
    ("UInt16", "USMALLINT"),
    ("UInt32", "UINTEGER"),
    ("UInt64", "UBIGINT"),
    ("Float16", "FLOAT"),
    ("Float32", "FLOAT"),
    ("Float64", "DOUBLE"),
    ("Boolean", "BOOLEAN"),
    ("Date32", "DATE"),
    ("Date64", "DATE"),
    ("Null", "NULL"),
];

static PLAIN_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    let names: Vec<&str> = PLAIN.iter().map(|(arrow, _)| *arrow).collect();
    Regex::new(&format!(r"\b({})\b", names.join("|"))).expect("a valid pattern")
});
static DECIMAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bDecimal(?:128|256)?\((\d+), ?(-?\d+)\)").expect("a valid pattern"));
static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\bTimestamp\((?:µs|ms|s|ns|Microsecond|Millisecond|Second|Nanosecond)(?:, (?:Some\()?"([^"]*)"\)?|, None)?\)"#)
        .expect("a valid pattern")
});
static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bTime(?:32|64)\((?:µs|ms|s|ns|Microsecond|Millisecond|Second|Nanosecond)\)").expect("a valid pattern")
});
static INTERVAL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bInterval\(\w+\)").expect("a valid pattern"));
/// A list or struct whose items hold no other bracket (the innermost first).
static LIST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:Large)?List(?:View)?\(([^()]*)\)").expect("a valid pattern"));
static STRUCT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bStruct\(([^()]*)\)").expect("a valid pattern"));
static FIELD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#""([^"]*)": "#).expect("a valid pattern"));
/// A decimal's brackets while lists and structs around it are rewritten.
const OPEN: char = '\u{2045}';
const CLOSE: char = '\u{2046}';

/// `message` with Arrow's type names written as DuckDB's.
pub(crate) fn duckdb_type_words(message: &str) -> String {
    let mut text = PLAIN_WORDS
        .replace_all(message, |c: &regex::Captures| {
            PLAIN.iter().find(|(arrow, _)| *arrow == &c[1]).map_or(c[1].to_string(), |(_, duck)| duck.to_string())
        })
        .into_owned();
    text = DECIMAL.replace_all(&text, format!("DECIMAL{OPEN}$1,$2{CLOSE}")).into_owned();
    text = TIMESTAMP
        .replace_all(&text, |c: &regex::Captures| match c.get(1) {
            Some(_) => "TIMESTAMP WITH TIME ZONE".to_string(),
            None => "TIMESTAMP".to_string(),
        })
        .into_owned();
    text = TIME.replace_all(&text, "TIME").into_owned();
    text = INTERVAL.replace_all(&text, "INTERVAL").into_owned();
    // Innermost brackets first, until none is left (bounded: each round removes one level).
    for _ in 0..16 {
        let before = text.clone();
        text = LIST.replace_all(&text, "$1[]").into_owned();
        text = STRUCT
            .replace_all(&text, |c: &regex::Captures| format!("STRUCT{OPEN}{}{CLOSE}", FIELD.replace_all(&c[1], "$1 ")))
            .into_owned();
        if text == before {
            break;
        }
    }
    text.replace(OPEN, "(").replace(CLOSE, ")")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrow_types_read_as_duckdb_types() {
        assert_eq!(
            duckdb_type_words(
                "Unsupported CAST from List(Utf8) to List(Struct(\"a\": Utf8View, \"b\": Decimal128(2, 1)))"
            ),
            "Unsupported CAST from VARCHAR[] to STRUCT(a VARCHAR, b DECIMAL(2,1))[]"
        );
        assert_eq!(
            duckdb_type_words("argument types 'f(Int64, Timestamp(µs, \"UTC\"), Timestamp(µs))'"),
            "argument types 'f(BIGINT, TIMESTAMP WITH TIME ZONE, TIMESTAMP)'"
        );
        assert_eq!(duckdb_type_words("comparison operation Boolean = Utf8"), "comparison operation BOOLEAN = VARCHAR");
        assert_eq!(duckdb_type_words("CAST from Time64(ns) to List(Time32(ms))"), "CAST from TIME to TIME[]");
        // Words that only contain a type name are left alone.
        assert_eq!(duckdb_type_words("Utf8Thing and MyInt64"), "Utf8Thing and MyInt64");
    }
}
