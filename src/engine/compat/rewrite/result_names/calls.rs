//! Calls written back as DuckDB writes them: the name in lower case (quoted if a keyword),
//! `DISTINCT`, arguments (lambdas as `(lambda x: ...)`), an argument `ORDER BY`, `WITHIN GROUP`,
//! `FILTER` and `OVER`; a method call on a column as a call.

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgOperator, FunctionArguments, Ident,
    ObjectName, OrderByExpr, WindowType,
};

use super::{Namer, identifier};
use crate::engine::compat::parse::frame_excludes::exclusion;

impl Namer<'_> {
    /// A call: its name in lower case (quoted if a keyword), `DISTINCT`, arguments, an argument
    /// `ORDER BY`, `WITHIN GROUP`, `FILTER` and `OVER` as DuckDB writes them.
    pub(crate) fn function(&self, f: &Function, renamed: Option<&str>) -> String {
        // DuckDB reads `date(x)` as the cast, and names it so.
        if renamed.is_none()
            && function_name(&f.name) == "date"
            && let FunctionArguments::List(list) = &f.args
            && let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = list.args.as_slice()
            && list.duplicate_treatment.is_none()
            && f.over.is_none()
            && f.filter.is_none()
        {
            return format!("CAST({} AS DATE)", self.write(arg));
        }
        // `a.b.f(x)` is a method call on the column `a.b`: `f(a.b, x)`; on a one-part name
        // DuckDB reads a call of `f` in schema `a`, and writes `a.f(x)`.
        if renamed.is_none() && f.name.0.len() > 1 {
            let mut method = f.clone();
            let parts: Vec<Ident> = f.name.0.iter().filter_map(|p| p.as_ident().cloned()).collect();
            if let Some((name, root)) = parts.split_last() {
                method.name = ObjectName::from(vec![name.clone()]);
                let call = self.function(&method, None);
                let root_text = root.iter().map(identifier).collect::<Vec<_>>().join(".");
                return match call.split_once('(') {
                    Some((name, rest)) if root.len() == 1 => format!("{root_text}.{name}({rest}"),
                    Some((name, ")")) => format!("{name}({root_text})"),
                    Some((name, rest)) => format!("{name}({root_text}, {rest}"),
                    None => call,
                };
            }
        }
        let name = match renamed {
            Some(name) => name.to_string(),
            None => function_name(&f.name),
        };
        let lambdas = crate::engine::compat::parse::lambdas::takes_lambda(&f.name.to_string().to_ascii_lowercase());
        let mut text = match &f.args {
            FunctionArguments::None => return name,
            FunctionArguments::Subquery(query) => format!("{name}({})", self.query(query)),
            FunctionArguments::List(list) if renamed.is_some() => {
                let _ = list;
                format!("{name}()")
            }
            FunctionArguments::List(list) => {
                let args: Vec<String> = list
                    .args
                    .iter()
                    .map(|arg| match arg {
                        // An arrow from parameters to a body, in a function that takes a lambda.
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::BinaryOp {
                            left,
                            op: BinaryOperator::Arrow,
                            right,
                        })) if lambdas && crate::engine::compat::rewrite::lambdas::parameters(left).is_some() => {
                            let params =
                                crate::engine::compat::rewrite::lambdas::parameters(left).into_iter().flatten();
                            let params: Vec<String> = params.map(|p| identifier(&p.name)).collect();
                            format!("(lambda {}: {})", params.join(", "), self.write(right))
                        }
                        FunctionArg::Unnamed(arg) => self.argument(arg),
                        FunctionArg::Named { name, arg, operator: FunctionArgOperator::Assignment, .. }
                        | FunctionArg::Named { name, arg, operator: FunctionArgOperator::Equals, .. } => {
                            format!("{} := {}", identifier(name), self.argument(arg))
                        }
                        other => other.to_string(),
                    })
                    .collect();
                let distinct = match list.duplicate_treatment {
                    Some(datafusion::sql::sqlparser::ast::DuplicateTreatment::Distinct) => "DISTINCT ",
                    _ => "",
                };
                let mut order = String::new();
                for clause in &list.clauses {
                    if let datafusion::sql::sqlparser::ast::FunctionArgumentClause::OrderBy(items) = clause {
                        order = format!(" ORDER BY {}", self.order_items(items));
                    }
                }
                format!("{name}({distinct}{}{order})", args.join(", "))
            }
        };
        if !f.within_group.is_empty() {
            text.push_str(&format!(" WITHIN GROUP ( ORDER BY {})", self.order_items(&f.within_group)));
        }
        if let Some(filter) = &f.filter {
            text.push_str(&format!(" FILTER (WHERE {})", self.write(filter)));
        }
        match &f.over {
            Some(WindowType::WindowSpec(spec)) => {
                let mut parts = Vec::new();
                // A frame's EXCLUDE is marked as the first partition key, and written last.
                let excluded = exclusion(spec);
                let partition_by = &spec.partition_by[usize::from(excluded.is_some())..];
                if !partition_by.is_empty() {
                    parts.push(format!("PARTITION BY {}", self.list(partition_by)));
                }
                if !spec.order_by.is_empty() {
                    parts.push(format!("ORDER BY {}", self.order_items(&spec.order_by)));
                }
                // The default frame (RANGE from the start to the current row) is not written.
                if let Some(frame) = &spec.window_frame {
                    let written = match &frame.end_bound {
                        Some(end) => format!("{} BETWEEN {} AND {end}", frame.units, frame.start_bound),
                        None => format!("{} {}", frame.units, frame.start_bound),
                    };
                    if written != "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW" {
                        parts.push(written);
                    }
                }
                if let Some(excluded) = excluded {
                    parts.push(format!("EXCLUDE {}", excluded.words()));
                }
                text.push_str(&format!(" OVER ({})", parts.join(" ")));
            }
            Some(WindowType::NamedWindow(name)) => text.push_str(&format!(" OVER ({name})")),
            None => {}
        }
        text
    }

    fn argument(&self, arg: &FunctionArgExpr) -> String {
        match arg {
            FunctionArgExpr::Expr(e) => self.write(e),
            other => other.to_string(),
        }
    }

    fn order_items(&self, items: &[OrderByExpr]) -> String {
        items
            .iter()
            .map(|item| {
                let mut text = self.write(&item.expr);
                match item.options.asc {
                    Some(false) => text.push_str(" DESC"),
                    Some(true) => text.push_str(" ASC"),
                    None => {}
                }
                match item.options.nulls_first {
                    Some(true) => text.push_str(" NULLS FIRST"),
                    Some(false) => text.push_str(" NULLS LAST"),
                    None => {}
                }
                text
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A function's name: lower case, quoted when it is a keyword (`"if"`, `"first"`), except the
/// operators DuckDB spells in capitals.
fn function_name(name: &ObjectName) -> String {
    let written = name.to_string().to_lowercase();
    match written.as_str() {
        // DuckDB's ifnull is a macro of COALESCE, named as what it expands to.
        "coalesce" | "ifnull" => "COALESCE".into(),
        "grouping" => "GROUPING".into(),
        _ if written.contains('.') || written.contains('"') => written,
        _ => identifier(&Ident::new(written)),
    }
}

pub(crate) fn is_count_star(f: &Function) -> bool {
    f.name.to_string().eq_ignore_ascii_case("count")
        && matches!(&f.args, FunctionArguments::List(list)
            if matches!(list.args.as_slice(), [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)]))
}
