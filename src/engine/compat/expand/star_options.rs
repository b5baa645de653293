//! Stars as DuckDB reads them — with options (`* RENAME (a AS b)`, `t.* RENAME a AS b`,
//! `* EXCLUDE (t.a)`, `* EXCLUDE ("A")`, `* REPLACE (...)`) and over joins on names
//! (`a JOIN b USING (k)`, NATURAL): DataFusion refuses RENAME and qualified or differently cased
//! names in EXCLUDE, and orders a USING join's columns otherwise. Such a star is written out
//! over the columns of the SELECT's FROM clause (each relation's planned first, as for
//! `COLUMNS(...)`; see `from_columns`): each column in turn, less those excluded, replaced as
//! `REPLACE` says, and named as `RENAME` says.

use datafusion::sql::sqlparser::ast::{
    ExcludeSelectItem, Expr, Ident, ObjectName, RenameSelectItem, Select, SelectItem, SelectItemQualifiedWildcardKind,
    Statement, WildcardAdditionalOptions,
};

use super::SourceColumn;
use super::from_columns::{self, StarColumn};
use super::selects::{each_select, first_select_in_scope};
use crate::error::{Error, Result};

/// Whether the SELECT's stars are written out here: one has options, or a bare `*` reads a join
/// on names.
fn writes_out(select: &Select) -> bool {
    select.projection.iter().any(|item| options(item).is_some())
        || select.projection.iter().any(|item| matches!(item, SelectItem::Wildcard(_)))
            && from_columns::joins_on_names(&select.from)
}

/// The options of a star, if it has any.
fn options(item: &SelectItem) -> Option<&WildcardAdditionalOptions> {
    let (SelectItem::Wildcard(options) | SelectItem::QualifiedWildcard(_, options)) = item else { return None };
    let any = options.opt_rename.is_some() || options.opt_exclude.is_some() || options.opt_replace.is_some();
    any.then_some(options)
}

/// The probes of the first SELECT whose stars are written out: `SELECT q.* FROM ...` for each
/// of its relations, or `SELECT * FROM ...` where one has no name.
pub(crate) fn star_options_probes(statement: &Statement) -> Option<Vec<Statement>> {
    let (with, select) = first_select_in_scope(statement, &writes_out)?;
    if let Some(names) = from_columns::relation_names(&select.from) {
        return from_columns::probes(&with, &select.from, &names);
    }
    let mut probe = super::star_columns::star_probe(select.from)?;
    probe.with = with;
    Some(vec![Statement::Query(probe)])
}

/// The first SELECT whose stars are written out, over its probes' columns.
pub(crate) fn expand_star_options(statement: &mut Statement, planned: &[Vec<SourceColumn>]) -> Result<()> {
    let Statement::Query(query) = statement else { return Ok(()) };
    let mut outcome = Ok(());
    each_select(query, &mut |select| {
        if writes_out(select) {
            outcome = write_out(select, planned);
            return true;
        }
        false
    });
    outcome
}

fn write_out(select: &mut Select, planned: &[Vec<SourceColumn>]) -> Result<()> {
    let names_only = |columns: &Vec<SourceColumn>| columns.iter().map(|(_, name)| name.clone()).collect::<Vec<_>>();
    let relations: Vec<(Ident, Vec<String>)> = match from_columns::relation_names(&select.from) {
        Some(names) if names.len() == planned.len() => names.into_iter().zip(planned.iter().map(names_only)).collect(),
        _ => Vec::new(),
    };
    let all = if relations.is_empty() {
        // One `SELECT *` probe: its columns, as DataFusion lists them.
        let columns = planned.first().into_iter().flatten();
        columns
            .map(|(table, name)| StarColumn {
                table: table.clone().unwrap_or_default(),
                name: name.clone(),
                expr: match table {
                    Some(table) => {
                        Expr::CompoundIdentifier(vec![Ident::with_quote('"', table), Ident::with_quote('"', name)])
                    }
                    None => Expr::Identifier(Ident::with_quote('"', name)),
                },
            })
            .collect()
    } else {
        from_columns::star_columns(&select.from, &relations)
    };
    // A relation's own columns (over USING, `b.*` has b's `k` too).
    let of_relation = |qualifier: &str| -> Vec<StarColumn> {
        if relations.is_empty() {
            let columns = all.iter().filter(|c| same(&c.table, qualifier));
            return columns
                .map(|c| StarColumn { table: c.table.clone(), name: c.name.clone(), expr: c.expr.clone() })
                .collect();
        }
        let named = relations.iter().filter(|(table, _)| same(&table.value, qualifier));
        named
            .flat_map(|(table, names)| {
                names.iter().map(|name| StarColumn {
                    table: table.value.clone(),
                    name: name.clone(),
                    expr: Expr::CompoundIdentifier(vec![table.clone(), Ident::with_quote('"', name)]),
                })
            })
            .collect()
    };
    let mut projection = Vec::with_capacity(select.projection.len() + all.len());
    for item in std::mem::take(&mut select.projection) {
        let no_options = WildcardAdditionalOptions::default();
        match &item {
            SelectItem::Wildcard(options) => projection.extend(written_out(options, &all)?),
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(name), options)
                if options != &no_options =>
            {
                let qualifier = name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.clone()).unwrap_or_default();
                let columns = of_relation(&qualifier);
                if columns.is_empty() {
                    return Err(Error::Query(format!(
                        "{qualifier}.* with EXCLUDE, REPLACE or RENAME names no table of the FROM clause (the fields of a struct are not supported there): write the columns out"
                    )));
                }
                projection.extend(written_out(options, &columns)?);
            }
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::Expr(_), options)
                if options != &no_options =>
            {
                return Err(Error::Query(
                    "EXCLUDE, REPLACE or RENAME after the fields of a struct (s.* RENAME ...) is not supported: write s.a AS b, s.c"
                        .into(),
                ));
            }
            _ => projection.push(item),
        }
    }
    select.projection = projection;
    Ok(())
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Whether `name` (`a`, or `t.a` as a qualified RENAME is written) names the column.
fn names(column: &StarColumn, name: &str) -> bool {
    same(&column.name, name) || same(&format!("{}.{}", column.table, column.name), name)
}

/// The star's columns as select items.
fn written_out(options: &WildcardAdditionalOptions, columns: &[StarColumn]) -> Result<Vec<SelectItem>> {
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
    let kept: Vec<&StarColumn> = columns
        .iter()
        .filter(|c| !excluded.iter().any(|e| same(e, &c.name) || same(e, &format!("{}.{}", c.table, c.name))))
        .collect();
    for (old, _) in &renames {
        if !kept.iter().any(|c| names(c, &old.value)) {
            let names: Vec<&str> = kept.iter().map(|c| c.name.as_str()).collect();
            return Err(Error::Query(format!(
                "RENAME names the column {}, which the star does not select (it selects {})",
                old.value,
                names.join(", ")
            )));
        }
    }
    Ok(kept
        .into_iter()
        .map(|column| {
            let replaced = options
                .opt_replace
                .iter()
                .flat_map(|r| &r.items)
                .find(|r| same(&r.column_name.value, &column.name))
                .map(|r| r.expr.clone());
            let named = replaced.is_some() || !matches!(column.expr, Expr::CompoundIdentifier(_));
            let reference = replaced.unwrap_or_else(|| column.expr.clone());
            match renames.iter().find(|(old, _)| names(column, &old.value)) {
                Some((_, new)) => SelectItem::ExprWithAlias { expr: reference, alias: (*new).clone() },
                None if named => {
                    SelectItem::ExprWithAlias { expr: reference, alias: Ident::with_quote('"', &column.name) }
                }
                None => SelectItem::UnnamedExpr(reference),
            }
        })
        .collect())
}
