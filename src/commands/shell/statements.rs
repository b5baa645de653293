//! Where a statement typed into the shell ends: strings, quoted names and comments scanned, so
//! that Enter runs a statement only once its `;` is code.

use reedline::{ValidationResult, Validator};

/// Whether `text` ends inside a quoted string (`''` is a quote within one).
pub(super) fn inside_text(text: &str) -> bool {
    let mut scan = Scan::default();
    text.chars().for_each(|c| scan.push(c));
    scan.state == State::Text
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Code,
    Text,
    Identifier,
    LineComment,
    BlockComment,
}

/// A scanner over SQL that knows strings, quoted names and comments, and the last character of
/// code seen outside them.
#[derive(Debug, Default)]
struct Scan {
    state: State,
    previous: Option<char>,
    last_code: Option<char>,
}

impl Scan {
    fn push(&mut self, c: char) {
        let previous = self.previous.replace(c);
        self.state = match (self.state, c) {
            (State::Code, '\'') => State::Text,
            (State::Code, '"') => State::Identifier,
            (State::Code, '-') if previous == Some('-') => State::LineComment,
            (State::Code, '*') if previous == Some('/') => State::BlockComment,
            (State::Text, '\'') | (State::Identifier, '"') => State::Code,
            (State::LineComment, '\n') => State::Code,
            (State::BlockComment, '/') if previous == Some('*') => {
                self.previous = None;
                State::Code
            }
            (state, _) => state,
        };
        if self.state == State::Code && !c.is_whitespace() && !matches!(c, '-' | '/') {
            self.last_code = Some(c);
        }
    }
}

/// Whether `sql` is a complete statement: its last code (after strings and comments) is `;`.
pub(super) fn statement_complete(sql: &str) -> bool {
    let mut scan = Scan::default();
    sql.chars().for_each(|c| scan.push(c));
    scan.state != State::Text && scan.state != State::Identifier && scan.last_code == Some(';')
}

/// Whether `sql` holds nothing but whitespace and comments.
pub(super) fn no_code(sql: &str) -> bool {
    let mut scan = Scan::default();
    sql.chars().for_each(|c| scan.push(c));
    scan.last_code.is_none() && scan.state != State::Text && scan.state != State::Identifier
}

/// Enter runs a dot command or a statement ended by `;`; otherwise it starts a new line.
pub(super) struct StatementValidator;

impl Validator for StatementValidator {
    fn validate(&self, line: &str) -> ValidationResult {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('.') || trimmed.starts_with('\\') || statement_complete(line) {
            ValidationResult::Complete
        } else {
            ValidationResult::Incomplete
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_with_a_semicolon_outside_strings_and_comments() {
        assert!(statement_complete("SELECT 1;"));
        assert!(statement_complete("SELECT 1; -- done"));
        assert!(statement_complete("SELECT 1 /* a */ ;  "));
        assert!(!statement_complete("SELECT ';'"));
        assert!(!statement_complete("SELECT 1 -- ;"));
        assert!(!statement_complete("SELECT 'it''s;"));
        assert!(!statement_complete("SELECT \"a;"));
        assert!(statement_complete("SELECT 'it''s';"));
        assert!(!statement_complete("SELECT 1"));
    }
}
