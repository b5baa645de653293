//! DuckDB's typing rules where DataFusion's differ, applied to the logical plan once types are
//! known: integer `/` gives a DOUBLE (`7 / 2` = 3.5), `DATE ± INTERVAL` gives a TIMESTAMP, and a
//! cast from a DOUBLE or DECIMAL to an integer rounds (a DOUBLE half to even, a DECIMAL half away
//! from zero) where DataFusion truncates.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::{BinaryExpr, Cast, ScalarFunction, TryCast};
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{Expr, ExprSchemable, Operator, cast, lit, when};

#[derive(Debug)]
pub struct DuckDbSemantics;

/// A strftime format with `%Z` and `%z` written out as DuckDB writes them in the UTC session;
/// `None` when it has neither.
fn zone_parts(format: &str, zoned: bool) -> Option<String> {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars();
    let mut changed = false;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Z') => {
                changed = true;
                if zoned {
                    out.push_str("UTC");
                }
            }
            Some('z') => {
                changed = true;
                out.push_str("+00");
            }
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    changed.then_some(out)
}

impl FunctionRewrite for DuckDbSemantics {
    fn name(&self) -> &str {
        "duckdb_semantics"
    }

    fn rewrite(&self, expr: Expr, schema: &DFSchema, _config: &ConfigOptions) -> Result<Transformed<Expr>> {
        if let Some(guarded) = crate::engine::compat::planner::try_calls::try_rewrite(&expr) {
            return Ok(Transformed::yes(guarded));
        }
        if let Some(completed) = crate::engine::compat::planner::timestamp_texts::completed(&expr, schema) {
            return Ok(Transformed::yes(completed));
        }
        if let Some(part) = crate::engine::compat::planner::date_parts::duckdb_date_part(&expr, schema) {
            return Ok(Transformed::yes(part));
        }
        // Text read as an INTERVAL as DuckDB reads it (`01:02:03`, `1.5 days`), not as Arrow does.
        if let Expr::Cast(Cast { expr: inner, field }) | Expr::TryCast(TryCast { expr: inner, field }) = &expr
            && matches!(field.data_type(), DataType::Interval(_))
            && let Ok(DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8) = inner.get_type(schema)
        {
            use crate::engine::compat::functions::datetime::interval_texts::{interval_text, try_interval_text};
            let udf = if matches!(expr, Expr::Cast(_)) { interval_text() } else { try_interval_text() };
            let read = Expr::ScalarFunction(ScalarFunction::new_udf(std::sync::Arc::new(udf), vec![(**inner).clone()]));
            return Ok(Transformed::yes(cast(read, field.data_type().clone())));
        }
        if let Expr::Cast(Cast { expr: inner, field }) | Expr::TryCast(TryCast { expr: inner, field }) = &expr
            && field.data_type().is_integer()
            && let Ok(from) = inner.get_type(schema)
            && (from.is_floating() || is_decimal(&from))
        {
            let rounded =
                if from.is_floating() { round_half_even((**inner).clone()) } else { round((**inner).clone()) };
            let rebuilt = match &expr {
                Expr::Cast(_) => Expr::Cast(Cast::new_from_field(Box::new(rounded), field.clone())),
                _ => Expr::TryCast(TryCast::new_from_field(Box::new(rounded), field.clone())),
            };
            return Ok(Transformed::yes(rebuilt));
        }
        // A DECIMAL as a BOOLEAN: true when it is not zero, as DuckDB casts it (Arrow has no such cast).
        if let Expr::Cast(Cast { expr: inner, field }) | Expr::TryCast(TryCast { expr: inner, field }) = &expr
            && field.data_type() == &DataType::Boolean
            && let Ok(from) = inner.get_type(schema)
            && is_decimal(&from)
        {
            let zero = Expr::Cast(Cast::new(Box::new(datafusion::logical_expr::lit(0)), from));
            return Ok(Transformed::yes((**inner).clone().not_eq(zero)));
        }
        // DuckDB reads '2.5' and '1e3' as integers too (rounded half away from zero), and '1e3'
        // as a DECIMAL: text that is no integer (or decimal) is read as a number first.
        if let Expr::Cast(Cast { expr: inner, field }) | Expr::TryCast(TryCast { expr: inner, field }) = &expr
            // (A DECIMAL of DuckDB's widths: the wider ones here are its BIGNUM, which reads no exponent.)
            && (field.data_type().is_integer() || matches!(field.data_type(), DataType::Decimal128(..)))
            && let Ok(DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8) = inner.get_type(schema)
        {
            let integer = field.data_type().is_integer();
            let rounded = |number: Expr| if integer { round(number) } else { number };
            // A strict cast fails where the text is no number at all (a NULL reads as NULL). A
            // DECIMAL from the DOUBLE is tried only: planning evaluates both ways of a constant,
            // and a DOUBLE near a DECIMAL's bounds may round past them where the text did not.
            let fallback = match &expr {
                Expr::Cast(_) if integer => Expr::Cast(Cast::new_from_field(
                    Box::new(rounded(cast((**inner).clone(), DataType::Float64))),
                    field.clone(),
                )),
                Expr::Cast(_) => Expr::TryCast(TryCast::new_from_field(
                    Box::new(cast((**inner).clone(), DataType::Float64)),
                    field.clone(),
                )),
                _ => Expr::TryCast(TryCast::new_from_field(
                    Box::new(rounded(Expr::TryCast(TryCast::new(inner.clone(), DataType::Float64)))),
                    field.clone(),
                )),
            };
            let direct = Expr::TryCast(TryCast::new_from_field(inner.clone(), field.clone()));
            let mut ways = vec![direct, fallback];
            if matches!(expr, Expr::Cast(_)) && !integer {
                // Text past the DECIMAL's digits fails, as in DuckDB, rather than becoming NULL.
                let target = crate::type_words::duckdb_type_words(&field.data_type().to_string());
                let hugeint =
                    if target == "DECIMAL(38,0)" { " (HUGEINT is DECIMAL(38,0) here: 38 digits at most)" } else { "" };
                let message = datafusion::functions::string::expr_fn::concat(vec![
                    lit("could not convert '"),
                    (**inner).clone(),
                    lit(format!("' to {target}{hugeint}")),
                ]);
                let error = Expr::ScalarFunction(ScalarFunction::new_udf(
                    std::sync::Arc::new(crate::engine::compat::functions::generic::generic_functions::error_function()),
                    vec![message],
                ));
                ways.push(cast(when((**inner).clone().is_not_null(), error).end()?, field.data_type().clone()));
            }
            return Ok(Transformed::yes(datafusion::functions::core::expr_fn::coalesce(ways)));
        }
        // strftime's zone: DuckDB writes the session's (UTC) name for `%Z` of a TIMESTAMPTZ and
        // nothing for other values, and `+00` for `%z`; chrono would write offsets, or fail.
        if let Expr::ScalarFunction(f) = &expr
            && f.name() == "to_char"
            && let [value, Expr::Literal(ScalarValue::Utf8(Some(format)), metadata)] = f.args.as_slice()
            && let Some(zoned) =
                zone_parts(format, matches!(value.get_type(schema), Ok(DataType::Timestamp(_, Some(_)))))
        {
            let args = vec![value.clone(), Expr::Literal(ScalarValue::Utf8(Some(zoned)), metadata.clone())];
            return Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(f.func.clone(), args))));
        }
        // List functions of a NULL list are NULL in DuckDB; DataFusion refuses the NULL type.
        if let Expr::ScalarFunction(f) = &expr
            && let Some(result) = match f.name() {
                "array_has" | "array_has_all" | "array_has_any" => Some(DataType::Boolean),
                "array_position" | "array_length" => Some(DataType::Int64),
                "array_to_string" => Some(DataType::Utf8),
                "array_resize" | "array_slice" => Some(DataType::Null),
                _ => None,
            }
            && f.args.iter().enumerate().any(|(i, a)| {
                (i == 0 || !matches!(f.name(), "array_resize" | "array_to_string"))
                    && a.get_type(schema).is_ok_and(|t| t == DataType::Null)
            })
        {
            return Ok(Transformed::yes(cast(lit(datafusion::common::ScalarValue::Null), result)));
        }
        // A NULL separator joins with commas in DuckDB.
        if let Expr::ScalarFunction(f) = &expr
            && f.name() == "array_to_string"
            && let [list, separator] = f.args.as_slice()
            && separator.get_type(schema).is_ok_and(|t| t == DataType::Null)
        {
            let call = ScalarFunction::new_udf(f.func.clone(), vec![list.clone(), lit(",")]);
            return Ok(Transformed::yes(Expr::ScalarFunction(call)));
        }
        // An integer is its own floor, ceiling and rounding, and keeps its type (DataFusion
        // answers a DOUBLE).
        if let Expr::ScalarFunction(f) = &expr
            && matches!(f.name(), "floor" | "ceil" | "round" | "trunc" | "abs")
            && let [only] = f.args.as_slice()
            && let Ok(t) = only.get_type(schema)
            && (t.is_integer() && f.name() != "abs"
                || t == DataType::Null && matches!(f.name(), "round" | "trunc" | "abs"))
        {
            // DuckDB types an untyped NULL argument of round, trunc and abs as a BIGINT.
            let answer = if t == DataType::Null { cast(only.clone(), DataType::Int64) } else { only.clone() };
            return Ok(Transformed::yes(answer));
        }
        // DataFusion keeps a DECIMAL's type through floor, ceil, trunc and round, so `floor(-0.75)`
        // (a DECIMAL(2,2)) would overflow: one more digit holds every result. Without a number
        // of digits DuckDB answers a DECIMAL(p,0): `ceil(17.4)` is 18, not 18.0.
        if let Expr::ScalarFunction(f) = &expr
            && matches!(f.name(), "floor" | "ceil" | "round" | "trunc")
            && let Some(first) = f.args.first()
            && let Ok(DataType::Decimal128(p, s)) = first.get_type(schema)
            && s > 0
            && p < 38
        {
            let mut args = f.args.clone();
            if p == s as u8 {
                args[0] = cast(first.clone(), DataType::Decimal128(p + 1, s));
            }
            let call = Expr::ScalarFunction(ScalarFunction::new_udf(f.func.clone(), args));
            let whole = f.args.len() == 1;
            return Ok(Transformed::yes(if whole { cast(call, DataType::Decimal128(p, 0)) } else { call }));
        }
        // The epoch of an interval counts a year as 365.25 days (a month as 30), as DuckDB does.
        if let Expr::ScalarFunction(f) = &expr
            && f.name() == "date_part"
            && let [part, value] = f.args.as_slice()
            && matches!(part, Expr::Literal(datafusion::common::ScalarValue::Utf8(Some(p)), _) if p.eq_ignore_ascii_case("epoch"))
            && matches!(value.get_type(schema), Ok(DataType::Interval(_)))
        {
            let udf = std::sync::Arc::new(crate::engine::compat::functions::datetime::complete_parts::interval_epoch());
            return Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(udf, vec![value.clone()]))));
        }
        // DuckDB averages a DECIMAL as a DOUBLE.
        if let Expr::AggregateFunction(f) = &expr
            && matches!(f.func.name(), "avg" | "mean")
            && let Some(first) = f.params.args.first()
            && first.get_type(schema).is_ok_and(|t| is_decimal(&t))
        {
            let mut f = f.clone();
            f.params.args[0] = cast(first.clone(), DataType::Float64);
            return Ok(Transformed::yes(Expr::AggregateFunction(f)));
        }
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
            // DuckDB divides DECIMALs as DOUBLEs, and multiplies them as DOUBLEs past 38 digits.
            Operator::Divide | Operator::Multiply
                if (is_decimal(&l) || is_decimal(&r))
                    && (*op == Operator::Divide || precision(&l) + precision(&r) > 38) =>
            {
                Expr::BinaryExpr(BinaryExpr::new(
                    Box::new(cast((**left).clone(), DataType::Float64)),
                    *op,
                    Box::new(cast((**right).clone(), DataType::Float64)),
                ))
            }
            Operator::Minus if matches!(l, DataType::Timestamp(..)) && matches!(r, DataType::Timestamp(..)) => {
                let udf =
                    std::sync::Arc::new(crate::engine::compat::functions::datetime::intervals::timestamp_difference());
                Expr::ScalarFunction(ScalarFunction::new_udf(udf, vec![expr.clone()]))
            }
            Operator::Eq | Operator::NotEq | Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq
                if matches!(l, DataType::Interval(_)) && matches!(r, DataType::Interval(_)) =>
            {
                let length =
                    std::sync::Arc::new(crate::engine::compat::functions::datetime::intervals::interval_length());
                let length_of =
                    |e: &Expr| Expr::ScalarFunction(ScalarFunction::new_udf(length.clone(), vec![e.clone()]));
                Expr::BinaryExpr(BinaryExpr::new(Box::new(length_of(left)), *op, Box::new(length_of(right))))
            }
            Operator::Plus | Operator::Minus if is_date(&l) && matches!(r, DataType::Interval(_)) => {
                Expr::BinaryExpr(BinaryExpr::new(Box::new(cast((**left).clone(), timestamp())), *op, right.clone()))
            }
            Operator::Plus if matches!(l, DataType::Interval(_)) && is_date(&r) => {
                Expr::BinaryExpr(BinaryExpr::new(left.clone(), *op, Box::new(cast((**right).clone(), timestamp()))))
            }
            _ if l.is_integer() && r.is_integer() => {
                match crate::engine::compat::planner::overflow::checked(
                    *op,
                    (**left).clone(),
                    &l,
                    (**right).clone(),
                    &r,
                ) {
                    Some(checked) => checked,
                    None => return Ok(Transformed::no(expr)),
                }
            }
            _ => return Ok(Transformed::no(expr)),
        };
        Ok(Transformed::yes(rewritten))
    }
}

fn round(x: Expr) -> Expr {
    datafusion::functions::math::round().call(vec![x])
}

/// `x` rounded half to even, as DuckDB casts a DOUBLE: `2.5` to 2, `3.5` to 4, `-2.5` to -2.
fn round_half_even(x: Expr) -> Expr {
    let floor = datafusion::functions::math::floor().call(vec![x.clone()]);
    let half = (x.clone() - floor).eq(lit(0.5));
    let even = lit(2.0) * round(x.clone() / lit(2.0));
    when(half, even).otherwise(round(x)).unwrap_or_else(|_| unreachable!("a CASE with one branch and ELSE"))
}

fn is_decimal(t: &DataType) -> bool {
    matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..))
}

/// The digits a value of the type may have, as DuckDB counts them for DECIMAL arithmetic.
fn precision(t: &DataType) -> u32 {
    match t {
        DataType::Decimal128(p, _) | DataType::Decimal256(p, _) => u32::from(*p),
        DataType::Int8 | DataType::UInt8 => 3,
        DataType::Int16 | DataType::UInt16 => 5,
        DataType::Int32 | DataType::UInt32 => 10,
        _ => 19,
    }
}

fn is_date(t: &DataType) -> bool {
    matches!(t, DataType::Date32 | DataType::Date64)
}

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}
