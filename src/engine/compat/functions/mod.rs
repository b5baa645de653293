//! DuckDB's functions DataFusion lacks (or computes otherwise), one folder per family, each
//! with its `functions()` list; [`common`] holds what the families share. [`functions`] chains
//! the families once.

pub(crate) mod aggregate;
pub(crate) mod common;
pub(crate) mod datetime;
pub(crate) mod generic;
pub(crate) mod json;
pub(crate) mod list;
pub(crate) mod regex;
pub(crate) mod text;

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, HigherOrderUDF, ScalarUDF};
use datafusion::prelude::SessionContext;

/// A function of this layer, of whichever kind.
pub(crate) enum LayerFunction {
    Scalar(ScalarUDF),
    Aggregate(AggregateUDF),
    HigherOrder(HigherOrderUDF),
}

impl From<ScalarUDF> for LayerFunction {
    fn from(udf: ScalarUDF) -> Self {
        LayerFunction::Scalar(udf)
    }
}

impl From<AggregateUDF> for LayerFunction {
    fn from(udaf: AggregateUDF) -> Self {
        LayerFunction::Aggregate(udaf)
    }
}

impl From<HigherOrderUDF> for LayerFunction {
    fn from(function: HigherOrderUDF) -> Self {
        LayerFunction::HigherOrder(function)
    }
}

impl LayerFunction {
    /// The names a query may call it by: its name and its aliases.
    #[cfg(test)]
    pub(crate) fn names(&self) -> Vec<String> {
        let (name, aliases) = match self {
            LayerFunction::Scalar(f) => (f.name(), f.aliases()),
            LayerFunction::Aggregate(f) => (f.name(), f.aliases()),
            LayerFunction::HigherOrder(f) => (f.name(), f.aliases()),
        };
        // A wrapped function may list its own name among its aliases.
        let aliases = aliases.iter().filter(|alias| *alias != name);
        std::iter::once(name).chain(aliases.map(String::as_str)).map(str::to_string).collect()
    }

    fn register(self, ctx: &SessionContext) {
        match self {
            LayerFunction::Scalar(f) => ctx.register_udf(f),
            LayerFunction::Aggregate(f) => ctx.register_udaf(f),
            LayerFunction::HigherOrder(f) => ctx.register_higher_order_function(Arc::new(f)),
        }
    }
}

/// A family: its name and its `functions()` list.
type Family = (&'static str, fn() -> Vec<LayerFunction>);

/// Every family's functions, each with its family's name.
pub(crate) fn functions() -> Vec<(&'static str, LayerFunction)> {
    let families: [Family; 7] = [
        ("text", text::functions),
        ("regex", regex::functions),
        ("datetime", datetime::functions),
        ("list", list::functions),
        ("json", json::functions),
        ("aggregate", aggregate::functions),
        ("generic", generic::functions),
    ];
    families.into_iter().flat_map(|(family, functions)| functions().into_iter().map(move |f| (family, f))).collect()
}

/// Registers every family's functions in a session.
pub(crate) fn register(ctx: &SessionContext) {
    for (_, function) in functions() {
        function.register(ctx);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    #[test]
    fn no_name_is_registered_twice() {
        let mut families: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for (family, function) in super::functions() {
            for name in function.names() {
                families.entry(name).or_default().push(family);
            }
        }
        let twice: Vec<String> = families
            .iter()
            .filter(|(_, families)| families.len() > 1)
            .map(|(name, families)| format!("{name} ({})", families.join(", ")))
            .collect();
        assert!(twice.is_empty(), "registered more than once: {}", twice.join("; "));
    }
}
