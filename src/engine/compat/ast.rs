//! Building blocks for the rewrites: text and NULL literals, calls, a call's plain arguments.

pub(crate) use crate::engine::compat::walks::{Walk, WalkMut, walk, walk_mut};
use datafusion::sql::sqlparser::ast::{
    CastKind, DataType as SqlType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause,
    FunctionArgumentList, FunctionArguments, Ident, ObjectName, ObjectNamePart, Select, SetExpr, Value, Visit,
    VisitMut,
};
use std::ops::ControlFlow;

pub(crate) fn text(s: &str) -> Expr {
    Expr::value(Value::SingleQuotedString(s.to_string()))
}

/// A NULL of type VARCHAR.
pub(crate) fn null_text() -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(Expr::value(Value::Null)),
        data_type: SqlType::Varchar(None),
        array: false,
        format: None,
    }
}

/// The plain arguments of a call, when it has no named or wildcard ones.
pub(crate) fn plain_args(f: &Function) -> Option<Vec<Expr>> {
    let FunctionArguments::List(list) = &f.args else {
        return matches!(f.args, FunctionArguments::None | FunctionArguments::List(_)).then(Vec::new);
    };
    list.args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// The arguments in order, named ones (`x := 1`) included; `None` for other forms.
pub(crate) fn positional_args(f: &Function) -> Option<Vec<Expr>> {
    let FunctionArguments::List(list) = &f.args else { return plain_args(f) };
    list.args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
            | FunctionArg::Named { arg: FunctionArgExpr::Expr(e), .. } => Some(e.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn call(name: &str, args: Vec<Expr>) -> Expr {
    call_with(name, args, vec![], None)
}

pub(crate) fn call_with(
    name: &str,
    args: Vec<Expr>,
    clauses: Vec<FunctionArgumentClause>,
    filter: Option<Box<Expr>>,
) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args.into_iter().map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a))).collect(),
            clauses,
        }),
        filter,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// `list_filter(list, v -> v IS NOT NULL)`: the list without its NULL elements.
pub(crate) fn without_nulls(list: Expr) -> Expr {
    call("array_filter", vec![list, element_lambda(|e| Expr::IsNotNull(Box::new(e)))])
}

/// `__element -> (body)`, the body made from the parameter; in parentheses, so that the lambda
/// reads back as one where a template prints it.
pub(crate) fn element_lambda(body: impl FnOnce(Expr) -> Expr) -> Expr {
    use datafusion::sql::sqlparser::ast::{LambdaFunction, LambdaFunctionParameter, LambdaSyntax, OneOrManyWithParens};
    let parameter = Ident::new("__element");
    Expr::Lambda(LambdaFunction {
        params: OneOrManyWithParens::One(LambdaFunctionParameter { name: parameter.clone(), data_type: None }),
        body: Box::new(Expr::Nested(Box::new(body(Expr::Identifier(parameter))))),
        syntax: LambdaSyntax::Arrow,
    })
}

/// `CAST(expr AS data_type)`.
pub(crate) fn cast(expr: Expr, data_type: SqlType) -> Expr {
    Expr::Cast { kind: CastKind::Cast, expr: Box::new(expr), data_type, array: false, format: None }
}

/// `left || right` (NULL when either is, unlike `concat`).
pub(crate) fn concat(left: Expr, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op: datafusion::sql::sqlparser::ast::BinaryOperator::StringConcat,
        right: Box::new(right),
    }
}

/// `INTERVAL (n) UNIT` as DataFusion reads it: the text `<n> unit` cast to an interval (a NULL
/// count gives NULL).
pub(crate) fn units_interval(count: Expr, unit: &str) -> Expr {
    let spelled = concat(cast(count, SqlType::Varchar(None)), text(&format!(" {unit}")));
    cast(spelled, SqlType::Interval { fields: None, precision: None })
}

/// `f` on each SELECT of a query body (both sides of a set operation).
pub(crate) fn for_each_select(body: &mut SetExpr, f: &mut impl FnMut(&mut Select)) {
    match body {
        SetExpr::Select(select) => f(select),
        SetExpr::SetOperation { left, right, .. } => {
            for_each_select(left, f);
            for_each_select(right, f);
        }
        _ => {}
    }
}

/// Whether `e` is a call of DuckDB's `COLUMNS(...)`.
pub(crate) fn is_columns_call(e: &Expr) -> bool {
    matches!(e, Expr::Function(f) if matches!(f.name.0.as_slice(), [datafusion::sql::sqlparser::ast::ObjectNamePart::Identifier(i)] if i.value.eq_ignore_ascii_case("columns")))
}

/// Whether `node` calls `COLUMNS(...)` anywhere.
pub(crate) fn mentions_columns<T: datafusion::sql::sqlparser::ast::Visit>(node: &T) -> bool {
    each_expr(node, |e| if is_columns_call(e) { ControlFlow::Break(None) } else { ControlFlow::Continue(()) })
        .is_break()
}

/// `f` called by another name, its arguments and clauses kept.
pub(crate) fn renamed_call(f: &Function, name: &str) -> Expr {
    let mut g = f.clone();
    g.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]);
    Expr::Function(g)
}

/// An error unless the call has `n` arguments (`usage` shows how to call it).
pub(crate) fn arity(name: &str, args: &[Expr], n: usize, usage: &str) -> crate::error::Result<()> {
    if args.len() == n {
        Ok(())
    } else {
        Err(crate::error::Error::Query(format!("{name} takes {n} argument(s): {usage}")))
    }
}

/// `CASE WHEN condition THEN then [ELSE otherwise] END`.
pub(crate) fn case_when(condition: Expr, then: Expr, otherwise: Option<Expr>) -> Expr {
    use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![datafusion::sql::sqlparser::ast::CaseWhen { condition, result: then }],
        else_result: otherwise.map(Box::new),
    }
}

/// `INTERVAL 'text'`.
pub(crate) fn interval(text: &str) -> Expr {
    Expr::Interval(datafusion::sql::sqlparser::ast::Interval {
        value: Box::new(Expr::value(Value::SingleQuotedString(text.into()))),
        leading_field: None,
        leading_precision: None,
        last_field: None,
        fractional_seconds_precision: None,
    })
}

/// `value` as an instant in UTC with microseconds, as `ts` is: DataFusion would make a
/// TIMESTAMPTZ without a time zone (the session has none, and setting one changes what
/// functions return inside Parquet filters).
pub(crate) fn as_instant(value: Expr) -> Expr {
    call("arrow_cast", vec![value, text("Timestamp(µs, \"UTC\")")])
}

/// [`as_instant`] that gives NULL where the value is not one (`TRY_CAST`).
pub(crate) fn try_as_instant(value: Expr) -> Expr {
    call("arrow_try_cast", vec![value, text("Timestamp(µs, \"UTC\")")])
}

/// Why a visit of expressions stopped: an error, or nothing (it found what it looked for).
pub(crate) type Stop = Option<crate::error::Error>;

/// Calls `f` on each expression a mutable walk reaches, keeping why it stopped.
struct EachExprMut<'a>(&'a mut dyn FnMut(&mut Expr) -> ControlFlow<Stop>, Option<Stop>);

impl WalkMut for EachExprMut<'_> {
    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        stopped(&mut self.1, (self.0)(expr))
    }
}

/// The same for walks that only read.
struct EachExpr<'a>(&'a mut dyn FnMut(&Expr) -> ControlFlow<Stop>, Option<Stop>);

impl Walk for EachExpr<'_> {
    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        stopped(&mut self.1, (self.0)(expr))
    }
}

fn stopped(why: &mut Option<Stop>, flow: ControlFlow<Stop>) -> ControlFlow<()> {
    match flow {
        ControlFlow::Continue(()) => ControlFlow::Continue(()),
        ControlFlow::Break(stop) => {
            *why = Some(stop);
            ControlFlow::Break(())
        }
    }
}

/// `f` on every expression of `node`, innermost first (as `visit_expressions_mut`).
pub(crate) fn each_expr_mut<N: VisitMut + ?Sized>(
    node: &mut N,
    mut f: impl FnMut(&mut Expr) -> ControlFlow<Stop>,
) -> ControlFlow<Stop> {
    let mut each = EachExprMut(&mut f, None);
    let _ = walk_mut(node, &mut each);
    each.1.map_or(ControlFlow::Continue(()), ControlFlow::Break)
}

/// `f` on every expression of `node`, outermost first (as `visit_expressions`).
pub(crate) fn each_expr<N: Visit + ?Sized>(
    node: &N,
    mut f: impl FnMut(&Expr) -> ControlFlow<Stop>,
) -> ControlFlow<Stop> {
    let mut each = EachExpr(&mut f, None);
    let _ = walk(node, &mut each);
    each.1.map_or(ControlFlow::Continue(()), ControlFlow::Break)
}

/// The aliases the select list writes, in lower case.
pub(crate) fn written_aliases(select: &Select) -> Vec<String> {
    select
        .projection
        .iter()
        .filter_map(|item| match item {
            datafusion::sql::sqlparser::ast::SelectItem::ExprWithAlias { alias, .. } => {
                Some(alias.value.to_lowercase())
            }
            _ => None,
        })
        .collect()
}

/// The conditions joined with AND (TRUE for none).
pub(crate) fn and(conditions: impl IntoIterator<Item = Expr>) -> Expr {
    conditions
        .into_iter()
        .reduce(|a, b| Expr::BinaryOp {
            left: Box::new(a),
            op: datafusion::sql::sqlparser::ast::BinaryOperator::And,
            right: Box::new(b),
        })
        .unwrap_or(Expr::value(Value::Boolean(true)))
}

/// The conjuncts of a condition (`a AND (b AND c)` is a, b and c).
pub(crate) fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::BinaryOp { left, op: datafusion::sql::sqlparser::ast::BinaryOperator::And, right } => {
            let mut all = conjuncts(left);
            all.extend(conjuncts(right));
            all
        }
        Expr::Nested(inner) => conjuncts(inner),
        other => vec![other],
    }
}

/// The conjuncts of a condition, owned (a parenthesised AND is split too, other parentheses kept).
pub(crate) fn into_conjuncts(e: Expr) -> Vec<Expr> {
    use datafusion::sql::sqlparser::ast::BinaryOperator;
    match e {
        Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
            let mut all = into_conjuncts(*left);
            all.extend(into_conjuncts(*right));
            all
        }
        Expr::Nested(inner) if matches!(inner.as_ref(), Expr::BinaryOp { op: BinaryOperator::And, .. }) => {
            into_conjuncts(*inner)
        }
        other => vec![other],
    }
}

/// The name a select item gives its column, where it says one (an alias, or a column's name).
pub(crate) fn output_name(item: &datafusion::sql::sqlparser::ast::SelectItem) -> Option<String> {
    use datafusion::sql::sqlparser::ast::SelectItem;
    match item {
        SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
        SelectItem::UnnamedExpr(Expr::Identifier(i)) => Some(i.value.clone()),
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => parts.last().map(|i| i.value.clone()),
        _ => None,
    }
}

/// Columns a rewrite added left out of the SELECT's stars: of every star, or (`relation`) of the
/// bare star and that relation's own.
pub(crate) fn hide_from_stars(select: &mut Select, relation: Option<&str>, hidden: &[String]) {
    use datafusion::sql::sqlparser::ast::{ExcludeSelectItem, SelectItem};
    for item in &mut select.projection {
        let options = match item {
            SelectItem::Wildcard(options) => options,
            SelectItem::QualifiedWildcard(kind, options)
                if relation.is_none_or(|r| {
                    kind.to_string().trim_end_matches(".*").trim_matches('"').eq_ignore_ascii_case(r)
                }) =>
            {
                options
            }
            _ => continue,
        };
        let mut excluded = match options.opt_exclude.take() {
            Some(ExcludeSelectItem::Single(name)) => vec![name],
            Some(ExcludeSelectItem::Multiple(names)) => names,
            None => Vec::new(),
        };
        excluded.extend(hidden.iter().map(|name| ObjectName::from(vec![Ident::new(name)])));
        options.opt_exclude = Some(ExcludeSelectItem::Multiple(excluded));
    }
}
