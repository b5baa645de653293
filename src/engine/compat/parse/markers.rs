//! What PIVOT and UNPIVOT share: reading a statement's clauses at its own level, and the SELECT
//! of markers that stands for it until the engine has what it needs to write it out.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Query, Select, SelectItem, SetExpr, Statement, TableWithJoins, With};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::Token;

use crate::error::Result;

/// The clauses of a statement's text found at its own level (not inside brackets): each one's
/// name, where its keyword starts and where its body starts.
pub(crate) struct Clauses<'a> {
    text: &'a str,
    found: Vec<(&'static str, usize, usize)>,
}

impl<'a> Clauses<'a> {
    /// `recognise` names the clause a keyword starts (given whether BY follows it and the clauses
    /// found so far); `None` when the text does not read as SQL.
    pub(crate) fn read(
        text: &'a str,
        recognise: impl Fn(Keyword, bool, &[&'static str]) -> Option<&'static str>,
    ) -> Option<Self> {
        let tokens = crate::engine::compat::parse::tokens::significant_tokens(text)?;
        let offset = crate::engine::compat::parse::tokens::offsets(text);
        let mut found: Vec<(&'static str, usize, usize)> = Vec::new();
        let mut depth = 0;
        for (i, t) in tokens.iter().enumerate() {
            match &t.token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::Word(w) if depth == 0 => {
                    let by =
                        matches!(tokens.get(i + 1).map(|t| &t.token), Some(Token::Word(n)) if n.keyword == Keyword::BY);
                    let seen: Vec<&'static str> = found.iter().map(|c| c.0).collect();
                    if let Some(clause) = recognise(w.keyword, by, &seen) {
                        let body = if clause.ends_with(" BY") { tokens[i + 1].span.end } else { t.span.end };
                        found.push((clause, offset(t.span.start), offset(body)));
                    }
                }
                _ => {}
            }
        }
        Some(Clauses { text, found })
    }

    /// The text before the clause `name` (the table the statement reads), if there is that
    /// clause and something before it.
    pub(crate) fn subject(&self, name: &str) -> Option<&'a str> {
        let text = self.found.iter().find(|c| c.0 == name).map(|c| self.text[..c.1].trim())?;
        (!text.is_empty()).then_some(text)
    }

    /// The text before the first clause (all of it without one).
    pub(crate) fn lead(&self) -> &'a str {
        self.text[..self.found.first().map_or(self.text.len(), |c| c.1)].trim()
    }

    /// The body of the clause `name`, up to the next clause.
    pub(crate) fn body(&self, name: &str) -> Option<String> {
        let k = self.found.iter().position(|c| c.0 == name)?;
        let end = self.found.get(k + 1).map_or(self.text.len(), |n| n.1);
        Some(self.text[self.found[k].2..end].trim().to_string())
    }
}

/// The comma-separated parts of `text` at its own level.
pub(crate) fn split_top_level(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let (mut depth, mut quoted) = (0, false);
    for c in text.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' | '[' if !quoted => depth += 1,
            ')' | ']' if !quoted => depth -= 1,
            ',' if depth == 0 && !quoted => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts.into_iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()
}

/// The first SELECT of the statement that `marked` picks, if any.
pub(crate) fn first_marked(statement: &Statement, marked: fn(&Select) -> bool) -> Option<Select> {
    struct Finder(fn(&Select) -> bool, Option<Select>);
    impl crate::engine::compat::ast::Walk for Finder {
        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
            if let SetExpr::Select(select) = query.body.as_ref()
                && (self.0)(select)
            {
                self.1 = Some((**select).clone());
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut finder = Finder(marked, None);
    let _ = crate::engine::compat::ast::walk(statement, &mut finder);
    finder.1
}

/// `edit` applied to the query whose body is the statement's first SELECT that `marked` picks.
pub(crate) fn edit_first_marked(
    statement: &mut Statement,
    marked: fn(&Select) -> bool,
    edit: &mut dyn FnMut(&mut Query) -> Result<()>,
) -> Result<()> {
    struct Editor<'a>(fn(&Select) -> bool, &'a mut dyn FnMut(&mut Query) -> Result<()>, Result<()>);
    impl crate::engine::compat::ast::WalkMut for Editor<'_> {
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            if let SetExpr::Select(select) = query.body.as_ref()
                && (self.0)(select)
            {
                self.2 = (self.1)(query);
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut editor = Editor(marked, edit, Ok(()));
    let _ = crate::engine::compat::ast::walk_mut(statement, &mut editor);
    editor.2
}

/// The statement's CTEs for a probe of its first marked SELECT: those before the CTE that holds
/// it (a CTE holding markers cannot plan).
pub(crate) fn unmarked_ctes(statement: &Statement, marked: fn(&Select) -> bool) -> Option<With> {
    let Statement::Query(query) = statement else { return None };
    let mut with = query.with.clone()?;
    if let Some(at) = with.cte_tables.iter().position(|cte| first_marked_in(&cte.query, marked)) {
        with.cte_tables.truncate(at);
    }
    Some(with)
}

fn first_marked_in(query: &Query, marked: fn(&Select) -> bool) -> bool {
    first_marked(&Statement::Query(Box::new(query.clone())), marked).is_some()
}

/// Whether a FROM clause reads a pivot not yet written out (its markers): a pivot of it waits.
pub(crate) fn reads_markers(from: &[TableWithJoins]) -> bool {
    from.iter().any(|table| {
        crate::engine::compat::ast::each_expr(table, |e: &Expr| match e {
            Expr::Function(f)
                if MARKER_PREFIXES.iter().any(|m| f.name.to_string().to_ascii_lowercase().starts_with(m)) =>
            {
                ControlFlow::Break(None)
            }
            _ => ControlFlow::Continue(()),
        })
        .is_break()
    })
}

const MARKER_PREFIXES: [&str; 2] = ["__pivot_", "__unpivot_"];

/// The arguments of a projection item that is the marker `name`.
pub(crate) fn marker_args(item: &SelectItem, name: &str) -> Option<Vec<Expr>> {
    let (SelectItem::UnnamedExpr(Expr::Function(f)) | SelectItem::ExprWithAlias { expr: Expr::Function(f), .. }) = item
    else {
        return None;
    };
    if !f.name.to_string().eq_ignore_ascii_case(name) {
        return None;
    }
    crate::engine::compat::ast::positional_args(f)
}
