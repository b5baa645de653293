//! One-line refusals for the DuckDB functions and statements this layer lacks, each naming what to
//! write instead.

use std::sync::LazyLock;

use regex::Regex;

use crate::category::Category;
use crate::engine::compat::catalogue::{self, Served};
use crate::error::Error;

/// DataFusion's "Invalid function 'x'" as a refusal that names DuckDB's function and an
/// equivalent, or the function meant; its "table 'datafusion.public.x' not found" as the tables
/// there are; other errors as they are.
pub(crate) fn explained(err: Error) -> Error {
    let Error::Query(message) = &err else {
        return err;
    };
    if let Some(rest) = message.strip_prefix("table '") {
        let name = rest.split('\'').next().unwrap_or_default();
        let name = name.strip_prefix("datafusion.public.").or_else(|| name.strip_prefix("datafusion.")).unwrap_or(name);
        if let Some(table) = name.strip_prefix("information_schema.") {
            return Error::Query(format!(
                "information_schema has no table {table} here: it has DuckDB's tables and columns (information_schema.tables, information_schema.columns)"
            ));
        }
        if let Some(cte) = name.strip_prefix("datafusion.recurring.").or_else(|| name.strip_prefix("recurring.")) {
            return Error::Query(format!(
                "recurring.{cte} is the rows the recursive CTE {cte} kept so far: read it only in the step of WITH RECURSIVE {cte} AS (start UNION [ALL] step)"
            ));
        }
        let tables: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
        let meant = closest(name, tables.iter().copied()).map_or_else(String::new, |t| format!(" (did you mean {t}?)"));
        return Error::Query(format!(
            "there is no table {name}{meant}: the tables are activity, apiUsage, userList and groupList (`tables` lists their columns)"
        ));
    }
    let Some(rest) = message.split("Invalid function '").nth(1) else {
        return err;
    };
    let name = rest.split('\'').next().unwrap_or_default().to_lowercase();
    if let Some(instead) = crate::engine::compat::catalogue::refusal(&name) {
        return Error::Query(format!("the function {name}() is not supported by carto-activity: {instead}"));
    }
    let served = catalogue::entries().iter().filter(|(_, s)| !matches!(s, Served::Refused(_) | Served::Helper(_)));
    let closest_served = closest(&name, served.map(|(n, _)| *n));
    // The engine knows the name, not in this place: a window function without its OVER, or
    // a call of a form the layer does not take.
    if closest_served == Some(name.as_str()) {
        return Error::Query(if crate::engine::compat::rewrite::window_exclusions::is_window_function(&name) {
            format!(
                "{name}() cannot be called here: a window function is written {name}(...) OVER (...) in the select list, QUALIFY or ORDER BY"
            )
        } else {
            format!(
                "{name}() cannot be called this way here: the README's DuckDB compatibility section says how it is called"
            )
        });
    }
    let meant = closest_served.map(|m| format!(": did you mean {m}()?"));
    if catalogue::duckdb_has(&name) {
        return Error::Query(format!(
            "DuckDB's function {name}() is not supported by carto-activity yet{}",
            meant.unwrap_or_else(|| {
                ": the README's DuckDB compatibility section lists the functions that are".to_string()
            })
        ));
    }
    Error::Query(format!(
        "there is no function {name}(), in DuckDB or carto-activity{}",
        meant
            .unwrap_or_else(|| ": the README's DuckDB compatibility section lists the functions there are".to_string())
    ))
}

/// The candidate nearest `name` (in any case) within two edits, if one is.
pub(crate) fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_lowercase();
    candidates
        .map(|c| (strsim::damerau_levenshtein(&name, &c.to_lowercase()), c))
        .filter(|(distance, _)| *distance <= 2.min(name.len() / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

/// DuckDB statements with no DataFusion equivalent, named with what to write instead.
pub(crate) fn unsupported_statement(sql: &str) -> Option<Error> {
    let upper = sql.to_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    if words.first() == Some(&"SUMMARIZE") {
        return Some(Error::Query(
            "SUMMARIZE is not supported: write SELECT min(col), max(col), count(DISTINCT col), count(*) FROM table"
                .into(),
        ));
    }
    if words.windows(2).any(|w| w == ["ASOF", "JOIN"] || w == ["ASOF", "LEFT"]) {
        return Some(Error::Query(
            "ASOF JOIN is supported with ON only (not USING, SEMI or ANTI): write ASOF [LEFT] JOIN b ON a.key = b.key AND a.ts >= b.ts".into(),
        ));
    }
    if words.windows(2).any(|w| w[0] == "EXCLUDE" && ["CURRENT", "GROUP", "TIES"].contains(&w[1])) {
        return Some(Error::Query(
            "window frames with EXCLUDE CURRENT ROW, GROUP or TIES are not supported: write the frame without it and take the excluded rows out (count(x) OVER w - (x IS NOT NULL)::INT, or a self-join for min and max)".into(),
        ));
    }
    if words.windows(2).any(|w| w == ["USING", "SAMPLE"]) {
        return Some(Error::Query(
            "USING SAMPLE is not supported: write ... ORDER BY random() LIMIT n for a sample of n rows".into(),
        ));
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_tables_and_functions_name_what_was_meant() {
        let table = explained(Error::Query("table 'datafusion.public.users' not found".into())).to_string();
        assert!(table.starts_with("there is no table users: the tables are activity"), "{table}");
        let typo = explained(Error::Query("table 'datafusion.public.userlists' not found".into())).to_string();
        assert!(typo.contains("did you mean userList?"), "{typo}");
        let function = explained(Error::Query("Invalid function 'json_extract_strng'.".into())).to_string();
        assert!(function.contains("did you mean json_extract_string()?"), "{function}");
        let far = explained(Error::Query("Invalid function 'frobnicate'.".into())).to_string();
        assert!(far.starts_with("there is no function frobnicate(), in DuckDB or carto-activity: the README"), "{far}");
        let schema =
            explained(Error::Query("table 'datafusion.information_schema.routines' not found".into())).to_string();
        assert!(schema.starts_with("information_schema has no table routines here"), "{schema}");
        let duckdb_only = explained(Error::Query("Invalid function 'current_setting'.".into())).to_string();
        assert!(duckdb_only.starts_with("DuckDB's function current_setting() is not supported by carto-activity yet"));
    }
}
