//! The typo check: walks each rule's syntax tree with the shape of every value it can derive from `input`
//! (through `let`, `for`, quantifiers, comprehensions, `??`), and warns where a member is read that no schema
//! of the rule's kinds allows.
//!
//! It also records what it learnt about every member read (`PathNote`), which the language server shows on
//! hover and uses for completion.

use std::str::FromStr;
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic, suggestion};
use crate::input::Kind;
use crate::source::{Source, Span};
use crate::syntax::ast::{self, ExprKind};

use super::{Member, Schemas, Shape};

/// A member read, or a name, and what the schemas say about the value there.
#[derive(Clone, Debug)]
pub(crate) struct PathNote {
    /// The member's name (or the variable) as written.
    pub span: Span,
    /// The expression's text up to here (`input.spec.predictor`).
    pub path: String,
    /// The schema's description of the value.
    pub description: Option<String>,
    /// The members the value is known to have, with descriptions.
    pub members: Vec<(String, Option<String>)>,
}

/// Warnings for paths that cannot exist, and notes on every path read.
pub(crate) fn lint(
    files: &[(Arc<Source>, &ast::File)],
    schemas: &Schemas,
    notes: bool,
) -> (Vec<Diagnostic>, Vec<PathNote>) {
    let mut walker = Walker {
        schemas,
        warnings: Vec::new(),
        notes: Vec::new(),
        record: notes,
        file: None,
        scope: Vec::new(),
        kinds: Vec::new(),
    };
    for (source, file) in files {
        walker.file = Some(source.clone());
        for item in &file.items {
            if let ast::Item::Rule(rule) = item {
                walker.kinds = rule_kinds(rule);
                walker.scope.clear();
                walker.block(&rule.body);
            }
        }
    }
    (walker.warnings, walker.notes)
}

/// The kinds named by a rule's `applies_to` (unknown names are the checker's business).
pub(crate) fn rule_kinds(rule: &ast::RuleDecl) -> Vec<Kind> {
    let mut kinds = Vec::new();
    for stmt in &rule.body {
        if let ast::Stmt::Meta { name, value } = stmt
            && name.name == "applies_to"
        {
            let names: Vec<&ast::Expr> = match &value.kind {
                ExprKind::Array(items) => items.iter().collect(),
                _ => vec![value],
            };
            kinds.extend(names.iter().filter_map(|e| match &e.kind {
                ExprKind::Name(n) => Kind::from_str(n).ok(),
                _ => None,
            }));
        }
    }
    kinds
}

struct Walker<'s> {
    schemas: &'s Schemas,
    warnings: Vec<Diagnostic>,
    notes: Vec<PathNote>,
    record: bool,
    file: Option<Arc<Source>>,
    /// Names bound so far in the rule, innermost last, with their shapes.
    scope: Vec<(String, Shape<'s>)>,
    kinds: Vec<Kind>,
}

impl<'s> Walker<'s> {
    fn block(&mut self, stmts: &[ast::Stmt]) {
        let depth = self.scope.len();
        for stmt in stmts {
            match stmt {
                ast::Stmt::Meta { .. } => {}
                ast::Stmt::Let { name, value } => {
                    let shape = self.expr(value);
                    self.note(name.span, &name.name, &shape);
                    self.scope.push((name.name.clone(), shape));
                }
                ast::Stmt::When(cond) => {
                    self.expr(cond);
                }
                ast::Stmt::Check(check) => {
                    self.expr(&check.cond);
                    for part in check.message.iter().flat_map(|m| &m.parts) {
                        if let ast::TemplatePart::Expr(e) = part {
                            self.expr(e);
                        }
                    }
                    if let Some(at) = &check.at {
                        self.expr(at);
                    }
                }
                ast::Stmt::For { binding, body, .. } => {
                    let inner = self.scope.len();
                    self.binding(binding);
                    self.block(body);
                    self.scope.truncate(inner);
                }
            }
        }
        self.scope.truncate(depth);
    }

    /// Binds a loop's names (the caller truncates the scope afterwards).
    fn binding(&mut self, binding: &ast::Binding) {
        let source = self.expr(&binding.source);
        let items = self.schemas.items(&source);
        if let Some(key) = &binding.key {
            self.scope.push((key.name.clone(), Shape::any()));
        }
        self.note(binding.var.span, &binding.var.name, &items);
        self.scope.push((binding.var.name.clone(), items));
        if let Some(filter) = &binding.filter {
            self.expr(filter);
        }
    }

    /// The shape of an expression's value, warning about impossible member reads inside it.
    fn expr(&mut self, expr: &ast::Expr) -> Shape<'s> {
        match &expr.kind {
            ExprKind::Name(name) => match self.scope.iter().rev().find(|(n, _)| n == name) {
                Some((_, shape)) => shape.clone(),
                None if name == "input" => self.schemas.input(&self.kinds),
                None if name == "doc" => self.schemas.meta(),
                None => Shape::any(),
            },
            ExprKind::Field(object, field) => {
                let shape = self.expr(object);
                self.member(object, &shape, &field.name, field.span)
            }
            ExprKind::Index(object, index) => {
                let shape = self.expr(object);
                self.expr(index);
                match &index.kind {
                    ExprKind::Str(key) => self.member(object, &shape, key, index.span),
                    ExprKind::Int(_) | ExprKind::Unary(ast::UnaryOp::Neg, _) => self.schemas.items(&shape),
                    _ => Shape::any(),
                }
            }
            ExprKind::Binary(ast::BinaryOp::Default, a, b) => {
                let shape = self.expr(a);
                self.expr(b);
                // `x ?? []`, `x ?? {}`, `x ?? ""`: the default adds no members, so `x`'s shape stands.
                let plain = match &b.kind {
                    ExprKind::Array(items) => items.is_empty(),
                    ExprKind::Object(entries) => entries.is_empty(),
                    ExprKind::Null | ExprKind::Bool(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) => {
                        true
                    }
                    _ => false,
                };
                Shape { any: shape.any || !plain, ..shape }
            }
            ExprKind::Quantified { binding, cond, .. } => {
                let depth = self.scope.len();
                self.binding(binding);
                if let Some(c) = cond {
                    self.expr(c);
                }
                self.scope.truncate(depth);
                Shape::any()
            }
            ExprKind::Comprehension { elem, bindings } => {
                let depth = self.scope.len();
                for b in bindings {
                    self.binding(b);
                }
                self.expr(elem);
                self.scope.truncate(depth);
                Shape::any()
            }
            ExprKind::If(c, t, e) => {
                self.expr(c);
                let mut t = self.expr(t);
                let e = self.expr(e);
                t.nodes.extend(e.nodes);
                t.any |= e.any;
                t
            }
            ExprKind::Call(_, args) | ExprKind::Array(args) => {
                for a in args {
                    self.expr(a);
                }
                Shape::any()
            }
            ExprKind::Object(entries) => {
                for (_, v) in entries {
                    self.expr(v);
                }
                Shape::any()
            }
            ExprKind::Unary(_, x) => {
                self.expr(x);
                Shape::any()
            }
            ExprKind::Binary(_, a, b) => {
                self.expr(a);
                self.expr(b);
                Shape::any()
            }
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Regex { .. } => Shape::any(),
        }
    }

    fn member(&mut self, object: &ast::Expr, shape: &Shape<'s>, name: &str, span: Span) -> Shape<'s> {
        if shape.nodes.is_empty() {
            return Shape::any();
        }
        match self.schemas.member(shape, name) {
            Member::Found(found) => {
                let path = format!("{}.{name}", self.text(object.span));
                self.note(span, &path, &found);
                found
            }
            Member::Missing { known, near_miss_only } => {
                let Some(file) = &self.file else { return Shape::any() };
                let help = suggestion(name, known.iter().map(String::as_str));
                if near_miss_only && help.is_none() {
                    return Shape::any();
                }
                let what = self.text(object.span);
                let kinds: Vec<&str> = self.kinds.iter().map(|k| k.name()).collect();
                let mut d = Diagnostic::new(
                    Code::UnknownPath,
                    file,
                    span,
                    if near_miss_only {
                        format!("`{what}` has no known member `{name}` in {} documents", kinds.join(" or "))
                    } else {
                        format!("`{what}` has no member `{name}` in any {} document", kinds.join(" or "))
                    },
                )
                .with_label("not in the schema");
                d.help = help.or_else(|| {
                    let shown: Vec<&str> = known.iter().take(12).map(String::as_str).collect();
                    let more = if known.len() > shown.len() { ", ..." } else { "" };
                    Some(format!("known members: {}{more}", shown.join(", ")))
                });
                self.warnings.push(d);
                Shape::any()
            }
        }
    }

    fn text(&self, span: Span) -> String {
        self.file.as_ref().and_then(|f| f.text().get(span.range())).unwrap_or("").split_whitespace().collect()
    }

    fn note(&mut self, span: Span, path: &str, shape: &Shape<'s>) {
        if !self.record || shape.nodes.is_empty() {
            return;
        }
        self.notes.push(PathNote {
            span,
            path: path.to_string(),
            description: self.schemas.description(shape),
            members: self.schemas.members(shape),
        });
    }
}
