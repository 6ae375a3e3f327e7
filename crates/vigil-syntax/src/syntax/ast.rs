//! The syntax tree of a policy file. Every node carries its span; nothing here is resolved yet.
//! Trees are serializable so the bundled policies can be parsed once, when Vigil is built (see build.rs).

use serde::{Deserialize, Serialize};

use crate::source::Span;

/// A name and where it was written.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// One parsed `.policy` file.
#[derive(Debug, Serialize, Deserialize)]
pub struct File {
    /// `package a.b`
    pub package: Ident,
    /// Declarations in source order.
    pub items: Vec<Item>,
}

/// A top-level declaration.
#[derive(Debug, Serialize, Deserialize)]
pub enum Item {
    /// `const name = expr`
    Const(ValueDecl),
    /// `param name = expr`
    Param(ValueDecl),
    /// `fn name(params) = expr`
    Fn(FnDecl),
    /// `rule "ID" { ... }`
    Rule(RuleDecl),
    /// `import plugin "path.wasm" as name sha256 "hex"`
    Import(ImportDecl),
}

/// `import plugin "path.wasm" as name sha256 "hex"`: a WASM plugin whose functions the file calls as
/// `name.function(...)` (docs/plugins.md).
#[derive(Debug, Serialize, Deserialize)]
pub struct ImportDecl {
    /// The `///` text.
    pub doc: String,
    /// The module's path as written (relative to the policy file) and the span of the string.
    pub path: Ident,
    /// The alias the file calls it by.
    pub alias: Ident,
    /// The pinned SHA-256 digest (hex) and its span, if given.
    pub sha256: Option<Ident>,
    /// The whole declaration.
    pub span: Span,
}

/// `const` or `param`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ValueDecl {
    /// The `///` text.
    pub doc: String,
    /// The name.
    pub name: Ident,
    /// The value (or default).
    pub value: Expr,
}

/// `fn name(a, b) = body`
#[derive(Debug, Serialize, Deserialize)]
pub struct FnDecl {
    /// The `///` text.
    pub doc: String,
    /// The name.
    pub name: Ident,
    /// Parameter names.
    pub params: Vec<Ident>,
    /// The body.
    pub body: Expr,
}

/// `rule "ID" { statements }`
#[derive(Debug, Serialize, Deserialize)]
pub struct RuleDecl {
    /// The `///` text: the rule's description.
    pub doc: String,
    /// The rule id (the string's content) and the span of the string.
    pub id: Ident,
    /// Metadata and checks, in order.
    pub body: Vec<Stmt>,
    /// The whole declaration.
    pub span: Span,
}

/// A statement inside a rule or a `for` block.
#[derive(Debug, Serialize, Deserialize)]
pub enum Stmt {
    /// `title = "..."` and the other metadata fields.
    Meta {
        /// The field.
        name: Ident,
        /// Its value.
        value: Expr,
    },
    /// `let name = expr`
    Let {
        /// The name.
        name: Ident,
        /// The value.
        value: Expr,
    },
    /// `when cond`: the rest of the block runs only if `cond` holds.
    When(Expr),
    /// `require cond` (or `forbid cond` when `negate`).
    Check(Check),
    /// `for binding { body }`
    For {
        /// What to iterate.
        binding: Binding,
        /// The statements run for each element.
        body: Vec<Stmt>,
        /// The whole statement.
        span: Span,
    },
}

/// `require` / `forbid`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Check {
    /// `forbid` rather than `require`.
    pub forbid: bool,
    /// The condition.
    pub cond: Expr,
    /// `else "message"`.
    pub message: Option<Template>,
    /// `at expr`.
    pub at: Option<Expr>,
    /// The whole statement.
    pub span: Span,
}

/// `x in xs where cond` or `k, v in obj`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Binding {
    /// The first name of two (`i` in `i, x in xs`).
    pub key: Option<Ident>,
    /// The element name.
    pub var: Ident,
    /// The collection.
    pub source: Expr,
    /// `where cond`.
    pub filter: Option<Expr>,
}

/// A message with `{expr}` interpolations.
#[derive(Debug, Serialize, Deserialize)]
pub struct Template {
    /// Text and expressions, in order.
    pub parts: Vec<TemplatePart>,
    /// The string literal.
    pub span: Span,
}

/// A piece of a [`Template`].
#[derive(Debug, Serialize, Deserialize)]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// `{expr}`.
    Expr(Expr),
}

/// An expression and its span.
#[derive(Debug, Serialize, Deserialize)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnaryOp {
    /// `not`
    Not,
    /// `-`
    Neg,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `matches`
    Matches,
    /// `??`
    Default,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
            BinaryOp::Matches => "matches",
            BinaryOp::Default => "??",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }
}

/// Quantifiers over a collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Quantifier {
    /// Every element satisfies the condition.
    All,
    /// Some element does.
    Any,
    /// No element does.
    None,
    /// How many do.
    Count,
}

/// The kinds of expression.
#[derive(Debug, Serialize, Deserialize)]
pub enum ExprKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A decimal number.
    Float(f64),
    /// A string literal.
    Str(String),
    /// `/pattern/flags`
    Regex {
        /// The pattern.
        pattern: String,
        /// The flags.
        flags: String,
    },
    /// A name.
    Name(String),
    /// `obj.name`
    Field(Box<Expr>, Ident),
    /// `obj[index]`
    Index(Box<Expr>, Box<Expr>),
    /// `name(args)`, or `plugin.name(args)` (the name is then `plugin.name`, spanning both parts).
    Call(Ident, Vec<Expr>),
    /// `not x`, `-x`
    Unary(UnaryOp, Box<Expr>),
    /// `a op b`
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `[a, b]`
    Array(Vec<Expr>),
    /// `{k: v}`
    Object(Vec<(Ident, Expr)>),
    /// `all(x in xs: cond)` and friends.
    Quantified {
        /// Which quantifier.
        kind: Quantifier,
        /// What it ranges over.
        binding: Box<Binding>,
        /// The condition (`true` when omitted).
        cond: Option<Box<Expr>>,
    },
    /// `[elem for x in xs where cond]`
    Comprehension {
        /// The element expression.
        elem: Box<Expr>,
        /// One or more `for` clauses, outermost first.
        bindings: Vec<Binding>,
    },
    /// `if c then a else b`
    If(Box<Expr>, Box<Expr>, Box<Expr>),
}
