//! A subquery in a result column's name, as DuckDB writes it back (`SelectNode::ToString`):
//! its expressions as the column names write them, tables `name AS alias`, each explicit join
//! in parentheses with its kind spelled out (`(a INNER JOIN b ON (cond))`), comma joins as
//! written. A query of another shape (a set operation, a CTE, a clause this does not write) keeps
//! the parser's text.

use datafusion::sql::sqlparser::ast::{
    Distinct, FunctionArg, FunctionArgExpr, GroupByExpr, Join, JoinConstraint, JoinOperator, LimitClause, ObjectName,
    ObjectNamePart, OrderByKind, Query, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, TableAlias, TableFactor,
    TableWithJoins,
};

use super::{Namer, identifier};

impl Namer<'_> {
    /// The text of `query` in a column's name.
    pub(super) fn query(&self, query: &Query) -> String {
        self.select_query(query).unwrap_or_else(|| query.to_string())
    }

    fn select_query(&self, query: &Query) -> Option<String> {
        let SetExpr::Select(select) = query.body.as_ref() else { return None };
        if query.with.is_some() || query.fetch.is_some() || !query.locks.is_empty() || select.top.is_some() {
            return None;
        }
        if select.into.is_some() || !select.lateral_views.is_empty() || select.prewhere.is_some() {
            return None;
        }
        let mut text = String::from("SELECT ");
        match &select.distinct {
            None => {}
            Some(Distinct::Distinct) => text.push_str("DISTINCT "),
            Some(Distinct::On(keys)) => {
                let keys: Vec<String> = keys.iter().map(|k| self.write(k)).collect();
                text.push_str(&format!("DISTINCT ON ({}) ", keys.join(", ")));
            }
            Some(_) => return None,
        }
        let items = select.projection.iter().map(|item| self.item(item)).collect::<Option<Vec<_>>>()?;
        text.push_str(&items.join(", "));
        if !select.from.is_empty() {
            let tables = select.from.iter().map(|t| self.joined(t)).collect::<Option<Vec<_>>>()?;
            text.push_str(&format!(" FROM {}", tables.join(", ")));
        }
        if let Some(condition) = &select.selection {
            text.push_str(&format!(" WHERE {}", self.write(condition)));
        }
        match &select.group_by {
            GroupByExpr::Expressions(keys, modifiers) if modifiers.is_empty() => {
                if !keys.is_empty() {
                    let keys: Vec<String> = keys.iter().map(|k| self.write(k)).collect();
                    text.push_str(&format!(" GROUP BY {}", keys.join(", ")));
                }
            }
            GroupByExpr::All(modifiers) if modifiers.is_empty() => text.push_str(" GROUP BY ALL"),
            _ => return None,
        }
        if let Some(condition) = &select.having {
            text.push_str(&format!(" HAVING {}", self.write(condition)));
        }
        if let Some(condition) = &select.qualify {
            text.push_str(&format!(" QUALIFY {}", self.write(condition)));
        }
        if let Some(order) = &query.order_by {
            let OrderByKind::Expressions(keys) = &order.kind else { return None };
            let keys: Vec<String> = keys
                .iter()
                .map(|k| {
                    let direction = match k.options.asc {
                        Some(true) => " ASC",
                        Some(false) => " DESC",
                        None => "",
                    };
                    let nulls = match k.options.nulls_first {
                        Some(true) => " NULLS FIRST",
                        Some(false) => " NULLS LAST",
                        None => "",
                    };
                    format!("{}{direction}{nulls}", self.write(&k.expr))
                })
                .collect();
            text.push_str(&format!(" ORDER BY {}", keys.join(", ")));
        }
        match &query.limit_clause {
            None => {}
            Some(LimitClause::LimitOffset { limit, offset, limit_by }) if limit_by.is_empty() => {
                if let Some(limit) = limit {
                    text.push_str(&format!(" LIMIT {}", self.write(limit)));
                }
                if let Some(offset) = offset {
                    text.push_str(&format!(" OFFSET {}", self.write(&offset.value)));
                }
            }
            Some(_) => return None,
        }
        Some(text)
    }

    fn item(&self, item: &SelectItem) -> Option<String> {
        Some(match item {
            SelectItem::UnnamedExpr(e) => self.name(e),
            SelectItem::ExprWithAlias { expr, alias } => format!("{} AS {}", self.name(expr), identifier(alias)),
            SelectItem::Wildcard(options) if options.to_string().is_empty() => "*".into(),
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(name), options)
                if options.to_string().is_empty() =>
            {
                format!("{name}.*")
            }
            _ => return None,
        })
    }

    /// One FROM item with its joins, each join `(left KIND JOIN right ...)`.
    fn joined(&self, table: &TableWithJoins) -> Option<String> {
        let mut text = self.relation(&table.relation)?;
        for Join { relation, join_operator, .. } in &table.joins {
            let (kind, constraint) = match join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) => ("INNER JOIN", Some(c)),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => ("LEFT JOIN", Some(c)),
                JoinOperator::Right(c) | JoinOperator::RightOuter(c) => ("RIGHT JOIN", Some(c)),
                JoinOperator::FullOuter(c) => ("OUTER JOIN", Some(c)),
                JoinOperator::Semi(c) | JoinOperator::LeftSemi(c) => ("SEMI JOIN", Some(c)),
                JoinOperator::Anti(c) | JoinOperator::LeftAnti(c) => ("ANTI JOIN", Some(c)),
                JoinOperator::CrossJoin(JoinConstraint::None) => ("CROSS JOIN", None),
                _ => return None,
            };
            let (kind, condition) = match constraint {
                None | Some(JoinConstraint::None) => (kind.to_string(), String::new()),
                Some(JoinConstraint::On(condition)) => (kind.to_string(), format!(" ON ({})", self.write(condition))),
                Some(JoinConstraint::Using(columns)) => {
                    let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
                    (kind.to_string(), format!(" USING ({})", columns.join(", ")))
                }
                Some(JoinConstraint::Natural) => (format!("NATURAL {kind}"), String::new()),
            };
            text = format!("({text} {kind} {}{condition})", self.relation(relation)?);
        }
        Some(text)
    }

    fn relation(&self, factor: &TableFactor) -> Option<String> {
        Some(match factor {
            TableFactor::Table { name, alias, args: None, with_hints, version: None, partitions, .. }
                if with_hints.is_empty() && partitions.is_empty() =>
            {
                format!("{}{}", table_name(name), aliased(alias.as_ref()))
            }
            TableFactor::Table { name, alias, args: Some(args), .. } => {
                let args: Vec<String> = args
                    .args
                    .iter()
                    .map(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => self.write(e),
                        other => other.to_string(),
                    })
                    .collect();
                format!("{}({}){}", table_name(name), args.join(", "), aliased(alias.as_ref()))
            }
            TableFactor::Derived { lateral: false, subquery, alias, .. } => {
                format!("({}){}", self.query(subquery), aliased(alias.as_ref()))
            }
            TableFactor::NestedJoin { table_with_joins, alias: None } => self.joined(table_with_joins)?,
            _ => return None,
        })
    }
}

/// A table's (or table function's) name, each part quoted only where it must be.
fn table_name(name: &ObjectName) -> String {
    let parts: Option<Vec<String>> = name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(identifier(i)),
            _ => None,
        })
        .collect();
    parts.map_or_else(|| name.to_string(), |parts| parts.join("."))
}

/// ` AS alias(columns)`, as DuckDB writes a table's alias.
fn aliased(alias: Option<&TableAlias>) -> String {
    let Some(alias) = alias else { return String::new() };
    let columns: Vec<String> = alias.columns.iter().map(|c| identifier(&c.name)).collect();
    let columns = if columns.is_empty() { String::new() } else { format!("({})", columns.join(", ")) };
    format!(" AS {}{columns}", identifier(&alias.name))
}
