//! One-line refusals for the DuckDB functions this layer lacks, each naming what to write instead.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::Error;

/// DataFusion's "Invalid function 'x'" as a refusal that names DuckDB's function and an
/// equivalent; other errors as they are.
pub(crate) fn explained(err: Error) -> Error {
    let Error::Query(message) = &err else {
        return err;
    };
    let Some(rest) = message.split("Invalid function '").nth(1) else {
        return err;
    };
    let name = rest.split('\'').next().unwrap_or_default().to_lowercase();
    if let Some(instead) = crate::engine::compat::catalogue::refusal(&name) {
        return Error::Query(format!("the function {name}() is not supported by carto-activity: {instead}"));
    }
    Error::Query(format!(
        "the function {name}() is not supported by carto-activity: write a function the README's DuckDB compatibility section lists as identical or rewritten instead"
    ))
}

/// A lambda that did not parse (outside the functions that take one), explained; `None` for other SQL.
pub(crate) fn lambda(sql: &str) -> Option<Error> {
    static LAMBDA: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(list_transform|list_filter|list_reduce|list_apply|array_transform|array_filter|array_reduce|array_apply|apply|filter|reduce|list_sort)\s*\(.*(\b\w+\s*->|\blambda\s+\w+(\s*,\s*\w+)*\s*:)").ok()
    });
    LAMBDA.as_ref()?.is_match(sql).then(|| {
        Error::Query(
            "this lambda is not supported by carto-activity (lambdas work in list_transform/apply, list_filter/filter and any_match with one parameter, and in list_reduce with (acc, x [, i])): unnest the list in a subquery instead, e.g. (SELECT list(x + 1) FROM unnest([1, 2]) AS t(x))".into(),
        )
    })
}
