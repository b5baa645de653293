//! DuckDB's `printf(format, ...)` (C's `%d`, `%5.2f`, `%-10s`, `%x`, `%%`) and `format(format,
//! ...)` (`{}`, `{:.2f}`, `{:>8}`, `{:,}`): text built from values, a row at a time.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::format_specs::{Piece, Spec, parse_format, parse_printf};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    [Style::Printf, Style::Format]
        .into_iter()
        .map(|style| {
            ScalarUDF::new_from_impl(Formatter { style, signature: Signature::variadic_any(Volatility::Immutable) })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Style {
    Printf,
    Format,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Formatter {
    style: Style,
    signature: Signature,
}

fn group_thousands(digits: &str, separator: char) -> String {
    let (int, frac) = digits.split_once('.').map_or((digits, None), |(a, b)| (a, Some(b)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// One value as the placeholder asks, or `None` for NULL (the whole result is then NULL, as in DuckDB).
fn render(spec: &Spec, column: &ArrayRef, row: usize) -> Result<Option<String>> {
    if column.data_type() == &DataType::Null || column.is_null(row) {
        return Ok(None);
    }
    let value = column.slice(row, 1);
    let integer = || -> Result<i64> {
        if value.data_type().is_integer() {
            return Ok(cast(&value, &DataType::Int64)?.as_primitive::<Int64Type>().value(0));
        }
        let n = cast(&value, &DataType::Float64)?;
        Ok(n.as_primitive::<Float64Type>().value(0).trunc() as i64)
    };
    let float = || -> Result<f64> { Ok(cast(&value, &DataType::Float64)?.as_primitive::<Float64Type>().value(0)) };
    let grouped_number = spec.conversion == 's' && value.data_type().is_numeric() && spec.thousands.is_some();
    let conversion = match (grouped_number, value.data_type().is_integer()) {
        (true, true) => 'd',
        (true, false) => 'f',
        (false, _) => spec.conversion,
    };
    let (sign_able, body) = match conversion {
        'd' | 'i' | 'u' => (true, integer()?.to_string()),
        // `{:,}` of a fraction keeps its own digits.
        'f' if grouped_number && spec.precision.is_none() => (true, float()?.to_string()),
        // An integer keeps every digit (a double would round 2^53 + 1).
        'f' | 'F' if spec.precision == Some(0) && value.data_type().is_integer() => (true, integer()?.to_string()),
        'f' | 'F' => (true, format!("{:.*}", spec.precision.unwrap_or(6), float()?)),
        'e' | 'E' => {
            let text = format!("{:.*e}", spec.precision.unwrap_or(6), float()?);
            // C writes the exponent with a sign and two digits: 1.5e+03.
            let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
            let exp: i32 = exponent.parse().unwrap_or(0);
            let text = format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
            (true, if conversion == 'E' { text.to_uppercase() } else { text })
        }
        'g' | 'G' => (true, float()?.to_string()),
        'x' => (false, format!("{}{:x}", if spec.alternate { "0x" } else { "" }, integer()?)),
        'X' => (false, format!("{}{:X}", if spec.alternate { "0X" } else { "" }, integer()?)),
        'o' => (false, format!("{}{:o}", if spec.alternate { "0" } else { "" }, integer()?)),
        'b' => (false, format!("{:b}", integer()?)),
        'c' => (false, char::from_u32(integer()? as u32).map(String::from).unwrap_or_default()),
        's' => {
            // As DuckDB prints the value (a timestamp with a space, not ISO's 'T').
            let text = crate::encode::display_text(value.as_ref(), 0);
            (false, spec.precision.map_or(text.clone(), |p| text.chars().take(p).collect()))
        }
        other => return exec_err!("printf/format: unknown conversion '{other}' (use d, f, e, s, x or %)"),
    };
    let (negative, magnitude) = match body.strip_prefix('-') {
        Some(rest) if sign_able => (true, rest.to_string()),
        _ => (false, body),
    };
    let magnitude = match spec.thousands {
        Some(separator) if sign_able => group_thousands(&magnitude, separator),
        _ => magnitude,
    };
    let sign = match (negative, spec.plus, spec.space) {
        (true, _, _) => "-",
        (false, true, _) if sign_able => "+",
        (false, _, true) if sign_able => " ",
        _ => "",
    };
    let len = sign.chars().count() + magnitude.chars().count();
    let pad = spec.width.saturating_sub(len);
    Ok(Some(if spec.zero && !spec.left && !spec.center && spec.fill.is_none() && sign_able {
        format!("{sign}{}{magnitude}", "0".repeat(pad))
    } else {
        let fill = spec.fill.unwrap_or(' ').to_string();
        // Numbers align right by default in format(), text left; printf aligns right unless `-`.
        let (before, after) = if spec.center {
            (pad / 2, pad - pad / 2)
        } else if spec.left {
            (0, pad)
        } else {
            (pad, 0)
        };
        format!("{}{sign}{magnitude}{}", fill.repeat(before), fill.repeat(after))
    }))
}

impl ScalarUDFImpl for Formatter {
    fn name(&self) -> &str {
        match self.style {
            Style::Printf => "printf",
            Style::Format => "format",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays: Vec<ArrayRef> = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<_>>()?;
        let Some((formats, values)) = arrays.split_first() else {
            return exec_err!("{}() needs a format", self.name());
        };
        let formats = cast(formats, &DataType::Utf8)?;
        let formats = formats.as_string::<i32>();
        let mut out = StringBuilder::with_capacity(rows, rows * 16);
        let mut cached: Option<(String, Vec<Piece>)> = None;
        for row in 0..rows {
            if formats.is_null(row) {
                out.append_null();
                continue;
            }
            let format = formats.value(row);
            if cached.as_ref().is_none_or(|(f, _)| f != format) {
                let pieces = match self.style {
                    Style::Printf => parse_printf(format),
                    Style::Format => parse_format(format),
                }
                .map_err(datafusion::error::DataFusionError::Execution)?;
                cached = Some((format.to_string(), pieces));
            }
            let Some((_, pieces)) = &cached else { unreachable!("parsed above") };
            let mut text = String::new();
            let mut next = 0;
            let mut null = false;
            for piece in pieces {
                match piece {
                    Piece::Text(t) => text.push_str(t),
                    Piece::Value(spec) => {
                        let Some(column) = values.get(next) else {
                            return exec_err!("{}(): the format has more placeholders than values", self.name());
                        };
                        next += 1;
                        let mut spec = spec.clone();
                        if self.style == Style::Format && !spec.aligned && !column.data_type().is_numeric() {
                            spec.left = true;
                        }
                        match render(&spec, column, row)? {
                            Some(value) => text.push_str(&value),
                            None => null = true,
                        }
                    }
                }
            }
            if null {
                out.append_null();
            } else {
                out.append_value(text);
            }
        }
        let result: ArrayRef = Arc::new(out.finish());
        if scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?));
        }
        Ok(ColumnarValue::Array(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};

    fn run(style: Style, format: &str, values: Vec<ArrayRef>) -> String {
        let pieces = match style {
            Style::Printf => parse_printf(format),
            Style::Format => parse_format(format),
        }
        .unwrap();
        let mut next = 0;
        pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.clone(),
                Piece::Value(spec) => {
                    next += 1;
                    render(spec, &values[next - 1], 0).unwrap().unwrap_or_default()
                }
            })
            .collect()
    }

    #[test]
    fn placeholders_render_as_in_duckdb() {
        let int = |v: i64| Arc::new(Int64Array::from(vec![v])) as ArrayRef;
        let float = |v: f64| Arc::new(Float64Array::from(vec![v])) as ArrayRef;
        let text = |v: &str| Arc::new(StringArray::from(vec![v])) as ArrayRef;
        assert_eq!(
            run(
                Style::Printf,
                "%d events, %5.2f%%, [%-4s] %x %05d",
                vec![int(42), float(2.71349), text("ab"), int(255), int(-42)]
            ),
            "42 events,  2.71%, [ab  ] ff -0042"
        );
        assert_eq!(run(Style::Printf, "%e", vec![float(1500.0)]), "1.500000e+03");
        assert_eq!(run(Style::Format, "{} events by {}", vec![int(10968), text("x")]), "10968 events by x");
        assert_eq!(
            run(Style::Format, "{:.2f}|{:>6}|{:,}|{{}}", vec![float(2.5), int(7), int(1234567)]),
            "2.50|     7|1,234,567|{}"
        );
    }
}
