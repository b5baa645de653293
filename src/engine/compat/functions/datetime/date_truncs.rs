//! `date_trunc` of an INTERVAL too, as DuckDB truncates one: DataFusion's function takes dates,
//! times and timestamps only. Every other call is DataFusion's, with its ordering properties
//! (a `date_trunc` of a sorted column stays sorted).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, IntervalMonthDayNanoArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, IntervalMonthDayNano, IntervalUnit};
use datafusion::common::Result;
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::interval_texts::{Part, part_named};
use crate::engine::compat::functions::common::invalid;

const INTERVAL: DataType = DataType::Interval(IntervalUnit::MonthDayNano);

pub(crate) fn date_trunc() -> ScalarUDF {
    ScalarUDF::new_from_impl(IntervalTruncating {
        inner: datafusion::functions::datetime::date_trunc(),
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug)]
struct IntervalTruncating {
    inner: Arc<ScalarUDF>,
    signature: Signature,
}

crate::engine::compat::functions::common::compared_by_name!(IntervalTruncating, udf => udf.inner.name());

/// Of an interval, or of a timestamp minus a timestamp (a duration until planning makes it one).
fn of_interval(types: &[DataType]) -> bool {
    matches!(types, [_, DataType::Interval(_) | DataType::Duration(_)])
}

impl ScalarUDFImpl for IntervalTruncating {
    crate::engine::compat::functions::common::as_inner_named!();

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if of_interval(arg_types) {
            Ok(vec![DataType::Utf8, arg_types[1].clone()])
        } else {
            let fields: Vec<FieldRef> =
                arg_types.iter().map(|t| Arc::new(Field::new("argument", t.clone(), true))).collect();
            Ok(fields_with_udf(&fields, self.inner.as_ref())?.iter().map(|f| f.data_type().clone()).collect())
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if of_interval(arg_types) { Ok(INTERVAL) } else { self.inner.return_type(arg_types) }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        if of_interval(&types) {
            Ok(Arc::new(Field::new(self.name(), INTERVAL, true)))
        } else {
            self.inner.return_field_from_args(args)
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let types: Vec<DataType> = args.args.iter().map(ColumnarValue::data_type).collect();
        if !of_interval(&types) {
            return self.inner.invoke_with_args(args);
        }
        let all_scalars = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let intervals = super::intervals::as_duckdb_interval(&arrays[1])?;
        let out: IntervalMonthDayNanoArray =
            super::intervals::by_part(&arrays[0], &intervals, truncated)?.into_iter().collect();
        let out: ArrayRef = Arc::new(out);
        if all_scalars {
            Ok(ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }

    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        self.inner.output_ordering(inputs)
    }
}

/// An interval's months cut to whole years (decades, ...) or quarters, its days to whole weeks,
/// its time to whole hours (minutes, ...), and what lies below the part zeroed; each part keeps
/// its sign, as DuckDB's division truncates.
fn truncated(part: &str, v: IntervalMonthDayNano) -> Result<IntervalMonthDayNano> {
    let months = |per: i32| IntervalMonthDayNano::new(v.months / per * per, 0, 0);
    let time = |per_micros: i64| {
        IntervalMonthDayNano::new(v.months, v.days, v.nanoseconds / 1000 / per_micros * per_micros * 1000)
    };
    Ok(match (part_named(part), part) {
        (Some(Part::Millennium), _) => months(12_000),
        (Some(Part::Century), _) => months(1_200),
        (Some(Part::Decade), _) => months(120),
        (Some(Part::Year), _) | (None, "isoyear") => months(12),
        (Some(Part::Quarter), _) => months(3),
        (Some(Part::Month), _) => months(1),
        (Some(Part::Week), _) => IntervalMonthDayNano::new(v.months, v.days / 7 * 7, 0),
        (Some(Part::Day), _) | (None, "dow" | "isodow" | "doy" | "dayofweek" | "dayofyear" | "weekday") => {
            IntervalMonthDayNano::new(v.months, v.days, 0)
        }
        (Some(Part::Hour), _) => time(3_600_000_000),
        (Some(Part::Minute), _) => time(60_000_000),
        (Some(Part::Second), _) | (None, "epoch") => time(1_000_000),
        (Some(Part::Millisecond), _) => time(1_000),
        (Some(Part::Microsecond), _) => time(1),
        (None, _) => {
            return Err(invalid(format!(
                "date_trunc of an interval takes a unit (year, month, week, day, hour, minute, second, ...), not '{part}'"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_cut_as_duckdb_cuts_them() {
        let micros = (13 * 3600 + 47 * 60 + 29) * 1_000_000 + 123_456;
        let v = IntervalMonthDayNano::new(1234 * 12 + 5, 17, micros * 1000);
        let cut = |part| truncated(part, v).unwrap();
        assert_eq!(cut("decade"), IntervalMonthDayNano::new(1230 * 12, 0, 0));
        assert_eq!(cut("quarter"), IntervalMonthDayNano::new(1234 * 12 + 3, 0, 0));
        assert_eq!(cut("week"), IntervalMonthDayNano::new(1234 * 12 + 5, 14, 0));
        assert_eq!(cut("hour"), IntervalMonthDayNano::new(1234 * 12 + 5, 17, 13 * 3_600_000_000_000));
        assert_eq!(cut("ms"), IntervalMonthDayNano::new(1234 * 12 + 5, 17, (micros - 456) * 1000));
        let negative = IntervalMonthDayNano::new(-17, -17, -micros * 1000);
        assert_eq!(truncated("year", negative).unwrap(), IntervalMonthDayNano::new(-12, 0, 0));
        assert!(truncated("fortnight", v).is_err());
    }
}
