//! The function registry: builtins and host functions, with signatures the checker verifies.
//!
//! One registry serves the checker (names, arity, argument types) and the evaluator (the implementation),
//! so a function registered by an embedding program or by a WASM plugin (src/plugins) is checked exactly
//! like a builtin. Functions are pure: same arguments, same result; the only context they see is the evaluation
//! clock, which `--now` pins.

mod builtins;
pub(crate) use patterns::{regex_is_match, validate_pattern};
mod collections;
mod examples;
mod images;
mod licenses;
mod patterns;
mod quantities;
mod strings;
mod support;
mod time;
pub(crate) mod traffic;
mod urls;
mod versions;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::value::{Value, ValueType};

pub(crate) use strings::{split_piece, split_pieces};

/// A set of value types, for signatures and static checking.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ty(u8);

impl Ty {
    /// `null`
    pub const NULL: Ty = Ty(1);
    /// booleans
    pub const BOOL: Ty = Ty(2);
    /// numbers
    pub const NUMBER: Ty = Ty(4);
    /// strings
    pub const STRING: Ty = Ty(8);
    /// arrays
    pub const ARRAY: Ty = Ty(16);
    /// objects
    pub const OBJECT: Ty = Ty(32);
    /// anything
    pub const ANY: Ty = Ty(63);
    /// nothing (an expression that never yields a value)
    pub const NONE: Ty = Ty(0);

    /// Both sets.
    pub const fn or(self, other: Ty) -> Ty {
        Ty(self.0 | other.0)
    }

    /// Types in both.
    pub const fn and(self, other: Ty) -> Ty {
        Ty(self.0 & other.0)
    }

    /// Types of `self` that are not in `other`.
    pub const fn without(self, other: Ty) -> Ty {
        Ty(self.0 & !other.0)
    }

    /// Whether no type is in both.
    pub const fn disjoint(self, other: Ty) -> bool {
        self.0 & other.0 == 0
    }

    /// Whether every type of `self` is in `other`.
    pub const fn within(self, other: Ty) -> bool {
        self.0 & !other.0 == 0
    }

    /// The set holding exactly the type of `v`.
    pub fn of(v: &Value) -> Ty {
        match v.type_of() {
            ValueType::Null => Ty::NULL,
            ValueType::Boolean => Ty::BOOL,
            ValueType::Number => Ty::NUMBER,
            ValueType::String => Ty::STRING,
            ValueType::Array => Ty::ARRAY,
            ValueType::Object => Ty::OBJECT,
        }
    }
}

impl fmt::Display for Ty {
    /// "a string", "a string or an array", "any value".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Ty::ANY {
            return f.write_str("any value");
        }
        const NAMES: [&str; 6] = ["null", "a boolean", "a number", "a string", "an array", "an object"];
        let names: Vec<&str> = (0..6).filter(|i| self.0 & (1 << i) != 0).map(|i| NAMES[i]).collect();
        match names.as_slice() {
            [] => f.write_str("nothing"),
            [one] => f.write_str(one),
            [init @ .., last] => write!(f, "{} or {last}", init.join(", ")),
        }
    }
}

impl fmt::Debug for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What an evaluation knows beyond the arguments: the time "now" (pinned by `--now`).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct CallContext {
    /// The evaluation's clock.
    pub now: jiff::Timestamp,
}

impl CallContext {
    /// A context whose clock reads `now` (to call a [`Function`] outside an evaluation, in tests).
    pub fn new(now: jiff::Timestamp) -> CallContext {
        CallContext { now }
    }
}

/// A function's implementation: arguments in, value out, or a message saying what was wrong.
pub type Implementation = Arc<dyn Fn(&[&Value], &CallContext) -> Result<Value, String> + Send + Sync>;

/// A function policies can call.
///
/// ```
/// use vigil::{Function, Ty};
/// use vigil::Value;
/// let shout = Function::new("shout", &[Ty::STRING], Ty::STRING, |args| {
///     Ok(Value::from(args[0].as_str().unwrap_or_default().to_uppercase()))
/// });
/// assert_eq!(shout.name(), "shout");
/// ```
#[derive(Clone)]
pub struct Function {
    name: Arc<str>,
    params: Vec<Ty>,
    /// How many trailing parameters may be left out.
    optional: usize,
    /// The type of any further arguments, if the function takes a variable number.
    rest: Option<Ty>,
    returns: Ty,
    doc: Arc<str>,
    /// Reads the clock: may not be used to compute constants.
    contextual: bool,
    /// Walks its arguments' contents (compares, hashes, sorts or prints elements): the step budget charges
    /// the size of the whole arguments, not just their length.
    deep: bool,
    /// The argument that is a pattern, checked when it is a literal.
    pattern: Option<(usize, PatternKind)>,
    /// A call and what it returns, for the docs (a test evaluates every one).
    example: Option<(Arc<str>, Arc<str>)>,
    /// A builtin the evaluator may compute inline (no argument vector, no result value); only builtins carry
    /// one, so a host function registered under the same name is always called.
    fast: Option<Fast>,
    imp: Implementation,
}

/// Builtins the evaluator computes inline when their arguments have the types they take; the answer, the
/// steps charged and every error are those of the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fast {
    StartsWith,
    EndsWith,
    /// `split(s, sep)`, inline when only one piece is read (`split(s, sep)[k]`).
    Split,
    /// `is_string(x)` and the other type tests: whether the type of `x` meets this one.
    IsType(Ty),
}

/// The pattern language of a function's pattern argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternKind {
    /// A regular expression (Rust `regex` syntax).
    Regex,
    /// A glob (`*`, `?`, `**`, `[a-z]`, `{a,b}`).
    Glob,
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Function({}/{})", self.name, self.params.len())
    }
}

impl Function {
    /// A function with fixed parameters. Arguments are checked against `params` before `imp` runs.
    pub fn new(
        name: &str,
        params: &[Ty],
        returns: Ty,
        imp: impl Fn(&[&Value]) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Function {
        let mut f = Function::with_context(name, params, returns, move |args, _| imp(args));
        f.contextual = false;
        f
    }

    /// A function that also reads the evaluation context (the clock).
    pub fn with_context(
        name: &str,
        params: &[Ty],
        returns: Ty,
        imp: impl Fn(&[&Value], &CallContext) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Function {
        Function {
            name: name.into(),
            params: params.to_vec(),
            optional: 0,
            rest: None,
            returns,
            doc: "".into(),
            contextual: true,
            deep: false,
            pattern: None,
            example: None,
            fast: None,
            imp: Arc::new(imp),
        }
    }

    /// The last `n` parameters may be omitted.
    pub fn optional(mut self, n: usize) -> Function {
        self.optional = n.min(self.params.len());
        self
    }

    /// Any number of further arguments of type `ty`.
    pub fn variadic(mut self, ty: Ty) -> Function {
        self.rest = Some(ty);
        self
    }

    /// Marks a function that walks its arguments' contents (compares, hashes, sorts or prints their
    /// elements), so each call costs steps for the whole size of its arguments.
    pub fn deep(mut self) -> Function {
        self.deep = true;
        self
    }

    /// Whether the function walks its arguments' contents ([`Function::deep`]).
    pub fn is_deep(&self) -> bool {
        self.deep
    }

    /// Argument `i` is a pattern of `kind`: the checker validates it when it is a literal, and catches a
    /// pattern-looking literal passed as the text instead.
    pub fn pattern_at(mut self, i: usize, kind: PatternKind) -> Function {
        self.pattern = Some((i, kind));
        self
    }

    /// The pattern argument, if any: its position and language.
    pub fn pattern(&self) -> Option<(usize, PatternKind)> {
        self.pattern
    }

    /// An example call and the value it returns, written in the policy language (`"lower(\"MiT\")"`,
    /// `"\"mit\""`); the docs show it and a test evaluates it.
    pub fn example(mut self, call: &str, result: &str) -> Function {
        self.example = Some((call.into(), result.into()));
        self
    }

    /// The example call and its result.
    pub fn example_call(&self) -> Option<(&str, &str)> {
        self.example.as_ref().map(|(c, r)| (&**c, &**r))
    }

    /// A one-line description, shown by the docs.
    pub fn doc(mut self, doc: &str) -> Function {
        self.doc = doc.into();
        self
    }

    /// Marks a builtin the evaluator computes inline.
    pub(crate) fn fast(mut self, fast: Fast) -> Function {
        self.fast = Some(fast);
        self
    }

    /// The inline form of a builtin, if it has one.
    pub(crate) fn fast_kind(&self) -> Option<Fast> {
        self.fast
    }

    /// The name policies call.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The description.
    pub fn description(&self) -> &str {
        &self.doc
    }

    /// Whether the function reads the evaluation context (the clock).
    pub fn is_contextual(&self) -> bool {
        self.contextual
    }

    /// The declared type of the result.
    pub fn returns(&self) -> Ty {
        self.returns
    }

    /// The parameter types.
    pub fn params(&self) -> &[Ty] {
        &self.params
    }

    /// The type expected for argument `i`, if the function takes that many.
    pub fn param(&self, i: usize) -> Option<Ty> {
        self.params.get(i).copied().or(self.rest)
    }

    /// The accepted argument counts: at least, and at most (`None`: unbounded).
    pub fn arity(&self) -> (usize, Option<usize>) {
        let min = self.params.len() - self.optional;
        (min, if self.rest.is_some() { None } else { Some(self.params.len()) })
    }

    /// `name(a, b)`, for messages.
    pub fn signature(&self) -> String {
        let (min, _) = self.arity();
        let mut parts: Vec<String> = self
            .params
            .iter()
            .enumerate()
            .map(|(i, t)| if i < min { format!("{t:?}") } else { format!("[{t:?}]") })
            .collect();
        if let Some(rest) = self.rest {
            parts.push(format!("{rest:?}..."));
        }
        format!("{}({})", self.name, parts.join(", "))
    }

    /// Runs the function after checking argument types; errors say which argument was wrong.
    pub fn call(&self, args: &[&Value], cx: &CallContext) -> Result<Value, String> {
        self.check_args(args).map_err(|(_, message)| message)?;
        (self.imp)(args, cx)
    }

    /// The first argument of a type the function does not take: its position and what to say.
    pub(crate) fn check_args(&self, args: &[&Value]) -> Result<(), (usize, String)> {
        for (i, arg) in args.iter().enumerate() {
            let expected = self.param(i).unwrap_or(Ty::ANY);
            if Ty::of(arg).disjoint(expected) {
                let message =
                    format!("argument {} of `{}` must be {expected}, found {}", i + 1, self.name, describe_value(arg));
                return Err((i, message));
            }
        }
        Ok(())
    }

    /// Runs the function on arguments [`Function::check_args`] accepted.
    pub(crate) fn call_checked(&self, args: &[&Value], cx: &CallContext) -> Result<Value, String> {
        (self.imp)(args, cx)
    }
}

/// "the string `abc`", "null", "an array of 3 items": what a value is, for messages.
pub fn describe_value(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean `{b}`"),
        // JSON has no NaN or infinity: name them as Rust does.
        Value::Float(x) if !x.is_finite() => format!("the number `{x}`"),
        Value::Int(_) | Value::Float(_) => format!("the number `{v}`"),
        Value::String(s) if s.chars().count() <= 40 => format!("the string `{s}`"),
        Value::String(_) => "a string".into(),
        Value::Array(items) => format!("an array of {} items", items.len()),
        Value::Object(_) => "an object".into(),
    }
}

/// Identifies a function in a [`Registry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FunctionId(pub(crate) u32);

/// Every function policies may call, by name.
#[derive(Clone, Debug)]
pub struct Registry {
    functions: Vec<Function>,
    by_name: HashMap<Arc<str>, FunctionId>,
}

impl Default for Registry {
    /// The builtins.
    fn default() -> Registry {
        let mut registry = Registry { functions: Vec::new(), by_name: HashMap::new() };
        for f in builtins::all() {
            registry.register(f);
        }
        registry
    }
}

impl Registry {
    /// Adds (or replaces) a function.
    pub fn register(&mut self, function: Function) -> FunctionId {
        if let Some(&id) = self.by_name.get(function.name()) {
            self.functions[id.0 as usize] = function;
            return id;
        }
        let id = FunctionId(self.functions.len() as u32);
        self.by_name.insert(function.name.clone(), id);
        self.functions.push(function);
        id
    }

    /// Adds a function reachable by id only: a plugin function imported by one policy file, which the
    /// checker resolves through that file's imports (src/plugins).
    #[cfg_attr(not(feature = "plugins"), allow(dead_code))]
    pub(crate) fn register_unnamed(&mut self, function: Function) -> FunctionId {
        self.functions.push(function);
        FunctionId(self.functions.len() as u32 - 1)
    }

    /// Looks a function up by name.
    pub fn lookup(&self, name: &str) -> Option<FunctionId> {
        self.by_name.get(name).copied()
    }

    /// The function with this id.
    pub fn get(&self, id: FunctionId) -> &Function {
        &self.functions[id.0 as usize]
    }

    /// All functions, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &Function> {
        self.functions.iter()
    }

    /// All names, for "did you mean".
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.functions.iter().map(|f| f.name())
    }
}
