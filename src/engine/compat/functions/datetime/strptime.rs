//! DuckDB's `strptime(text, format | [formats])` and `try_strptime`, with DuckDB's parser rules:
//! parts missing from the format default to 1900-01-01 00:00:00; numbers take one digit up to
//! their width (`%Y` four); a space in the format matches any run of white space; names of days
//! and months in any case; `%f` microseconds (up to 6 digits), `%g` milliseconds, `%n`
//! nanoseconds; `%p` with `%I`; weeks `%U`/`%W` with `%w`, ISO `%G`-`%V`-`%u`, days of the year
//! `%j`; `%z` offsets make a TIMESTAMPTZ (in UTC), `%Z` names are read and ignored.

use std::sync::Arc;

use super::strptime_parser::parse;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    [false, true]
        .into_iter()
        .map(|lenient| {
            ScalarUDF::new_from_impl(Strptime { lenient, signature: Signature::any(2, Volatility::Immutable) })
        })
        .collect()
}

/// `lenient`: `try_strptime`, NULL where `strptime` fails.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Strptime {
    lenient: bool,
    signature: Signature,
}

fn formats_of(value: &ScalarValue) -> Option<Vec<String>> {
    match value {
        ScalarValue::Utf8(Some(f)) | ScalarValue::LargeUtf8(Some(f)) | ScalarValue::Utf8View(Some(f)) => {
            Some(vec![f.clone()])
        }
        ScalarValue::List(list) if list.len() == 1 && !list.is_null(0) => {
            let values = cast(&list.value(0), &DataType::Utf8).ok()?;
            Some(values.as_string::<i32>().iter().map(|v| v.unwrap_or_default().to_string()).collect())
        }
        _ => None,
    }
}

fn zoned(formats: &[String]) -> bool {
    formats.iter().any(|f| f.contains("%z") || f.contains("%Z"))
}

impl ScalarUDFImpl for Strptime {
    fn name(&self) -> &str {
        if self.lenient { "try_strptime" } else { "strptime" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(TimeUnit::Microsecond, None))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let zone = match args.scalar_arguments.get(1) {
            Some(Some(ScalarValue::Null)) => false,
            Some(Some(value)) => zoned(&formats_of(value).unwrap_or_default()),
            // A list literal is still a call to make_array here; its formats are read when it runs.
            _ => false,
        };
        let zone = zone.then(|| Arc::<str>::from("UTC"));
        Ok(Arc::new(Field::new(self.name(), DataType::Timestamp(TimeUnit::Microsecond, zone), true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let formats = match &args.args[1] {
            ColumnarValue::Scalar(value) => formats_of(value),
            ColumnarValue::Array(array) if !array.is_empty() => formats_of(&ScalarValue::try_from_array(array, 0)?),
            ColumnarValue::Array(_) => None,
        };
        let zone = match args.return_field.data_type() {
            DataType::Timestamp(_, zone) => zone.clone(),
            _ => None,
        };
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let texts = cast(&args.args[0].to_array(rows)?, &DataType::Utf8)?;
        let mut out = Vec::with_capacity(rows);
        for text in texts.as_string::<i32>().iter() {
            let (Some(text), Some(formats)) = (text, &formats) else {
                out.push(None);
                continue;
            };
            let parsed = formats.iter().find_map(|f| parse(text, f).ok());
            match parsed {
                Some(micros) => out.push(Some(micros)),
                None if self.lenient => out.push(None),
                None => {
                    let why = parse(text, &formats[0]).err().unwrap_or_default();
                    return exec_err!(
                        "Could not parse string \"{text}\" according to format specifier \"{}\": {why}",
                        formats.join(", ")
                    );
                }
            }
        }
        let result: ArrayRef = Arc::new(TimestampMicrosecondArray::from(out).with_timezone_opt(zone));
        crate::engine::compat::functions::common::columnar(result, scalar)
    }
}
