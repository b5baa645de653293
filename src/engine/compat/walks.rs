//! Walks over a statement's tree. sqlparser's walk is generic over the visitor, and each visitor
//! type compiles the whole walk again: about 350 KB of the shipped executable per type (30 of
//! them made 10.7 MB of its machine code). So every walk of the layer goes through one visitor
//! type per direction, here, calling hooks through a trait object: [`WalkMut`] for walks that
//! change the tree, [`Walk`] for those that read it. The hooks have sqlparser's names.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, ObjectName, Query, Select, Statement, TableFactor, Visit, VisitMut, Visitor, VisitorMut,
};

/// The hooks of a walk that changes the tree; each says whether the walk goes on.
pub(crate) trait WalkMut {
    fn pre_visit_query(&mut self, _query: &mut Query) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn post_visit_query(&mut self, _query: &mut Query) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn pre_visit_select(&mut self, _select: &mut Select) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn post_visit_select(&mut self, _select: &mut Select) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn pre_visit_table_factor(&mut self, _factor: &mut TableFactor) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn post_visit_table_factor(&mut self, _factor: &mut TableFactor) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn pre_visit_expr(&mut self, _expr: &mut Expr) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn post_visit_expr(&mut self, _expr: &mut Expr) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn pre_visit_relation(&mut self, _relation: &mut ObjectName) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn pre_visit_statement(&mut self, _statement: &mut Statement) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// The hooks of a walk that reads the tree.
pub(crate) trait Walk {
    fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn pre_visit_select(&mut self, _select: &Select) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn post_visit_select(&mut self, _select: &Select) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn pre_visit_table_factor(&mut self, _factor: &TableFactor) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn pre_visit_relation(&mut self, _relation: &ObjectName) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn pre_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn post_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

struct ErasedMut<'a>(&'a mut dyn WalkMut);

impl VisitorMut for ErasedMut<'_> {
    type Break = ();
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        self.0.pre_visit_query(query)
    }
    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        self.0.post_visit_query(query)
    }
    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        self.0.pre_visit_select(select)
    }
    fn post_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        self.0.post_visit_select(select)
    }
    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        self.0.pre_visit_table_factor(factor)
    }
    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        self.0.post_visit_table_factor(factor)
    }
    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        self.0.pre_visit_expr(expr)
    }
    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        self.0.post_visit_expr(expr)
    }
    fn pre_visit_relation(&mut self, relation: &mut ObjectName) -> ControlFlow<()> {
        self.0.pre_visit_relation(relation)
    }
    fn pre_visit_statement(&mut self, statement: &mut Statement) -> ControlFlow<()> {
        self.0.pre_visit_statement(statement)
    }
}

struct Erased<'a>(&'a mut dyn Walk);

impl Visitor for Erased<'_> {
    type Break = ();
    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        self.0.pre_visit_query(query)
    }
    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        self.0.post_visit_query(query)
    }
    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<()> {
        self.0.pre_visit_select(select)
    }
    fn post_visit_select(&mut self, select: &Select) -> ControlFlow<()> {
        self.0.post_visit_select(select)
    }
    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        self.0.pre_visit_table_factor(factor)
    }
    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        self.0.pre_visit_relation(relation)
    }
    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        self.0.pre_visit_expr(expr)
    }
    fn post_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        self.0.post_visit_expr(expr)
    }
}

/// Walks `node` with `hooks`, changing it; `Break` when a hook stopped the walk.
pub(crate) fn walk_mut<N: VisitMut + ?Sized>(node: &mut N, hooks: &mut dyn WalkMut) -> ControlFlow<()> {
    node.visit(&mut ErasedMut(hooks))
}

/// Walks `node` with `hooks`, reading it.
pub(crate) fn walk<N: Visit + ?Sized>(node: &N, hooks: &mut dyn Walk) -> ControlFlow<()> {
    node.visit(&mut Erased(hooks))
}
