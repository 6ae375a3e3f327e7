//! Syntax trees → a checked, compiled [`Program`].
//!
//! The checker resolves every name (locals to frame slots, constants to table entries, functions to ids),
//! checks arity and obvious type errors, compiles regexes, validates rule metadata and rejects recursion, so
//! evaluation always terminates. It reports every problem of a run, not just the first.

mod expr;
mod graph;
mod pattern_args;
mod rule;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic, suggestion};
use crate::functions::{Registry, Ty};
use crate::ir::{ConstInit, Expr, ExprId, Origin, Program, UserFn};
use crate::source::{Source, Span};
use crate::syntax::ast;
use crate::value::Value;

use graph::Node;

/// A declared `const` or `param`.
#[derive(Clone, Debug)]
struct ConstDecl {
    slot: u32,
    ty: Ty,
    index: usize,
    origin: Origin,
}

/// A declared `fn`.
#[derive(Clone, Debug)]
struct FnDecl {
    id: u32,
    params: usize,
    ty: Ty,
    origin: Origin,
}

/// The names a package declares, shared by all of its files.
#[derive(Default)]
struct Package {
    consts: HashMap<String, ConstDecl>,
    fns: HashMap<String, FnDecl>,
}

/// A name bound in the current frame.
struct Local {
    name: String,
    slot: u32,
    ty: Ty,
}

pub(crate) struct Checker<'r> {
    registry: &'r Registry,
    /// Each file's `import plugin` aliases.
    plugins: &'r crate::plugins::Scopes,
    program: Program,
    diags: Vec<Diagnostic>,
    packages: HashMap<String, Package>,
    /// Source index and package of the file being checked.
    source: u32,
    package: String,
    /// Scopes of the frame being compiled, innermost last.
    scopes: Vec<Vec<Local>>,
    next_slot: u32,
    max_slot: u32,
    /// The declaration whose body is being compiled, for the dependency graph.
    owner: Option<Node>,
    graph: graph::Graph,
    /// Slot counters to restore when a scope ends.
    scope_starts: Vec<u32>,
    /// Expressions that are literal constants (foldable into larger literals).
    literals: HashSet<ExprId>,
    regex_cache: HashMap<(String, String), u32>,
    /// Per source: build its regexes on first use (the bundled packs) instead of now.
    lazy_regexes: Vec<bool>,
    rule_ids: HashMap<String, Origin>,
    /// The value of each `let` slot of the frame being compiled, to find where a finding should point.
    let_values: HashMap<u32, ExprId>,
}

/// Checks and compiles parsed policy files. `lazy_regexes[i]`: file `i`'s regexes are trusted to build
/// (the bundled packs), so only their syntax is checked now.
pub(crate) fn check(
    files: Vec<(Arc<Source>, ast::File)>,
    lazy_regexes: Vec<bool>,
    registry: &Registry,
    plugins: &crate::plugins::Scopes,
) -> Result<Program, Vec<Diagnostic>> {
    let mut checker = Checker {
        registry,
        plugins,
        program: Program::default(),
        diags: Vec::new(),
        packages: HashMap::new(),
        source: 0,
        package: String::new(),
        scopes: Vec::new(),
        next_slot: 0,
        max_slot: 0,
        owner: None,
        graph: graph::Graph::default(),
        scope_starts: Vec::new(),
        literals: HashSet::new(),
        regex_cache: HashMap::new(),
        lazy_regexes,
        rule_ids: HashMap::new(),
        let_values: HashMap::new(),
    };
    checker.program.sources = files.iter().map(|(s, _)| s.clone()).collect();
    checker.program.by_kind = vec![Vec::new(); crate::input::Kind::ALL.len()];
    for (i, (_, file)) in files.iter().enumerate() {
        checker.enter(i, file);
        checker.declare(file);
    }
    for (i, (_, file)) in files.iter().enumerate() {
        checker.enter(i, file);
        checker.compile_values(file);
        checker.compile_fns(file);
    }
    for (i, (_, file)) in files.iter().enumerate() {
        checker.enter(i, file);
        checker.compile_rules(file);
    }
    checker.finish_graph();
    plugins.mark_rules(&mut checker.program);
    if checker.diags.is_empty() { Ok(checker.program) } else { Err(checker.diags) }
}

impl Checker<'_> {
    fn enter(&mut self, source: usize, file: &ast::File) {
        self.source = source as u32;
        self.package = file.package.name.clone();
    }

    fn src(&self) -> &Arc<Source> {
        &self.program.sources[self.source as usize]
    }

    fn origin(&self, span: Span) -> Origin {
        Origin { source: self.source, span }
    }

    fn error(&mut self, code: Code, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        let d = Diagnostic::new(code, self.src(), span, message);
        self.diags.push(d);
        self.diags.last_mut().expect("just pushed")
    }

    fn push(&mut self, expr: Expr, span: Span) -> ExprId {
        self.program.exprs.push(expr);
        self.program.origins.push(self.origin(span));
        (self.program.exprs.len() - 1) as ExprId
    }

    fn constant(&mut self, value: Value, span: Span) -> ExprId {
        self.program.consts.push(value);
        let slot = (self.program.consts.len() - 1) as u32;
        self.push(Expr::Const(slot), span)
    }

    fn package(&mut self) -> &mut Package {
        self.packages.entry(self.package.clone()).or_default()
    }

    /// Registers the names a file declares, so bodies can refer to them in any order.
    fn declare(&mut self, file: &ast::File) {
        for item in &file.items {
            let (name, is_fn, params) = match item {
                ast::Item::Const(d) | ast::Item::Param(d) => (&d.name, false, 0),
                ast::Item::Fn(f) => (&f.name, true, f.params.len()),
                ast::Item::Rule(_) | ast::Item::Import(_) => continue,
            };
            let origin = self.origin(name.span);
            let previous = {
                let pkg = self.package();
                pkg.consts.get(&name.name).map(|c| c.origin).or_else(|| pkg.fns.get(&name.name).map(|f| f.origin))
            };
            if let Some(previous) = previous {
                let first = Diagnostic::new(
                    Code::Duplicate,
                    &self.program.sources[previous.source as usize],
                    previous.span,
                    "first declared here",
                );
                self.error(
                    Code::Duplicate,
                    name.span,
                    format!("`{}` is declared twice in package `{}`", name.name, self.package),
                )
                .related
                .push(first);
                continue;
            }
            if is_fn {
                if self.registry.lookup(&name.name).is_some() || matches!(name.name.as_str(), "exists" | "documents") {
                    self.error(
                        Code::Shadowing,
                        name.span,
                        format!("`fn {}` would hide the builtin function of that name", name.name),
                    )
                    .help = Some("choose another name".into());
                    continue;
                }
                let id = self.graph.add_fn(&name.name, origin);
                let decl = FnDecl { id, params, ty: Ty::ANY, origin };
                self.program.fns.push(UserFn { locals: 0, body: 0, contextual: true });
                self.package().fns.insert(name.name.clone(), decl);
            } else {
                self.program.consts.push(Value::Null);
                let slot = (self.program.consts.len() - 1) as u32;
                let index = self.graph.add_const(&name.name, origin);
                self.package().consts.insert(name.name.clone(), ConstDecl { slot, ty: Ty::ANY, index, origin });
            }
        }
    }

    /// Compiles `const` and `param` initializers.
    fn compile_values(&mut self, file: &ast::File) {
        for item in &file.items {
            let (decl, is_param) = match item {
                ast::Item::Const(d) => (d, false),
                ast::Item::Param(d) => (d, true),
                _ => continue,
            };
            let Some(info) = self.package().consts.get(&decl.name.name).cloned() else { continue };
            if info.origin.source != self.source || info.origin.span != decl.name.span {
                continue; // a duplicate, already reported
            }
            self.owner = Some(Node::Const(info.index));
            self.begin_frame();
            let (value, ty) = self.expr(&decl.value);
            let locals = self.end_frame();
            self.owner = None;
            if let Some(c) = self.package().consts.get_mut(&decl.name.name) {
                c.ty = ty;
            }
            let param = is_param.then(|| format!("{}.{}", self.package, decl.name.name));
            self.program.const_inits.push(ConstInit { slot: info.slot, value, locals, param, origin: info.origin });
            self.graph.set_init(info.index, self.program.const_inits.len() - 1);
        }
    }

    /// Compiles `fn` bodies.
    fn compile_fns(&mut self, file: &ast::File) {
        for item in &file.items {
            let ast::Item::Fn(f) = item else { continue };
            let Some(info) = self.package().fns.get(&f.name.name).cloned() else { continue };
            if info.origin.source != self.source || info.origin.span != f.name.span {
                continue;
            }
            self.owner = Some(Node::Fn(info.id));
            self.begin_frame();
            let mut seen: Vec<&str> = Vec::new();
            for p in &f.params {
                if seen.contains(&p.name.as_str()) {
                    self.error(Code::Duplicate, p.span, format!("parameter `{}` is listed twice", p.name));
                }
                seen.push(&p.name);
                self.bind(&p.name, Ty::ANY);
            }
            let (body, ty) = self.expr(&f.body);
            let locals = self.end_frame();
            self.owner = None;
            let user = &mut self.program.fns[info.id as usize];
            user.body = body;
            user.locals = locals;
            if let Some(d) = self.package().fns.get_mut(&f.name.name) {
                d.ty = ty;
            }
        }
    }

    fn begin_frame(&mut self) {
        self.scopes = vec![Vec::new()];
        self.scope_starts.clear();
        self.let_values.clear();
        self.next_slot = 0;
        self.max_slot = 0;
    }

    /// Ends a frame; returns how many slots it needs.
    fn end_frame(&mut self) -> u32 {
        self.scopes.clear();
        self.max_slot
    }

    fn bind(&mut self, name: &str, ty: Ty) -> u32 {
        let slot = self.next_slot;
        self.let_values.remove(&slot);
        self.next_slot += 1;
        self.max_slot = self.max_slot.max(self.next_slot);
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(Local { name: name.to_string(), slot, ty });
        }
        slot
    }

    fn lookup_local(&self, name: &str) -> Option<(u32, Ty)> {
        self.scopes.iter().rev().flat_map(|s| s.iter().rev()).find(|l| l.name == name).map(|l| (l.slot, l.ty))
    }

    /// Every name visible here, for "did you mean".
    fn visible_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.scopes.iter().flatten().map(|l| l.name.clone()).collect();
        if let Some(pkg) = self.packages.get(&self.package) {
            names.extend(pkg.consts.keys().cloned());
        }
        names.extend(["input".to_string(), "doc".to_string()]);
        names
    }

    fn unknown_name(&mut self, name: &str, span: Span) {
        let names = self.visible_names();
        let help = suggestion(name, names.iter().map(String::as_str));
        self.error(Code::UnknownName, span, format!("unknown name `{name}`")).help = help;
    }

    fn finish_graph(&mut self) {
        for (id, f) in self.program.fns.iter_mut().enumerate() {
            f.contextual = self.graph.fn_is_contextual(id as u32);
        }
        for problem in self.graph.analyse(&mut self.program.const_inits) {
            let source = &self.program.sources[problem.origin.source as usize];
            let d =
                Diagnostic::new(Code::Definition, source, problem.origin.span, problem.message).with_help(problem.help);
            self.diags.push(d);
        }
    }
}
