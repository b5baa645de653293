//! DuckDB's `median` and `avg` (`mean`) of dates, timestamps, times and intervals (and `median`
//! of text), which DataFusion's refuse. Each is DataFusion's aggregate, wrapped: numbers go to it
//! as they did (its grouped accumulators included), the other values to this layer's
//! `quantile_cont(x, 0.5)` (`quantile_disc` for text) or `temporal_avg(x)` (`interval_avg(x)` for
//! intervals).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, GroupsAccumulator, ReversedUDAF, Signature, Volatility,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Literal;

use crate::engine::compat::functions::common::is_text;
use crate::engine::compat::functions::datetime::temporal_values::is_temporal;

/// `median` and `avg`, taking temporal values (and `median` text) too.
pub(crate) fn temporal_aggregates() -> Vec<AggregateUDF> {
    use datafusion::functions_aggregate::{average::avg_udaf, median::median_udaf};
    [(median_udaf(), true), (avg_udaf(), false)]
        .into_iter()
        .filter_map(|(inner, median)| {
            let other = super::collecting::aggregate_named(if median { "quantile_cont" } else { "temporal_avg" })?;
            let text = median.then(|| super::collecting::aggregate_named("quantile_disc")).flatten();
            let intervals = (!median).then(|| Arc::new(super::interval_average::interval_avg()));
            Some(AggregateUDF::new_from_impl(Widened {
                inner,
                other,
                text,
                intervals,
                signature: Signature::user_defined(Volatility::Immutable),
            }))
        })
        .collect()
}

#[derive(Debug)]
struct Widened {
    inner: Arc<AggregateUDF>,
    /// The aggregate of temporal values.
    other: Arc<AggregateUDF>,
    /// The aggregate of text, if the function takes text.
    text: Option<Arc<AggregateUDF>>,
    /// The aggregate of intervals, if not the temporal one.
    intervals: Option<Arc<AggregateUDF>>,
    signature: Signature,
}

crate::engine::compat::functions::common::compared_by_name!(Widened, udf => udf.inner.name());

impl Widened {
    /// The aggregate that takes values of type `t` in place of DataFusion's, if one does.
    fn instead(&self, t: &DataType) -> Option<&Arc<AggregateUDF>> {
        self.instead_of(t, false)
    }

    /// As [`Self::instead`], for an aggregate of distinct values or not (the temporal aggregate
    /// counts each value once itself).
    fn instead_of(&self, t: &DataType, distinct: bool) -> Option<&Arc<AggregateUDF>> {
        if matches!(t, DataType::Interval(_))
            && !distinct
            && let Some(intervals) = &self.intervals
        {
            Some(intervals)
        } else if is_temporal(t) {
            Some(&self.other)
        } else if is_text(t) {
            self.text.as_ref()
        } else {
            None
        }
    }

    /// Whether the aggregate in place is a quantile, which takes 0.5 after the value.
    fn median(&self) -> bool {
        self.text.is_some()
    }

    fn argument_types(&self, t: &DataType) -> Vec<DataType> {
        if self.median() { vec![t.clone(), DataType::Float64] } else { vec![t.clone()] }
    }

    /// The accumulator in place of DataFusion's, with the quantile 0.5 added to the arguments.
    fn accumulator_instead(&self, udaf: &AggregateUDF, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let mut exprs = args.exprs.to_vec();
        let mut fields = args.expr_fields.to_vec();
        if self.median() {
            exprs.push(Arc::new(Literal::new(ScalarValue::Float64(Some(0.5)))) as Arc<dyn PhysicalExpr>);
            fields.push(Arc::new(Field::new("quantile", DataType::Float64, false)));
        }
        udaf.inner().accumulator(AccumulatorArgs { exprs: &exprs, expr_fields: &fields, ..args })
    }
}

impl AggregateUDFImpl for Widened {
    crate::engine::compat::functions::common::as_inner_named!();

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if let [only] = arg_types
            && self.instead(only).is_some()
        {
            return Ok(arg_types.to_vec());
        }
        let fields: Vec<FieldRef> =
            arg_types.iter().map(|t| Arc::new(Field::new("argument", t.clone(), true))).collect();
        Ok(fields_with_udf(&fields, self.inner.as_ref())?.iter().map(|f| f.data_type().clone()).collect())
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [only] => match self.instead(only) {
                Some(udaf) => udaf.return_type(&self.argument_types(only)),
                None => self.inner.return_type(arg_types),
            },
            _ => self.inner.return_type(arg_types),
        }
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        match args.expr_fields.first().and_then(|f| self.instead_of(f.data_type(), args.is_distinct)) {
            Some(udaf) => self.accumulator_instead(udaf, args),
            None => self.inner.inner().accumulator(args),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        match args.input_fields.first().and_then(|f| self.instead_of(f.data_type(), args.is_distinct)) {
            Some(udaf) => udaf.inner().state_fields(args),
            None => self.inner.inner().state_fields(args),
        }
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        args.expr_fields.first().is_none_or(|f| self.instead(f.data_type()).is_none())
            && self.inner.inner().groups_accumulator_supported(args)
    }

    fn create_groups_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        self.inner.inner().create_groups_accumulator(args)
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        match args.expr_fields.first().and_then(|f| self.instead_of(f.data_type(), args.is_distinct)) {
            Some(udaf) => self.accumulator_instead(udaf, args),
            None => self.inner.inner().create_sliding_accumulator(args),
        }
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        self.inner.inner().order_sensitivity()
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        self.inner.inner().reverse_expr()
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.inner().documentation()
    }
}
