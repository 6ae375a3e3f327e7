//! The compiled program: expressions in one arena, names resolved to slots, functions to ids.
//!
//! The evaluator never looks anything up by name: locals are frame slots, constants are indexes into the
//! constant table, regexes are compiled, and rules are indexed by the document kinds they apply to.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;

use crate::functions::FunctionId;
use crate::input::Kind;
use crate::source::{Source, Span};
use crate::value::Value;

pub use crate::rule_info::{RuleInfo, Severity};

/// Index of an expression in [`Program::exprs`].
pub(crate) type ExprId = u32;

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Arithmetic operators (`+` also joins strings and arrays).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// Quantifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quant {
    All,
    Any,
    None,
    Count,
}

/// `k, v in source where filter`: the slots it binds and what it ranges over.
#[derive(Debug)]
pub(crate) struct Loop {
    pub key: Option<u32>,
    pub var: u32,
    pub source: ExprId,
    pub filter: Option<ExprId>,
}

/// A member name read by `obj.name`, with its hash computed once at compile time.
#[derive(Debug)]
pub(crate) struct FieldKey {
    pub name: Arc<str>,
    pub hash: u64,
    /// Where the member was found last time: documents of one kind mostly share a key order, so the
    /// position is tried first, which costs one key comparison instead of a hash-table probe. A guess only
    /// (relaxed atomic: threads evaluating the same program may overwrite each other's guesses).
    position: AtomicU32,
}

impl FieldKey {
    pub fn new(name: &str) -> FieldKey {
        FieldKey { name: Arc::from(name), hash: crate::value::key_hash(name), position: AtomicU32::new(0) }
    }

    /// The member of `map` this key names.
    #[inline]
    pub(crate) fn get<'v>(&self, map: &'v crate::value::Map) -> Option<&'v Value> {
        let guess = self.position.load(Relaxed) as usize;
        if let Some((k, v)) = map.get_index(guess)
            && same_text(k, &self.name)
        {
            return Some(v);
        }
        self.probe(map)
    }

    #[inline(never)]
    fn probe<'v>(&self, map: &'v crate::value::Map) -> Option<&'v Value> {
        use indexmap::map::RawEntryApiV1;
        let i = map.raw_entry_v1().index_from_hash(self.hash, |k| same_text(k, &self.name))?;
        if let Ok(i) = u32::try_from(i) {
            self.position.store(i, Relaxed);
        }
        map.get_index(i).map(|(_, v)| v)
    }
}

/// Whether two keys are the same text; keys of 4 to 16 bytes are compared a word at a time, without a call.
/// Also what `==` on two strings and constant string sets use.
#[inline(always)]
pub(crate) fn same_text(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// [`same_text`] of bytes (`starts_with` compares a prefix of a string, which need not be whole characters).
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    // Two overlapping words (or half-words) cover the whole key.
    if (8..=16).contains(&n) {
        word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8)
    } else if (4..8).contains(&n) {
        half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
    } else {
        a == b
    }
}

#[inline(always)]
fn word(s: &[u8], at: usize) -> u64 {
    match s.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        Some(w) => u64::from_ne_bytes(w),
        None => 0,
    }
}

#[inline(always)]
fn half(s: &[u8], at: usize) -> u32 {
    match s.get(at..at + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()) {
        Some(w) => u32::from_ne_bytes(w),
        None => 0,
    }
}

/// The items of `x in <constant array>`, for a lookup.
#[derive(Debug)]
pub(crate) struct ConstSet {
    hashed: HashSet<Value, foldhash::fast::RandomState>,
    /// When every item is a string and there are few: the strings, scanned by length and bytes, which costs
    /// less than hashing the item (`license in allowed_licenses`: five short names).
    strings: Option<Box<[Arc<str>]>>,
}

/// Most strings a set scans instead of hashing.
const MAX_SCANNED: usize = 16;

impl ConstSet {
    pub(crate) fn new(items: &[Value]) -> ConstSet {
        let strings: Option<Box<[Arc<str>]>> = if items.len() <= MAX_SCANNED {
            items.iter().map(|v| if let Value::String(s) = v { Some(s.clone()) } else { None }).collect()
        } else {
            None
        };
        ConstSet { hashed: items.iter().cloned().collect(), strings }
    }

    /// Whether `item` equals one of the items (`Value` equality: a string equals only a string).
    #[inline]
    pub(crate) fn contains(&self, item: &Value) -> bool {
        match (item, &self.strings) {
            (Value::String(s), Some(strings)) => strings.iter().any(|k| same_text(k, s)),
            _ => self.hashed.contains(item),
        }
    }
}

/// A piece of a message template.
#[derive(Debug)]
pub(crate) enum Part {
    Text(Arc<str>),
    Expr(ExprId),
}

/// One compiled expression.
#[derive(Debug)]
pub(crate) enum Expr {
    /// An entry of the constant table (literals and `const`/`param` values).
    Const(u32),
    /// The document's data.
    Input,
    /// The document's metadata (`doc`).
    Doc,
    /// A local slot of the current frame.
    Local(u32),
    Field(ExprId, FieldKey),
    Index(ExprId, ExprId),
    Not(ExprId),
    Neg(ExprId),
    And(ExprId, ExprId),
    Or(ExprId, ExprId),
    Compare(Cmp, ExprId, ExprId),
    /// `x == null` (or `!=` when negated): true for absent data too — the explicit way to handle absence.
    IsNull(ExprId, bool),
    Arith(Arith, ExprId, ExprId),
    /// `a ?? b`: `b` when `a` is absent or null.
    Default(ExprId, ExprId),
    /// `x in xs` (`not in` when negated).
    In(ExprId, ExprId, bool),
    /// `x in <constant array>`, looked up in a hash set.
    InSet(ExprId, u32, bool),
    /// `x matches <compiled regex>`.
    Matches(ExprId, u32),
    /// `x matches <computed pattern>`.
    MatchesDynamic(ExprId, ExprId),
    Call(FunctionId, Box<[ExprId]>),
    CallUser(u32, Box<[ExprId]>),
    Array(Box<[ExprId]>),
    Object(Box<[(Arc<str>, ExprId)]>),
    Quantified(Quant, Box<Loop>, Option<ExprId>),
    Comprehension(ExprId, Box<[Loop]>),
    If(ExprId, ExprId, ExprId),
    Template(Box<[Part]>),
    /// `exists(x)`: present and not null.
    Exists(ExprId),
    /// `documents(Kind, ...)`: the data of every loaded document of these kinds.
    Documents(Box<[Kind]>),
}

/// Where an expression or statement was written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin {
    pub source: u32,
    pub span: Span,
}

/// A statement of a rule body.
#[derive(Debug)]
pub(crate) enum Stmt {
    When(ExprId),
    Let { slot: u32, value: ExprId },
    Check(Check),
    For { lp: Loop, body: Vec<Stmt> },
}

/// `require` / `forbid`.
#[derive(Debug)]
pub(crate) struct Check {
    pub forbid: bool,
    pub cond: ExprId,
    pub message: Option<ExprId>,
    /// `at expr`, or the first input path of the condition when `at` is omitted.
    pub at: Option<ExprId>,
}

/// A compiled rule.
#[derive(Debug)]
pub(crate) struct Rule {
    pub info: Arc<RuleInfo>,
    pub body: Vec<Stmt>,
    /// Local slots its body needs.
    pub locals: u32,
}

/// A compiled user function.
#[derive(Debug)]
pub(crate) struct UserFn {
    pub locals: u32,
    pub body: ExprId,
    /// Reads the document or the clock (directly or through other functions): never constant.
    pub contextual: bool,
}

/// A `const` or `param` to evaluate once, at compile time, in dependency order.
#[derive(Debug)]
pub(crate) struct ConstInit {
    pub slot: u32,
    pub value: ExprId,
    /// Frame size its expression needs (comprehensions bind locals).
    pub locals: u32,
    /// `param`: the qualified name users override it by.
    pub param: Option<String>,
    pub origin: Origin,
}

/// Everything the evaluator needs.
#[derive(Debug, Default)]
pub(crate) struct Program {
    pub exprs: Vec<Expr>,
    pub origins: Vec<Origin>,
    pub sources: Vec<Arc<Source>>,
    pub consts: Vec<Value>,
    pub const_inits: Vec<ConstInit>,
    pub regexes: Vec<crate::pattern::Pattern>,
    pub sets: Vec<ConstSet>,
    pub fns: Vec<UserFn>,
    pub rules: Vec<Rule>,
    /// Rule indexes per document kind (indexed by `Kind as usize`), in rule order.
    pub by_kind: Vec<Vec<u32>>,
}

impl Expr {
    /// The sub-expressions evaluated by this one, and the local slots it binds for some of them.
    pub(crate) fn children(&self) -> (Vec<ExprId>, Vec<u32>) {
        let loop_parts = |lp: &Loop, out: &mut Vec<ExprId>, bound: &mut Vec<u32>| {
            out.push(lp.source);
            out.extend(lp.filter);
            bound.extend(lp.key);
            bound.push(lp.var);
        };
        let mut out = Vec::new();
        let mut bound = Vec::new();
        match self {
            Expr::Const(_) | Expr::Input | Expr::Doc | Expr::Local(_) | Expr::Documents(_) => {}
            Expr::Field(x, _) | Expr::Not(x) | Expr::Neg(x) | Expr::IsNull(x, _) | Expr::Exists(x) => out.push(*x),
            Expr::InSet(x, _, _) | Expr::Matches(x, _) => out.push(*x),
            Expr::Index(a, b)
            | Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Compare(_, a, b)
            | Expr::Arith(_, a, b)
            | Expr::Default(a, b)
            | Expr::In(a, b, _)
            | Expr::MatchesDynamic(a, b) => out.extend([*a, *b]),
            Expr::Call(_, args) | Expr::CallUser(_, args) | Expr::Array(args) => out.extend(args.iter()),
            Expr::Object(entries) => out.extend(entries.iter().map(|(_, e)| *e)),
            Expr::If(c, t, e) => out.extend([*c, *t, *e]),
            Expr::Template(parts) => out.extend(parts.iter().filter_map(|p| match p {
                Part::Expr(e) => Some(*e),
                Part::Text(_) => None,
            })),
            Expr::Quantified(_, lp, cond) => {
                loop_parts(lp, &mut out, &mut bound);
                out.extend(*cond);
            }
            Expr::Comprehension(elem, loops) => {
                for lp in loops.iter() {
                    loop_parts(lp, &mut out, &mut bound);
                }
                out.push(*elem);
            }
        }
        (out, bound)
    }
}

impl Program {
    /// The source text of an expression, for messages.
    pub fn text(&self, id: ExprId) -> &str {
        let origin = self.origins[id as usize];
        self.sources[origin.source as usize].text().get(origin.span.range()).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::{ConstSet, FieldKey, same_bytes, same_text};
    use crate::value::{Map, Value};

    #[test]
    fn keys_compare_like_strings() {
        let keys = [
            "",
            "a",
            "ab",
            "abc",
            "name",
            "names",
            "format",
            "sha256",
            "license",
            "revision",
            "base_model",
            "contains_pii",
            "a_sixteen_bytes_",
            "a_seventeen_bytes",
            "é",
            "ée",
            "naMe",
            "nbme",
            "namf",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(same_text(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn remembered_position_is_only_a_guess() {
        let key = FieldKey::new("sha256");
        let one: Map = [("path", 1), ("sha256", 2)].into_iter().map(|(k, v)| (k.into(), Value::Int(v))).collect();
        let other: Map = [("sha256", 3), ("path", 4)].into_iter().map(|(k, v)| (k.into(), Value::Int(v))).collect();
        let none: Map = [("path", 5), ("sha257", 6)].into_iter().map(|(k, v)| (k.into(), Value::Int(v))).collect();
        for _ in 0..2 {
            assert_eq!(key.get(&one), Some(&Value::Int(2)));
            assert_eq!(key.get(&other), Some(&Value::Int(3)));
            assert_eq!(key.get(&none), None);
            assert_eq!(key.get(&Map::default()), None);
        }
    }

    #[test]
    fn constant_sets_answer_like_a_linear_scan() {
        let v = |text: &str| Value::from_json(text).expect("json");
        let lists = [
            "[\"apache-2.0\", \"mit\", \"bsd-3-clause\", \"cc-by-4.0\", \"llama3.1\"]",
            "[\"a\", 1, \"b\", null, [1], {\"k\": 2}]",
            "[\"\", \"é\", \"a string longer than sixteen bytes\", \"abcd\"]",
            "[]",
        ];
        let items = [
            "\"mit\"",
            "\"MIT\"",
            "\"mi\"",
            "\"mitt\"",
            "\"llama3.1\"",
            "\"a\"",
            "1",
            "1.0",
            "null",
            "[1]",
            "{\"k\": 2}",
            "\"\"",
            "\"é\"",
            "\"a string longer than sixteen bytes\"",
            "\"a string longer than sixteen bytez\"",
            "\"abcd\"",
            "\"abce\"",
            "true",
        ];
        for list in lists {
            let Value::Array(values) = v(list) else { unreachable!("a list") };
            let set = ConstSet::new(&values);
            for item in items {
                let item = v(item);
                assert_eq!(set.contains(&item), values.contains(&item), "{item:?} in {list}");
            }
        }
        // Longer lists are hashed.
        let long: Vec<Value> = (0..40).map(|i| Value::from(format!("v{i}"))).collect();
        let set = ConstSet::new(&long);
        assert!(set.strings.is_none());
        assert!(set.contains(&Value::from("v39")) && !set.contains(&Value::from("v40")));
    }

    #[test]
    fn bytes_compare_like_slices() {
        let texts: [&[u8]; 8] =
            [b"", b"s3", b"s3://", b"s3://approved-", b"s3://approved_", b"hf://datasets/", b"\xc3", b"\xc3\xa9"];
        for a in texts {
            for b in texts {
                assert_eq!(same_bytes(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }
}
