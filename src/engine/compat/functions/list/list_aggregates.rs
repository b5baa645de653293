//! DuckDB's `list_aggregate(list, 'name' [, args...])` (also `list_aggr`, `array_aggregate`,
//! `array_aggr`, `aggregate`) and its `list_<name>(list)` forms: an aggregate run over each
//! list's elements, with the aggregates this engine has (DataFusion's and this layer's).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{
    AggregateUDF, ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{Column, Literal};

/// DuckDB's `list_<name>` functions, by the aggregate each runs.
const LIST_FORMS: [(&str, &str); 23] = [
    ("list_count", "count"),
    ("list_avg", "avg"),
    ("list_mean", "avg"),
    ("list_median", "median"),
    ("list_mode", "mode"),
    ("list_mad", "mad"),
    ("list_sem", "sem"),
    ("list_product", "product"),
    ("list_var_samp", "var_samp"),
    ("list_var_pop", "var_pop"),
    ("list_stddev_samp", "stddev_samp"),
    ("list_stddev_pop", "stddev_pop"),
    ("list_kurtosis", "kurtosis"),
    ("list_kurtosis_pop", "kurtosis_pop"),
    ("list_skewness", "skewness"),
    ("list_entropy", "entropy"),
    ("list_bool_and", "bool_and"),
    ("list_bool_or", "bool_or"),
    ("list_bit_and", "bit_and"),
    ("list_bit_or", "bit_or"),
    ("list_bit_xor", "bit_xor"),
    ("list_approx_count_distinct", "approx_count_distinct"),
    ("list_any_value", "first_value"),
];

/// The aggregates a list may be run through, by DuckDB's names and DataFusion's.
static AGGREGATES: LazyLock<HashMap<String, Arc<AggregateUDF>>> = LazyLock::new(|| {
    let mut all: HashMap<String, Arc<AggregateUDF>> = HashMap::new();
    let ours = crate::engine::compat::functions::aggregate::collecting::functions()
        .into_iter()
        .chain([
            crate::engine::compat::functions::aggregate::approx_count_distinct::udaf(),
            crate::engine::compat::functions::aggregate::kahan_sum::udaf(),
        ])
        .map(Arc::new);
    for udaf in datafusion::functions_aggregate::all_default_aggregate_functions().into_iter().chain(ours) {
        for name in std::iter::once(udaf.name().to_string()).chain(udaf.aliases().iter().cloned()) {
            all.insert(name, udaf.clone());
        }
    }
    all
});

fn aggregate_named(name: &str) -> Result<Arc<AggregateUDF>> {
    let name = name.to_lowercase();
    let name = crate::engine::compat::catalogue::datafusion_name(&name).map_or(name.clone(), str::to_string);
    match AGGREGATES.get(&name) {
        Some(udaf) => Ok(udaf.clone()),
        None => plan_err!("list_aggregate: unknown aggregate function '{name}'"),
    }
}

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let signature = || Signature::variadic_any(Volatility::Immutable);
    let mut udfs: Vec<ScalarUDF> = LIST_FORMS
        .iter()
        .map(|(name, aggregate)| {
            ScalarUDF::new_from_impl(ListAggregate { name, aggregate: Some(aggregate), signature: signature() })
        })
        .collect();
    udfs.push(
        ScalarUDF::new_from_impl(ListAggregate { name: "list_aggregate", aggregate: None, signature: signature() })
            .with_aliases(["list_aggr", "array_aggregate", "array_aggr", "aggregate"]),
    );
    udfs
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ListAggregate {
    name: &'static str,
    /// The aggregate of a `list_<name>` form; `None` for `list_aggregate`, which names it.
    aggregate: Option<&'static str>,
    signature: Signature,
}

/// The argument fields as the aggregate's signature coerces them; an error (not a panic inside
/// the aggregate) when it takes other arguments, e.g. `string_agg` without a separator.
fn coerced(udaf: &AggregateUDF, fields: &[FieldRef]) -> Result<Vec<FieldRef>> {
    datafusion::logical_expr::type_coercion::functions::fields_with_udf(fields, udaf)
}

fn element_field(list: &DataType) -> Result<FieldRef> {
    match list {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            Ok(Arc::new(Field::new("element", f.data_type().clone(), true)))
        }
        DataType::Null => Ok(Arc::new(Field::new("element", DataType::Null, true))),
        other => plan_err!("a list aggregate takes a list, not {other}"),
    }
}

impl ListAggregate {
    /// The aggregate, and where its own arguments start among the call's.
    fn resolve(&self, name_argument: Option<&ScalarValue>) -> Result<(Arc<AggregateUDF>, usize)> {
        match (self.aggregate, name_argument) {
            (Some(aggregate), _) => Ok((aggregate_named(aggregate)?, 1)),
            (None, Some(ScalarValue::Utf8(Some(name)) | ScalarValue::Utf8View(Some(name)))) => {
                Ok((aggregate_named(name)?, 2))
            }
            (None, _) => plan_err!("{}: the aggregate's name must be a constant text", self.name),
        }
    }
}

impl ScalarUDFImpl for ListAggregate {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("{}: the aggregate's name must be a constant text", self.name)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let Some(list) = args.arg_fields.first() else { return plan_err!("{} takes a list", self.name) };
        // A NULL list aggregates to NULL, whatever the aggregate.
        if matches!(args.scalar_arguments.first(), Some(Some(v)) if v.is_null()) {
            return Ok(Arc::new(Field::new(self.name, DataType::Null, true)));
        }
        let (udaf, extra) = self.resolve(args.scalar_arguments.get(1).copied().flatten())?;
        let mut fields = vec![element_field(list.data_type())?];
        fields.extend(args.arg_fields.iter().skip(extra).cloned());
        let field = udaf.return_field(&coerced(&udaf, &fields)?)?;
        Ok(Arc::new(Field::new(self.name, field.data_type().clone(), true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let name = match args.args.get(1) {
            Some(ColumnarValue::Scalar(value)) => Some(value.clone()),
            _ => None,
        };
        let return_type = args.return_field.data_type().clone();
        if return_type.is_null() {
            return Ok(ColumnarValue::Scalar(ScalarValue::Null));
        }
        let (udaf, extra) = self.resolve(name.as_ref())?;
        let list = args.args[0].to_array(rows)?;
        if list.data_type().is_null() {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from(&return_type)?));
        }
        let list = cast(&list, &DataType::List(element_field(list.data_type())?))?;
        let list = list.as_list::<i32>();
        let element = element_field(list.data_type())?;
        // The aggregate's own arguments after the list are constants (a quantile, a separator).
        let constants: Vec<ScalarValue> = args.args[extra..]
            .iter()
            .map(|a| match a {
                ColumnarValue::Scalar(v) => Ok(v.clone()),
                ColumnarValue::Array(a) => ScalarValue::try_from_array(a, 0),
            })
            .collect::<Result<_>>()?;
        let mut fields = vec![element.clone()];
        fields.extend(constants.iter().map(|c| Arc::new(Field::new("constant", c.data_type(), true))));
        // The elements and constants as the aggregate's signature takes them.
        let fields = coerced(&udaf, &fields)?;
        let constants: Vec<ScalarValue> =
            constants.iter().zip(&fields[1..]).map(|(c, f)| c.cast_to(f.data_type())).collect::<Result<_>>()?;
        let schema = Schema::new(vec![fields[0].clone()]);
        let mut exprs: Vec<Arc<dyn PhysicalExpr>> = vec![Arc::new(Column::new("element", 0))];
        exprs.extend(constants.iter().map(|c| Arc::new(Literal::new(c.clone())) as Arc<dyn PhysicalExpr>));
        let return_field = Arc::new(Field::new(self.name, return_type.clone(), true));
        // DuckDB's any_value skips NULLs (first does not).
        let any_value = self.name == "list_any_value"
            || matches!(&name, Some(ScalarValue::Utf8(Some(n)) | ScalarValue::Utf8View(Some(n))) if n.eq_ignore_ascii_case("any_value"));
        let null = ScalarValue::try_from(&return_type)?;
        let mut results = Vec::with_capacity(rows);
        for row in 0..rows {
            if list.is_null(row) {
                results.push(ScalarValue::try_from(&return_type)?);
                continue;
            }
            let mut accumulator = udaf.accumulator(AccumulatorArgs {
                return_field: return_field.clone(),
                schema: &schema,
                ignore_nulls: any_value,
                order_bys: &[],
                is_reversed: false,
                name: self.name,
                is_distinct: false,
                exprs: &exprs,
                expr_fields: &fields,
            })?;
            let values = cast(&list.value(row), fields[0].data_type())?;
            let mut inputs = vec![values.clone()];
            for constant in &constants {
                inputs.push(constant.to_array_of_size(values.len())?);
            }
            // Over no value but NULLs, DuckDB's aggregates give NULL, but for the counting ones (0)
            // and the list aggregate, which keeps the NULLs.
            let keeps_nulls = udaf.name() == "array_agg" && !values.is_empty();
            if values.null_count() == values.len() && !keeps_nulls {
                let counts = ["count", "approx_count_distinct", "entropy"].contains(&udaf.name());
                results.push(if counts { accumulator.evaluate()?.cast_to(&return_type)? } else { null.clone() });
                continue;
            }
            accumulator.update_batch(&inputs)?;
            results.push(accumulator.evaluate()?.cast_to(&return_type)?);
        }
        let result = if results.is_empty() {
            datafusion::arrow::array::new_empty_array(&return_type)
        } else {
            ScalarValue::iter_to_array(results)?
        };
        crate::engine::compat::functions::common::columnar(result, scalar)
    }
}
