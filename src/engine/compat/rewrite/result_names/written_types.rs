//! The types of casts as written in the statement: DuckDB names a cast's column with its type
//! spelt as the SQL grammar spells its own types (`INTEGER`, `VARCHAR`, `TIMESTAMP`) and as
//! written otherwise (`date`, `double`, `TIMESTAMPTZ`, `"JSON"`); the parsed tree keeps only
//! the type, so its text is found after the cast's value (whose span the tree does keep).

use datafusion::sql::sqlparser::ast::{DataType, Expr, FunctionArguments, Spanned};
use datafusion::sql::sqlparser::tokenizer::Location;

use super::Namer;

impl Namer<'_> {
    /// Where an expression's text ends in the statement (a cast's span ends with its value: its
    /// type, and a `CAST(`'s parenthesis, are found after it).
    pub(crate) fn end_of(&self, expr: &Expr) -> Option<usize> {
        match expr {
            Expr::Cast { expr: inner, .. } => {
                let start = self.end_of(inner)?;
                let (type_start, closing) = self.type_start(start)?;
                let written = type_words(&self.sql[type_start..]);
                let mut end = type_start + written.len();
                if closing {
                    end += self.sql[end..].find(')')? + 1;
                }
                Some(end)
            }
            Expr::Nested(inner) => {
                let end = self.end_of(inner)?;
                Some(end + self.sql[end..].find(')')? + 1)
            }
            // A call's span ends inside its arguments: its end is its closing parenthesis.
            Expr::Function(f) if !matches!(f.args, FunctionArguments::None) => {
                let start = offset(self.sql, f.name.span().end)?;
                let open = start + self.sql[start..].find('(')?;
                closing_parenthesis(self.sql, open)
            }
            other => offset(self.sql, other.span().end),
        }
    }

    /// The start of the type after a cast's value ending at `end`, and whether it was `CAST(x AS
    /// T)` (closed by a parenthesis) rather than `x::T`.
    fn type_start(&self, end: usize) -> Option<(usize, bool)> {
        let rest = &self.sql[end..];
        let trimmed = rest.trim_start().trim_start_matches(')').trim_start();
        let at = end + (rest.len() - trimmed.len());
        if let Some(after) = trimmed.strip_prefix("::") {
            return Some((at + 2 + (after.len() - after.trim_start().len()), false));
        }
        if trimmed.get(..2).is_some_and(|w| w.eq_ignore_ascii_case("as")) {
            let after = &trimmed[2..];
            return Some((at + 2 + (after.len() - after.trim_start().len()), true));
        }
        None
    }

    /// The type as written after a cast's value ending at `end` (`x::date`, `CAST(x AS date)`).
    pub(crate) fn type_at(&self, end: usize) -> Option<String> {
        let (start, _) = self.type_start(end)?;
        Some(type_words(&self.sql[start..])).filter(|t| !t.is_empty())
    }

    /// The type as written before a typed string (`DATE '2025-01-01'`).
    pub(crate) fn type_before(&self, start: Location) -> Option<String> {
        let before = self.sql[..offset(self.sql, start)?].trim_end();
        let word_start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
        Some(before[word_start..].to_string()).filter(|w| !w.is_empty())
    }
}

/// The offset just past the parenthesis that closes the one at `open` (quotes skipped).
fn closing_parenthesis(sql: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote = None;
    for (i, c) in sql[open..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The byte offset of a (1-based line and column) location in `sql`.
fn offset(sql: &str, at: Location) -> Option<usize> {
    if at.line == 0 {
        return None;
    }
    let mut line_start = 0;
    for _ in 1..at.line {
        line_start += sql[line_start..].find('\n')? + 1;
    }
    let column = usize::try_from(at.column).ok()?.checked_sub(1)?;
    Some(line_start + sql[line_start..].char_indices().nth(column).map_or(sql.len() - line_start, |(i, _)| i))
}

/// A type's text at the start of `text`: its words (`DOUBLE PRECISION`, `TIMESTAMP WITH TIME
/// ZONE`), parameters and `[]`.
fn type_words(text: &str) -> String {
    const CONTINUING: [&str; 6] = ["precision", "varying", "with", "without", "time", "zone"];
    let mut end = 0;
    let mut words = 0;
    loop {
        let rest = &text[end..];
        let skipped = rest.len() - rest.trim_start().len();
        let word_len =
            rest[skipped..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len() - skipped);
        if word_len == 0 {
            break;
        }
        let word = &rest[skipped..skipped + word_len];
        if words > 0 && !CONTINUING.contains(&word.to_ascii_lowercase().as_str()) {
            break;
        }
        end += skipped + word_len;
        words += 1;
    }
    let mut typed = text[..end].to_string();
    let rest = &text[end..];
    if rest.starts_with('(')
        && let Some(close) = rest.find(')')
    {
        typed.push_str(&rest[..=close]);
    }
    typed
}

/// A type as DuckDB writes it in a cast: the grammar's own types by their names, others as
/// written.
pub(crate) fn type_name(data_type: &DataType, written: Option<&str>) -> String {
    use datafusion::sql::sqlparser::ast::{CharacterLength, ExactNumberInfo, TimezoneInfo};
    let length = |l: &Option<CharacterLength>| match l {
        Some(CharacterLength::IntegerLength { length, .. }) => format!("({length})"),
        _ => String::new(),
    };
    let exact = |info: &ExactNumberInfo| match info {
        ExactNumberInfo::None => String::new(),
        ExactNumberInfo::Precision(p) => format!("({p})"),
        ExactNumberInfo::PrecisionAndScale(p, s) => format!("({p}, {s})"),
    };
    match data_type {
        DataType::Int(_) | DataType::Integer(_) => "INTEGER".into(),
        DataType::SmallInt(_) => "SMALLINT".into(),
        DataType::BigInt(_) => "BIGINT".into(),
        DataType::Real | DataType::Float(_) => "FLOAT".into(),
        DataType::DoublePrecision => "DOUBLE".into(),
        DataType::Decimal(info) | DataType::Numeric(info) | DataType::Dec(info) => format!("DECIMAL{}", exact(info)),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Char(l) | DataType::Character(l) | DataType::Varchar(l) | DataType::CharacterVarying(l) => {
            format!("VARCHAR{}", length(l))
        }
        DataType::Timestamp(_, TimezoneInfo::WithTimeZone) => "TIMESTAMP WITH TIME ZONE".into(),
        DataType::Timestamp(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => "TIMESTAMP".into(),
        DataType::Time(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => "TIME".into(),
        DataType::Interval { .. } => "INTERVAL".into(),
        // DuckDB's own type names as written (`double`, `date`, `ubigint`); JSON, a type of an
        // extension, quoted.
        _ => match written.filter(|w| !w.is_empty()) {
            Some(json) if json.eq_ignore_ascii_case("json") => format!("\"{json}\""),
            Some(written) => written.to_string(),
            None => data_type.to_string(),
        },
    }
}
