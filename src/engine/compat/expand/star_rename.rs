//! `* RENAME (a AS b)` and `t.* RENAME a AS b`: DuckDB's star with some columns renamed where
//! they stand. DataFusion refuses RENAME, so the star is written out over the columns of the
//! SELECT's FROM clause (planned first, as for `COLUMNS(...)`): each column in turn, less those
//! excluded, replaced as `REPLACE` says, and named as `RENAME` says.

use datafusion::sql::sqlparser::ast::{
    ExcludeSelectItem, Expr, Ident, RenameSelectItem, Select, SelectItem, SelectItemQualifiedWildcardKind, Statement,
    WildcardAdditionalOptions,
};

use super::SourceColumn;
use super::selects::{each_select, first_select_in_scope};
use crate::error::{Error, Result};

fn renames(select: &Select) -> bool {
    select.projection.iter().any(|item| options(item).is_some())
}

/// The options of a star that renames.
fn options(item: &SelectItem) -> Option<&WildcardAdditionalOptions> {
    match item {
        SelectItem::Wildcard(options) | SelectItem::QualifiedWildcard(_, options) => {
            options.opt_rename.is_some().then_some(options)
        }
        _ => None,
    }
}

/// `WITH ... SELECT * FROM <the FROM of the first SELECT with a renaming star>`.
pub(crate) fn rename_probe(statement: &Statement) -> Option<Statement> {
    let (with, select) = first_select_in_scope(statement, &renames)?;
    let mut probe = super::star_columns::star_probe(select.from)?;
    probe.with = with;
    Some(Statement::Query(probe))
}

/// The first SELECT with a renaming star, its stars written out over `columns` (its FROM's).
pub(crate) fn expand_rename(statement: &mut Statement, columns: &[SourceColumn]) -> Result<()> {
    let Statement::Query(query) = statement else { return Ok(()) };
    let mut outcome = Ok(());
    each_select(query, &mut |select| {
        if renames(select) {
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
    let excluded: Vec<String> = match &options.opt_exclude {
        Some(ExcludeSelectItem::Single(name)) => vec![name.to_string()],
        Some(ExcludeSelectItem::Multiple(names)) => names.iter().map(|n| n.to_string()).collect(),
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
