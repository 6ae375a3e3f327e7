//! Evaluation of compiled programs over borrowed documents.
//!
//! Values read from a document are borrowed (`Cow::Borrowed`), never copied; only computed values are
//! owned. Every loop iteration and function call costs a step from a budget, so evaluation always ends, even
//! on hostile inputs that make a policy's loops large.

mod cost;
pub(crate) mod cover;
mod fault;
mod finding;
mod loops;
mod ops;
mod run;
#[cfg(test)]
mod tests;
mod touch;

use std::borrow::Cow;

use crate::functions::{CallContext, Fast, FunctionId, Registry, Ty};
use crate::input::{Document, Kind};
use crate::ir::{Expr, ExprId, Part, Program};
use crate::value::Value;

pub(crate) use fault::{Fault, Faulty, Key};
pub use finding::{Cause, Finding};
pub(crate) use run::{run_rules, run_rules_covered};

pub(crate) type Val<'a> = Cow<'a, Value>;
pub(crate) type R<'a> = Result<Val<'a>, Faulty<'a>>;

/// Default step budget per rule and document: far above any real policy, far below a hang.
pub const DEFAULT_MAX_STEPS: u64 = 10_000_000;

/// The documents one evaluation can reach through `documents(...)`, gathered once per batch.
#[derive(Debug, Default)]
pub(crate) struct World {
    /// For each `documents(...)` expression of the program: the data of the matching documents.
    by_expr: Vec<(ExprId, Value)>,
}

impl World {
    pub(crate) fn new(program: &Program, docs: &[Document]) -> World {
        let by_expr = program
            .exprs
            .iter()
            .enumerate()
            .filter_map(|(id, e)| match e {
                Expr::Documents(kinds) => {
                    let data: Value = docs
                        .iter()
                        .filter(|d| kinds.iter().any(|k: &Kind| k.covers(d.kind())))
                        .map(|d| d.data().clone())
                        .collect();
                    Some((id as ExprId, data))
                }
                _ => None,
            })
            .collect();
        World { by_expr }
    }

    fn documents(&self, id: ExprId) -> Option<&Value> {
        self.by_expr.iter().find(|(e, _)| *e == id).map(|(_, v)| v)
    }
}

/// What an evaluation reads: the program and the document it is looking at.
pub(crate) struct Eval<'a> {
    pub(crate) program: &'a Program,
    consts: &'a [Value],
    registry: &'a Registry,
    input: &'a Value,
    doc: &'a Value,
    world: &'a World,
    locals: Vec<Val<'a>>,
    base: usize,
    steps: u64,
    pub(crate) max_steps: u64,
    cx: CallContext,
    /// The arrays loops have read ahead (see `touch`), by address: rules that loop over the same array
    /// (`input.artifacts` in two rules) read it ahead once. Borrowed data lives as long as the evaluation, so
    /// an address is never reused for another array meanwhile.
    touched: [usize; 4],
    touched_next: usize,
}

fn node<'a>(v: &Val<'a>) -> Option<&'a Value> {
    match v {
        Cow::Borrowed(r) => Some(r),
        Cow::Owned(_) => None,
    }
}

static NULL: Value = Value::Null;

/// Local slots an evaluation reserves at the start, so short rules never grow the frame vector. (A `SmallVec`
/// held inline saves that allocation but costs a branch on every slot access, which came out slower.)
const FRAME_RESERVED: usize = 8;

/// A condition's value, which must be a boolean.
fn as_bool<'a>(id: ExprId, v: Val<'a>) -> Result<bool, Faulty<'a>> {
    match &*v {
        Value::Bool(b) => Ok(*b),
        other => Err(Fault::wrong_type(id, Ty::BOOL, other, node(&v))),
    }
}

/// Appends `text` if it fits in `room` bytes; whether it did.
fn push_within(out: &mut String, text: &str, room: usize) -> bool {
    let fits = text.len() <= room;
    if fits {
        out.push_str(text);
    }
    fits
}

impl<'a> Eval<'a> {
    /// The document node `v` is, if it is one: constants are borrowed too, but have no place in a document.
    fn data_node(&self, id: ExprId, v: &Val<'a>) -> Option<&'a Value> {
        if matches!(self.program.exprs[id as usize], Expr::Const(_)) { None } else { node(v) }
    }
}

impl<'a> Eval<'a> {
    pub(crate) fn new(
        program: &'a Program,
        consts: &'a [Value],
        registry: &'a Registry,
        world: &'a World,
        cx: CallContext,
    ) -> Eval<'a> {
        Eval {
            program,
            consts,
            registry,
            input: &NULL,
            doc: &NULL,
            world,
            locals: Vec::with_capacity(FRAME_RESERVED),
            base: 0,
            steps: 0,
            max_steps: DEFAULT_MAX_STEPS,
            cx,
            touched: [0; 4],
            touched_next: 0,
        }
    }

    /// Points the evaluation at a document (`input` and `doc`).
    pub(crate) fn set_document(&mut self, input: &'a Value, doc: &'a Value) {
        self.input = input;
        self.doc = doc;
    }

    /// Starts a frame of `size` slots (a rule body or a constant initialiser).
    pub(crate) fn reset_frame(&mut self, size: u32) {
        // The frame's slots back to null, in place: a rule never sees what the one before bound. Slots past
        // `size` are left as they are (nothing reads them; a call's frame starts above them): truncating and
        // refilling the vector for each rule cost more than a short rule's own work.
        let size = size as usize;
        if self.locals.len() < size {
            self.locals.resize(size, Cow::Borrowed(&NULL));
        }
        for slot in &mut self.locals[..size] {
            *slot = Cow::Borrowed(&NULL);
        }
        self.base = 0;
        self.steps = 0;
    }

    /// The value in a local slot of the current frame (`policy explain` reads loop variables).
    pub(crate) fn local(&self, slot: u32) -> &Val<'a> {
        &self.locals[self.base + slot as usize]
    }

    // Always inlined: out of line, the call and the drop of the slot's old value cost more than the store.
    #[inline(always)]
    pub(crate) fn set_local(&mut self, slot: u32, value: Val<'a>) {
        self.locals[self.base + slot as usize] = value;
    }

    fn step(&mut self) -> Result<(), Faulty<'a>> {
        self.charge(1)
    }

    /// A path into borrowed data (`input.a.b`, `x.name` for a loop variable bound to a document node, a
    /// constant), read without building a `Cow` or a fault: what [`Eval::eval`] would return as
    /// `Cow::Borrowed`, or `None`, and then the caller takes `eval`, which says why. Costs no steps, like
    /// `eval` of these expressions.
    #[inline]
    fn path(&self, id: ExprId) -> Option<&'a Value> {
        match &self.program.exprs[id as usize] {
            // The object's expression is looked at here, so `a.format` and `input.license` take no call.
            Expr::Field(obj, key) => match self.path_root(*obj)? {
                Value::Object(map) => key.get(map),
                _ => None,
            },
            _ => self.path_root(id),
        }
    }

    /// [`Eval::path`] of a root (local, constant, `input`, `doc`); a member access takes the recursive call.
    #[inline(always)]
    fn path_root(&self, id: ExprId) -> Option<&'a Value> {
        match &self.program.exprs[id as usize] {
            Expr::Local(slot) => match &self.locals[self.base + *slot as usize] {
                Cow::Borrowed(v) => Some(*v),
                Cow::Owned(_) => None,
            },
            Expr::Input => Some(self.input),
            Expr::Field(..) => self.path_deep(id),
            Expr::Const(slot) => Some(&self.consts[*slot as usize]),
            Expr::Doc => Some(self.doc),
            _ => None,
        }
    }

    /// [`Eval::path`], out of line (paths of more than one member).
    #[inline(never)]
    fn path_deep(&self, id: ExprId) -> Option<&'a Value> {
        self.path(id)
    }

    /// An operand: [`Eval::path`] when it resolves, else [`Eval::eval`].
    #[inline]
    fn operand(&mut self, id: ExprId) -> R<'a> {
        match self.path(id) {
            Some(v) => Ok(Cow::Borrowed(v)),
            None => self.eval(id),
        }
    }

    pub(crate) fn eval(&mut self, id: ExprId) -> R<'a> {
        let program = self.program;
        match &program.exprs[id as usize] {
            Expr::Const(slot) => Ok(Cow::Borrowed(&self.consts[*slot as usize])),
            Expr::Input => Ok(Cow::Borrowed(self.input)),
            Expr::Doc => Ok(Cow::Borrowed(self.doc)),
            Expr::Local(slot) => Ok(self.locals[self.base + *slot as usize].clone()),
            Expr::Field(obj, key) => {
                let o = self.operand(*obj)?;
                ops::field(o, key, *obj, id)
            }
            Expr::Index(obj, index) => {
                // `split(s, sep)[k]`: the one piece, without the array of all of them.
                if let Expr::Call(function, args) = &program.exprs[*obj as usize]
                    && let [text, sep] = **args
                    && let Expr::Const(k) = program.exprs[*index as usize]
                    && let Value::Int(k) = self.consts[k as usize]
                    && self.registry.get(*function).fast_kind() == Some(Fast::Split)
                {
                    return self.split_index(*function, [text, sep], k, *obj, id);
                }
                let o = self.operand(*obj)?;
                let i = self.operand(*index)?;
                ops::index(o, &i, *obj, id)
            }
            // Conditions are computed as plain booleans (see `boolean`), wrapped only when used as values.
            Expr::Not(_)
            | Expr::And(..)
            | Expr::Or(..)
            | Expr::Compare(..)
            | Expr::IsNull(..)
            | Expr::Exists(_)
            | Expr::In(..)
            | Expr::InSet(..)
            | Expr::Matches(..)
            | Expr::MatchesDynamic(..) => Ok(Cow::Owned(Value::Bool(self.boolean(id)?))),
            Expr::Neg(x) => {
                let v = self.operand(*x)?;
                ops::negate(&v, *x, node(&v))
            }
            Expr::Arith(op, a, b) => {
                let l = self.operand(*a)?;
                let r = self.operand(*b)?;
                self.charge_join(&l, &r)?;
                ops::arith(*op, &l, &r, (*a, node(&l)), (*b, node(&r))).map(Cow::Owned)
            }
            Expr::Default(a, b) => match self.operand(*a) {
                Ok(v) if !v.is_null() => Ok(v),
                Ok(_) => self.operand(*b),
                Err(f) if f.is_absence() => self.operand(*b),
                Err(f) => Err(f),
            },
            Expr::Call(function, args) => self.call(*function, args),
            Expr::CallUser(function, args) => self.call_user(*function, args),
            Expr::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    out.push(self.eval(*item)?.into_owned());
                }
                Ok(Cow::Owned(Value::from(out)))
            }
            Expr::Object(entries) => {
                let mut map = crate::value::Map::default();
                for (k, v) in entries.iter() {
                    map.insert(k.clone(), self.eval(*v)?.into_owned());
                }
                Ok(Cow::Owned(Value::Object(std::sync::Arc::new(map))))
            }
            Expr::Quantified(q, lp, cond) => self.quantified(*q, lp, *cond),
            Expr::Comprehension(elem, loops) => {
                let mut out = Vec::new();
                self.comprehension(*elem, loops, &mut out)?;
                Ok(Cow::Owned(Value::from(out)))
            }
            Expr::If(c, t, e) => {
                if self.boolean(*c)? {
                    self.eval(*t)
                } else {
                    self.eval(*e)
                }
            }
            Expr::Template(parts) => {
                let text = self.template(parts);
                self.charge((text.len() / crate::value::BYTES_PER_STEP) as u64)?;
                Ok(Cow::Owned(Value::from(text)))
            }
            Expr::Documents(_) => Ok(Cow::Borrowed(self.world.documents(id).unwrap_or(&NULL))),
        }
    }

    /// Evaluates a condition that must be a boolean. Operators that yield booleans are computed here
    /// directly, without building a `Value` for every intermediate result.
    pub(crate) fn boolean(&mut self, id: ExprId) -> Result<bool, Faulty<'a>> {
        let program = self.program;
        match &program.exprs[id as usize] {
            Expr::Not(x) => Ok(!self.boolean(*x)?),
            Expr::And(a, b) => Ok(self.boolean(*a)? && self.boolean(*b)?),
            Expr::Or(a, b) => Ok(self.boolean(*a)? || self.boolean(*b)?),
            Expr::Compare(cmp, a, b) => {
                let l = self.operand(*a)?;
                let r = self.operand(*b)?;
                if let crate::ir::Cmp::Eq | crate::ir::Cmp::Ne = cmp {
                    self.charge_equality(&l, &r)?;
                    return Ok(ops::equal(&l, &r) == (*cmp == crate::ir::Cmp::Eq));
                }
                ops::compare(*cmp, &l, &r, (*a, self.data_node(*a, &l)), (*b, self.data_node(*b, &r)))
            }
            Expr::Call(function, args) => {
                let fast = self.registry.get(*function).fast_kind();
                match (fast, &**args) {
                    (Some(kind @ (Fast::StartsWith | Fast::EndsWith)), &[a, b]) => {
                        let l = self.operand(a)?;
                        let r = self.operand(b)?;
                        if let (Value::String(s), Value::String(p)) = (&*l, &*r) {
                            // What the call charges: one step and the arguments' weights; a boolean weighs 0.
                            self.charge(1u64.saturating_add(l.weight()).saturating_add(r.weight()))?;
                            let (s, p) = (s.as_bytes(), p.as_bytes());
                            // Compared in place (`same_bytes`: a word at a time for short affixes), not by a
                            // `memcmp` call.
                            let part = match kind {
                                Fast::StartsWith => s.get(..p.len()),
                                _ => s.len().checked_sub(p.len()).and_then(|start| s.get(start..)),
                            };
                            return Ok(part.is_some_and(|part| crate::ir::same_bytes(part, p)));
                        }
                        let v = self.call_values(*function, args, smallvec::smallvec![l, r])?;
                        as_bool(id, v)
                    }
                    (Some(Fast::IsType(ty)), &[x]) => {
                        let v = self.operand(x)?;
                        self.charge(1u64.saturating_add(v.weight()))?;
                        Ok(!Ty::of(&v).disjoint(ty))
                    }
                    _ => {
                        let v = self.call(*function, args)?;
                        as_bool(id, v)
                    }
                }
            }
            Expr::IsNull(x, negate) => {
                let is_null = match self.operand(*x) {
                    Ok(v) => v.is_null(),
                    Err(f) if f.is_absence() => true,
                    Err(f) => return Err(f),
                };
                Ok(is_null != *negate)
            }
            Expr::Exists(x) => match self.operand(*x) {
                Ok(v) => Ok(!v.is_null()),
                Err(f) if f.is_absence() => Ok(false),
                Err(f) => Err(f),
            },
            Expr::In(x, xs, negate) => {
                let item = self.operand(*x)?;
                let set = self.operand(*xs)?;
                self.charge_membership(&set, &item)?;
                ops::contains(&set, &item, *xs, node(&set)).map(|b| b != *negate)
            }
            Expr::InSet(x, set, negate) => {
                let item = self.operand(*x)?;
                self.charge_hash(&item)?;
                Ok(program.sets[*set as usize].contains(&item) != *negate)
            }
            Expr::Matches(x, regex) => {
                let v = self.operand(*x)?;
                self.charge(v.weight())?;
                match &*v {
                    Value::String(s) => program.regexes[*regex as usize]
                        .is_match(s)
                        .map_err(|e| Fault::error(format!("regular expression: {e}"), node(&v))),
                    other => Err(Fault::wrong_type(*x, Ty::STRING, other, node(&v))),
                }
            }
            Expr::MatchesDynamic(x, pattern) => {
                let v = self.operand(*x)?;
                let p = self.operand(*pattern)?;
                self.charge(v.weight().saturating_add(p.weight()))?;
                ops::matches_dynamic(&v, &p, (*x, node(&v)), (*pattern, node(&p)))
            }
            _ => {
                let v = self.eval(id)?;
                as_bool(id, v)
            }
        }
    }

    /// Renders a message; a part that cannot be evaluated shows as `<missing>` so the finding survives. A
    /// message that would pass the cap of built strings is cut short with `…`.
    pub(crate) fn template(&mut self, parts: &[Part]) -> String {
        let max = crate::value::MAX_BUILT_STRING;
        let mut out = String::new();
        for part in parts {
            let room = max.saturating_sub(out.len());
            // Written straight into `out`: no string per part.
            let fits = match part {
                Part::Text(t) => push_within(&mut out, t, room),
                Part::Expr(e) => match self.operand(*e) {
                    Ok(v) => match &*v {
                        Value::String(s) => push_within(&mut out, s, room),
                        Value::Int(i) => {
                            use std::fmt::Write;
                            let before = out.len();
                            let _ = write!(out, "{i}");
                            let fits = out.len() - before <= room;
                            if !fits {
                                out.truncate(before);
                            }
                            fits
                        }
                        other => match other.to_string_within(room) {
                            Some(t) => push_within(&mut out, &t, room),
                            None => false,
                        },
                    },
                    Err(_) => push_within(&mut out, "<missing>", room),
                },
            };
            if !fits {
                out.push('…');
                break;
            }
        }
        out
    }

    /// A check's message as text: what `eval(message).to_string()` gives, without the intermediate value
    /// for a template. `None` when it cannot be evaluated (the step budget for a template).
    pub(crate) fn message(&mut self, id: ExprId) -> Option<String> {
        let program = self.program;
        match &program.exprs[id as usize] {
            Expr::Template(parts) => {
                let text = self.template(parts);
                self.charge((text.len() / crate::value::BYTES_PER_STEP) as u64).ok()?;
                Some(text)
            }
            _ => self.eval(id).ok().map(|v| v.to_string()),
        }
    }

    fn call(&mut self, function: FunctionId, args: &[ExprId]) -> R<'a> {
        let mut values: smallvec::SmallVec<[Val<'a>; 4]> = smallvec::SmallVec::new();
        for arg in args {
            values.push(self.operand(*arg)?);
        }
        self.call_values(function, args, values)
    }

    /// A builtin call on its evaluated arguments.
    fn call_values(
        &mut self,
        function: FunctionId,
        args: &[ExprId],
        values: smallvec::SmallVec<[Val<'a>; 4]>,
    ) -> R<'a> {
        let refs: smallvec::SmallVec<[&Value; 4]> = values.iter().map(|v| &**v).collect();
        let f = self.registry.get(function);
        // A wrong-typed argument is invalid data, found at that argument.
        if let Err((i, message)) = f.check_args(&refs) {
            return Err(Fault::invalid(message, self.data_node(args[i], &values[i])));
        }
        self.charge_call(f, &refs)?;
        match f.call_checked(&refs, &self.cx) {
            Ok(v) => {
                self.charge_result(f, &v)?;
                Ok(Cow::Owned(v))
            }
            Err(message) => {
                let at = args.iter().zip(&values).find_map(|(id, v)| self.data_node(*id, v));
                Err(Fault::error(message, at))
            }
        }
    }

    /// `split(s, sep)[k]` for a constant `k`: the piece alone, with the steps, faults and errors of the call
    /// and the index (an unusual argument takes the call itself).
    fn split_index(&mut self, function: FunctionId, args: [ExprId; 2], k: i64, obj: ExprId, at: ExprId) -> R<'a> {
        let text = self.operand(args[0])?;
        let sep = self.operand(args[1])?;
        let pieces = match (&*text, &*sep) {
            (Value::String(s), Value::String(p)) => crate::functions::split_pieces(s, p).ok(),
            _ => None,
        };
        let Some(pieces) = pieces else {
            let v = self.call_values(function, &args, smallvec::smallvec![text, sep])?;
            return ops::index(v, &Value::Int(k), obj, at);
        };
        // The call's charges: one step and the arguments' weights, then the array it builds (its length).
        self.charge(1u64.saturating_add(text.weight()).saturating_add(sep.weight()))?;
        self.charge(pieces as u64)?;
        let len = pieces as i64;
        let position = if k < 0 { len + k } else { k };
        if position < 0 || position >= len {
            return Err(Fault::missing(None, Key::Index(k), at));
        }
        let (Value::String(s), Value::String(p)) = (&*text, &*sep) else { unreachable!("checked above") };
        Ok(Cow::Owned(match crate::functions::split_piece(s, p, position as usize) {
            Some(Cow::Borrowed(piece)) => Value::from(piece),
            Some(Cow::Owned(piece)) => Value::from(piece),
            None => Value::Null,
        }))
    }

    fn call_user(&mut self, function: u32, args: &[ExprId]) -> R<'a> {
        self.step()?;
        let f = &self.program.fns[function as usize];
        let base = self.locals.len();
        for arg in args {
            let v = self.operand(*arg)?;
            self.locals.push(v);
        }
        self.locals.resize(base + f.locals as usize, Cow::Borrowed(&NULL));
        let saved = std::mem::replace(&mut self.base, base);
        let result = self.eval(f.body);
        self.base = saved;
        self.locals.truncate(base);
        result
    }
}
