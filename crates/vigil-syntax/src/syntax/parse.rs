//! pest parse trees → [`ast`](super::ast) nodes, and pest errors → diagnostics in plain words.

use std::cell::Cell;
use std::sync::{Arc, LazyLock};

use pest::Parser as _;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::*;
use super::errors::syntax_error;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{Source, Span};

#[derive(pest_derive::Parser)]
#[grammar = "../../../grammar/policy.pest"]
pub(super) struct PolicyParser;

/// Words that cannot name a variable, constant or function (they may name fields and keys).
const KEYWORDS: &[&str] = &[
    "package", "const", "param", "fn", "rule", "let", "when", "require", "forbid", "for", "in", "where", "else", "at",
    "and", "or", "not", "if", "then", "true", "false", "null",
];

/// Deepest nesting of expressions accepted; deeper input is an error, not a stack overflow.
const MAX_DEPTH: usize = 200;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left)
            | Op::infix(Rule::op_not_in, Assoc::Left)
            | Op::infix(Rule::op_matches, Assoc::Left))
        .op(Op::infix(Rule::op_default, Assoc::Right))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_rem, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
        .op(Op::postfix(Rule::field) | Op::postfix(Rule::index))
});

/// Parses one policy file.
pub fn parse(source: &Arc<Source>) -> Result<File, Vec<Diagnostic>> {
    // Tracking what the parser expected costs time on every parse; it is switched on only to explain a
    // failure, by parsing the broken file a second time.
    let mut pairs = PolicyParser::parse(Rule::file, source.text()).map_err(|_| {
        pest::set_error_detail(true);
        let detailed = PolicyParser::parse(Rule::file, source.text());
        pest::set_error_detail(false);
        match detailed {
            Err(e) => vec![syntax_error(source, &e)],
            Ok(_) => vec![Diagnostic::new(Code::Syntax, source, Span::new(0, 0), "the policy could not be parsed")],
        }
    })?;
    let file = pairs.next().expect("the file rule always yields one pair");
    let builder = Builder { source, errors: Vec::new().into(), depth: Cell::new(0) };
    let ast = builder.file(file);
    let errors = builder.errors.into_inner();
    if errors.is_empty() { Ok(ast) } else { Err(errors) }
}

struct Builder<'s> {
    source: &'s Arc<Source>,
    errors: std::cell::RefCell<Vec<Diagnostic>>,
    depth: Cell<usize>,
}

fn span(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

impl Builder<'_> {
    fn error(&self, span: Span, message: impl Into<String>) {
        self.errors.borrow_mut().push(Diagnostic::new(Code::Syntax, self.source, span, message));
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        let ident = Ident { name: pair.as_str().to_string(), span: span(&pair) };
        if pair.as_rule() == Rule::ident && KEYWORDS.contains(&ident.name.as_str()) {
            self.error(ident.span, format!("`{}` is a keyword, not a name", ident.name));
        }
        ident
    }

    fn file(&self, pair: Pair<'_, Rule>) -> File {
        let mut inner = pair.into_inner();
        let package_decl = inner.next().expect("grammar: package first");
        let name = package_decl.into_inner().nth(1).expect("grammar: package name");
        let package = self.ident(name);
        let items = inner.filter(|p| p.as_rule() != Rule::EOI).map(|p| self.item(p)).collect();
        File { package, items }
    }

    fn docs(&self, pair: Pair<'_, Rule>) -> String {
        let lines: Vec<&str> = pair
            .into_inner()
            .map(|l| l.as_str()[3..].strip_prefix(' ').unwrap_or(&l.as_str()[3..]).trim_end())
            .collect();
        lines.join("\n")
    }

    fn item(&self, pair: Pair<'_, Rule>) -> Item {
        let rule = pair.as_rule();
        let whole = span(&pair);
        let mut inner = pair.into_inner();
        let doc = self.docs(inner.next().expect("grammar: docs"));
        inner.next(); // the keyword
        match rule {
            Rule::const_decl | Rule::param_decl => {
                let name = self.ident(inner.next().expect("grammar: name"));
                let value = self.expr(inner.next().expect("grammar: value"));
                let decl = ValueDecl { doc, name, value };
                if rule == Rule::const_decl { Item::Const(decl) } else { Item::Param(decl) }
            }
            Rule::fn_decl => {
                let name = self.ident(inner.next().expect("grammar: name"));
                let params = inner.next().expect("grammar: params").into_inner().map(|p| self.ident(p)).collect();
                let body = self.expr(inner.next().expect("grammar: body"));
                Item::Fn(FnDecl { doc, name, params, body })
            }
            Rule::rule_decl => {
                let id_pair = inner.next().expect("grammar: rule id");
                let id = Ident { name: self.string(id_pair.clone()), span: span(&id_pair) };
                let body = inner.map(|s| self.stmt(s)).collect();
                Item::Rule(RuleDecl { doc, id, body, span: whole })
            }
            Rule::import_decl => {
                inner.next(); // `plugin`
                let string = |p: Pair<'_, Rule>| Ident { span: span(&p), name: self.string(p) };
                let path = string(inner.next().expect("grammar: plugin path"));
                inner.next(); // `as`
                let alias = self.ident(inner.next().expect("grammar: plugin alias"));
                let sha256 = inner.nth(1).map(string);
                Item::Import(ImportDecl { doc, path, alias, sha256, span: whole })
            }
            other => unreachable!("grammar: unexpected item {other:?}"),
        }
    }

    fn stmt(&self, pair: Pair<'_, Rule>) -> Stmt {
        let rule = pair.as_rule();
        let whole = span(&pair);
        let mut inner = pair.into_inner();
        match rule {
            Rule::meta_stmt => {
                let name = self.ident(inner.next().expect("grammar: field"));
                Stmt::Meta { name, value: self.expr(inner.next().expect("grammar: value")) }
            }
            Rule::let_stmt => {
                inner.next();
                let name = self.ident(inner.next().expect("grammar: name"));
                Stmt::Let { name, value: self.expr(inner.next().expect("grammar: value")) }
            }
            Rule::when_stmt => {
                inner.next();
                Stmt::When(self.expr(inner.next().expect("grammar: condition")))
            }
            Rule::require_stmt | Rule::forbid_stmt => {
                inner.next();
                let cond = self.expr(inner.next().expect("grammar: condition"));
                let mut check = Check { forbid: rule == Rule::forbid_stmt, cond, message: None, at: None, span: whole };
                for clause in inner {
                    let is_else = clause.as_rule() == Rule::else_clause;
                    let value = clause.into_inner().nth(1).expect("grammar: clause value");
                    if is_else {
                        check.message = Some(self.template(value));
                    } else {
                        check.at = Some(self.expr(value));
                    }
                }
                Stmt::Check(check)
            }
            Rule::for_stmt => {
                inner.next();
                let binding = self.binding(inner.next().expect("grammar: binding"));
                let body = inner.next().expect("grammar: block").into_inner().map(|s| self.stmt(s)).collect();
                Stmt::For { binding, body, span: whole }
            }
            other => unreachable!("grammar: unexpected statement {other:?}"),
        }
    }

    fn binding(&self, pair: Pair<'_, Rule>) -> Binding {
        let mut names = Vec::new();
        let mut source = None;
        let mut filter = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::ident => names.push(self.ident(part)),
                Rule::expr if source.is_none() => source = Some(self.expr(part)),
                Rule::expr => filter = Some(self.expr(part)),
                _ => {}
            }
        }
        let var = names.pop().expect("grammar: binding name");
        Binding { key: names.pop(), var, source: source.expect("grammar: binding source"), filter }
    }

    fn expr(&self, pair: Pair<'_, Rule>) -> Expr {
        let whole = span(&pair);
        let depth = self.depth.get() + 1;
        if depth > MAX_DEPTH {
            self.error(whole, format!("expression nested more than {MAX_DEPTH} levels deep"));
            return Expr { kind: ExprKind::Null, span: whole };
        }
        self.depth.set(depth);
        let expr = PRATT
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, e| {
                let kind = if op.as_rule() == Rule::op_not { UnaryOp::Not } else { UnaryOp::Neg };
                let span = span(&op).join(e.span);
                Expr { kind: ExprKind::Unary(kind, Box::new(e)), span }
            })
            .map_postfix(|e, op| {
                let span = e.span.join(span(&op));
                let kind = match op.as_rule() {
                    Rule::field => {
                        let name = op.into_inner().next().expect("grammar: field name");
                        ExprKind::Field(Box::new(e), self.ident(name))
                    }
                    _ => ExprKind::Index(
                        Box::new(e),
                        Box::new(self.expr(op.into_inner().next().expect("grammar: index"))),
                    ),
                };
                Expr { kind, span }
            })
            .map_infix(|l, op, r| {
                let span = l.span.join(r.span);
                Expr { kind: ExprKind::Binary(binary_op(op.as_rule()), Box::new(l), Box::new(r)), span }
            })
            .parse(pair.into_inner());
        self.depth.set(depth - 1);
        expr
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Expr {
        let whole = span(&pair);
        let rule = pair.as_rule();
        let text = pair.as_str();
        let kind = match rule {
            Rule::expr => return self.expr(pair),
            Rule::null => ExprKind::Null,
            Rule::boolean => ExprKind::Bool(text == "true"),
            Rule::number => self.number(text, whole),
            Rule::string => ExprKind::Str(self.string(pair)),
            Rule::regex => {
                let mut parts = pair.into_inner();
                let pattern = parts.next().map_or("", |p| p.as_str()).replace("\\/", "/");
                let flags = parts.next().map_or("", |p| p.as_str()).to_string();
                ExprKind::Regex { pattern, flags }
            }
            Rule::list => {
                let mut inner = pair.into_inner();
                let Some(first) = inner.next() else { return Expr { kind: ExprKind::Array(Vec::new()), span: whole } };
                let first = self.expr(first);
                let rest = inner.next().expect("grammar: list tail");
                if rest.as_rule() == Rule::comprehension {
                    let bindings =
                        rest.into_inner().filter(|p| p.as_rule() == Rule::binding).map(|b| self.binding(b)).collect();
                    ExprKind::Comprehension { elem: Box::new(first), bindings }
                } else {
                    ExprKind::Array(std::iter::once(first).chain(rest.into_inner().map(|p| self.expr(p))).collect())
                }
            }
            Rule::object => ExprKind::Object(
                pair.into_inner()
                    .map(|entry| {
                        let mut kv = entry.into_inner();
                        let key = kv.next().expect("grammar: key");
                        let key = match key.as_rule() {
                            Rule::string => Ident { name: self.string(key.clone()), span: span(&key) },
                            _ => self.ident(key),
                        };
                        (key, self.expr(kv.next().expect("grammar: value")))
                    })
                    .collect(),
            ),
            Rule::call => {
                let mut inner = pair.into_inner();
                let mut name = self.ident(inner.next().expect("grammar: name"));
                let mut next = inner.next();
                if let Some(function) = next.take_if(|p| p.as_rule() == Rule::plugin_function) {
                    let function = self.ident(function.into_inner().next().expect("grammar: plugin function"));
                    name =
                        Ident { name: format!("{}.{}", name.name, function.name), span: name.span.join(function.span) };
                    next = inner.next();
                }
                match next {
                    Some(args) => ExprKind::Call(name, args.into_inner().map(|p| self.expr(p)).collect()),
                    // The pair may end after whitespace skipped while looking for `(`: use the name's own span.
                    None => return Expr { span: name.span, kind: ExprKind::Name(name.name) },
                }
            }
            Rule::if_expr => {
                let mut parts = pair.into_inner().filter(|p| p.as_rule() == Rule::expr).map(|p| self.expr(p));
                let (c, t, e) = (parts.next(), parts.next(), parts.next());
                ExprKind::If(
                    Box::new(c.expect("grammar: if")),
                    Box::new(t.expect("grammar: then")),
                    Box::new(e.expect("grammar: else")),
                )
            }
            Rule::quantifier => {
                let mut inner = pair.into_inner();
                let kind = match inner.next().expect("grammar: quantifier").as_str() {
                    "all" => Quantifier::All,
                    "any" => Quantifier::Any,
                    "none" => Quantifier::None,
                    _ => Quantifier::Count,
                };
                let binding = Box::new(self.binding(inner.next().expect("grammar: binding")));
                let cond = inner.next().map(|c| Box::new(self.expr(c)));
                if kind == Quantifier::All && cond.is_none() {
                    self.error(whole, "`all(...)` needs a condition: `all(x in xs: condition)`");
                }
                ExprKind::Quantified { kind, binding, cond }
            }
            other => unreachable!("grammar: unexpected primary {other:?}"),
        };
        Expr { kind, span: whole }
    }

    fn number(&self, text: &str, at: Span) -> ExprKind {
        let clean = text.replace('_', "");
        if !clean.contains(['.', 'e', 'E'])
            && let Ok(i) = clean.parse::<i64>()
        {
            return ExprKind::Int(i);
        }
        match clean.parse::<f64>() {
            Ok(x) if x.is_finite() => ExprKind::Float(x),
            _ => {
                self.error(at, format!("number `{text}` is out of range"));
                ExprKind::Null
            }
        }
    }

    fn string(&self, pair: Pair<'_, Rule>) -> String {
        let mut out = String::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::escape => out.push(self.unescape(&part)),
                _ => out.push_str(part.as_str()),
            }
        }
        out
    }

    fn template(&self, pair: Pair<'_, Rule>) -> Template {
        let whole = span(&pair);
        let mut parts: Vec<TemplatePart> = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::interpolation => {
                    let e = part.into_inner().next().expect("grammar: interpolated expression");
                    parts.push(TemplatePart::Expr(self.expr(e)));
                }
                rule => {
                    let text =
                        if rule == Rule::escape { self.unescape(&part).to_string() } else { part.as_str().to_string() };
                    match parts.last_mut() {
                        Some(TemplatePart::Text(t)) => t.push_str(&text),
                        _ => parts.push(TemplatePart::Text(text)),
                    }
                }
            }
        }
        Template { parts, span: whole }
    }

    fn unescape(&self, pair: &Pair<'_, Rule>) -> char {
        let text = pair.as_str();
        match &text[1..] {
            "n" => '\n',
            "t" => '\t',
            "r" => '\r',
            "0" => '\0',
            hex if hex.starts_with("u{") => {
                let code = u32::from_str_radix(&hex[2..hex.len() - 1], 16).ok().and_then(char::from_u32);
                code.unwrap_or_else(|| {
                    self.error(span(pair), format!("`{text}` is not a valid Unicode character"));
                    '\u{fffd}'
                })
            }
            other => other.chars().next().unwrap_or('\\'),
        }
    }
}

fn binary_op(rule: Rule) -> BinaryOp {
    match rule {
        Rule::op_or => BinaryOp::Or,
        Rule::op_and => BinaryOp::And,
        Rule::op_eq => BinaryOp::Eq,
        Rule::op_ne => BinaryOp::Ne,
        Rule::op_lt => BinaryOp::Lt,
        Rule::op_le => BinaryOp::Le,
        Rule::op_gt => BinaryOp::Gt,
        Rule::op_ge => BinaryOp::Ge,
        Rule::op_in => BinaryOp::In,
        Rule::op_not_in => BinaryOp::NotIn,
        Rule::op_matches => BinaryOp::Matches,
        Rule::op_default => BinaryOp::Default,
        Rule::op_add => BinaryOp::Add,
        Rule::op_sub => BinaryOp::Sub,
        Rule::op_mul => BinaryOp::Mul,
        Rule::op_div => BinaryOp::Div,
        _ => BinaryOp::Rem,
    }
}
