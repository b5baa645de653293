//! DuckDB functions written as DataFusion expressions: each a template over its arguments
//! (`$1`, `$2`, ...), parsed once per call and rewritten like the rest of the query.

use datafusion::sql::sqlparser::ast::Expr;
use datafusion::sql::sqlparser::parser::Parser;

use crate::engine::compat::parse::dialect::DuckDbCompatDialect;
use crate::error::{Error, Result};

/// DuckDB's functions written as templates: the names, how many arguments, and the expression
/// over them.
#[rustfmt::skip]
const TEMPLATES: &[(&[&str], usize, &str)] = &[
    // DuckDB reads `date(x)` as the cast it spells (its name included).
    (&["date"], 1, "CAST($1 AS DATE)"),
    (&["millisecond"], 1, "CAST(trunc(date_part('microsecond', $1) / 1000) AS BIGINT)"),
    (&["microsecond"], 1, "CAST(date_part('microsecond', $1) AS BIGINT)"),
    (&["nanosecond"], 1, "CAST(date_part('nanosecond', $1) AS BIGINT)"),
    (&["make_timestamp_ms"], 1, "arrow_cast(to_timestamp_millis($1), 'Timestamp(Microsecond, None)')"),
    (&["make_timestamp_ns"], 1, "arrow_cast(to_timestamp_nanos($1), 'Timestamp(Nanosecond, None)')"),
    (&["century"], 1, "CAST(date_part('century', $1) AS BIGINT)"),
    (&["decade"], 1, "CAST(date_part('decade', $1) AS BIGINT)"),
    (&["millennium"], 1, "CAST(date_part('millennium', $1) AS BIGINT)"),
    (&["era"], 1, "CASE WHEN date_part('year', $1) > 0 THEN 1 ELSE 0 END"),
    (&["weekday"], 1, "CAST(date_part('dow', $1) AS BIGINT)"),
    (&["dayofmonth"], 1, "CAST(date_part('day', $1) AS BIGINT)"),
    (&["weekofyear"], 1, "CAST(date_part('week', $1) AS BIGINT)"),
    (&["days_in_month"], 1, "CAST(date_part('day', last_day($1)) AS BIGINT)"),
    (&["epoch_us"], 1, "CAST(arrow_cast($1, 'Timestamp(Microsecond, None)') AS BIGINT)"),
    (&["epoch_ns"], 1, "CAST(arrow_cast($1, 'Timestamp(Nanosecond, None)') AS BIGINT)"),
    (&["make_timestamp"], 1, "arrow_cast(to_timestamp_micros($1), 'Timestamp(Microsecond, None)')"),
    (&["make_timestamp"], 6, "arrow_cast(to_timestamp_micros(CAST(round((date_part('epoch', make_date($1, $2, $3)) + $4 * 3600 + $5 * 60 + $6) * 1000000) AS BIGINT)), 'Timestamp(Microsecond, None)')"),
    // DuckDB's seconds may have a fraction (`make_time(h, m, 50.447)`): nanoseconds since midnight.
    (&["make_time"], 3, "arrow_cast(CAST(round(($1 * 3600 + $2 * 60 + CAST($3 AS DOUBLE)) * 1000000) AS BIGINT) * 1000, 'Time64(Nanosecond)')"),
    (&["struct_extract"], 2, "get_field($1, $2)"),
    (&["timezone"], 2, "at_time_zone($2, $1)"),
    // DuckDB's fmod takes the divisor's sign (a floored remainder), as a DOUBLE.
    (&["geomean", "geometric_mean"], 1, "exp(avg(ln(CAST($1 AS DOUBLE))))"),
    (&["fmod"], 2, "CAST($1 AS DOUBLE) - CAST($2 AS DOUBLE) * floor(CAST($1 AS DOUBLE) / CAST($2 AS DOUBLE))"),
    (&["sign"], 1, "CAST(CASE WHEN isnan(CAST($1 AS DOUBLE)) THEN 0 ELSE signum($1) END AS TINYINT)"),
    (&["yearweek"], 1, "CAST(strftime($1, '%G') AS BIGINT) * 100 + CAST(strftime($1, '%V') AS BIGINT)"),
    // Over no value but NULLs, NULL (string_agg of no rows).
    (&["list_string_agg", "array_string_agg"], 1, "CASE WHEN list_count($1) > 0 THEN array_to_string($1, ',') END"),
    (&["regexp_full_match"], 2, "regexp_like($1, '^(?:' || $2 || ')$')"),
    (&["regexp_full_match"], 3, "regexp_like($1, '^(?:' || $2 || ')$', $3)"),
    // DuckDB's code point of '' is -1.
    (&["unicode", "ord"], 1, "CASE WHEN $1 = '' THEN -1 ELSE ascii($1) END"),
    (&["array_to_string_comma_default"], 1, "array_to_string($1, ',')"),
    (&["array_to_string_comma_default"], 2, "array_to_string($1, coalesce($2, ','))"),
    // A JSON null exists.
    (&["json_exists"], 2, "json_type($1, $2) IS NOT NULL"),
    (&["json_value"], 2, "CASE WHEN json_type($1, $2) IN ('OBJECT', 'ARRAY', 'NULL') THEN NULL ELSE json_extract($1, $2) END"),
    (&["isinf"], 1, "abs(CAST($1 AS DOUBLE)) = CAST('inf' AS DOUBLE)"),
    (&["isfinite"], 1, "NOT isnan(CAST($1 AS DOUBLE)) AND abs(CAST($1 AS DOUBLE)) <> CAST('inf' AS DOUBLE)"),
    (&["histogram"], 1, "list_histogram(array_agg($1))"),
    (&["histogram"], 2, "binned_histogram(array_agg($1), $2)"),
    (&["histogram_exact"], 2, "exact_histogram(array_agg($1), $2)"),
    // The weights of rows whose value or weight is NULL count for nothing.
    (&["weighted_avg", "wavg"], 2, "sum(CAST($1 AS DOUBLE) * $2) / sum(CASE WHEN $1 IS NOT NULL AND $2 IS NOT NULL THEN CAST($2 AS DOUBLE) END)"),
    // Away from zero to the next even integer.
    (&["even"], 1, "CASE WHEN $1 >= 0 THEN ceil(CAST($1 AS DOUBLE) / 2) * 2 ELSE floor(CAST($1 AS DOUBLE) / 2) * 2 END"),
    (&["map_contains"], 2, "array_has(map_keys($1), $2)"),
    (&["map_contains_value"], 2, "array_has(map_values($1), $2)"),
    (&["map_contains_entry"], 3, "array_has(map_extract($1, $2), $3)"),
    (&["map_extract_value"], 2, "array_element(map_extract($1, $2), 1)"),
    (&["list_first", "array_first"], 1, "array_element($1, 1)"),
    (&["list_last", "array_last"], 1, "array_element($1, CAST(array_length($1) AS BIGINT))"),
    (&["list_sort", "array_sort"], 1, "array_sort($1, 'ASC', 'NULLS LAST')"),
    (&["list_sort", "array_sort"], 2, "array_sort($1, $2, 'NULLS LAST')"),
    (&["list_reverse_sort", "array_reverse_sort"], 1, "array_sort($1, 'DESC', 'NULLS LAST')"),
    (&["list_reverse_sort", "array_reverse_sort"], 2, "array_sort($1, 'DESC', $2)"),
    (&["favg"], 1, "fsum($1) / count($1)"),
    (&["divide"], 2, "trunc($1 / $2)"),
    (&["fdiv"], 2, "floor(CAST($1 AS DOUBLE) / $2)"),
    (&["signbit"], 1, "$1 < 0 OR (CAST($1 AS DOUBLE) = 0 AND 1 / CAST($1 AS DOUBLE) < 0)"),
    (&["array_to_json", "row_to_json"], 1, "to_json($1)"),
    (&["isoyear"], 1, "CAST(strftime($1, '%G') AS BIGINT)"),
    // Days since the Julian epoch (1970-01-01 is day 2440588), with the time as a fraction.
    (&["julian"], 1, "2440588.0 + date_part('epoch', CAST($1 AS TIMESTAMP)) / 86400.0"),
    // DuckDB's timestamps without a time zone are in UTC.
    (&["timezone_hour", "timezone_minute"], 1, "CASE WHEN $1 IS NULL THEN NULL ELSE CAST(0 AS BIGINT) END"),
    (&["constant_or_null"], 2, "CASE WHEN $2 IS NULL THEN NULL ELSE $1 END"),
    (&["constant_or_null"], 3, "CASE WHEN $2 IS NULL OR $3 IS NULL THEN NULL ELSE $1 END"),
    (&["array_push_front"], 2, "array_prepend($2, $1)"),
    (&["array_push_back"], 2, "array_append($1, $2)"),
    (&["generate_subscripts"], 2, "unnest(generate_series(1, CASE WHEN $2 = 1 THEN array_length($1) END))"),
    (&["regexp_split_to_table"], 2, "unnest(string_split_regex($1, $2))"),
    (&["regexp_split_to_table"], 3, "unnest(string_split_regex($1, $2, $3))"),
    // This tool's version: DataFusion's names DataFusion.
    (&["version"], 0, concat!("'carto-activity ", env!("CARGO_PKG_VERSION"), "'")),
];

/// The template of a DuckDB function taking `arity` arguments, if there is one.
pub(crate) fn template(name: &str, arity: usize) -> Option<&'static str> {
    TEMPLATES.iter().find(|(names, n, _)| *n == arity && names.contains(&name)).map(|(_, _, template)| *template)
}

/// Every name a template serves.
#[cfg(test)]
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    TEMPLATES.iter().flat_map(|(names, _, _)| names.iter().copied())
}

/// The expression for `name(args)`, when the function has a template for that many arguments.
pub(crate) fn expand(name: &str, args: &[Expr]) -> Result<Option<Expr>> {
    let Some(template) = template(name, args.len()) else {
        return Ok(None);
    };
    // Highest first, so that `$1` does not match the start of `$10`.
    let mut text = template.to_string();
    // A lambda prints as `x -> x + 1`, which reads back as `(x -> x) + 1`: its body in parentheses.
    let mut args = args.to_vec();
    for arg in &mut args {
        let _ = crate::engine::compat::ast::each_expr_mut(arg, |e: &mut Expr| {
            if let Expr::Lambda(lambda) = e
                && !matches!(lambda.body.as_ref(), Expr::Nested(_))
            {
                *lambda.body = Expr::Nested(lambda.body.clone());
            }
            std::ops::ControlFlow::Continue(())
        });
    }
    for (i, arg) in args.iter().enumerate().rev() {
        text = text.replace(&format!("${}", i + 1), &format!("({arg})"));
    }
    let mut parser = Parser::new(&DuckDbCompatDialect)
        .try_with_sql(&text)
        .map_err(|e| Error::internal("expanding a DuckDB function")(e.to_string()))?;
    let mut expr = parser.parse_expr().map_err(|e| Error::internal("expanding a DuckDB function")(e.to_string()))?;
    // Lambdas among the arguments print as arrows: read them as lambdas again.
    let _ = crate::engine::compat::ast::each_expr_mut(&mut expr, |e: &mut Expr| {
        crate::engine::compat::rewrite::lambdas::to_lambdas(e);
        std::ops::ControlFlow::Continue(())
    });
    Ok(Some(expr))
}
