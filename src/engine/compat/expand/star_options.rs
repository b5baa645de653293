//! Stars with options — `* RENAME (a AS b)`, `t.* RENAME a AS b`, `* EXCLUDE (t.a)`,
//! `* EXCLUDE ("A")`, `* REPLACE (...)` — as DuckDB reads them. DataFusion refuses RENAME and
//! qualified or differently cased names in EXCLUDE, so the star is written out over the columns
//! of the SELECT's FROM clause (planned first, as for `COLUMNS(...)`): each column in turn, less
//! those excluded, replaced as `REPLACE` says, and named as `RENAME` says.

use datafusion::sql::sqlparser::ast::{
    ExcludeSelectItem, Expr, Ident, ObjectName, RenameSelectItem, Select, SelectItem, SelectItemQualifiedWildcardKind,
    Statement, WildcardAdditionalOptions,
};

use super::SourceColumn;
use super::selects::{each_select, first_select_in_scope};
use crate::error::{Error, Result};

fn has_star_options(select: &Select) -> bool {
    select.projection.iter().any(|item| options(item).is_some())
}

/// The options of a star that is written out here: one that renames, excludes or replaces
/// (DataFusion takes neither a qualified nor a differently cased name in EXCLUDE, nor a column
/// that a USING join holds once).
fn options(item: &SelectItem) -> Option<&WildcardAdditionalOptions> {
    match item {
        SelectItem::Wildcard(options) | SelectItem::QualifiedWildcard(_, options) => {
            let written_out =
                options.opt_rename.is_some() || options.opt_exclude.is_some() || options.opt_replace.is_some();
            written_out.then_some(options)
        }
        _ => None,
    }
}

/// `WITH ... SELECT * FROM <the FROM of the first SELECT with a star that has options>`.
pub(crate) fn star_options_probe(statement: &Statement) -> Option<Statement> {
    let (with, select) = first_select_in_scope(statement, &has_star_options)?;
    let mut probe = super::star_columns::star_probe(select.from)?;
    probe.with = with;
    Some(Statement::Query(probe))
}

/// The first SELECT with a star that has options, its stars written out over `columns` (its FROM's).
pub(crate) fn expand_star_options(statement: &mut Statement, columns: &[SourceColumn]) -> Result<()> {
    let Statement::Query(query) = statement else { return Ok(()) };
    let mut outcome = Ok(());
    each_select(query, &mut |select| {
        if has_star_options(select) {
            outcome = write_out(select, columns);
            return true;
        }
        false
    });
    outcome
}

fn write_out(select: &mut Select, columns: &[SourceColumn]) -> Result<()> {
    let mut projection = Vec::with_capacity(select.projection.len() + columns.len());
    for item in std::mem::take(&mut select.projection) {
        let Some(options) = options(&item) else {
            projection.push(item);
            continue;
        };
        let qualifier = match &item {
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(name), _) => {
                Some(name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.clone()).unwrap_or_default())
            }
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::Expr(_), _) => {
                return Err(Error::Query(
                    "RENAME after the fields of a struct (s.* RENAME ...) is not supported: write s.a AS b, s.c".into(),
                ));
            }
            _ => None,
        };
        projection.extend(written_out(options, qualifier.as_deref(), columns)?);
    }
    select.projection = projection;
    Ok(())
}

/// The star's columns as select items.
fn written_out(
    options: &WildcardAdditionalOptions,
    qualifier: Option<&str>,
    columns: &[SourceColumn],
) -> Result<Vec<SelectItem>> {
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    // A name as written, without its quotes (DuckDB also takes `EXCLUDE ('i')`).
    let unquoted = |name: &ObjectName| {
        let parts: Vec<String> =
            name.0.iter().map(|p| p.as_ident().map_or_else(|| p.to_string(), |i| i.value.clone())).collect();
        parts.join(".")
    };
    let excluded: Vec<String> = match &options.opt_exclude {
        Some(ExcludeSelectItem::Single(name)) => vec![unquoted(name)],
        Some(ExcludeSelectItem::Multiple(names)) => names.iter().map(unquoted).collect(),
        None => Vec::new(),
    };
    let renames: Vec<(&Ident, &Ident)> = match &options.opt_rename {
        Some(RenameSelectItem::Single(one)) => vec![(&one.ident, &one.alias)],
        Some(RenameSelectItem::Multiple(many)) => many.iter().map(|r| (&r.ident, &r.alias)).collect(),
        None => Vec::new(),
    };
    let kept: Vec<&SourceColumn> = columns
        .iter()
        .filter(|(table, _)| qualifier.is_none_or(|q| table.as_deref().is_some_and(|t| same(t, q))))
        .filter(|(table, name)| {
            !excluded.iter().any(|e| same(e, name) || table.as_ref().is_some_and(|t| same(e, &format!("{t}.{name}"))))
        })
        .collect();
    for (old, _) in &renames {
        if !kept.iter().any(|(_, name)| same(name, &old.value)) {
            let names: Vec<&str> = kept.iter().map(|(_, n)| n.as_str()).collect();
            return Err(Error::Query(format!(
                "RENAME names the column {}, which the star does not select (it selects {})",
                old.value,
                names.join(", ")
            )));
        }
    }
    Ok(kept
        .into_iter()
        .map(|(table, name)| {
            let replaced = options
                .opt_replace
                .iter()
                .flat_map(|r| &r.items)
                .find(|r| same(&r.column_name.value, name))
                .map(|r| r.expr.clone());
            let reference = replaced.unwrap_or_else(|| match table {
                Some(table) => {
                    Expr::CompoundIdentifier(vec![Ident::with_quote('"', table), Ident::with_quote('"', name)])
                }
                None => Expr::Identifier(Ident::with_quote('"', name)),
            });
            match renames.iter().find(|(old, _)| same(&old.value, name)) {
                Some((_, new)) => SelectItem::ExprWithAlias { expr: reference, alias: (*new).clone() },
                None if options.opt_replace.is_some() => {
                    SelectItem::ExprWithAlias { expr: reference, alias: Ident::with_quote('"', name) }
                }
                None => SelectItem::UnnamedExpr(reference),
            }
        })
        .collect())
}
