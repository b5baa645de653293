//! DuckDB scalar functions that DataFusion lacks, as UDFs.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListBuilder, StringArray, StringBuilder, UInt64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use serde_json::Value;

use crate::engine::compat::functions::json::json_path::parse_json_path;
use crate::engine::compat::functions::json::json_raw;

pub(crate) fn scalar_functions() -> Vec<ScalarUDF> {
    [
        Kind::JsonValid,
        Kind::JsonType,
        Kind::JsonKeys,
        Kind::JsonArrayLength,
        Kind::RegexpExtract,
        Kind::DateDiff,
        Kind::EpochMs,
        Kind::Len,
        Kind::TypeOf,
    ]
    .into_iter()
    .map(|kind| ScalarUDF::new_from_impl(DuckDbScalar::new(kind)))
    .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    JsonValid,
    JsonType,
    JsonKeys,
    JsonArrayLength,
    RegexpExtract,
    DateDiff,
    EpochMs,
    Len,
    TypeOf,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DuckDbScalar {
    kind: Kind,
    signature: Signature,
}

impl DuckDbScalar {
    fn new(kind: Kind) -> Self {
        DuckDbScalar { kind, signature: Signature::variadic_any(Volatility::Immutable) }
    }
}

fn utf8_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

impl ScalarUDFImpl for DuckDbScalar {
    fn name(&self) -> &str {
        match self.kind {
            Kind::JsonValid => "json_valid",
            Kind::JsonType => "json_type",
            Kind::JsonKeys => "json_keys",
            Kind::JsonArrayLength => "json_array_length",
            Kind::RegexpExtract => "regexp_extract",
            Kind::DateDiff => "date_diff",
            Kind::EpochMs => "epoch_ms",
            Kind::Len => "len",
            Kind::TypeOf => "typeof",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let arity = |range: std::ops::RangeInclusive<usize>, usage: &str| {
            if range.contains(&args.len()) { Ok(()) } else { plan_err!("{} takes {usage}", self.name()) }
        };
        match self.kind {
            Kind::JsonValid => arity(1..=1, "one argument: json_valid(json)").map(|_| DataType::Boolean),
            Kind::JsonType => arity(1..=2, "json_type(json [, path])").map(|_| DataType::Utf8),
            Kind::JsonKeys => arity(1..=2, "json_keys(json [, path])").map(|_| utf8_list()),
            Kind::JsonArrayLength => arity(1..=2, "json_array_length(json [, path])").map(|_| DataType::UInt64),
            Kind::RegexpExtract => {
                arity(2..=4, "regexp_extract(string, pattern [, group [, options]])").map(|_| DataType::Utf8)
            }
            Kind::DateDiff => arity(3..=3, "date_diff(part, start, end)").map(|_| DataType::Int64),
            Kind::EpochMs => {
                arity(1..=1, "one argument: epoch_ms(timestamp) or epoch_ms(milliseconds)")?;
                Ok(if args[0].is_integer() || args[0].is_null() {
                    DataType::Timestamp(TimeUnit::Millisecond, None)
                } else {
                    DataType::Int64
                })
            }
            Kind::Len => arity(1..=1, "one argument: len(string or list)").map(|_| DataType::Int64),
            Kind::TypeOf => arity(1..=1, "one argument: typeof(value)").map(|_| DataType::Utf8),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays: Vec<ArrayRef> = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<_>>()?;
        let result = match self.kind {
            Kind::JsonValid | Kind::JsonType | Kind::JsonKeys | Kind::JsonArrayLength => self.json(&arrays)?,
            Kind::RegexpExtract => regexp_extract(&arrays)?,
            Kind::DateDiff => date_diff(&arrays)?,
            Kind::EpochMs => epoch_ms(&arrays[0])?,
            Kind::Len => len(&arrays[0])?,
            Kind::TypeOf => {
                let name = match args.arg_fields.first() {
                    Some(field) => crate::engine::compat::types::field_type_name(field),
                    None => crate::engine::compat::types::sql_type_name(arrays[0].data_type()),
                };
                Arc::new(StringArray::from(vec![name; rows])) as ArrayRef
            }
        };
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?))
        } else {
            Ok(ColumnarValue::Array(result))
        }
    }
}

/// A JSON argument as JSON text: text as it is, other values (a list, a struct) as the JSON DuckDB
/// casts them to.
fn json_texts(array: &ArrayRef) -> Result<ArrayRef> {
    if matches!(
        array.data_type(),
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::Struct(_)
            | DataType::Map(..)
    ) {
        let out: StringArray = (0..array.len())
            .map(|r| (!array.is_null(r)).then(|| crate::encode::sql_json_value(array.as_ref(), r).to_string()))
            .collect();
        return Ok(Arc::new(out));
    }
    strings(array)
}

pub(crate) fn strings(array: &ArrayRef) -> Result<ArrayRef> {
    Ok(cast(array, &DataType::Utf8)?)
}

pub(crate) fn duckdb_json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NULL",
        Value::Bool(_) => "BOOLEAN",
        Value::Number(n) if n.is_u64() => "UBIGINT",
        Value::Number(n) if n.is_i64() => "BIGINT",
        Value::Number(_) => "DOUBLE",
        Value::String(_) => "VARCHAR",
        Value::Array(_) => "ARRAY",
        Value::Object(_) => "OBJECT",
    }
}

/// DuckDB's name of the JSON type of a value read in place.
fn raw_json_type(value: &serde_json::value::RawValue) -> Option<&'static str> {
    Some(match json_raw::kind(value) {
        b'{' => "OBJECT",
        b'[' => "ARRAY",
        _ => duckdb_json_type(&json_raw::scalar(value)?),
    })
}

impl DuckDbScalar {
    fn json(&self, arrays: &[ArrayRef]) -> Result<ArrayRef> {
        let texts = json_texts(&arrays[0])?;
        let texts = texts.as_string::<i32>();
        let paths = arrays.get(1).map(strings).transpose()?;
        let rows = texts.len();
        if self.kind == Kind::JsonValid {
            return Ok(Arc::new(
                (0..rows)
                    .map(|r| texts.is_valid(r).then(|| json_raw::document(texts.value(r)).is_some()))
                    .collect::<BooleanArray>(),
            ));
        }
        let (mut types, mut keys, mut lengths) =
            (StringBuilder::new(), ListBuilder::new(StringBuilder::new()), Vec::with_capacity(rows));
        for row in 0..rows {
            // The value at the row's path (none for a NULL text or a NULL path).
            let path = match &paths {
                Some(p) if p.is_null(row) => None,
                Some(p) => Some(
                    parse_json_path(p.as_string::<i32>().value(row))
                        .map_err(|e| datafusion::error::DataFusionError::Execution(e.to_string()))?,
                ),
                None => Some(vec![]),
            };
            let document = if texts.is_valid(row) { json_raw::document(texts.value(row)) } else { None };
            let value = document.as_deref().zip(path).and_then(|(d, p)| json_raw::at(d, &p));
            match self.kind {
                Kind::JsonType => types.append_option(value.and_then(raw_json_type)),
                Kind::JsonKeys => match value {
                    Some(value) => {
                        for (key, _) in json_raw::members(value).unwrap_or_default() {
                            keys.values().append_value(key);
                        }
                        keys.append(true);
                    }
                    None => keys.append(false),
                },
                _ => lengths.push(value.map(|v| json_raw::elements(v).map_or(0, |e| e.len() as u64))),
            }
        }
        Ok(match self.kind {
            Kind::JsonType => Arc::new(types.finish()),
            Kind::JsonKeys => Arc::new(keys.finish()),
            Kind::JsonArrayLength => Arc::new(UInt64Array::from(lengths)),
            _ => unreachable!("not a JSON function"),
        })
    }
}

/// DuckDB's `regexp_extract`: the match (or a group of it), and '' when nothing matches.
fn regexp_extract(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = strings(&arrays[0])?;
    let patterns = strings(&arrays[1])?;
    // A text third argument is the options (`regexp_extract(s, p, 'i')`).
    let (group_arg, option_arg) = match arrays.get(2) {
        Some(a) if matches!(a.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {
            (None, Some(a))
        }
        third => (third, arrays.get(3)),
    };
    let groups = group_arg.map(|a| cast(a, &DataType::Int64)).transpose()?;
    let options = option_arg.map(strings).transpose()?;
    let (texts, patterns) = (texts.as_string::<i32>(), patterns.as_string::<i32>());
    let mut compiled: HashMap<(String, Option<String>), regex::Regex> = HashMap::new();
    let mut out = StringBuilder::new();
    for r in 0..texts.len() {
        if texts.is_null(r) || patterns.is_null(r) || groups.as_ref().is_some_and(|g| g.is_null(r)) {
            out.append_null();
            continue;
        }
        let option = options.as_ref().filter(|o| o.is_valid(r)).map(|o| o.as_string::<i32>().value(r).to_string());
        let key = (patterns.value(r).to_string(), option);
        if !compiled.contains_key(&key) {
            let re = crate::engine::compat::functions::text::text_functions::compile(&key.0, key.1.as_deref())?;
            compiled.insert(key.clone(), re);
        }
        let group = groups.as_ref().map_or(0, |g| g.as_primitive::<datafusion::arrow::datatypes::Int64Type>().value(r))
            as usize;
        let captures = compiled[&key].captures(texts.value(r));
        // Option `k` keeps the text where the pattern does not match.
        let keep = key.1.as_deref().is_some_and(|o| o.contains('k'));
        let found = match &captures {
            None if keep => texts.value(r),
            _ => captures.and_then(|c| c.get(group)).map_or("", |m| m.as_str()),
        };
        out.append_value(found);
    }
    Ok(Arc::new(out.finish()))
}

pub(crate) fn timestamps_micros(array: &ArrayRef) -> Result<ArrayRef> {
    let target = DataType::Timestamp(TimeUnit::Microsecond, None);
    Ok(match array.data_type() {
        DataType::Timestamp(_, Some(_)) => {
            let utc = cast(array, &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())))?;
            Arc::new(utc.as_primitive::<TimestampMicrosecondType>().clone().with_timezone_opt(None::<String>))
        }
        _ => cast(array, &target)?,
    })
}

pub(crate) fn naive(micros: i64) -> Option<NaiveDateTime> {
    DateTime::<Utc>::from_timestamp_micros(micros).map(|t| t.naive_utc())
}

/// DuckDB's `date_diff`: how many `part` boundaries lie between two times.
fn date_diff(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    if let Some(days) = date_day_difference(arrays)? {
        return Ok(days);
    }
    per_row_difference(arrays, "date_diff", boundaries)
}

/// Days (or weeks) between two dates counted on the dates themselves, which reach past the
/// years a timestamp holds; `None` for other arguments or parts.
fn date_day_difference(arrays: &[ArrayRef]) -> Result<Option<ArrayRef>> {
    use datafusion::arrow::datatypes::Date32Type;
    if arrays[1].data_type() != &DataType::Date32 || arrays[2].data_type() != &DataType::Date32 {
        return Ok(None);
    }
    let parts = strings(&arrays[0])?;
    let parts = parts.as_string::<i32>();
    let (starts, ends) = (arrays[1].as_primitive::<Date32Type>(), arrays[2].as_primitive::<Date32Type>());
    let mut out = Vec::with_capacity(parts.len());
    for r in 0..parts.len() {
        let per = match parts.is_valid(r).then(|| parts.value(r).to_lowercase()).as_deref() {
            Some("day" | "days" | "d" | "dayofmonth" | "dayofyear" | "doy" | "dow" | "isodow" | "julian") => 1,
            Some("week" | "weeks" | "w" | "weekofyear" | "yearweek") => 7,
            Some(_) => return Ok(None),
            None => 0,
        };
        out.push((per > 0 && starts.is_valid(r) && ends.is_valid(r)).then(|| {
            let days = i64::from(ends.value(r)) - i64::from(starts.value(r));
            days / per
        }));
    }
    Ok(Some(Arc::new(Int64Array::from(out))))
}

/// `part` boundaries from `a` to `b`; `None` for a part DuckDB does not know.
fn boundaries(part: &str, a: NaiveDateTime, b: NaiveDateTime) -> Option<i64> {
    let months = |t: NaiveDateTime| t.year() as i64 * 12 + t.month0() as i64;
    let days = |t: NaiveDateTime| t.date().num_days_from_ce() as i64;
    Some(match part.trim_end_matches('s') {
        "year" | "yr" | "y" => b.year() as i64 - a.year() as i64,
        "isoyear" => b.iso_week().year() as i64 - a.iso_week().year() as i64,
        "decade" => (b.year() as i64).div_euclid(10) - (a.year() as i64).div_euclid(10),
        "century" => (b.year() as i64 - 1).div_euclid(100) - (a.year() as i64 - 1).div_euclid(100),
        "millennium" | "millennia" => (b.year() as i64 - 1).div_euclid(1000) - (a.year() as i64 - 1).div_euclid(1000),
        "quarter" => months(b).div_euclid(3) - months(a).div_euclid(3),
        "month" | "mon" => months(b) - months(a),
        // DuckDB counts whole weeks of days, not week boundaries.
        "week" | "w" | "yearweek" | "weekofyear" => (days(b) - days(a)) / 7,
        // Parts of a day count days, as in DuckDB.
        "day" | "d" | "dayofmonth" | "dow" | "isodow" | "doy" | "dayofweek" | "dayofyear" | "weekday" | "julian" => {
            days(b) - days(a)
        }
        // Boundaries before 1970 too: floor, not truncating, division.
        "hour" | "h" | "hr" => b.and_utc().timestamp().div_euclid(3600) - a.and_utc().timestamp().div_euclid(3600),
        "minute" | "m" | "min" => b.and_utc().timestamp().div_euclid(60) - a.and_utc().timestamp().div_euclid(60),
        "second" | "sec" | "epoch" => b.and_utc().timestamp() - a.and_utc().timestamp(),
        "millisecond" | "ms" | "msec" => b.and_utc().timestamp_millis() - a.and_utc().timestamp_millis(),
        "microsecond" | "us" | "usec" => b.and_utc().timestamp_micros() - a.and_utc().timestamp_micros(),
        _ => return None,
    })
}

/// `difference(part, start, end)` row by row over the arrays of `(part, start, end)`: NULL where
/// any is NULL, an error naming `function` for an unknown part.
pub(crate) fn per_row_difference(
    arrays: &[ArrayRef],
    function: &str,
    difference: impl Fn(&str, NaiveDateTime, NaiveDateTime) -> Option<i64>,
) -> Result<ArrayRef> {
    let parts = strings(&arrays[0])?;
    let (starts, ends) = (timestamps_micros(&arrays[1])?, timestamps_micros(&arrays[2])?);
    let (parts, starts, ends) = (
        parts.as_string::<i32>(),
        starts.as_primitive::<TimestampMicrosecondType>(),
        ends.as_primitive::<TimestampMicrosecondType>(),
    );
    let mut out = Vec::with_capacity(parts.len());
    for r in 0..parts.len() {
        if parts.is_null(r) || starts.is_null(r) || ends.is_null(r) {
            out.push(None);
            continue;
        }
        let (Some(a), Some(b)) = (naive(starts.value(r)), naive(ends.value(r))) else {
            out.push(None);
            continue;
        };
        match difference(&parts.value(r).to_lowercase(), a, b) {
            Some(n) => out.push(Some(n)),
            None => {
                return exec_err!(
                    "{function}: unknown date part '{}' (use year, quarter, month, week, day, hour, minute, second, millisecond)",
                    parts.value(r)
                );
            }
        }
    }
    Ok(Arc::new(Int64Array::from(out)))
}

/// `epoch_ms(timestamp)` → milliseconds since 1970; `epoch_ms(integer)` → the timestamp.
fn epoch_ms(array: &ArrayRef) -> Result<ArrayRef> {
    if array.data_type().is_integer() || array.data_type().is_null() {
        return Ok(cast(&cast(array, &DataType::Int64)?, &DataType::Timestamp(TimeUnit::Millisecond, None))?);
    }
    let micros = timestamps_micros(array)?;
    let micros = micros.as_primitive::<TimestampMicrosecondType>();
    // DuckDB rounds to the nearest millisecond, halves away from zero.
    let rounded = |m: i64| (m + if m < 0 { -500 } else { 500 }) / 1000;
    Ok(Arc::new(micros.iter().map(|v| v.map(rounded)).collect::<Int64Array>()))
}

/// `len` of a string (characters) or of a list (elements).
fn len(array: &ArrayRef) -> Result<ArrayRef> {
    Ok(match array.data_type() {
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            Arc::new(
                (0..list.len()).map(|r| list.is_valid(r).then(|| list.value_length(r) as i64)).collect::<Int64Array>(),
            )
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            Arc::new((0..list.len()).map(|r| list.is_valid(r).then(|| list.value_length(r))).collect::<Int64Array>())
        }
        _ => {
            let texts = strings(array)?;
            let texts: &StringArray = texts.as_string::<i32>();
            Arc::new(texts.iter().map(|t| t.map(|s| s.chars().count() as i64)).collect::<Int64Array>())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::TimestampMicrosecondArray;

    #[test]
    fn json_types_are_duckdbs() {
        assert_eq!(duckdb_json_type(&Value::from(-1)), "BIGINT");
        assert_eq!(duckdb_json_type(&Value::from(1)), "UBIGINT");
    }

    #[test]
    fn date_diff_counts_boundaries() {
        let ts = |s: &str| -> ArrayRef {
            let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap().and_utc().timestamp_micros();
            Arc::new(TimestampMicrosecondArray::from(vec![t]))
        };
        let diff = |part: &str, a, b| {
            let out = date_diff(&[Arc::new(StringArray::from(vec![part])), ts(a), ts(b)]).unwrap();
            out.as_primitive::<datafusion::arrow::datatypes::Int64Type>().value(0)
        };
        assert_eq!(diff("day", "2025-10-01 23:00", "2025-10-02 01:00"), 1);
        assert_eq!(diff("month", "2025-01-31 00:00", "2025-02-01 00:00"), 1);
        assert_eq!(diff("hour", "2025-10-01 10:59", "2025-10-01 11:00"), 1);
        assert_eq!(diff("year", "2025-12-31 00:00", "2024-01-01 00:00"), -1);
        // DuckDB's answers for the same pair.
        for (part, expected) in [
            ("decade", 3),
            ("century", 1),
            ("millennium", 1),
            ("isoyear", 26),
            ("dow", 9191),
            ("yearweek", 1313),
            ("epoch", 794023320),
        ] {
            assert_eq!(diff(part, "1999-12-31 23:00", "2025-02-28 01:02"), expected, "{part}");
        }
    }
}
