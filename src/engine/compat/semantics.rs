//! DuckDB's typing rules where DataFusion's differ, applied to the logical plan once types are
//! known: integer `/` gives a DOUBLE (`7 / 2` = 3.5), and `DATE ± INTERVAL` gives a TIMESTAMP.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::BinaryExpr;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{Expr, ExprSchemable, Operator, cast};

#[derive(Debug)]
pub struct DuckDbSemantics;

impl FunctionRewrite for DuckDbSemantics {
    fn name(&self) -> &str {
        "duckdb_semantics"
    }

    fn rewrite(&self, expr: Expr, schema: &DFSchema, _config: &ConfigOptions) -> Result<Transformed<Expr>> {
        let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &expr else {
            return Ok(Transformed::no(expr));
        };
        let (Ok(l), Ok(r)) = (left.get_type(schema), right.get_type(schema)) else {
            return Ok(Transformed::no(expr));
        };
        let rewritten = match op {
            Operator::Divide if l.is_integer() && r.is_integer() => Expr::BinaryExpr(BinaryExpr::new(
                Box::new(cast((**left).clone(), DataType::Float64)),
                *op,
                right.clone(),
            )),
            Operator::Plus | Operator::Minus if is_date(&l) && matches!(r, DataType::Interval(_)) => {
                Expr::BinaryExpr(BinaryExpr::new(Box::new(cast((**left).clone(), timestamp())), *op, right.clone()))
            }
            Operator::Plus if matches!(l, DataType::Interval(_)) && is_date(&r) => {
                Expr::BinaryExpr(BinaryExpr::new(left.clone(), *op, Box::new(cast((**right).clone(), timestamp()))))
            }
            _ => return Ok(Transformed::no(expr)),
        };
        Ok(Transformed::yes(rewritten))
    }
}

fn is_date(t: &DataType) -> bool {
    matches!(t, DataType::Date32 | DataType::Date64)
}

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}
