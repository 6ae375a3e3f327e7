//! State of the pickle stack machine: its symbolic values, stack, memo and
//! the bookkeeping (limits, string budget, global recording) around them.
//!
//! Only what the scanner needs to reason about is modelled: strings (they may
//! name a global), ints (joblib shapes), globals, call results and tuples /
//! dicts of those. Dicts are the only mutable values and are never stored
//! inside another value (they become `Opaque` there), so `Rc` cycles, and the
//! leaks they would cause, cannot be built by a hostile pickle.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::Limits;
use super::classify::{Classification, classify};
use super::document::{GlobalRef, PickleReport};

/// Dict entries remembered per dict (enough for joblib wrapper state).
const MAX_DICT_ITEMS: usize = 64;

#[derive(Clone, Debug)]
pub(super) enum Value {
    Str(Rc<str>),
    /// Python ints and bools (True is 1).
    Int(i64),
    Nil,
    Global(Rc<(String, String)>),
    Obj(Rc<Obj>),
    Tuple(Rc<[Value]>),
    /// The only mutable value. Dicts are never stored inside other values
    /// (they become `Opaque` there), which rules out reference cycles.
    Dict(Rc<RefCell<Vec<(Value, Value)>>>),
    Opaque,
}

/// Result of a call (REDUCE, NEWOBJ, ...): what was called and with what.
#[derive(Debug)]
pub(super) struct Obj {
    pub class: Option<Rc<(String, String)>>,
    pub args: Option<Rc<[Value]>>,
    /// BUILD state when it is a tuple, with only scalar members kept.
    pub state: RefCell<Option<Rc<[Value]>>>,
}

pub(super) fn str_or_q(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        _ => "?".to_string(),
    }
}

/// Values stored inside containers: dicts become opaque (no cycles possible).
pub(super) fn nested(v: Value) -> Value {
    match v {
        Value::Dict(_) => Value::Opaque,
        other => other,
    }
}

pub(super) fn scalar_only(v: &Value) -> Value {
    match v {
        Value::Str(_) | Value::Int(_) | Value::Nil => v.clone(),
        _ => Value::Opaque,
    }
}

pub(super) fn tuple(items: Vec<Value>) -> Value {
    Value::Tuple(items.into_iter().map(nested).collect())
}

pub(super) fn obj(callable: &Value, args: Value) -> Value {
    let class = match callable {
        Value::Global(g) => Some(g.clone()),
        _ => None,
    };
    let args = match args {
        Value::Tuple(t) => Some(t),
        _ => None,
    };
    Value::Obj(Rc::new(Obj { class, args, state: RefCell::new(None) }))
}

pub(super) fn insert_pairs(d: &RefCell<Vec<(Value, Value)>>, items: Vec<Value>) {
    let mut d = d.borrow_mut();
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        if d.len() >= MAX_DICT_ITEMS {
            break;
        }
        d.push((nested(k), nested(v)));
    }
}

/// Deepest stack (all MARK levels together) we simulate. Real pickles stay
/// shallow: containers are filled in batches of 1000 by APPENDS/SETITEMS.
const MAX_STACK: usize = 100_000;
/// Distinct globals recorded per stream before the scan gives up.
const MAX_GLOBALS: usize = 65_536;
/// Total bytes of strings retained as symbolic values; past it, new strings
/// become opaque (so a STACK_GLOBAL on them is reported unresolvable).
const STRING_BUDGET: u64 = 256 << 20;

/// The machine: a stack of symbolic values with MARK levels kept Python-style
/// (`meta` holds the stacks below each MARK), plus the memo.
pub(super) struct Machine<'l> {
    pub(super) limits: &'l Limits,
    pub(super) stack: Vec<Value>,
    pub(super) meta: Vec<Vec<Value>>,
    pub(super) meta_total: usize,
    pub(super) memo: HashMap<u64, Value>,
    pub(super) seen: HashMap<(String, String), usize>,
    pub(super) retained: u64,
    /// Depth of joblib object-array pickles being scanned.
    pub(super) nesting: usize,
    /// Reused buffer for opcode arguments.
    pub(super) scratch: Vec<u8>,
    pub(super) report: PickleReport,
}

impl Machine<'_> {
    pub(super) fn error(&mut self, msg: String) {
        self.report.errors.push(msg);
    }

    pub(super) fn memoize(&mut self, key: u64, off: u64) -> Result<(), String> {
        if self.memo.len() >= self.limits.max_memo && !self.memo.contains_key(&key) {
            return Err(format!("limit at offset {off}: memo holds more than {} entries", self.limits.max_memo));
        }
        let top = self.stack.last().cloned().unwrap_or(Value::Opaque);
        self.memo.insert(key, top);
        Ok(())
    }

    pub(super) fn record(
        &mut self,
        module: String,
        name: String,
        off: u64,
        opcode: &'static str,
        unresolved: Option<String>,
    ) -> Result<Rc<(String, String)>, String> {
        let key = (module, name);
        if !self.seen.contains_key(&key) {
            if self.seen.len() >= MAX_GLOBALS {
                return Err(format!("limit at offset {off}: more than {MAX_GLOBALS} distinct globals"));
            }
            let (classification, reason) = match unresolved {
                Some(why) => (Classification::Dangerous, Some(why)),
                None => classify(&key.0, &key.1),
            };
            self.seen.insert(key.clone(), self.report.globals.len());
            self.report.globals.push(GlobalRef {
                module: key.0.clone(),
                name: key.1.clone(),
                classification,
                reason,
                offset: off,
                opcode,
            });
        }
        Ok(Rc::new(key))
    }

    pub(super) fn text(&mut self, s: &str) -> Value {
        let len = s.len() as u64;
        if self.retained.saturating_add(len) > STRING_BUDGET {
            if self.retained <= STRING_BUDGET {
                self.retained = STRING_BUDGET.saturating_add(1);
                self.error("limit: string budget exhausted; later strings are treated as unresolvable".into());
            }
            return Value::Opaque;
        }
        self.retained += len;
        Value::Str(Rc::from(s))
    }

    pub(super) fn push(&mut self, v: Value) -> Result<(), String> {
        if self.stack.len().saturating_add(self.meta_total) >= MAX_STACK {
            return Err(format!("limit: stack deeper than {MAX_STACK}"));
        }
        self.stack.push(v);
        Ok(())
    }

    /// Lenient pop: an empty stack yields `Opaque` so scanning can go on
    /// (e.g. the outer pickle resuming after a joblib object-array pickle).
    pub(super) fn pop(&mut self) -> Value {
        self.stack.pop().unwrap_or(Value::Opaque)
    }

    /// MARK: the current stack is set aside until the matching pop_mark.
    pub(super) fn mark(&mut self, off: u64) -> Result<(), String> {
        if self.meta.len() >= MAX_STACK {
            return Err(format!("limit at offset {off}: MARK nesting deeper than {MAX_STACK}"));
        }
        let s = std::mem::take(&mut self.stack);
        self.meta_total = self.meta_total.saturating_add(s.len());
        self.meta.push(s);
        Ok(())
    }

    pub(super) fn pop_mark(&mut self) -> Vec<Value> {
        let below = self.meta.pop().unwrap_or_default();
        self.meta_total = self.meta_total.saturating_sub(below.len());
        std::mem::replace(&mut self.stack, below)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dict() -> Rc<RefCell<Vec<(Value, Value)>>> {
        Rc::new(RefCell::new(Vec::new()))
    }

    #[test]
    fn dicts_never_nest_so_no_cycles() {
        // `d[k] = d` (SETITEM with the dict fetched back from the memo) must
        // not create an Rc cycle: the nested copy becomes opaque.
        let d = dict();
        insert_pairs(&d, vec![Value::Str(Rc::from("self")), Value::Dict(d.clone())]);
        assert!(matches!(d.borrow()[0].1, Value::Opaque));
        assert_eq!(Rc::strong_count(&d), 1);
        // Tuples holding a dict do not keep it either.
        let t = tuple(vec![Value::Dict(d.clone()), Value::Int(1)]);
        assert_eq!(Rc::strong_count(&d), 1);
        assert!(matches!(t, Value::Tuple(ref items) if matches!(items[0], Value::Opaque)));
    }

    #[test]
    fn dict_capture_is_bounded() {
        let d = dict();
        let items: Vec<Value> = (0..1000).map(Value::Int).collect();
        insert_pairs(&d, items);
        assert_eq!(d.borrow().len(), MAX_DICT_ITEMS);
    }

    #[test]
    fn calls_remember_their_callable_and_args() {
        let g = Value::Global(Rc::new(("numpy".into(), "dtype".into())));
        let o = obj(&g, tuple(vec![Value::Str(Rc::from("f8"))]));
        assert!(matches!(o, Value::Obj(ref o)
            if o.class.as_ref().is_some_and(|c| c.1 == "dtype")
                && o.args.as_ref().is_some_and(|a| a.len() == 1)));
        let opaque = obj(&Value::Opaque, Value::Opaque);
        assert!(matches!(opaque, Value::Obj(ref o) if o.class.is_none() && o.args.is_none()));
        assert_eq!(str_or_q(&Value::Int(3)), "?");
        assert!(matches!(scalar_only(&g), Value::Opaque));
        assert!(matches!(scalar_only(&Value::Nil), Value::Nil));
    }
}
