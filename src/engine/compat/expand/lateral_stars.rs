//! A LATERAL subquery that selects the star of a FROM item before it — `FROM t1 LEFT JOIN i8 ON
//! ..., LATERAL (SELECT i8.*, t2.f1 FROM t2 LIMIT 1) ss` — which DataFusion refuses ("invalid
//! qualifier": the star's table is not the subquery's). Each such star is written out as that
//! item's columns, learnt by planning `SELECT i8.* FROM <the items before>` first.

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement, TableFactor, TableWithJoins,
};

use super::SourceColumn;
use super::selects::{each_select, first_select_in_scope};
use crate::error::Result;

/// The names a FROM clause gives its relations, in lower case (inside parenthesized joins too).
fn names(from: &[TableWithJoins]) -> Vec<String> {
    from.iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
        .flat_map(|factor| match factor {
            TableFactor::Table { alias: Some(alias), .. } | TableFactor::Derived { alias: Some(alias), .. } => {
                vec![alias.name.value.to_lowercase()]
            }
            TableFactor::Table { name, .. } => {
                name.0.last().map(|p| p.to_string().trim_matches('"').to_lowercase()).into_iter().collect()
            }
            TableFactor::NestedJoin { table_with_joins, .. } => names(std::slice::from_ref(table_with_joins)),
            _ => Vec::new(),
        })
        .collect()
}

/// The qualifier of a `q.*` select item.
fn star_of(item: &SelectItem) -> Option<String> {
    match item {
        SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(name), _) => {
            name.0.last().map(|p| p.to_string().trim_matches('"').to_lowercase())
        }
        _ => None,
    }
}

/// In `select`, the first FROM item that is such a lateral subquery: its place, and the stars'
/// qualifiers, in order.
fn lateral_stars(select: &Select) -> Option<(usize, Vec<String>)> {
    (1..select.from.len()).find_map(|k| {
        let TableFactor::Derived { lateral: true, subquery, .. } = &select.from[k].relation else { return None };
        let SetExpr::Select(inner) = subquery.body.as_ref() else { return None };
        let (own, earlier) = (names(&inner.from), names(&select.from[..k]));
        let stars: Vec<String> =
            inner.projection.iter().filter_map(star_of).filter(|q| !own.contains(q) && earlier.contains(q)).collect();
        (!stars.is_empty()).then_some((k, stars))
    })
}

/// `SELECT q.* FROM <the items before>` for each star of the first such lateral subquery.
pub(crate) fn lateral_star_probes(statement: &Statement) -> Option<Vec<Statement>> {
    let (with, select) = first_select_in_scope(statement, &|s| lateral_stars(s).is_some())?;
    let (k, stars) = lateral_stars(&select)?;
    stars
        .iter()
        .map(|q| {
            let mut probe = super::star_columns::star_probe(select.from[..k].to_vec())?;
            if let SetExpr::Select(s) = probe.body.as_mut() {
                s.projection = vec![SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(datafusion::sql::sqlparser::ast::ObjectName::from(
                        vec![Ident::new(q.clone())],
                    )),
                    Default::default(),
                )];
            }
            probe.with = with.clone();
            Some(Statement::Query(probe))
        })
        .collect()
}

/// The first such lateral subquery with its stars written out over `planned` (each star's columns).
pub(crate) fn expand_lateral_stars(statement: &mut Statement, planned: &[Vec<SourceColumn>]) -> Result<()> {
    let Statement::Query(query) = statement else { return Ok(()) };
    each_select(query, &mut |select| {
        let Some((k, stars)) = lateral_stars(select) else { return false };
        let TableFactor::Derived { subquery, .. } = &mut select.from[k].relation else { return false };
        let SetExpr::Select(inner) = subquery.body.as_mut() else { return false };
        let mut projection = Vec::with_capacity(inner.projection.len());
        for item in std::mem::take(&mut inner.projection) {
            let at = star_of(&item).and_then(|q| stars.iter().position(|s| *s == q).map(|at| (q, at)));
            match at.and_then(|(q, at)| planned.get(at).map(|columns| (q, columns))) {
                // (Named: DataFusion would name an outer column `outer_ref(q.name)`.)
                Some((q, columns)) => projection.extend(columns.iter().map(|(_, name)| SelectItem::ExprWithAlias {
                    expr: Expr::CompoundIdentifier(vec![Ident::new(q.clone()), Ident::with_quote('"', name)]),
                    alias: Ident::with_quote('"', name),
                })),
                None => projection.push(item),
            }
        }
        inner.projection = projection;
        true
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::parser::Parser;

    use crate::engine::compat::parse::dialect::DuckDbCompatDialect;

    #[test]
    fn stars_of_earlier_items_in_a_lateral_subquery_are_written_out() {
        let sql = "SELECT * FROM a LEFT JOIN b ON a.k = b.k, LATERAL (SELECT b.*, c.x FROM c LIMIT 1) s";
        let mut statement = Parser::parse_sql(&DuckDbCompatDialect, sql).unwrap().remove(0);
        let probes = super::lateral_star_probes(&statement).unwrap();
        assert_eq!(probes.len(), 1);
        assert_eq!(probes[0].to_string(), "SELECT b.* FROM a LEFT JOIN b ON a.k = b.k");
        let columns = vec![vec![(Some("b".to_string()), "k".to_string()), (Some("b".to_string()), "v".to_string())]];
        super::expand_lateral_stars(&mut statement, &columns).unwrap();
        assert_eq!(
            statement.to_string(),
            "SELECT * FROM a LEFT JOIN b ON a.k = b.k, LATERAL (SELECT b.\"k\" AS \"k\", b.\"v\" AS \"v\", c.x FROM c LIMIT 1) s"
        );
    }
}
