//! A scalar UDF made of two plain functions — its result type from the argument types, its result
//! from the argument arrays — for the many DuckDB functions that need nothing more.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_datafusion_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

pub(crate) type Returns = fn(&[DataType]) -> Result<DataType>;
pub(crate) type Runs = fn(&[ArrayRef]) -> Result<ArrayRef>;

#[derive(Debug)]
pub(crate) struct RowUdf {
    name: &'static str,
    usage: &'static str,
    arity: std::ops::RangeInclusive<usize>,
    signature: Signature,
    returns: Returns,
    runs: Runs,
    /// The result is DuckDB's JSON (text marked as JSON).
    json: bool,
}

/// Equality and hashing of a UDF by its name, for UDFs whose other fields (closures, wrapped
/// functions) do not compare: DataFusion compares and hashes functions when it dedups plans.
macro_rules! compared_by_name {
    ($udf:ty, $this:ident => $name:expr) => {
        impl $udf {
            fn compared_name(&self) -> &str {
                let $this = self;
                $name
            }
        }
        impl PartialEq for $udf {
            fn eq(&self, other: &Self) -> bool {
                self.compared_name() == other.compared_name()
            }
        }
        impl Eq for $udf {}
        impl std::hash::Hash for $udf {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.compared_name().hash(state);
            }
        }
    };
}
pub(crate) use compared_by_name;

/// A wrapping function's name and aliases, its inner function's (`self.inner`): for a wrapper
/// that takes other arguments than the function it wraps.
macro_rules! as_inner_named {
    () => {
        fn name(&self) -> &str {
            self.inner.name()
        }

        fn aliases(&self) -> &[String] {
            self.inner.aliases()
        }
    };
}
pub(crate) use as_inner_named;

/// The parts of a wrapping function's `ScalarUDFImpl` that are its inner function's (`self.inner`):
/// the name, aliases, signature and argument coercion callers see are DataFusion's own.
macro_rules! as_inner_function {
    () => {
        crate::engine::compat::functions::common::as_inner_named!();

        fn signature(&self) -> &datafusion::logical_expr::Signature {
            self.inner.signature()
        }

        fn coerce_types(
            &self,
            arg_types: &[datafusion::arrow::datatypes::DataType],
        ) -> datafusion::common::Result<Vec<datafusion::arrow::datatypes::DataType>> {
            self.inner.coerce_types(arg_types)
        }
    };
}
pub(crate) use as_inner_function;

compared_by_name!(RowUdf, udf => udf.name);

/// A UDF called `name`, taking `arity` arguments of any type (`usage` is the error's hint).
pub(crate) fn row_udf(
    name: &'static str,
    usage: &'static str,
    arity: std::ops::RangeInclusive<usize>,
    returns: Returns,
    runs: Runs,
) -> ScalarUDF {
    row_udf_with(Volatility::Immutable, name, usage, arity, returns, runs)
}

/// A UDF of the given volatility (`Volatile`: run for every row, never folded at planning).
pub(crate) fn row_udf_with(
    volatility: Volatility,
    name: &'static str,
    usage: &'static str,
    arity: std::ops::RangeInclusive<usize>,
    returns: Returns,
    runs: Runs,
) -> ScalarUDF {
    let signature = Signature::variadic_any(volatility);
    ScalarUDF::new_from_impl(RowUdf { name, usage, arity, signature, returns, runs, json: false })
}

/// A UDF whose result is DuckDB's JSON.
pub(crate) fn row_udf_json(
    name: &'static str,
    usage: &'static str,
    arity: std::ops::RangeInclusive<usize>,
    runs: Runs,
) -> ScalarUDF {
    let signature = Signature::variadic_any(Volatility::Immutable);
    let returns: Returns = |_| Ok(DataType::Utf8);
    ScalarUDF::new_from_impl(RowUdf { name, usage, arity, signature, returns, runs, json: true })
}

impl ScalarUDFImpl for RowUdf {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if !self.arity.contains(&args.len()) {
            return plan_err!("{} takes {}", self.name, self.usage);
        }
        (self.returns)(args)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        let data_type = self.return_type(&types)?;
        Ok(if self.json {
            crate::engine::compat::types::json_field(self.name)
        } else {
            Arc::new(Field::new(self.name, data_type, true))
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays: Vec<ArrayRef> = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<_>>()?;
        columnar((self.runs)(&arrays)?, all_scalar)
    }
}

/// An argument as text (`None` for NULL), row by row.
pub(crate) fn texts(array: &ArrayRef) -> Result<Vec<Option<String>>> {
    let array = cast(array, &DataType::Utf8)?;
    Ok(array.as_string::<i32>().iter().map(|v| v.map(str::to_string)).collect())
}

/// An argument as 64-bit integers (`None` for NULL), row by row.
pub(crate) fn integers(array: &ArrayRef) -> Result<Vec<Option<i64>>> {
    let array = cast(array, &DataType::Int64)?;
    Ok(array.as_primitive::<Int64Type>().iter().collect())
}

/// An argument as doubles (`None` for NULL), row by row.
pub(crate) fn doubles(array: &ArrayRef) -> Result<Vec<Option<f64>>> {
    let array = cast(array, &DataType::Float64)?;
    Ok(array.as_primitive::<datafusion::arrow::datatypes::Float64Type>().iter().collect())
}

/// An execution error in DuckDB's words.
pub(crate) fn invalid(message: String) -> datafusion::error::DataFusionError {
    exec_datafusion_err!("{message}")
}

pub(crate) fn shared(array: impl datafusion::arrow::array::Array + 'static) -> ArrayRef {
    Arc::new(array)
}

/// A result column as the function answers it: a scalar when every argument was one.
pub(crate) fn columnar(result: ArrayRef, scalar: bool) -> Result<ColumnarValue> {
    if scalar {
        let value = ScalarValue::try_from_array(&result, 0)?;
        // A list's scalar loses its element field's metadata (a JSON marker): keep the array then.
        if &value.data_type() == result.data_type() {
            return Ok(ColumnarValue::Scalar(value));
        }
    }
    Ok(ColumnarValue::Array(result))
}

/// A list type as this layer's list functions take it: `List` (large and fixed-size lists and an
/// untyped NULL read as one).
pub(crate) fn list_type(data_type: &DataType) -> Result<DataType> {
    match data_type {
        DataType::List(_) => Ok(data_type.clone()),
        DataType::LargeList(f) | DataType::FixedSizeList(f, _) => Ok(DataType::List(f.clone())),
        DataType::Null => Ok(DataType::List(Arc::new(Field::new_list_field(DataType::Null, true)))),
        other => datafusion::common::plan_err!("expected a list, not {other}"),
    }
}

/// An argument as a `List` array (see [`list_type`]).
pub(crate) fn lists(array: &ArrayRef) -> Result<datafusion::arrow::array::ListArray> {
    Ok(cast(array, &list_type(array.data_type())?)?.as_list::<i32>().clone())
}

/// Text in, text out, row by row (NULL stays NULL).
pub(crate) fn map_texts(array: &ArrayRef, f: impl Fn(&str) -> Result<String>) -> Result<ArrayRef> {
    let values = texts(array)?;
    let out: Vec<Option<String>> = values.iter().map(|v| v.as_deref().map(&f).transpose()).collect::<Result<_>>()?;
    Ok(shared(datafusion::arrow::array::StringArray::from(out)))
}

/// An argument cast to text, as one array.
pub(crate) fn strings(array: &ArrayRef) -> Result<ArrayRef> {
    Ok(cast(array, &DataType::Utf8)?)
}

/// Whether an Arrow type is text (DuckDB's VARCHAR, in any of Arrow's layouts).
pub(crate) fn is_text(data_type: &datafusion::arrow::datatypes::DataType) -> bool {
    use datafusion::arrow::datatypes::DataType;
    matches!(data_type, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}
