//! `date_part` where DataFusion's differs from DuckDB's: the parts of an INTERVAL (DataFusion
//! drops the fraction of a second from its milli- and microseconds, and has no quarter, decade,
//! century or millennium of one), and the decade, century and millennium of a date or
//! timestamp, which DataFusion lacks (`century(t)`, `EXTRACT(century FROM t)` and the others
//! are written as `date_part` by the SQL rewrite).

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Expr, ExprSchemable, cast, lit, when};

/// `expr` computed as DuckDB does, if it is a `date_part` DataFusion would answer otherwise.
pub(crate) fn duckdb_date_part(expr: &Expr, schema: &DFSchema) -> Option<Expr> {
    let Expr::ScalarFunction(f) = expr else { return None };
    let [part @ Expr::Literal(ScalarValue::Utf8(Some(name)), _), value] = f.args.as_slice() else { return None };
    if f.name() != "date_part" {
        return None;
    }
    let name = name.to_ascii_lowercase();
    // The type DataFusion's date_part gave the expression, which its plan already holds.
    let planned = expr.get_type(schema).ok()?;
    if matches!(value.get_type(schema).ok()?, DataType::Interval(_)) {
        if name == "epoch" {
            return None;
        }
        let udf = Arc::new(crate::engine::compat::functions::datetime::intervals::interval_part());
        return Some(cast(
            Expr::ScalarFunction(ScalarFunction::new_udf(udf, vec![part.clone(), value.clone()])),
            planned,
        ));
    }
    let per = match name.as_str() {
        "decade" => {
            // Years truncated towards zero, as DuckDB divides.
            return Some(cast(year_of(f, value) / lit(10_i64), planned));
        }
        "century" => 100_i64,
        "millennium" => 1000_i64,
        _ => return None,
    };
    // Year 1 starts the first century; year 0 and before count back from -1.
    let year = year_of(f, value);
    let counted = when(year.clone().gt(lit(0_i64)), (year.clone() - lit(1_i64)) / lit(per) + lit(1_i64))
        .otherwise(year / lit(per) - lit(1_i64))
        .ok()?;
    Some(cast(counted, planned))
}

/// `date_part('year', value)` as a BIGINT, by the same function.
fn year_of(f: &ScalarFunction, value: &Expr) -> Expr {
    let year = ScalarFunction::new_udf(f.func.clone(), vec![lit("year"), value.clone()]);
    cast(Expr::ScalarFunction(year), DataType::Int64)
}
