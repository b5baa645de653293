//! DuckDB syntax the parser does not take, prepared in the text before parsing: `FILTER (cond)`
//! without `WHERE`, and lambdas (`lambda x : x + 1`, and the older `x -> x + 1`) for the list
//! functions DataFusion runs with lambdas (`list_transform`, `list_filter`, `any_match`, ...).
//!
//! The parser cannot take lambdas in general: in DuckDB `data->'k'` is JSON access, and with
//! lambdas on the parser reads it as one. So the text is prepared first, only inside the
//! arguments of functions that take a lambda: `lambda x, i : body` becomes `(x, i) -> (body)`
//! and `x -> body` becomes `x -> (body)`, which parse as a JSON arrow whose body keeps its
//! extent; [`to_lambdas`] then turns those arrows, where a lambda belongs, into lambdas.

use std::borrow::Cow;

use datafusion::sql::sqlparser::ast::{AccessExpr, BinaryOperator};
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, LambdaFunction, LambdaFunctionParameter,
    LambdaSyntax, OneOrManyWithParens,
};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{offsets, significant_tokens};

/// The functions whose arguments may be lambdas, by DuckDB's names and DataFusion's.
const TAKES_LAMBDA: [&str; 14] = [
    "list_transform",
    "array_transform",
    "apply",
    "list_apply",
    "array_apply",
    "list_filter",
    "array_filter",
    "filter",
    "list_reduce",
    "array_reduce",
    "reduce",
    "any_match",
    "list_any_match",
    "invoke",
];

pub(crate) fn takes_lambda(name: &str) -> bool {
    TAKES_LAMBDA.contains(&name.to_ascii_lowercase().as_str())
}

/// `sql` as the parser takes it: exported aggregate states, list comprehensions as lambda calls, [`globs_as_regexes`],
/// [`filter_where`], the syntax forms of [`crate::engine::compat::parse::syntax_forms`], then [`arrows_for_lambdas`].
pub(crate) fn prepared(sql: &str) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(sql);
    for pass in [
        crate::engine::compat::parse::export_states::exported_states,
        crate::engine::compat::parse::comprehensions::comprehensions_as_lambdas,
        globs_as_regexes,
        filter_where,
        crate::engine::compat::parse::syntax_forms::bare_values,
        crate::engine::compat::parse::syntax_forms::in_lists,
        crate::engine::compat::parse::syntax_forms::digit_separators,
        crate::engine::compat::parse::syntax_forms::materialized_hints,
        arrows_for_lambdas,
    ] {
        if let Cow::Owned(changed) = pass(&text) {
            text = Cow::Owned(changed);
        }
    }
    text
}

/// `x GLOB 'a*'` (and `NOT GLOB`) as the regular expression match `x ~ '^a.*$'`.
fn globs_as_regexes(sql: &str) -> Cow<'_, str> {
    if !sql.to_ascii_lowercase().contains("glob") {
        return Cow::Borrowed(sql);
    }
    let Some(tokens) = significant_tokens(sql) else { return Cow::Borrowed(sql) };
    let offset = offsets(sql);
    let mut edits = Vec::new();
    for (i, window) in tokens.windows(2).enumerate() {
        let [glob, pattern] = window else { continue };
        let is_glob =
            matches!(&glob.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("glob"));
        let Token::SingleQuotedString(pattern_text) = &pattern.token else { continue };
        if !is_glob || i == 0 {
            continue;
        }
        let negated = matches!(&tokens[i - 1].token, Token::Word(w) if w.keyword == Keyword::NOT);
        let start = if negated { tokens[i - 1].span.start } else { glob.span.start };
        let end = offset(pattern.span.end);
        let regex = glob_regex(pattern_text).replace('\'', "''");
        edits.push((offset(start), end, format!("{} '{regex}'", if negated { "!~" } else { "~" })));
    }
    crate::engine::compat::parse::tokens::edited(sql, edits)
}

/// A regex class no character is in.
const NOTHING: &str = "[^\\x00-\\x{10FFFF}]";

/// A glob as an anchored regular expression, read as DuckDB's matcher reads it: `*` any text,
/// `?` one character, `\c` the character `c`, `[...]` and `[!...]` sets (a `]` first in a set is
/// literal, `a-z` a range). A pattern DuckDB finds invalid (an unclosed set, a trailing `\`)
/// matches nothing, as there.
fn glob_regex(glob: &str) -> String {
    let mut regex = String::from("(?s)^");
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => regex.push_str(".*"),
            '?' => regex.push('.'),
            '\\' => {
                i += 1;
                let Some(c) = chars.get(i) else { return NOTHING.into() };
                regex.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
            }
            '[' => {
                let Some((set, next)) = glob_set(&chars, i + 1) else { return NOTHING.into() };
                regex.push_str(&set);
                i = next;
                continue;
            }
            c => regex.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
        i += 1;
    }
    regex.push('$');
    regex
}

/// The set that starts at `chars[start]` (after its `[`) as a regex class, and where the glob goes
/// on after its `]`; `None` when the set is not closed.
fn glob_set(chars: &[char], start: usize) -> Option<(String, usize)> {
    let escaped = |c: char| format!("\\x{{{:x}}}", c as u32);
    let mut i = start;
    let negated = chars.get(i) == Some(&'!');
    if negated {
        i += 1;
    }
    let first = i;
    let mut items = String::new();
    loop {
        let c = *chars.get(i)?;
        if c == ']' && i > first {
            break;
        }
        // DuckDB needs a character after each member (at least the closing bracket).
        chars.get(i + 1)?;
        if chars[i + 1] == '-' {
            let end = *chars.get(i + 2)?;
            if c <= end {
                items.push_str(&format!("{}-{}", escaped(c), escaped(end)));
            }
            i += 3;
        } else {
            items.push_str(&escaped(c));
            i += 1;
        }
    }
    let class = match (negated, items.is_empty()) {
        (false, true) => NOTHING.to_string(),
        (true, true) => "(?s:.)".to_string(),
        (false, false) => format!("[{items}]"),
        (true, false) => format!("[^{items}]"),
    };
    Some((class, i + 1))
}

/// An aggregate's `FILTER (cond)` written `FILTER (WHERE cond)`, as DuckDB also accepts.
fn filter_where(sql: &str) -> Cow<'_, str> {
    if !sql.to_ascii_lowercase().contains("filter") {
        return Cow::Borrowed(sql);
    }
    let Some(tokens) = significant_tokens(sql) else { return Cow::Borrowed(sql) };
    let offset = offsets(sql);
    let mut inserts = Vec::new();
    for window in tokens.windows(4) {
        let [close, filter, open, next] = window else { continue };
        let is_filter = matches!(&filter.token, Token::Word(w) if w.keyword == Keyword::FILTER);
        let has_where = matches!(&next.token, Token::Word(w) if w.keyword == Keyword::WHERE);
        if close.token == Token::RParen && is_filter && open.token == Token::LParen && !has_where {
            inserts.push(offset(next.span.start));
        }
    }
    if inserts.is_empty() {
        return Cow::Borrowed(sql);
    }
    let mut text = sql.to_string();
    for at in inserts.into_iter().rev() {
        text.insert_str(at, "WHERE ");
    }
    Cow::Owned(text)
}

/// `sql` with the lambdas of lambda-taking functions written as parenthesised arrows.
fn arrows_for_lambdas(sql: &str) -> Cow<'_, str> {
    let lower = sql.to_ascii_lowercase();
    if !(lower.contains("lambda") || lower.contains("->")) || !TAKES_LAMBDA.iter().any(|f| lower.contains(f)) {
        return Cow::Borrowed(sql);
    }
    let Some(tokens) = significant_tokens(sql) else { return Cow::Borrowed(sql) };
    let offset = offsets(sql);
    let at = |location: Location| offset(location);
    // (byte offset, bytes to replace, text)
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    // Per open bracket: whether it holds a lambda-taking function's arguments, and whether a
    // body opened by an edit waits for its `)`.
    let mut frames: Vec<(bool, bool)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i].token;
        let mut argument_starts = false;
        match token {
            Token::LParen | Token::LBracket | Token::LBrace => {
                let is_call = matches!(token, Token::LParen)
                    && i > 0
                    && matches!(&tokens[i - 1].token, Token::Word(w) if takes_lambda(&w.value));
                frames.push((is_call, false));
                argument_starts = is_call;
            }
            Token::Comma | Token::RParen | Token::RBracket | Token::RBrace => {
                if let Some((_, open)) = frames.last_mut()
                    && *open
                {
                    edits.push((at(tokens[i].span.start), 0, ")".into()));
                    *open = false;
                }
                if matches!(token, Token::Comma) {
                    argument_starts = frames.last().is_some_and(|f| f.0);
                } else {
                    frames.pop();
                }
            }
            _ => {}
        }
        i += 1;
        if argument_starts && let Some((next, edit)) = lambda_at(&tokens, i, &at) {
            edits.push(edit);
            if let Some(frame) = frames.last_mut() {
                frame.1 = true;
            }
            i = next;
        }
    }
    if edits.is_empty() {
        return Cow::Borrowed(sql);
    }
    let mut text = sql.to_string();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (start, len, replacement) in edits {
        text.replace_range(start..start + len, &replacement);
    }
    Cow::Owned(text)
}

/// A lambda's head starting at token `i`: the token after it and the edit that makes it
/// `params -> (`.
fn lambda_at(
    tokens: &[TokenWithSpan],
    i: usize,
    at: &impl Fn(Location) -> usize,
) -> Option<(usize, (usize, usize, String))> {
    let word = |j: usize| match tokens.get(j).map(|t| &t.token) {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.clone()),
        _ => None,
    };
    let is = |j: usize, expected: &Token| tokens.get(j).is_some_and(|t| &t.token == expected);
    // `lambda x, y : body`
    if matches!(tokens.get(i).map(|t| &t.token), Some(Token::Word(w)) if w.keyword == Keyword::LAMBDA) {
        let mut params = vec![word(i + 1)?];
        let mut j = i + 2;
        while is(j, &Token::Comma) {
            params.push(word(j + 1)?);
            j += 2;
        }
        if !is(j, &Token::Colon) {
            return None;
        }
        let start = at(tokens[i].span.start);
        let end = at(tokens[j].span.start) + 1;
        return Some((j + 1, (start, end - start, format!("({}) -> (", params.join(", ")))));
    }
    // `x -> body` or `(x, y) -> body`
    let arrow = if word(i).is_some() && is(i + 1, &Token::Arrow) {
        i + 1
    } else if is(i, &Token::LParen) {
        let mut j = i + 1;
        word(j)?;
        while is(j + 1, &Token::Comma) {
            word(j + 2)?;
            j += 2;
        }
        if !(is(j + 1, &Token::RParen) && is(j + 2, &Token::Arrow)) {
            return None;
        }
        j + 2
    } else {
        return None;
    };
    let after = at(tokens[arrow].span.start) + 2;
    Some((arrow + 1, (after, 0, " (".into())))
}

/// In the arguments of a lambda-taking function, an arrow from parameter names to a body is a
/// lambda; DuckDB's names for those functions become DataFusion's.
pub(crate) fn to_lambdas(expr: &mut Expr) {
    let Expr::Function(function) = expr else { return };
    let name = function.name.to_string().to_ascii_lowercase();
    if !takes_lambda(&name) {
        return;
    }
    let FunctionArguments::List(list) = &mut function.args else { return };
    let mut converted = false;
    for arg in &mut list.args {
        let FunctionArg::Unnamed(FunctionArgExpr::Expr(arg)) = arg else { continue };
        let Expr::BinaryOp { left, op: BinaryOperator::Arrow, right } = arg else { continue };
        let Some(params) = parameters(left) else { continue };
        let body = match right.as_mut() {
            Expr::Nested(inner) => {
                std::mem::replace(inner.as_mut(), Expr::value(datafusion::sql::sqlparser::ast::Value::Null))
            }
            other => std::mem::replace(other, Expr::value(datafusion::sql::sqlparser::ast::Value::Null)),
        };
        let body = list_literals_as_calls(fields_of_parameters(body, &params));
        *arg = Expr::Lambda(LambdaFunction { params, body: Box::new(body), syntax: LambdaSyntax::Arrow });
        converted = true;
    }
    if converted {
        let renamed = match name.as_str() {
            "apply" | "list_apply" | "array_apply" => Some("list_transform"),
            "filter" => Some("list_filter"),
            _ => None,
        };
        if let Some(renamed) = renamed {
            function.name = datafusion::sql::sqlparser::ast::ObjectName::from(vec![Ident::new(renamed)]);
        }
    }
}

/// `x.a.b` in a lambda's body, `x` a parameter, as the field `b` of the field `a` of `x`: the
/// planner would look for a table `x`.
fn fields_of_parameters(mut body: Expr, params: &OneOrManyWithParens<LambdaFunctionParameter>) -> Expr {
    let names: Vec<String> = match params {
        OneOrManyWithParens::One(p) => vec![p.name.value.clone()],
        OneOrManyWithParens::Many(ps) => ps.iter().map(|p| p.name.value.clone()).collect(),
    };
    let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(&mut body, |e: &mut Expr| {
        if let Expr::CompoundIdentifier(parts) = e
            && let [first, fields @ ..] = parts.as_slice()
            && !fields.is_empty()
            && names.iter().any(|n| n.eq_ignore_ascii_case(&first.value))
        {
            let mut value = Expr::Identifier(Ident::new(first.value.to_lowercase()));
            for field in fields {
                value = crate::engine::compat::ast::call(
                    "get_field",
                    vec![value, crate::engine::compat::ast::text(&field.value)],
                );
            }
            *e = value;
        }
        // `x.a[2]`: the fields of a parameter before a subscript.
        if let Expr::CompoundFieldAccess { root, access_chain } = e
            && let Expr::Identifier(first) = root.as_ref()
            && names.iter().any(|n| n.eq_ignore_ascii_case(&first.value))
        {
            let mut value = Expr::Identifier(Ident::new(first.value.to_lowercase()));
            let fields = access_chain.iter().take_while(|a| matches!(a, AccessExpr::Dot(Expr::Identifier(_)))).count();
            for access in &access_chain[..fields] {
                if let AccessExpr::Dot(Expr::Identifier(field)) = access {
                    value = crate::engine::compat::ast::call(
                        "get_field",
                        vec![value, crate::engine::compat::ast::text(&field.value)],
                    );
                }
            }
            let rest = access_chain[fields..].to_vec();
            *e = if rest.is_empty() {
                value
            } else {
                Expr::CompoundFieldAccess { root: Box::new(value), access_chain: rest }
            };
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    body
}

pub(crate) fn parameters(left: &Expr) -> Option<OneOrManyWithParens<LambdaFunctionParameter>> {
    // Folded to lower case, as the body's identifiers are.
    let param = |e: &Expr| match e {
        Expr::Identifier(ident) if ident.quote_style.is_none() => {
            Some(LambdaFunctionParameter { name: Ident::new(ident.value.to_lowercase()), data_type: None })
        }
        _ => None,
    };
    match left {
        Expr::Identifier(_) => Some(OneOrManyWithParens::One(param(left)?)),
        Expr::Nested(inner) => Some(OneOrManyWithParens::One(param(inner)?)),
        Expr::Tuple(items) => Some(OneOrManyWithParens::Many(items.iter().map(param).collect::<Option<_>>()?)),
        _ => None,
    }
}

/// `[x, 1]` in a lambda's body as `make_array(x, 1)`: DataFusion plans a list literal without the
/// lambda's parameters in scope ("No field named x").
fn list_literals_as_calls(mut body: Expr) -> Expr {
    let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(&mut body, |e: &mut Expr| {
        if let Expr::Array(list) = e
            && !list.elem.is_empty()
        {
            *e = crate::engine::compat::ast::call("make_array", list.elem.clone());
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambdas_become_parenthesised_arrows_only_where_a_lambda_belongs() {
        for (sql, expected) in [
            ("SELECT list_transform([1, 2], lambda x : x + 1)", "SELECT list_transform([1, 2], (x) -> ( x + 1))"),
            ("SELECT filter(l, lambda x, i : x > i) FROM t", "SELECT filter(l, (x, i) -> ( x > i)) FROM t"),
            ("SELECT list_filter(l, x -> x > 1 AND x < 5)", "SELECT list_filter(l, x -> ( x > 1 AND x < 5))"),
            ("SELECT apply(l, (x, i) -> x + i)", "SELECT apply(l, (x, i) -> ( x + i))"),
            (
                "SELECT list_transform([[1], [2]], lambda x : list_sum(x)), 'lambda'",
                "SELECT list_transform([[1], [2]], (x) -> ( list_sum(x))), 'lambda'",
            ),
        ] {
            assert_eq!(arrows_for_lambdas(sql), expected, "{sql}");
        }
        for sql in ["SELECT data->'a' FROM activity", "SELECT coalesce(data->>'x', 'lambda') FROM activity"] {
            assert_eq!(arrows_for_lambdas(sql), sql, "no lambda here");
        }
    }

    #[test]
    fn globs_become_anchored_regexes() {
        assert_eq!(
            prepared("SELECT type GLOB 'Map*', type NOT GLOB '[!A-C]?.x' FROM activity"),
            "SELECT type ~ '(?s)^Map.*$', type !~ '(?s)^[^\\x{41}-\\x{43}].\\.x$' FROM activity"
        );
        assert_eq!(prepared("SELECT 'glob' AS glob"), "SELECT 'glob' AS glob");
    }

    #[test]
    fn a_filter_clause_gets_its_where() {
        assert_eq!(
            prepared("SELECT count(*) FILTER (type LIKE 'M%'), sum(x) FILTER (WHERE x > 0), filter(l, x -> x > 1)"),
            "SELECT count(*) FILTER (WHERE type LIKE 'M%'), sum(x) FILTER (WHERE x > 0), filter(l, x -> ( x > 1))"
        );
    }
}
