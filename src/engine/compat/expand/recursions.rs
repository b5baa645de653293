//! Recursive CTEs DataFusion cannot run, as the engine computes them iteration by iteration
//! (`engine::recursions`): DuckDB's `USING KEY` ones the parse pass marked (they read
//! `recurring.t`, or join their start and step with UNION), and any other whose step reads
//! `recurring.t` (the rows kept so far) or reads the CTE more than once or inside a subquery.
//! This finds the next such CTE and writes the statements its iterations run; once computed,
//! the CTE reads the table of its rows.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Cte, Expr, Ident, ObjectName, ObjectNamePart, Query, SelectItem, SetExpr, SetOperator, SetQuantifier, Statement,
    TableAlias, TableFactor, Value,
};

use crate::engine::compat::ast::{Walk, WalkMut, walk, walk_mut};
use crate::engine::compat::parse::recursive_keys::{KEY_MARKER, KeyItem, key_items};
use crate::error::{Error, Result};

/// One recursive CTE to compute.
pub(crate) struct Recursion {
    /// Where it stands: the statement's n-th WITH (in the walk's order) and its place in it.
    with_at: usize,
    cte_at: usize,
    pub(crate) name: String,
    /// The names its column list gives (the first columns' names; the others keep theirs).
    pub(crate) columns: Vec<String>,
    /// DuckDB's USING KEY list, when it has one.
    keys: Option<Vec<KeyItem>>,
    /// UNION ALL: each iteration reads the rows the one before gave; UNION: only those new (or,
    /// keyed, the rows of the keys that changed).
    pub(crate) union_all: bool,
    /// Whether the step reads the CTE at all (else it runs once).
    pub(crate) reads_itself: bool,
    /// The CTEs before it in its WITH, which its start and step may read.
    earlier: Option<datafusion::sql::sqlparser::ast::With>,
    start: SetExpr,
    step: SetExpr,
}

impl Recursion {
    pub(crate) fn keyed(&self) -> bool {
        self.keys.is_some()
    }

    /// Whether every column but the keys keeps the latest value (no aggregate in the key list):
    /// the rows kept so far are then all a later iteration needs.
    pub(crate) fn latest_values_only(&self) -> bool {
        self.keys.as_ref().is_some_and(|keys| keys.iter().all(|k| matches!(k, KeyItem::Key(_))))
    }

    /// The start's rows.
    pub(crate) fn start(&self) -> Statement {
        Statement::Query(Box::new(self.over_earlier(self.start.clone())))
    }

    /// One iteration: the step reading `working` as the CTE and `recurring` as `recurring.<name>`.
    pub(crate) fn step(&self, working: &str, recurring: &str) -> Statement {
        let mut query = self.over_earlier(self.step.clone());
        let mut renaming = Renaming { name: &self.name, working, recurring };
        let _ = walk_mut(&mut query, &mut renaming);
        Statement::Query(Box::new(query))
    }

    /// DuckDB SQL for the rows kept of `history` (columns `columns`, ordered by `__seq`): one per
    /// key, each other column the aggregate the key list gives it, or its latest value.
    pub(crate) fn kept_rows_sql(&self, history: &str, columns: &[String]) -> Result<String> {
        let keys = self.keys.as_deref().unwrap_or_default();
        let same = |written: &str, column: &str| written.trim_matches('"').eq_ignore_ascii_case(column);
        let key_columns: Vec<String> = columns
            .iter()
            .filter(|c| keys.iter().any(|k| matches!(k, KeyItem::Key(written) if same(written, c))))
            .map(|c| quoted(c))
            .collect();
        if key_columns.is_empty() {
            return Err(Error::Query(format!(
                "recursive CTEs with USING KEY: the key list of {} names none of its columns ({})",
                self.name,
                columns.join(", ")
            )));
        }
        let items: Vec<String> = columns
            .iter()
            .map(|c| {
                let aggregate = keys.iter().find_map(|k| match k {
                    KeyItem::Aggregate { call, column } if same(column, c) => Some(call),
                    _ => None,
                });
                match aggregate {
                    _ if key_columns.contains(&quoted(c)) => quoted(c),
                    Some(call) => format!("{call} AS {}", quoted(c)),
                    // DuckDB's LAST: the latest row's value, NULL included.
                    None => format!("last({} ORDER BY __seq) AS {}", quoted(c), quoted(c)),
                }
            })
            .collect();
        Ok(format!("SELECT {} FROM {} GROUP BY {}", items.join(", "), quoted(history), key_columns.join(", ")))
    }

    fn over_earlier(&self, body: SetExpr) -> Query {
        let mut query = template();
        query.with = self.earlier.clone();
        query.body = Box::new(body);
        query
    }
}

/// DuckDB SQL for the rows of `rows` that `before` does not hold (each once).
pub(crate) fn new_rows_sql(rows: &str, before: &str) -> String {
    format!("SELECT * FROM {} EXCEPT SELECT * FROM {}", quoted(rows), quoted(before))
}

fn quoted(name: &str) -> String {
    Ident::with_quote('"', name).to_string()
}

fn template() -> Query {
    let parsed =
        datafusion::sql::sqlparser::parser::Parser::new(&crate::engine::compat::parse::dialect::DuckDbCompatDialect)
            .try_with_sql("SELECT 1")
            .and_then(|mut p| p.parse_query());
    match parsed {
        Ok(query) => *query,
        Err(e) => unreachable!("a constant query parses: {e}"),
    }
}

/// The statement's next recursive CTE to compute, if it has one.
pub(crate) fn next(statement: &Statement) -> Option<Result<Recursion>> {
    let mut finder = Finder { withs: 0, found: None };
    let _ = walk(statement, &mut finder);
    finder.found
}

/// `statement` with the CTE of `recursion` reading `table`, its rows, and without its marker.
pub(crate) fn replace(statement: &mut Statement, recursion: &Recursion, table: &str) {
    let mut replacer = Replacer { withs: 0, recursion, table };
    let _ = walk_mut(statement, &mut replacer);
}

struct Finder {
    withs: usize,
    found: Option<Result<Recursion>>,
}

impl Walk for Finder {
    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        let Some(with) = &query.with else { return ControlFlow::Continue(()) };
        let with_at = self.withs;
        self.withs += 1;
        for (cte_at, cte) in with.cte_tables.iter().enumerate() {
            let keys = cte_at.checked_sub(1).and_then(|before| marked_keys(&with.cte_tables[before]));
            if let Some(found) = recursion(with, with_at, cte_at, cte, keys) {
                self.found = Some(found);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}

/// The key list a marker CTE holds.
fn marked_keys(cte: &Cte) -> Option<String> {
    if !cte.alias.name.value.starts_with(KEY_MARKER) {
        return None;
    }
    let SetExpr::Select(select) = cte.query.body.as_ref() else { return None };
    // (Named as DuckDB names it by then.)
    let value = match select.projection.as_slice() {
        [SelectItem::UnnamedExpr(Expr::Value(value))]
        | [SelectItem::ExprWithAlias { expr: Expr::Value(value), .. }] => value,
        _ => return None,
    };
    match &value.value {
        Value::SingleQuotedString(list) => Some(list.clone()),
        _ => None,
    }
}

fn recursion(
    with: &datafusion::sql::sqlparser::ast::With,
    with_at: usize,
    cte_at: usize,
    cte: &Cte,
    keys: Option<String>,
) -> Option<Result<Recursion>> {
    if !with.recursive {
        return None;
    }
    let query = cte.query.as_ref();
    let SetExpr::SetOperation { op: SetOperator::Union, set_quantifier, left, right } = query.body.as_ref() else {
        return None;
    };
    let name = cte.alias.name.value.clone();
    let mut reads = Reads { name: &name, depth: 0, direct: 0, nested: 0, recurring: 0 };
    let step_query = {
        let mut q = template();
        q.body = right.clone();
        q
    };
    let _ = walk(&step_query, &mut reads);
    let Reads { direct, nested, recurring, .. } = reads;
    // DataFusion's own: the step reads the CTE once, in its FROM.
    let own = recurring == 0 && direct == 1 && nested == 0;
    if keys.is_none() && (own || direct + nested + recurring == 0) {
        return None;
    }
    if query.order_by.is_some() || query.limit_clause.is_some() {
        return Some(Err(Error::Query(format!(
            "the recursive CTE {name} orders or limits its rows: order or limit where it is read instead"
        ))));
    }
    let keys = match keys.map(|list| key_items(&list)).transpose() {
        Ok(keys) => keys,
        Err(e) => return Some(Err(e)),
    };
    let earlier: Vec<Cte> =
        with.cte_tables[..cte_at].iter().filter(|c| !c.alias.name.value.starts_with(KEY_MARKER)).cloned().collect();
    Some(Ok(Recursion {
        with_at,
        cte_at,
        name,
        columns: cte.alias.columns.iter().map(|c| c.name.value.clone()).collect(),
        keys,
        union_all: matches!(set_quantifier, SetQuantifier::All),
        reads_itself: direct + nested + recurring > 0,
        earlier: (!earlier.is_empty()).then(|| datafusion::sql::sqlparser::ast::With {
            with_token: with.with_token.clone(),
            recursive: true,
            cte_tables: earlier,
        }),
        start: left.as_ref().clone(),
        step: right.as_ref().clone(),
    }))
}

/// How a step reads its CTE: in its own FROM, deeper (in a subquery or a derived table), and as
/// `recurring.<name>`.
struct Reads<'a> {
    name: &'a str,
    depth: usize,
    direct: usize,
    nested: usize,
    recurring: usize,
}

impl Walk for Reads<'_> {
    fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }
    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, .. } = factor {
            match read_as(name, self.name) {
                Some(Read::Working) if self.depth <= 1 => self.direct += 1,
                Some(Read::Working) => self.nested += 1,
                Some(Read::Recurring) => self.recurring += 1,
                None => {}
            }
        }
        ControlFlow::Continue(())
    }
}

enum Read {
    Working,
    Recurring,
}

fn read_as(table: &ObjectName, cte: &str) -> Option<Read> {
    let part = |p: &ObjectNamePart| match p {
        ObjectNamePart::Identifier(i) => Some(i.value.clone()),
        _ => None,
    };
    let parts: Vec<String> = table.0.iter().filter_map(part).collect();
    match parts.as_slice() {
        [one] if one.eq_ignore_ascii_case(cte) => Some(Read::Working),
        [schema, one] if schema.eq_ignore_ascii_case("recurring") && one.eq_ignore_ascii_case(cte) => {
            Some(Read::Recurring)
        }
        _ => None,
    }
}

/// The step's reads of its CTE turned to the tables of one iteration, under the CTE's name.
struct Renaming<'a> {
    name: &'a str,
    working: &'a str,
    recurring: &'a str,
}

impl WalkMut for Renaming<'_> {
    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, alias, .. } = factor {
            let table = match read_as(name, self.name) {
                Some(Read::Working) => self.working,
                Some(Read::Recurring) => self.recurring,
                None => return ControlFlow::Continue(()),
            };
            *name = ObjectName::from(vec![Ident::new(table)]);
            if alias.is_none() {
                *alias =
                    Some(TableAlias { explicit: true, name: Ident::new(self.name), columns: Vec::new(), at: None });
            }
        }
        ControlFlow::Continue(())
    }
}

struct Replacer<'a> {
    withs: usize,
    recursion: &'a Recursion,
    table: &'a str,
}

impl WalkMut for Replacer<'_> {
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let Some(with) = &mut query.with else { return ControlFlow::Continue(()) };
        let with_at = self.withs;
        self.withs += 1;
        if with_at != self.recursion.with_at {
            return ControlFlow::Continue(());
        }
        if let Some(cte) = with.cte_tables.get_mut(self.recursion.cte_at) {
            let mut body = template();
            body.body = Box::new(SetExpr::Select(Box::new(
                match crate::engine::compat::parse::parsed_select(&format!("SELECT * FROM {}", quoted(self.table))) {
                    Ok(select) => select,
                    Err(e) => unreachable!("a plain SELECT parses: {e}"),
                },
            )));
            *cte.query = body;
        }
        if self.recursion.keyed() && self.recursion.cte_at > 0 {
            with.cte_tables.remove(self.recursion.cte_at - 1);
        }
        ControlFlow::Break(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(sql: &str) -> Statement {
        crate::engine::compat::prepare(sql).unwrap().remove(0)
    }

    #[test]
    fn datafusion_runs_a_step_that_reads_its_cte_once_in_its_from() {
        assert!(
            next(&statement("WITH RECURSIVE t(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM t WHERE i < 3) TABLE t"))
                .is_none()
        );
        assert!(next(&statement("WITH RECURSIVE t(i) AS (SELECT 1 UNION ALL SELECT 2) TABLE t")).is_none());
    }

    #[test]
    fn steps_reading_recurring_or_reading_twice_are_computed() {
        let found = next(&statement(
            "WITH RECURSIVE t(i) AS (SELECT 1 UNION SELECT a.i + b.i FROM t a, t b WHERE a.i < 9) TABLE t",
        ))
        .unwrap()
        .unwrap();
        assert!(!found.union_all && !found.keyed() && found.reads_itself);
        assert_eq!(found.step("w", "r").to_string(), "SELECT a.i + b.i FROM w a, w b WHERE a.i < 9");
        let keyed = next(&statement(
            "WITH RECURSIVE t(k, v) USING KEY (k) AS (SELECT 1, 0 UNION ALL SELECT k, v + 1 FROM recurring.t WHERE v < 3) TABLE t",
        ))
        .unwrap()
        .unwrap();
        assert!(keyed.keyed() && keyed.latest_values_only());
        assert_eq!(keyed.step("w", "r").to_string(), "SELECT k, v + 1 FROM r AS t WHERE v < 3");
        assert_eq!(
            keyed.kept_rows_sql("h", &["k".into(), "v".into()]).unwrap(),
            "SELECT \"k\", last(\"v\" ORDER BY __seq) AS \"v\" FROM \"h\" GROUP BY \"k\""
        );
        let mut replaced = statement(
            "WITH RECURSIVE t(k, v) USING KEY (k) AS (SELECT 1, 0 UNION ALL SELECT k, v + 1 FROM recurring.t WHERE v < 3) TABLE t",
        );
        replace(&mut replaced, &keyed, "rows");
        assert_eq!(replaced.to_string(), "WITH RECURSIVE t (k, v) AS (SELECT * FROM \"rows\") SELECT * FROM t");
    }
}
