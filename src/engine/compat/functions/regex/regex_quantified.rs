//! `s ~ ANY(list)` and `s ~ ALL(list)` (and `~*`, `!~`, `!~*`): whether the text matches any (every)
//! pattern of the list, with SQL's three-valued logic (a NULL pattern that could decide gives NULL);
//! DataFusion quantifies only comparisons.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;
use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr};

use crate::engine::compat::ast::{call, text};
use crate::engine::compat::functions::common::{lists, row_udf, shared, texts};

const NAME: &str = "regexp_quantified";

/// The rewrite of a quantified regex match; `None` for other expressions.
pub(crate) fn quantified_match(expr: &Expr) -> Option<Expr> {
    let (left, op, right, all) = match expr {
        Expr::AnyOp { left, compare_op, right, .. } => (left, compare_op, right, false),
        Expr::AllOp { left, compare_op, right } => (left, compare_op, right, true),
        _ => return None,
    };
    let (insensitive, negated) = match op {
        BinaryOperator::PGRegexMatch => (false, false),
        BinaryOperator::PGRegexIMatch => (true, false),
        BinaryOperator::PGRegexNotMatch => (false, true),
        BinaryOperator::PGRegexNotIMatch => (true, true),
        _ => return None,
    };
    let mode = format!(
        "{}{}{}",
        if all { "all" } else { "any" },
        if insensitive { "i" } else { "" },
        if negated { "!" } else { "" }
    );
    Some(call(NAME, vec![(**left).clone(), (**right).clone(), text(&mode)]))
}

pub(crate) fn regexp_quantified() -> ScalarUDF {
    row_udf(NAME, "text ~ ANY(list of patterns)", 3..=3, |_| Ok(DataType::Boolean), quantified)
}

fn quantified(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (subjects, patterns, modes) = (texts(&arrays[0])?, lists(&arrays[1])?, texts(&arrays[2])?);
    let mut out = Vec::with_capacity(subjects.len());
    let mut compiled: std::collections::HashMap<(String, bool), regex::Regex> = std::collections::HashMap::new();
    for (r, subject) in subjects.iter().enumerate() {
        let mode = modes[r].as_deref().unwrap_or("any");
        let (all, insensitive, negated) = (mode.starts_with("all"), mode.contains('i'), mode.ends_with('!'));
        if patterns.is_null(r) {
            out.push(None);
            continue;
        }
        let each = patterns.value(r);
        let each = datafusion::arrow::compute::cast(&each, &DataType::Utf8)?;
        let each = each.as_string::<i32>();
        // ANY: true at the first match, else NULL if a match was unknown; ALL the other way round.
        let mut unknown = false;
        let mut decided = None;
        for pattern in each.iter() {
            let (Some(subject), Some(pattern)) = (subject, pattern) else {
                unknown = true;
                continue;
            };
            let key = (pattern.to_string(), insensitive);
            if !compiled.contains_key(&key) {
                compiled.insert(
                    key.clone(),
                    crate::engine::compat::functions::regex::common::compile(pattern, insensitive.then_some("i"))?,
                );
            }
            let matched = compiled[&key].is_match(subject) != negated;
            if matched && !all {
                decided = Some(true);
                break;
            }
            if !matched && all {
                decided = Some(false);
                break;
            }
        }
        out.push(decided.or(if unknown { None } else { Some(all) }));
    }
    Ok(shared(BooleanArray::from(out)))
}

/// `s SIMILAR TO p` matches the whole text in DuckDB (`'aaa' SIMILAR TO '^a'` is false); DataFusion
/// matches anywhere. As `regexp_like(s, '^(?:' || p || ')$')`, DuckDB's `regexp_full_match`.
pub(crate) fn similar_to(expr: &Expr) -> Option<Expr> {
    let Expr::SimilarTo { negated, expr, pattern, escape_char: None } = expr else { return None };
    let concat = crate::engine::compat::ast::concat;
    let anchored = concat(concat(text("^(?:"), Expr::Nested(pattern.clone())), text(")$"));
    let matched = call("regexp_like", vec![(**expr).clone(), anchored]);
    Some(if *negated {
        Expr::UnaryOp {
            op: datafusion::sql::sqlparser::ast::UnaryOperator::Not,
            expr: Box::new(Expr::Nested(Box::new(matched))),
        }
    } else {
        matched
    })
}
