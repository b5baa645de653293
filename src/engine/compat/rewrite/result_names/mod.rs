//! The name DuckDB gives a result column that has no alias: the expression written back as text
//! (DuckDB's `ParsedExpression::ToString`), which scripts read as `--json` keys. The rules, as
//! DuckDB applies them: every operator in parentheses (`(x + 1)`, `("data" ->> 'userId')`,
//! `(NOT x)`), `LIKE` as `~~`, casts as `CAST(x AS T)`, lists as `list_value(...)`, structs as
//! `struct_pack(a := 1)`, `AT TIME ZONE` as `timezone(...)`, `EXTRACT` as `date_part(...)`,
//! `count(*)` as `count_star()`, `CASE  WHEN ((c)) THEN (v) ELSE e END`; function names in lower
//! case; an identifier quoted when it is a keyword or not a plain name; a type named as the SQL
//! grammar spells its built-in types (`INTEGER`, `VARCHAR`, `TIMESTAMP`) and as written otherwise
//! (`date`, `double`, `TIMESTAMPTZ`; `"JSON"`, an extension's), for which the statement's text
//! is read.

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CastKind, DateTimeField, Expr, Ident, Interval, Subscript, UnaryOperator, Value,
};

use crate::engine::compat::keywords::is_keyword;
use calls::is_count_star;
use written_types::type_name;

mod calls;
mod queries;
mod written_types;

/// Writes expressions of one statement, whose (prepared) text is `sql`.
pub(crate) struct Namer<'a> {
    pub(crate) sql: &'a str,
}

impl Namer<'_> {
    /// The column name DuckDB gives `expr`.
    pub(crate) fn name(&self, expr: &Expr) -> String {
        self.write(expr)
    }

    fn write(&self, expr: &Expr) -> String {
        let w = |e: &Expr| self.write(e);
        match expr {
            Expr::Identifier(ident) => identifier(ident),
            Expr::CompoundIdentifier(parts) => parts.iter().map(identifier).collect::<Vec<_>>().join("."),
            Expr::Value(value) => constant(&value.value),
            Expr::Nested(inner) => w(inner),
            Expr::TypedString(typed) => {
                let text = constant(&typed.value.value);
                let written = self.type_before(typed.value.span.start);
                format!("CAST({text} AS {})", type_name(&typed.data_type, written.as_deref()))
            }
            Expr::Interval(interval) => self.interval(interval),
            Expr::BinaryOp { left, op: op @ (BinaryOperator::And | BinaryOperator::Or), right } => {
                let mut terms = Vec::new();
                self.conjunction_terms(left, op, &mut terms);
                self.conjunction_terms(right, op, &mut terms);
                format!("({})", terms.join(&format!(" {op} ")))
            }
            Expr::BinaryOp { left, op, right } => format!("({} {} {})", w(left), operator(op), w(right)),
            Expr::UnaryOp { op: UnaryOperator::Not, expr } => format!("(NOT {})", w(expr)),
            // DuckDB folds a sign into a number (`- -2` is the constant 2).
            Expr::UnaryOp { op: UnaryOperator::Minus, expr } => match strip(expr) {
                Expr::Value(v) if is_number(v) => format!("-{}", constant(&v.value)),
                Expr::UnaryOp { op: UnaryOperator::Minus, expr: number } if matches!(strip(number), Expr::Value(v) if is_number(v)) => {
                    w(number)
                }
                inner => format!("(-({}))", w(inner)),
            },
            Expr::UnaryOp { op: UnaryOperator::Plus, expr } => format!("(+({}))", w(expr)),
            Expr::UnaryOp { op: UnaryOperator::BitwiseNot, expr } => format!("(~({}))", w(expr)),
            Expr::IsNull(e) => format!("({} IS NULL)", w(e)),
            Expr::IsNotNull(e) => format!("({} IS NOT NULL)", w(e)),
            Expr::IsTrue(e) => format!("(CAST({} AS BOOLEAN) IS NOT DISTINCT FROM true)", w(e)),
            Expr::IsNotTrue(e) => format!("(CAST({} AS BOOLEAN) IS DISTINCT FROM true)", w(e)),
            Expr::IsFalse(e) => format!("(CAST({} AS BOOLEAN) IS NOT DISTINCT FROM false)", w(e)),
            Expr::IsNotFalse(e) => format!("(CAST({} AS BOOLEAN) IS DISTINCT FROM false)", w(e)),
            Expr::IsDistinctFrom(a, b) => format!("({} IS DISTINCT FROM {})", w(a), w(b)),
            Expr::IsNotDistinctFrom(a, b) => format!("({} IS NOT DISTINCT FROM {})", w(a), w(b)),
            Expr::InList { expr, list, negated } => {
                let inside = format!("({} IN ({}))", w(expr), self.list(list));
                if *negated { format!("(NOT {inside})") } else { inside }
            }
            Expr::InSubquery { expr, subquery, negated } => {
                let inside = format!("({} = ANY({}))", w(expr), self.query(subquery));
                if *negated { format!("(NOT {inside})") } else { inside }
            }
            Expr::Between { expr, negated, low, high } => {
                let inside = format!("({} BETWEEN {} AND {})", w(expr), w(low), w(high));
                if *negated { format!("(NOT {inside})") } else { inside }
            }
            Expr::Like { negated, expr, pattern, escape_char: None, any: false } => {
                format!("({} {} {})", w(expr), if *negated { "!~~" } else { "~~" }, w(pattern))
            }
            Expr::ILike { negated, expr, pattern, escape_char: None, any: false } => {
                format!("({} {} {})", w(expr), if *negated { "!~~*" } else { "~~*" }, w(pattern))
            }
            Expr::SimilarTo { negated, expr, pattern, escape_char: None } => {
                let call = format!("regexp_full_match({}, {})", w(expr), w(pattern));
                if *negated { format!("(NOT {call})") } else { call }
            }
            Expr::Cast { kind, expr: inner, data_type, .. } => {
                let written = self.end_of(inner).and_then(|end| self.type_at(end));
                let cast = if matches!(kind, CastKind::TryCast | CastKind::SafeCast) { "TRY_CAST" } else { "CAST" };
                format!("{cast}({} AS {})", w(inner), type_name(data_type, written.as_deref()))
            }
            Expr::AtTimeZone { timestamp, time_zone } => format!("timezone({}, {})", w(time_zone), w(timestamp)),
            Expr::Extract { field, expr, .. } => format!("date_part('{}', {})", part_name(field), w(expr)),
            Expr::Collate { expr, collation } => format!("{} COLLATE {collation}", w(expr)),
            Expr::Case { operand, conditions, else_result, .. } => {
                let mut text = String::from("CASE ");
                for when in conditions {
                    let condition = match operand {
                        Some(operand) => format!("({} = {})", w(operand), w(&when.condition)),
                        None => w(&when.condition),
                    };
                    text.push_str(&format!(" WHEN ({condition}) THEN ({})", w(&when.result)));
                }
                let otherwise = else_result.as_deref().map_or_else(|| "NULL".to_string(), w);
                format!("{text} ELSE {otherwise} END")
            }
            Expr::Exists { subquery, negated } => {
                let exists = format!("EXISTS({})", self.query(subquery));
                if *negated { format!("(NOT {exists})") } else { exists }
            }
            Expr::Subquery(query) => format!("({})", self.query(query)),
            Expr::Array(array) => format!("list_value({})", self.list(&array.elem)),
            Expr::Dictionary(fields) => {
                let fields: Vec<String> =
                    fields.iter().map(|f| format!("{} := {}", identifier(&f.key), w(&f.value))).collect();
                format!("struct_pack({})", fields.join(", "))
            }
            Expr::Map(map) => {
                let keys: Vec<String> = map.entries.iter().map(|e| w(&e.key)).collect();
                let values: Vec<String> = map.entries.iter().map(|e| w(&e.value)).collect();
                format!("\"map\"(list_value({}), list_value({}))", keys.join(", "), values.join(", "))
            }
            Expr::CompoundFieldAccess { root, access_chain } => {
                let mut text = w(root);
                // A column's name goes on with dots (`l.group_ids[1]`); a value's field is
                // written `(value).field`.
                let mut column = matches!(strip(root), Expr::Identifier(_) | Expr::CompoundIdentifier(_));
                for (i, access) in access_chain.iter().enumerate() {
                    match access {
                        datafusion::sql::sqlparser::ast::AccessExpr::Dot(Expr::Identifier(field)) if column => {
                            text = format!("{text}.{}", identifier(field));
                            continue;
                        }
                        // A method call: `x.upper()` on a column as written, else `upper(x)`.
                        datafusion::sql::sqlparser::ast::AccessExpr::Dot(Expr::Function(f)) => {
                            let call = self.function(f, None);
                            text = match call.split_once('(') {
                                // DuckDB reads `s.upper()` on a one-part name as a call of
                                // `upper` in schema `s`, and writes it so.
                                Some((name, rest)) if i == 0 && matches!(strip(root), Expr::Identifier(_)) => {
                                    format!("{text}.{name}({rest}")
                                }
                                Some((name, ")")) => format!("{name}({text})"),
                                Some((name, rest)) => format!("{name}({text}, {rest}"),
                                None => format!("{call}({text})"),
                            };
                        }
                        _ => {}
                    }
                    column = false;
                    match access {
                        datafusion::sql::sqlparser::ast::AccessExpr::Subscript(Subscript::Index { index }) => {
                            text = format!("{text}[{}]", w(index));
                        }
                        datafusion::sql::sqlparser::ast::AccessExpr::Subscript(Subscript::Slice {
                            lower_bound,
                            upper_bound,
                            stride: None,
                        }) => {
                            let bound = |b: &Option<Expr>| b.as_ref().map(w).unwrap_or_default();
                            text = format!("{text}[{}:{}]", bound(lower_bound), bound(upper_bound));
                        }
                        datafusion::sql::sqlparser::ast::AccessExpr::Dot(Expr::Identifier(field)) => {
                            text = format!("({text}).{}", identifier(field));
                        }
                        datafusion::sql::sqlparser::ast::AccessExpr::Dot(Expr::Function(_)) => {}
                        other => text = format!("{text}{other}"),
                    }
                }
                text
            }
            Expr::Lambda(lambda) => {
                let params: Vec<String> = lambda.params.iter().map(|p| identifier(&p.name)).collect();
                format!("(lambda {}: {})", params.join(", "), w(&lambda.body))
            }
            Expr::Substring { expr, substring_from, substring_for, shorthand, .. } => {
                let args: Vec<String> =
                    std::iter::once(expr).chain(substring_from).chain(substring_for).map(|e| w(e)).collect();
                format!("{}({})", if *shorthand { "substr" } else { "\"substring\"" }, args.join(", "))
            }
            Expr::Ceil { expr, .. } => format!("ceil({})", w(expr)),
            Expr::Floor { expr, .. } => format!("floor({})", w(expr)),
            Expr::Position { expr, r#in } => format!("\"position\"({}, {})", w(r#in), w(expr)),
            Expr::Trim { trim_where, trim_what, expr, trim_characters } => {
                use datafusion::sql::sqlparser::ast::TrimWhereField;
                let name = match trim_where {
                    Some(TrimWhereField::Leading) => "ltrim",
                    Some(TrimWhereField::Trailing) => "rtrim",
                    _ => "\"trim\"",
                };
                let mut args = vec![w(expr)];
                args.extend(trim_what.iter().map(|e| w(e)));
                args.extend(trim_characters.iter().flatten().map(w));
                format!("{name}({})", args.join(", "))
            }
            // `count(*)` is DuckDB's count_star(), but over a window `count()`.
            Expr::Function(f) if is_count_star(f) => {
                self.function(f, Some(if f.over.is_none() { "count_star" } else { "count" }))
            }
            Expr::Function(f) => self.function(f, None),
            other => other.to_string(),
        }
    }

    /// The terms of a chain of one conjunction, which DuckDB writes flat: `(a AND b AND c)`.
    fn conjunction_terms(&self, expr: &Expr, op: &BinaryOperator, terms: &mut Vec<String>) {
        match strip(expr) {
            Expr::BinaryOp { left, op: inner, right } if inner == op => {
                self.conjunction_terms(left, op, terms);
                self.conjunction_terms(right, op, terms);
            }
            other => terms.push(self.write(other)),
        }
    }

    fn list(&self, items: &[Expr]) -> String {
        items.iter().map(|e| self.write(e)).collect::<Vec<_>>().join(", ")
    }

    /// `INTERVAL '2 hours'` is a cast; `INTERVAL 7 DAY` a call of `to_days` on its whole
    /// number (of `to_seconds` on the number itself).
    fn interval(&self, interval: &Interval) -> String {
        let value = self.write(&interval.value);
        let whole = |unit: &str, integer: &str| format!("to_{unit}(CAST(trunc(CAST({value} AS DOUBLE)) AS {integer}))");
        match &interval.leading_field {
            None => format!("CAST({value} AS INTERVAL)"),
            Some(DateTimeField::Year | DateTimeField::Years) => whole("years", "INTEGER"),
            Some(DateTimeField::Month | DateTimeField::Months) => whole("months", "INTEGER"),
            Some(DateTimeField::Week(_) | DateTimeField::Weeks) => whole("weeks", "INTEGER"),
            Some(DateTimeField::Day | DateTimeField::Days) => whole("days", "INTEGER"),
            Some(DateTimeField::Hour | DateTimeField::Hours) => whole("hours", "BIGINT"),
            Some(DateTimeField::Minute | DateTimeField::Minutes) => whole("minutes", "BIGINT"),
            Some(DateTimeField::Second | DateTimeField::Seconds) => format!("to_seconds(CAST({value} AS DOUBLE))"),
            Some(other) => format!("CAST({value} AS INTERVAL {other})"),
        }
    }
}

/// An `EXTRACT` part as DuckDB names it: the grammar's parts in capitals, others as written.
fn part_name(field: &DateTimeField) -> String {
    match field {
        DateTimeField::Year | DateTimeField::Years => "YEAR".into(),
        DateTimeField::Month | DateTimeField::Months => "MONTH".into(),
        DateTimeField::Day | DateTimeField::Days => "DAY".into(),
        DateTimeField::Hour | DateTimeField::Hours => "HOUR".into(),
        DateTimeField::Minute | DateTimeField::Minutes => "MINUTE".into(),
        DateTimeField::Second | DateTimeField::Seconds => "SECOND".into(),
        DateTimeField::Millisecond | DateTimeField::Milliseconds => "MILLISECONDS".into(),
        DateTimeField::Microsecond | DateTimeField::Microseconds => "MICROSECONDS".into(),
        DateTimeField::Week(None) | DateTimeField::Weeks => "WEEK".into(),
        DateTimeField::Decade => "DECADE".into(),
        DateTimeField::Century => "CENTURY".into(),
        DateTimeField::Millennium | DateTimeField::Millenium => "MILLENNIUM".into(),
        DateTimeField::Quarter => "QUARTER".into(),
        DateTimeField::Custom(ident) => ident.value.clone(),
        other => other.to_string().to_lowercase(),
    }
}

/// DuckDB writes an identifier as it was written, in double quotes when it is a keyword or not
/// a plain name (a letter or `_`, then letters, digits and `_`).
pub(crate) fn identifier(ident: &Ident) -> String {
    let text = &ident.value;
    let plain = text.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain && !is_keyword(text) { text.clone() } else { format!("\"{}\"", text.replace('"', "\"\"")) }
}

fn operator(op: &BinaryOperator) -> String {
    match op {
        BinaryOperator::NotEq => "!=".into(),
        BinaryOperator::DuckIntegerDivide | BinaryOperator::MyIntegerDivide => "//".into(),
        other => other.to_string(),
    }
}

fn is_number(value: &datafusion::sql::sqlparser::ast::ValueWithSpan) -> bool {
    matches!(value.value, Value::Number(..))
}

fn constant(value: &Value) -> String {
    match value {
        Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) | Value::DoubleQuotedString(s) => quote(s),
        Value::Number(n, _) => n.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Null => "NULL".into(),
        other => other.to_string(),
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn strip(expr: &Expr) -> &Expr {
    match expr {
        Expr::Nested(inner) => strip(inner),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr, Statement};

    /// The name the layer gives `item` (the whole of `prepare`, text passes included).
    fn named(item: &str) -> String {
        let statement = crate::engine::compat::prepare(&format!("SELECT {item}")).unwrap().remove(0);
        let Statement::Query(query) = statement else { panic!("a query") };
        let SetExpr::Select(select) = *query.body else { panic!("a select") };
        match &select.projection[0] {
            SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
            other => panic!("{item}: not named: {other}"),
        }
    }

    /// Each as DuckDB 2.0.1 names it.
    #[test]
    fn expressions_are_named_as_duckdb_names_them() {
        for (expr, name) in [
            ("ts::DATE", "CAST(ts AS DATE)"),
            ("ts::date", "CAST(ts AS date)"),
            ("x::INT", "CAST(x AS INTEGER)"),
            ("x::JSON", "CAST(x AS \"JSON\")"),
            ("data->>'userId'", "(\"data\" ->> 'userId')"),
            ("data->'map'->>'id'", "((\"data\" -> 'map') ->> 'id')"),
            ("count(DISTINCT type)", "count(DISTINCT \"type\")"),
            ("count(*) FILTER (WHERE type = 'x')", "count_star() FILTER (WHERE (\"type\" = 'x'))"),
            ("1 + 2", "(1 + 2)"),
            ("LOWER(type)", "lower(\"type\")"),
            ("CASE WHEN type = 'a' THEN 1 ELSE 2 END", "CASE  WHEN ((\"type\" = 'a')) THEN (1) ELSE 2 END"),
            ("ts AT TIME ZONE 'Europe/Madrid'", "timezone('Europe/Madrid', ts)"),
            ("NOT true", "(NOT true)"),
            ("type LIKE 'M%'", "(\"type\" ~~ 'M%')"),
            ("extract(year FROM ts)", "date_part('YEAR', ts)"),
            ("EXTRACT(century FROM ts)", "date_part('CENTURY', ts)"),
            ("EXTRACT(millisecond FROM ts)", "date_part('MILLISECONDS', ts)"),
            ("EXTRACT(isodow FROM ts)", "date_part('isodow', ts)"),
            ("sum(1) OVER (PARTITION BY type)", "sum(1) OVER (PARTITION BY \"type\")"),
            ("[1, 2]", "list_value(1, 2)"),
            ("{'a': 1}", "struct_pack(a := 1)"),
            ("x = 1 AND x = 2 AND x = 3", "((x = 1) AND (x = 2) AND (x = 3))"),
            ("x NOT IN (1, 2)", "(NOT (x IN (1, 2)))"),
            ("-x", "(-(x))"),
            ("- -2", "2"),
            ("-1.5", "-1.5"),
            ("TIMESTAMP '2024-01-07'", "CAST('2024-01-07' AS TIMESTAMP)"),
            ("nullif(x, 1)", "\"nullif\"(x, 1)"),
            ("CAST(CAST(x AS INTEGER) AS double)", "CAST(CAST(x AS INTEGER) AS double)"),
            ("(x::date)::timestamptz", "CAST(CAST(x AS date) AS timestamptz)"),
            ("SUBSTR(x, 1, 2)", "substr(x, 1, 2)"),
            ("trim(x)", "\"trim\"(x)"),
            ("CEIL(1.5)", "ceil(1.5)"),
            ("l.group_ids[1]", "l.group_ids[1]"),
            ("CAST(abs(TRY_CAST(x AS BIGINT)) AS double)", "CAST(abs(TRY_CAST(x AS BIGINT)) AS double)"),
            ("coalesce(u.id.lower(), 'none')", "COALESCE(lower(u.id), 'none')"),
            ("type.upper()", "\"type\".upper()"),
            ("list_transform([1, 2], lambda x: x * 2)", "list_transform(list_value(1, 2), (lambda x: (x * 2)))"),
            ("x <> 1", "(x != 1)"),
            ("count(*)", "count_star()"),
            ("count(*) OVER ()", "count() OVER ()"),
        ] {
            assert_eq!(named(expr), name, "{expr}");
        }
    }
}
