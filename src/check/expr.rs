//! Expressions: name resolution, static types, regex compilation and literal folding.

use std::sync::Arc;

use super::graph::Node;
use super::{Checker, Local};
use crate::diagnostic::{Code, suggestion};
use crate::functions::Ty;
use crate::input::Kind;
use crate::ir::{Arith, Cmp, Expr, ExprId, FieldKey, Loop, Part, Quant};
use crate::pattern::Pattern;
use crate::source::Span;
use crate::syntax::ast::{self, BinaryOp, ExprKind, Quantifier, UnaryOp};
use crate::value::{Map, Value};

/// Special forms the checker compiles itself (they do not evaluate their arguments like functions do).
const SPECIAL_FORMS: [&str; 2] = ["exists", "documents"];

impl Checker<'_> {
    /// Compiles an expression and infers the set of types it may have.
    pub(super) fn expr(&mut self, e: &ast::Expr) -> (ExprId, Ty) {
        let span = e.span;
        match &e.kind {
            ExprKind::Null => (self.literal(Value::Null, span), Ty::NULL),
            ExprKind::Bool(b) => (self.literal(Value::Bool(*b), span), Ty::BOOL),
            ExprKind::Int(i) => (self.literal(Value::Int(*i), span), Ty::NUMBER),
            ExprKind::Float(x) => (self.literal(Value::Float(*x), span), Ty::NUMBER),
            ExprKind::Str(s) => (self.literal(Value::from(s.as_str()), span), Ty::STRING),
            // Outside `matches`, a regex literal is its pattern, with flags inline: `(?i)abc`.
            ExprKind::Regex { pattern, flags } => {
                let text = if flags.is_empty() { pattern.clone() } else { format!("(?{flags}){pattern}") };
                if let Err(e) = self.compile_regex(pattern, flags) {
                    self.error(Code::Regex, span, "invalid regular expression").help = Some(e);
                }
                (self.literal(Value::from(text), span), Ty::STRING)
            }
            ExprKind::Name(name) => self.name(name, span),
            ExprKind::Field(obj, field) => {
                let (o, ty) = self.expr(obj);
                if ty.disjoint(Ty::OBJECT.or(Ty::NULL)) {
                    self.error(Code::Type, field.span, format!("`.{}` reads a member, but this is {ty}", field.name));
                }
                (self.push(Expr::Field(o, FieldKey::new(&field.name)), span), Ty::ANY)
            }
            ExprKind::Index(obj, index) => {
                let (o, oty) = self.expr(obj);
                let (i, ity) = self.expr(index);
                self.expect(oty, Ty::ARRAY.or(Ty::OBJECT).or(Ty::NULL), obj.span, "indexing needs an array or object");
                self.expect(ity, Ty::NUMBER.or(Ty::STRING), index.span, "an index must be a number or a string");
                (self.push(Expr::Index(o, i), span), Ty::ANY)
            }
            ExprKind::Call(name, args) => self.call(name, args, span),
            ExprKind::Unary(op, operand) => {
                // `-3` is a literal, not an operation.
                if let (UnaryOp::Neg, ExprKind::Int(i)) = (op, &operand.kind) {
                    return (self.literal(Value::Int(-i), span), Ty::NUMBER);
                }
                if let (UnaryOp::Neg, ExprKind::Float(x)) = (op, &operand.kind) {
                    return (self.literal(Value::Float(-x), span), Ty::NUMBER);
                }
                let (x, ty) = self.expr(operand);
                match op {
                    UnaryOp::Not => {
                        self.expect(ty, Ty::BOOL, operand.span, "`not` needs a boolean");
                        (self.push(Expr::Not(x), span), Ty::BOOL)
                    }
                    UnaryOp::Neg => {
                        self.expect(ty, Ty::NUMBER, operand.span, "`-` needs a number");
                        (self.push(Expr::Neg(x), span), Ty::NUMBER)
                    }
                }
            }
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, span),
            ExprKind::Array(items) => {
                let ids: Vec<ExprId> = items.iter().map(|i| self.expr(i).0).collect();
                match self.literal_values(&ids) {
                    Some(values) => (self.literal(Value::from(values), span), Ty::ARRAY),
                    None => (self.push(Expr::Array(ids.into()), span), Ty::ARRAY),
                }
            }
            ExprKind::Object(entries) => {
                let mut seen: Vec<&str> = Vec::new();
                let mut compiled = Vec::new();
                for (key, value) in entries {
                    if seen.contains(&key.name.as_str()) {
                        self.error(Code::Duplicate, key.span, format!("key `{}` appears twice", key.name));
                    }
                    seen.push(&key.name);
                    compiled.push((Arc::<str>::from(key.name.as_str()), self.expr(value).0));
                }
                let ids: Vec<ExprId> = compiled.iter().map(|(_, id)| *id).collect();
                match self.literal_values(&ids) {
                    Some(values) => {
                        let map: Map = compiled.iter().map(|(k, _)| k.clone()).zip(values).collect();
                        (self.literal(Value::Object(Arc::new(map)), span), Ty::OBJECT)
                    }
                    None => (self.push(Expr::Object(compiled.into()), span), Ty::OBJECT),
                }
            }
            ExprKind::Quantified { kind, binding, cond } => {
                self.push_scope();
                let lp = self.binding(binding);
                let cond = cond.as_ref().map(|c| {
                    let (id, ty) = self.expr(c);
                    self.expect(ty, Ty::BOOL, c.span, "a quantifier's condition must be a boolean");
                    id
                });
                self.pop_scope();
                let (q, ty) = match kind {
                    Quantifier::All => (Quant::All, Ty::BOOL),
                    Quantifier::Any => (Quant::Any, Ty::BOOL),
                    Quantifier::None => (Quant::None, Ty::BOOL),
                    Quantifier::Count => (Quant::Count, Ty::NUMBER),
                };
                (self.push(Expr::Quantified(q, Box::new(lp), cond), span), ty)
            }
            ExprKind::Comprehension { elem, bindings } => {
                self.push_scope();
                let loops: Vec<Loop> = bindings.iter().map(|b| self.binding(b)).collect();
                let (elem, _) = self.expr(elem);
                self.pop_scope();
                (self.push(Expr::Comprehension(elem, loops.into()), span), Ty::ARRAY)
            }
            ExprKind::If(c, t, f) => {
                let (c_id, c_ty) = self.expr(c);
                self.expect(c_ty, Ty::BOOL, c.span, "the condition of `if` must be a boolean");
                let (t_id, t_ty) = self.expr(t);
                let (f_id, f_ty) = self.expr(f);
                (self.push(Expr::If(c_id, t_id, f_id), span), t_ty.or(f_ty))
            }
        }
    }

    /// A literal constant (folding may combine literals into larger ones).
    fn literal(&mut self, value: Value, span: Span) -> ExprId {
        let id = self.constant(value, span);
        self.literals.insert(id);
        id
    }

    /// The values of `ids` if every one is a literal.
    fn literal_values(&self, ids: &[ExprId]) -> Option<Vec<Value>> {
        ids.iter()
            .map(|id| match self.program.exprs[*id as usize] {
                Expr::Const(slot) if self.literals.contains(id) => Some(self.program.consts[slot as usize].clone()),
                _ => None,
            })
            .collect()
    }

    /// Reports `message` when a value of type `found` can never be of type `expected`.
    pub(super) fn expect(&mut self, found: Ty, expected: Ty, span: Span, message: &str) {
        if found.disjoint(expected) {
            self.error(Code::Type, span, format!("{message}, but this is {found}"));
        }
    }

    fn name(&mut self, name: &str, span: Span) -> (ExprId, Ty) {
        if let Some((slot, ty)) = self.lookup_local(name) {
            return (self.push(Expr::Local(slot), span), ty);
        }
        match name {
            "input" | "doc" => {
                if let Some(owner) = self.owner {
                    self.graph.contextual(owner);
                }
                let expr = if name == "input" { Expr::Input } else { Expr::Doc };
                return (self.push(expr, span), if name == "doc" { Ty::OBJECT } else { Ty::ANY });
            }
            _ => {}
        }
        let declared = self.packages.get(&self.package).and_then(|p| p.consts.get(name)).cloned();
        if let Some(c) = declared {
            if let Some(owner) = self.owner {
                self.graph.edge(owner, Node::Const(c.index));
            }
            return (self.push(Expr::Const(c.slot), span), c.ty);
        }
        self.unknown_name(name, span);
        if name.parse::<Kind>().is_ok()
            && let Some(d) = self.diags.last_mut()
        {
            d.help = Some("document kinds are used in `applies_to` and `documents(...)`".into());
        }
        (self.literal(Value::Null, span), Ty::ANY)
    }

    fn call(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> (ExprId, Ty) {
        match name.name.as_str() {
            "exists" => {
                if args.len() != 1 {
                    self.error(Code::Arity, span, format!("`exists` takes 1 argument, found {}", args.len()));
                    return (self.literal(Value::Null, span), Ty::BOOL);
                }
                let (x, _) = self.expr(&args[0]);
                return (self.push(Expr::Exists(x), span), Ty::BOOL);
            }
            "documents" => return self.documents(args, span),
            _ => {}
        }
        let compiled: Vec<(ExprId, Ty, Span)> = args
            .iter()
            .map(|a| {
                let (id, ty) = self.expr(a);
                (id, ty, a.span)
            })
            .collect();
        let ids: Box<[ExprId]> = compiled.iter().map(|c| c.0).collect();
        let plugin = match name.name.contains('.') {
            true => match self.plugin_function(name) {
                Some(id) => Some(id),
                None => return (self.literal(Value::Null, span), Ty::ANY),
            },
            false => None,
        };
        let user = self.packages.get(&self.package).and_then(|p| p.fns.get(&name.name)).cloned();
        if let Some(f) = user {
            if f.params != args.len() {
                let s = if f.params == 1 { "" } else { "s" };
                self.error(
                    Code::Arity,
                    span,
                    format!("`{}` takes {} argument{s}, found {}", name.name, f.params, args.len()),
                );
            }
            if let Some(owner) = self.owner {
                self.graph.edge(owner, Node::Fn(f.id));
            }
            return (self.push(Expr::CallUser(f.id, ids), span), f.ty);
        }
        let Some(id) = plugin.or_else(|| self.registry.lookup(&name.name)) else {
            let mut candidates: Vec<String> = self.registry.names().map(str::to_string).collect();
            candidates.extend(SPECIAL_FORMS.iter().map(|s| s.to_string()));
            if let Some(p) = self.packages.get(&self.package) {
                candidates.extend(p.fns.keys().cloned());
            }
            let help = suggestion(&name.name, candidates.iter().map(String::as_str));
            self.error(Code::UnknownFunction, name.span, format!("unknown function `{}`", name.name)).help = help;
            return (self.literal(Value::Null, span), Ty::ANY);
        };
        let function = self.registry.get(id).clone();
        let (min, max) = function.arity();
        if args.len() < min || max.is_some_and(|m| args.len() > m) {
            let expected = match max {
                Some(m) if m == min => format!("{min}"),
                Some(m) => format!("{min} to {m}"),
                None => format!("at least {min}"),
            };
            self.error(
                Code::Arity,
                span,
                format!("`{}` takes {expected} arguments, found {}", name.name, args.len()),
            )
            .help = Some(format!("usage: {}", function.signature()));
        }
        for (i, (_, ty, arg_span)) in compiled.iter().enumerate() {
            if let Some(expected) = function.param(i) {
                self.expect(
                    *ty,
                    expected,
                    *arg_span,
                    &format!("argument {} of `{}` must be {expected}", i + 1, name.name),
                );
            }
        }
        self.check_pattern_args(&function, args);
        if function.is_contextual()
            && let Some(owner) = self.owner
        {
            self.graph.contextual(owner);
        }
        (self.push(Expr::Call(id, ids), span), function.returns())
    }

    /// `alias.function`: a function of the plugin this file imports as `alias`, or of one given to the
    /// engine builder. Reports unknown plugins and functions, with "did you mean".
    fn plugin_function(&mut self, name: &ast::Ident) -> Option<crate::functions::FunctionId> {
        let (alias, function) = name.name.split_once('.')?;
        let (label, offered): (String, Vec<(String, _)>) = match self.plugins.get(self.source, alias) {
            Some(scope) => (format!("`{alias}` ({})", scope.label), scope.functions.clone()),
            None => {
                if let Some(id) = self.registry.lookup(&name.name) {
                    return Some(id);
                }
                let prefix = format!("{alias}.");
                let offered: Vec<(String, _)> = self
                    .registry
                    .names()
                    .filter_map(|n| Some((n.strip_prefix(&prefix)?.to_string(), self.registry.lookup(n)?)))
                    .collect();
                if offered.is_empty() {
                    let mut aliases: Vec<String> =
                        self.plugins.aliases(self.source).into_iter().map(String::from).collect();
                    aliases.extend(self.registry.names().filter_map(|n| Some(n.split_once('.')?.0.to_string())));
                    let help = suggestion(alias, aliases.iter().map(String::as_str)).or_else(|| {
                        Some(format!("import it first: `import plugin \"{alias}.wasm\" as {alias} sha256 \"…\"`"))
                    });
                    self.error(
                        crate::diagnostic::Code::UnknownFunction,
                        name.span,
                        format!("`{alias}` is not an imported plugin"),
                    )
                    .help = help;
                    return None;
                }
                (format!("`{alias}`"), offered)
            }
        };
        if let Some((_, id)) = offered.iter().find(|(n, _)| n == function) {
            return Some(*id);
        }
        let names: Vec<&str> = offered.iter().map(|(n, _)| n.as_str()).collect();
        let help =
            suggestion(function, names.iter().copied()).or_else(|| Some(format!("it offers {}", names.join(", "))));
        self.error(
            crate::diagnostic::Code::UnknownFunction,
            name.span,
            format!("plugin {label} has no function `{function}`"),
        )
        .help = help;
        None
    }

    fn documents(&mut self, args: &[ast::Expr], span: Span) -> (ExprId, Ty) {
        let mut kinds = Vec::new();
        for arg in args {
            match &arg.kind {
                ExprKind::Name(n) => match n.parse::<Kind>() {
                    Ok(k) => kinds.push(k),
                    Err(_) => self.unknown_kind(n, arg.span),
                },
                _ => {
                    self.error(Code::Type, arg.span, "`documents` takes document kinds, such as `documents(MLBom)`");
                }
            }
        }
        if kinds.is_empty() && args.is_empty() {
            kinds.extend(Kind::ALL.iter().copied().filter(|k| *k != Kind::Unknown));
        }
        if let Some(owner) = self.owner {
            self.graph.contextual(owner);
        }
        (self.push(Expr::Documents(kinds.into()), span), Ty::ARRAY)
    }

    pub(super) fn unknown_kind(&mut self, name: &str, span: Span) {
        let help = suggestion(name, Kind::ALL.iter().map(|k| k.name())).or_else(|| {
            Some(format!("known kinds: {}", Kind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")))
        });
        self.error(Code::UnknownKind, span, format!("unknown document kind `{name}`")).help = help;
    }

    fn binary(&mut self, op: BinaryOp, l: &ast::Expr, r: &ast::Expr, span: Span) -> (ExprId, Ty) {
        // `x == null` tests for absence as well as null: it is how a policy says "this may be missing".
        if matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
            let null_side = match (&l.kind, &r.kind) {
                (_, ExprKind::Null) => Some(l),
                (ExprKind::Null, _) => Some(r),
                _ => None,
            };
            if let Some(other) = null_side {
                let (x, _) = self.expr(other);
                return (self.push(Expr::IsNull(x, op == BinaryOp::Ne), span), Ty::BOOL);
            }
        }
        if op == BinaryOp::Matches {
            return self.matches(l, r, span);
        }
        let (a, at) = self.expr(l);
        let (b, bt) = self.expr(r);
        let sym = op.symbol();
        let expr = match op {
            BinaryOp::And | BinaryOp::Or => {
                self.expect(at, Ty::BOOL, l.span, &format!("`{sym}` needs booleans"));
                self.expect(bt, Ty::BOOL, r.span, &format!("`{sym}` needs booleans"));
                if op == BinaryOp::And { Expr::And(a, b) } else { Expr::Or(a, b) }
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                if at.disjoint(bt) {
                    self.error(Code::Type, span, format!("comparing {at} with {bt} is always {}", op == BinaryOp::Ne));
                }
                Expr::Compare(if op == BinaryOp::Eq { Cmp::Eq } else { Cmp::Ne }, a, b)
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let ordered = Ty::NUMBER.or(Ty::STRING);
                self.expect(at, ordered, l.span, &format!("`{sym}` compares numbers or strings"));
                self.expect(bt, ordered, r.span, &format!("`{sym}` compares numbers or strings"));
                if at.within(ordered) && bt.within(ordered) && at.disjoint(bt) {
                    self.error(Code::Type, span, format!("`{sym}` between {at} and {bt} can never hold"));
                }
                let cmp = match op {
                    BinaryOp::Lt => Cmp::Lt,
                    BinaryOp::Le => Cmp::Le,
                    BinaryOp::Gt => Cmp::Gt,
                    _ => Cmp::Ge,
                };
                Expr::Compare(cmp, a, b)
            }
            BinaryOp::In | BinaryOp::NotIn => {
                self.expect(
                    bt,
                    Ty::ARRAY.or(Ty::OBJECT).or(Ty::STRING),
                    r.span,
                    &format!("`{sym}` looks in an array, object or string"),
                );
                Expr::In(a, b, op == BinaryOp::NotIn)
            }
            BinaryOp::Default => return (self.push(Expr::Default(a, b), span), at.without(Ty::NULL).or(bt)),
            BinaryOp::Add => {
                let addable = Ty::NUMBER.or(Ty::STRING).or(Ty::ARRAY);
                self.expect(at, addable, l.span, "`+` adds numbers or joins strings or arrays");
                self.expect(bt, addable, r.span, "`+` adds numbers or joins strings or arrays");
                if at.within(addable) && bt.within(addable) && at.disjoint(bt) {
                    self.error(Code::Type, span, format!("cannot add {at} and {bt}")).help =
                        Some("convert with `to_string(...)` or `to_number(...)` first".into());
                }
                return (
                    self.push(Expr::Arith(Arith::Add, a, b), span),
                    if at == bt { at } else { at.or(bt).and(addable) },
                );
            }
            BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
                self.expect(at, Ty::NUMBER, l.span, &format!("`{sym}` needs numbers"));
                self.expect(bt, Ty::NUMBER, r.span, &format!("`{sym}` needs numbers"));
                let arith = match op {
                    BinaryOp::Sub => Arith::Sub,
                    BinaryOp::Mul => Arith::Mul,
                    BinaryOp::Div => Arith::Div,
                    _ => Arith::Rem,
                };
                return (self.push(Expr::Arith(arith, a, b), span), Ty::NUMBER);
            }
            BinaryOp::Matches => unreachable!("handled above"),
        };
        (self.push(expr, span), Ty::BOOL)
    }

    fn matches(&mut self, l: &ast::Expr, r: &ast::Expr, span: Span) -> (ExprId, Ty) {
        let (a, at) = self.expect_string(l, "`matches` tests a string");
        let literal = match &r.kind {
            ExprKind::Regex { pattern, flags } => Some((pattern.as_str(), flags.as_str())),
            ExprKind::Str(pattern) => Some((pattern.as_str(), "")),
            _ => None,
        };
        let _ = at;
        let expr = match literal {
            Some((pattern, flags)) => match self.compile_regex(pattern, flags) {
                Ok(index) => Expr::Matches(a, index),
                Err(e) => {
                    self.error(Code::Regex, r.span, "invalid regular expression").help = Some(e);
                    Expr::Matches(a, 0)
                }
            },
            None => {
                let (b, _) = self.expect_string(r, "a pattern must be a string");
                Expr::MatchesDynamic(a, b)
            }
        };
        (self.push(expr, span), Ty::BOOL)
    }

    fn expect_string(&mut self, e: &ast::Expr, message: &str) -> (ExprId, Ty) {
        let (id, ty) = self.expr(e);
        self.expect(ty, Ty::STRING, e.span, message);
        (id, ty)
    }

    /// Compiles (or reuses) a regex; linear-time and size-bounded, so no pattern can hang evaluation.
    pub(super) fn compile_regex(&mut self, pattern: &str, flags: &str) -> Result<u32, String> {
        let key = (pattern.to_string(), flags.to_string());
        if let Some(&index) = self.regex_cache.get(&key) {
            return Ok(index);
        }
        let regex = if self.lazy_regexes.get(self.source as usize).copied().unwrap_or(false) {
            Pattern::lazy(pattern, flags)?
        } else {
            Pattern::eager(pattern, flags)?
        };
        self.program.regexes.push(regex);
        let index = (self.program.regexes.len() - 1) as u32;
        self.regex_cache.insert(key, index);
        Ok(index)
    }

    /// Compiles `x in xs where cond` in the current (new) scope.
    pub(super) fn binding(&mut self, b: &ast::Binding) -> Loop {
        let (source, ty) = self.expr(&b.source);
        self.expect(ty, Ty::ARRAY.or(Ty::OBJECT).or(Ty::NULL), b.source.span, "`in` iterates over an array or object");
        let key = b.key.as_ref().map(|k| self.bind_checked(k));
        let var = self.bind_checked(&b.var);
        let filter = b.filter.as_ref().map(|f| {
            let (id, ty) = self.expr(f);
            self.expect(ty, Ty::BOOL, f.span, "`where` needs a boolean");
            id
        });
        Loop { key, var, source, filter }
    }

    /// Binds a new local, refusing names that would hide `input` or `doc`.
    pub(super) fn bind_checked(&mut self, name: &ast::Ident) -> u32 {
        if matches!(name.name.as_str(), "input" | "doc") {
            self.error(Code::Shadowing, name.span, format!("`{}` cannot be rebound", name.name));
        } else if self.scopes.last().is_some_and(|s| s.iter().any(|l: &Local| l.name == name.name)) {
            self.error(Code::Duplicate, name.span, format!("`{}` is already bound here", name.name));
        }
        self.bind(&name.name, Ty::ANY)
    }

    pub(super) fn push_scope(&mut self) {
        self.scope_starts.push(self.next_slot);
        self.scopes.push(Vec::new());
    }

    pub(super) fn pop_scope(&mut self) {
        self.scopes.pop();
        // Slots of a finished scope are free again: nothing outside it can refer to them.
        if let Some(start) = self.scope_starts.pop() {
            self.next_slot = start;
        }
    }

    /// Compiles a message template.
    pub(super) fn template(&mut self, t: &ast::Template) -> ExprId {
        let parts: Vec<Part> = t
            .parts
            .iter()
            .map(|p| match p {
                ast::TemplatePart::Text(s) => Part::Text(Arc::from(s.as_str())),
                ast::TemplatePart::Expr(e) => Part::Expr(self.expr(e).0),
            })
            .collect();
        self.push(Expr::Template(parts.into()), t.span)
    }
}
