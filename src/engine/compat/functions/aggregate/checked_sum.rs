//! `sum` of integers that fails on overflow, where DataFusion's wraps (DuckDB sums into a
//! HUGEINT and raises past it; a BIGINT sum that no longer fits is an error here). Everything
//! but the integer accumulators is DataFusion's own `sum`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::datatypes::{DataType, FieldRef, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::functions_aggregate::sum::Sum;
use datafusion::logical_expr::expr::{AggregateFunction, AggregateFunctionParams, WindowFunctionParams};
use datafusion::logical_expr::function::{AccumulatorArgs, AggregateFunctionSimplification, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, Expr, GroupsAccumulator, Operator, ReversedUDAF,
    SetMonotonicity, Signature, StatisticsArgs,
};
use datafusion_functions_aggregate_common::aggregate::groups_accumulator::prim_op::PrimitiveGroupsAccumulator;

fn overflow<T>() -> Result<T> {
    exec_err!("integer overflow in sum(): the total does not fit a BIGINT (cast the argument to DOUBLE or DECIMAL)")
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct CheckedSum {
    inner: Sum,
    /// DataFusion's, and booleans as DuckDB sums them: the number of `true`s.
    signature: Signature,
}

impl CheckedSum {
    pub(crate) fn new() -> CheckedSum {
        use datafusion::common::types::{NativeType, logical_boolean, logical_int64};
        use datafusion::logical_expr::{Coercion, TypeSignature, TypeSignatureClass};
        let inner = Sum::new();
        let mut forms = match &inner.signature().type_signature {
            TypeSignature::OneOf(forms) => forms.clone(),
            other => vec![other.clone()],
        };
        forms.push(TypeSignature::Coercible(vec![Coercion::new_implicit(
            TypeSignatureClass::Native(logical_int64()),
            vec![TypeSignatureClass::Native(logical_boolean())],
            NativeType::Int64,
        )]));
        let signature = Signature::one_of(forms, inner.signature().volatility);
        CheckedSum { inner, signature }
    }

    fn is_checked(args: &AccumulatorArgs) -> bool {
        *args.return_type() == DataType::Int64 && !args.is_distinct
    }
}

impl AggregateUDFImpl for CheckedSum {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }
    fn schema_name(&self, params: &AggregateFunctionParams) -> Result<String> {
        self.inner.schema_name(params)
    }
    fn human_display(&self, params: &AggregateFunctionParams) -> Result<String> {
        self.inner.human_display(params)
    }
    fn window_function_schema_name(&self, params: &WindowFunctionParams) -> Result<String> {
        self.inner.window_function_schema_name(params)
    }
    fn display_name(&self, params: &AggregateFunctionParams) -> Result<String> {
        self.inner.display_name(params)
    }
    fn window_function_display_name(&self, params: &WindowFunctionParams) -> Result<String> {
        self.inner.window_function_display_name(params)
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }
    fn return_field(&self, arg_fields: &[FieldRef]) -> Result<FieldRef> {
        self.inner.return_field(arg_fields)
    }
    fn is_nullable(&self) -> bool {
        self.inner.is_nullable()
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if Self::is_checked(&args) {
            return Ok(Box::new(CheckedAccumulator { sum: None }));
        }
        self.inner.accumulator(args)
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner.state_fields(args)
    }
    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        self.inner.groups_accumulator_supported(args)
    }
    fn create_groups_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        if !Self::is_checked(&args) {
            return self.inner.create_groups_accumulator(args);
        }
        // The per-group step cannot fail: it saturates and raises a flag, read before any result.
        let overflowed = Arc::new(AtomicBool::new(false));
        let flag = overflowed.clone();
        let inner = PrimitiveGroupsAccumulator::<Int64Type, _>::new(&DataType::Int64, move |x: &mut i64, y: i64| {
            *x = x.checked_add(y).unwrap_or_else(|| {
                flag.store(true, Ordering::Relaxed);
                0
            })
        });
        Ok(Box::new(CheckedGroups { inner, overflowed }))
    }
    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        self.inner.create_sliding_accumulator(args)
    }
    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        self.inner.order_sensitivity()
    }
    fn simplify(&self) -> Option<AggregateFunctionSimplification> {
        self.inner.simplify()
    }
    fn simplify_expr_op_literal(
        &self,
        function: &AggregateFunction,
        arg: &Expr,
        op: Operator,
        lit: &Expr,
        arg_is_left: bool,
    ) -> Result<Option<Expr>> {
        self.inner.simplify_expr_op_literal(function, arg, op, lit, arg_is_left)
    }
    fn reverse_expr(&self) -> ReversedUDAF {
        self.inner.reverse_expr()
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }
    fn is_descending(&self) -> Option<bool> {
        self.inner.is_descending()
    }
    fn value_from_stats(&self, args: &StatisticsArgs) -> Option<ScalarValue> {
        self.inner.value_from_stats(args)
    }
    fn default_value(&self, data_type: &DataType) -> Result<ScalarValue> {
        self.inner.default_value(data_type)
    }
    fn supports_null_handling_clause(&self) -> bool {
        self.inner.supports_null_handling_clause()
    }
    fn supports_within_group_clause(&self) -> bool {
        self.inner.supports_within_group_clause()
    }
    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
    fn set_monotonicity(&self, data_type: &DataType) -> SetMonotonicity {
        self.inner.set_monotonicity(data_type)
    }
}

#[derive(Debug)]
struct CheckedAccumulator {
    sum: Option<i64>,
}

impl CheckedAccumulator {
    fn add(&mut self, values: &ArrayRef) -> Result<()> {
        let values = values.as_primitive::<Int64Type>();
        if values.null_count() == values.len() {
            return Ok(());
        }
        let Ok(Some(part)) = datafusion::arrow::compute::sum_checked(values) else { return overflow() };
        self.sum = match self.sum {
            None => Some(part),
            Some(sum) => Some(sum.checked_add(part).map_or_else(overflow, Ok)?),
        };
        Ok(())
    }
}

impl Accumulator for CheckedAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.add(&values[0])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.add(&states[0])
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Int64(self.sum)])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(self.sum))
    }
    fn size(&self) -> usize {
        size_of_val(self)
    }
}

struct CheckedGroups<F: Fn(&mut i64, i64) + Send + Sync + 'static> {
    inner: PrimitiveGroupsAccumulator<Int64Type, F>,
    overflowed: Arc<AtomicBool>,
}

impl<F: Fn(&mut i64, i64) + Send + Sync + 'static> CheckedGroups<F> {
    fn checked<T>(&self, value: T) -> Result<T> {
        if self.overflowed.load(Ordering::Relaxed) { overflow() } else { Ok(value) }
    }
}

impl<F: Fn(&mut i64, i64) + Send + Sync + 'static> GroupsAccumulator for CheckedGroups<F> {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.inner.update_batch(values, group_indices, opt_filter, total_num_groups)?;
        self.checked(())
    }
    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let result = self.inner.evaluate(emit_to)?;
        self.checked(result)
    }
    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let result = self.inner.state(emit_to)?;
        self.checked(result)
    }
    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.inner.merge_batch(values, group_indices, total_num_groups)?;
        self.checked(())
    }
    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        self.inner.convert_to_state(values, opt_filter)
    }
    fn size(&self) -> usize {
        self.inner.size()
    }
}
