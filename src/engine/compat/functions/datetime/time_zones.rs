//! `ts AT TIME ZONE 'zone'` and `timezone('zone', ts)` as DuckDB reads them: a TIMESTAMP WITH
//! TIME ZONE becomes the wall-clock TIMESTAMP in that zone, and a TIMESTAMP is taken as wall-clock
//! time there, giving a TIMESTAMP WITH TIME ZONE. (DataFusion's `AT TIME ZONE` only relabels.)

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Offset, TimeZone};
use datafusion::arrow::array::timezone::Tz;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

pub(crate) fn at_time_zone() -> ScalarUDF {
    ScalarUDF::new_from_impl(AtTimeZone { signature: Signature::any(2, Volatility::Immutable) })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct AtTimeZone {
    signature: Signature,
}

fn zoned(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(_, Some(_)))
}

impl ScalarUDFImpl for AtTimeZone {
    fn name(&self) -> &str {
        "at_time_zone"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match &args[0] {
            t if zoned(t) => Ok(DataType::Timestamp(TimeUnit::Microsecond, None)),
            DataType::Timestamp(_, None) | DataType::Date32 | DataType::Date64 | DataType::Utf8 | DataType::Null => {
                Ok(DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())))
            }
            other => plan_err!("AT TIME ZONE needs a timestamp, not {other}"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let ColumnarValue::Scalar(zone) = &args.args[1] else {
            return exec_err!("AT TIME ZONE needs a constant zone name, e.g. 'Europe/Madrid'");
        };
        let Some(zone) = zone.try_as_str().flatten() else {
            return Ok(ColumnarValue::Scalar(ScalarValue::Null));
        };
        let tz: Tz = zone.parse().map_err(|_| {
            datafusion::error::DataFusionError::Execution(format!(
                "unknown time zone '{zone}': use a name such as 'Europe/Madrid' or an offset such as '+02:00'"
            ))
        })?;
        let input = args.args[0].to_array(rows)?;
        let aware = zoned(input.data_type());
        let unit = DataType::Timestamp(TimeUnit::Microsecond, if aware { Some("UTC".into()) } else { None });
        let micros = cast(&input, &unit)?;
        let micros = micros.as_primitive::<TimestampMicrosecondType>();
        let converted: TimestampMicrosecondArray = micros
            .iter()
            .map(|value| {
                let instant = DateTime::from_timestamp_micros(value?)?.naive_utc();
                if aware {
                    // The instant, read on the zone's clock.
                    let offset = tz.offset_from_utc_datetime(&instant).fix();
                    Some((instant + offset).and_utc().timestamp_micros())
                } else {
                    // The zone's clock time, as an instant (the earlier one in a DST overlap).
                    wall_clock(&tz, &instant)
                }
            })
            .collect();
        let result: ArrayRef = if aware { Arc::new(converted) } else { Arc::new(converted.with_timezone("UTC")) };
        if matches!(args.args[0], ColumnarValue::Scalar(_)) {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?));
        }
        Ok(ColumnarValue::Array(result))
    }
}

fn wall_clock(tz: &Tz, local: &NaiveDateTime) -> Option<i64> {
    let resolved = tz.from_local_datetime(local).earliest().or_else(|| {
        // A time skipped by a DST change: the one an hour later exists.
        tz.from_local_datetime(&(*local + chrono::Duration::hours(1))).earliest()
    })?;
    Some(resolved.naive_utc().and_utc().timestamp_micros())
}
