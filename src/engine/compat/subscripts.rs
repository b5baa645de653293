//! `s[i]` and `s[i:j]` of text (columns and expressions, not only literals): DuckDB's characters
//! of the text, where DataFusion subscripts only lists. An expression planner, because the planner
//! types a subscript while planning it, before any rewrite of the plan could see that `s` is text.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawFieldAccessExpr};
use datafusion::logical_expr::{Expr, ExprSchemable, GetFieldAccess, ScalarUDF};

#[derive(Debug)]
pub(crate) struct TextSubscripts {
    element: Arc<ScalarUDF>,
    slice: Arc<ScalarUDF>,
}

impl TextSubscripts {
    pub(crate) fn new() -> Self {
        let [element, slice] = ["text_element", "text_slice"].map(|name| {
            let udf = super::string_tools::string_tools().into_iter().find(|u| u.name() == name);
            Arc::new(udf.unwrap_or_else(|| unreachable!("string_tools defines {name}")))
        });
        TextSubscripts { element, slice }
    }
}

impl ExprPlanner for TextSubscripts {
    fn plan_field_access(
        &self,
        access: RawFieldAccessExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawFieldAccessExpr>> {
        // Plain text only: DuckDB's JSON subscripts index the JSON value.
        let is_text = access.expr.to_field(schema).is_ok_and(|(_, field)| {
            matches!(field.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
                && !super::json_marker::is_json(&field)
        });
        if !is_text {
            return Ok(PlannerResult::Original(access));
        }
        let text = access.expr.clone();
        let call = |udf: &Arc<ScalarUDF>, args| Expr::ScalarFunction(ScalarFunction::new_udf(udf.clone(), args));
        Ok(match access.field_access {
            GetFieldAccess::ListIndex { key } => PlannerResult::Planned(call(&self.element, vec![text, *key])),
            GetFieldAccess::ListRange { start, stop, stride }
                if matches!(stride.as_ref(), Expr::Literal(ScalarValue::Int64(Some(1)), _)) =>
            {
                PlannerResult::Planned(call(&self.slice, vec![text, *start, *stop]))
            }
            field_access => PlannerResult::Original(RawFieldAccessExpr { field_access, expr: access.expr }),
        })
    }
}
