//! JSON calls in DuckDB's shapes: a list of paths, `json_group_array` and `json_group_object`,
//! and `json_extract`/`json_extract_string` with DuckDB's paths.

use datafusion::sql::sqlparser::ast::FunctionArguments;
use datafusion::sql::sqlparser::ast::{DataType as SqlType, Expr, Function, FunctionArg, FunctionArgExpr};

use crate::engine::compat::ast::{arity, call, cast, concat, plain_args, renamed_call, text};
use crate::engine::compat::functions::json::json_path::{extracted_json, json_call};
use crate::error::Result;

/// `json_keys(j, ['$.a', '$.b'])`: a list of what each path gives.
pub(super) fn path_lists(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    let [json, Expr::Array(paths)] = args.as_slice() else { return Ok(None) };
    let each = paths.elem.iter().map(|path| call(name, vec![json.clone(), path.clone()])).collect();
    Ok(Some(call("make_array", each)))
}

/// `json_group_array(x)`, `json_group_object(k, v)`: the JSON of the aggregated values (NULL over
/// no rows, as DuckDB's macros answer).
pub(super) fn groups(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    match (name, args.as_slice()) {
        ("json_group_array", [_]) => Ok(Some(call("to_json", vec![renamed_call(f, "array_agg")]))),
        ("json_group_object", [key, value]) => {
            let key_text = cast(key.clone(), SqlType::Varchar(None));
            let value_json = call("coalesce", vec![call("to_json", vec![value.clone()]), text("null")]);
            // `||` (not concat) so that a NULL key drops its pair.
            let pair = concat(concat(call("json_quote", vec![key_text]), text(":")), value_json);
            let mut pairs = renamed_call(f, "string_agg");
            if let Expr::Function(g) = &mut pairs
                && let FunctionArguments::List(list) = &mut g.args
            {
                list.args = vec![
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(pair)),
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(text(","))),
                ];
            }
            Ok(Some(cast(concat(concat(text("{"), pairs), text("}")), SqlType::JSON)))
        }
        _ => Ok(None),
    }
}

/// `json_extract` gives DuckDB's JSON, `json_extract_string` text, at DuckDB's paths.
pub(super) fn extract(name: &str, f: &Function) -> Result<Option<Expr>> {
    let Some(args) = plain_args(f) else { return Ok(None) };
    arity(name, &args, 2, "a JSON value and a path such as '$.userId'")?;
    Ok(Some(if name == "json_extract" {
        extracted_json(args[0].clone(), &args[1])?
    } else {
        json_call("json_as_text", args[0].clone(), &args[1])?
    }))
}
