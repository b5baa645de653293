//! `COLUMNS(c -> c LIKE 'col%')` (and `COLUMNS(lambda c: ...)`): the columns whose names make a
//! condition true. The condition is a test on the name alone, so it is evaluated here, once per
//! column, over the few forms such tests take: LIKE, ILIKE, SIMILAR TO (negated, with ESCAPE),
//! `=`, `<>`, IN, `regexp_matches`, `starts_with`, `ends_with`, `contains`, `lower`, `upper`,
//! AND, OR and NOT.

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, LambdaFunction, UnaryOperator, Value, ValueWithSpan};

use crate::engine::compat::parse::star_forms::like_regex;

use crate::error::{Error, Result};

/// What a name test computes: a text or a truth value.
enum Computed {
    Text(String),
    Truth(bool),
}

/// Whether `name` passes the lambda's test.
pub(crate) fn passes(lambda: &LambdaFunction, name: &str) -> Result<bool> {
    let [parameter] = &lambda.params[..] else {
        return Err(Error::Query("COLUMNS(lambda) takes a lambda of one parameter, the column's name".into()));
    };
    let test = Test { parameter: &parameter.name.value, name };
    match test.compute(&lambda.body)? {
        Computed::Truth(truth) => Ok(truth),
        Computed::Text(_) => Err(Error::Query(format!(
            "COLUMNS({lambda}) must give true or false for a column's name: write a test such as {} LIKE 'a%'",
            parameter.name
        ))),
    }
}

struct Test<'a> {
    parameter: &'a str,
    name: &'a str,
}

impl Test<'_> {
    fn text(&self, expr: &Expr) -> Result<String> {
        match self.compute(expr)? {
            Computed::Text(text) => Ok(text),
            Computed::Truth(_) => Err(self.unsupported(expr)),
        }
    }

    fn truth(&self, expr: &Expr) -> Result<bool> {
        match self.compute(expr)? {
            Computed::Truth(truth) => Ok(truth),
            Computed::Text(_) => Err(self.unsupported(expr)),
        }
    }

    fn unsupported(&self, expr: &Expr) -> Error {
        Error::Query(format!(
            "{expr} is not supported in COLUMNS(lambda): test the name with LIKE, =, IN, regexp_matches, AND, OR or NOT"
        ))
    }

    fn matches_regex(&self, pattern: &str, text: &str) -> Result<bool> {
        let regex = regex::Regex::new(pattern)
            .map_err(|e| Error::Query(format!("COLUMNS(lambda): '{pattern}' is not a regular expression ({e})")))?;
        Ok(regex.is_match(text))
    }

    fn like(
        &self,
        negated: bool,
        expr: &Expr,
        pattern: &Expr,
        escape: Option<&ValueWithSpan>,
        flags: &str,
    ) -> Result<Computed> {
        let escape = match escape.map(|v| &v.value) {
            None => None,
            Some(Value::SingleQuotedString(e)) if e.chars().count() == 1 => e.chars().next(),
            Some(_) => return Err(Error::Query("LIKE's ESCAPE is one character: write ESCAPE '\\'".into())),
        };
        let regex = format!("{flags}^{}$", like_regex(&self.text(pattern)?, escape));
        Ok(Computed::Truth(self.matches_regex(&regex, &self.text(expr)?)? != negated))
    }

    fn compute(&self, expr: &Expr) -> Result<Computed> {
        let truth = |t: bool| Ok(Computed::Truth(t));
        match expr {
            Expr::Identifier(ident) if ident.value.eq_ignore_ascii_case(self.parameter) => {
                Ok(Computed::Text(self.name.to_string()))
            }
            Expr::Value(v) => match &v.value {
                Value::SingleQuotedString(text) => Ok(Computed::Text(text.clone())),
                Value::Boolean(b) => truth(*b),
                _ => Err(self.unsupported(expr)),
            },
            Expr::Nested(inner) => self.compute(inner),
            Expr::UnaryOp { op: UnaryOperator::Not, expr } => truth(!self.truth(expr)?),
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::And => truth(self.truth(left)? && self.truth(right)?),
                BinaryOperator::Or => truth(self.truth(left)? || self.truth(right)?),
                BinaryOperator::Eq => truth(self.text(left)? == self.text(right)?),
                BinaryOperator::NotEq => truth(self.text(left)? != self.text(right)?),
                _ => Err(self.unsupported(expr)),
            },
            Expr::Like { negated, any: false, expr, pattern, escape_char } => {
                self.like(*negated, expr, pattern, escape_char.as_ref(), "")
            }
            Expr::ILike { negated, any: false, expr, pattern, escape_char } => {
                self.like(*negated, expr, pattern, escape_char.as_ref(), "(?i)")
            }
            Expr::SimilarTo { negated, expr, pattern, escape_char: None } => {
                let regex = format!("^(?:{})$", self.text(pattern)?);
                truth(self.matches_regex(&regex, &self.text(expr)?)? != *negated)
            }
            Expr::InList { expr, list, negated } => {
                let text = self.text(expr)?;
                let mut found = false;
                for item in list {
                    found |= self.text(item)? == text;
                }
                truth(found != *negated)
            }
            Expr::Function(f) => {
                let args = crate::engine::compat::ast::plain_args(f).ok_or_else(|| self.unsupported(expr))?;
                let name = f.name.to_string().to_ascii_lowercase();
                match (name.as_str(), args.as_slice()) {
                    ("lower" | "lcase", [a]) => Ok(Computed::Text(self.text(a)?.to_lowercase())),
                    ("upper" | "ucase", [a]) => Ok(Computed::Text(self.text(a)?.to_uppercase())),
                    ("regexp_matches", [a, p]) => truth(self.matches_regex(&self.text(p)?, &self.text(a)?)?),
                    ("starts_with" | "prefix", [a, b]) => truth(self.text(a)?.starts_with(&self.text(b)?)),
                    ("ends_with" | "suffix", [a, b]) => truth(self.text(a)?.ends_with(&self.text(b)?)),
                    ("contains", [a, b]) => truth(self.text(a)?.contains(&self.text(b)?)),
                    _ => Err(self.unsupported(expr)),
                }
            }
            _ => Err(self.unsupported(expr)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lambda(sql: &str) -> LambdaFunction {
        let text = crate::engine::compat::parse::prepared(&format!("SELECT COLUMNS({sql})"));
        let select = crate::engine::compat::parse::parsed_select(&text).unwrap();
        let datafusion::sql::sqlparser::ast::SelectItem::UnnamedExpr(mut call) = select.projection[0].clone() else {
            panic!("not a call")
        };
        crate::engine::compat::rewrite::lambdas::to_lambdas(&mut call);
        let Expr::Function(f) = &call else { panic!("not a call") };
        let Some(Expr::Lambda(l)) = crate::engine::compat::ast::plain_args(f).and_then(|a| a.first().cloned()) else {
            panic!("not a lambda")
        };
        l
    }

    #[test]
    fn names_are_tested_as_duckdb_tests_them() {
        let test = lambda("lambda c: c NOT LIKE '\\_%' ESCAPE '\\' AND (lower(c) IN ('x_1', 'ab') OR c ILIKE 'X%')");
        let passing: Vec<bool> = ["_ab", "ab", "X_1", "xyz"].iter().map(|n| passes(&test, n).unwrap()).collect();
        assert_eq!(passing, [false, true, true, true]);
        assert!(passes(&lambda("c -> c || 'x'"), "a").is_err());
        assert!(passes(&lambda("c -> c"), "a").is_err());
    }
}
