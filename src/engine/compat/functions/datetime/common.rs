//! What the date and time functions share: timestamps read as microseconds in UTC.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::common::Result;

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
