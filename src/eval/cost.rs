//! What the step budget charges beyond loop iterations and calls: the work inside one expression.
//!
//! `x in xs` over a document array, `==` between big values, `matches` over a long string and a builtin's
//! walk over its arguments each do work in proportion to their data. Counted as one step, a rule that loops
//! over n elements and scans n elements each time would cost n steps for n² work: a quadratic rule would run
//! for an hour instead of stopping with "evaluation stopped after ... steps". So each such scan costs what
//! it reads — one step per element or member, one per [`BYTES_PER_STEP`] bytes of a string — and what a
//! builtin builds costs its size. Values a policy builds from shared parts (`[a, a]`, nested) can be far
//! larger walked than held; every walk here stops at the remaining budget, so even those end.
//!
//! The accounting reads lengths only, except for walks the operation does anyway (deep equality, a deep
//! builtin's arguments), so it costs next to nothing on ordinary rules.

use super::{Eval, Fault, Faulty};
use crate::functions::Function;
use crate::value::{BYTES_PER_STEP, MAX_BUILT_STRING, Value};

impl<'a> Eval<'a> {
    /// Spends `n` steps; past the budget, evaluation stops with an error.
    #[inline(always)]
    pub(super) fn charge(&mut self, n: u64) -> Result<(), Faulty<'a>> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.max_steps {
            return Err(self.over_budget());
        }
        Ok(())
    }

    /// The fault of a spent budget, out of line: the check above is inlined everywhere a step is charged.
    #[cold]
    #[inline(never)]
    fn over_budget(&self) -> Faulty<'a> {
        Fault::error(format!("evaluation stopped after {} steps (the step budget)", self.max_steps), None)
    }

    /// Steps left; walks stop a little past this, which is enough to know the budget is gone.
    fn remaining(&self) -> u64 {
        self.max_steps.saturating_sub(self.steps)
    }

    /// A builtin call: one step, plus a look at each argument — its whole size for functions that walk
    /// their arguments' contents (`contains`, `sort`, `unique`, `to_string`, ...).
    pub(super) fn charge_call(&mut self, f: &Function, args: &[&Value]) -> Result<(), Faulty<'a>> {
        let mut cost = 1u64;
        for arg in args {
            let part = if f.is_deep() { walk_cost(arg, self.remaining()) } else { arg.weight() };
            cost = cost.saturating_add(part);
        }
        self.charge(cost)
    }

    /// What a builtin returned: building it cost its size, and no string may pass the cap (functions that
    /// could build a huge string check before building; this also holds host functions to it).
    pub(super) fn charge_result(&mut self, f: &Function, v: &Value) -> Result<(), Faulty<'a>> {
        if let Value::String(s) = v
            && s.len() > MAX_BUILT_STRING
        {
            let message = format!(
                "`{}` built a string longer than {MAX_BUILT_STRING} bytes (the limit of built strings)",
                f.name()
            );
            return Err(Fault::error(message, None));
        }
        self.charge(v.weight())
    }

    /// `a == b` and `a != b`: comparing walks at most the smaller side.
    pub(super) fn charge_equality(&mut self, l: &Value, r: &Value) -> Result<(), Faulty<'a>> {
        match (l, r) {
            (Value::String(x), Value::String(y)) => self.charge((x.len().min(y.len()) / BYTES_PER_STEP) as u64),
            (Value::Array(_) | Value::Object(_), Value::Array(_) | Value::Object(_)) => {
                let right = r.size_within(self.remaining());
                let left = l.size_within(right);
                self.charge(left.min(right))
            }
            _ => Ok(()),
        }
    }

    /// `item in set` by a linear scan: each element compared, or each byte of a string searched.
    pub(super) fn charge_membership(&mut self, set: &Value, item: &Value) -> Result<(), Faulty<'a>> {
        let cost = match (set, item) {
            (Value::Array(_), Value::Array(_) | Value::Object(_)) => set.size_within(self.remaining()),
            (Value::Array(items), _) => (items.len() as u64).saturating_mul(1 + item.weight()),
            (Value::String(s), _) => (s.len() / BYTES_PER_STEP) as u64,
            _ => item.weight(),
        };
        self.charge(cost)
    }

    /// `item in <constant set>`: hashing the item reads all of it.
    pub(super) fn charge_hash(&mut self, item: &Value) -> Result<(), Faulty<'a>> {
        let cost = match item {
            Value::Array(_) | Value::Object(_) => item.size_within(self.remaining()),
            other => other.weight(),
        };
        self.charge(cost)
    }

    /// `a + b` of strings or arrays: the result's size, charged before it is built. A string past the cap
    /// is an error.
    pub(super) fn charge_join(&mut self, l: &Value, r: &Value) -> Result<(), Faulty<'a>> {
        match (l, r) {
            (Value::String(x), Value::String(y)) => {
                let bytes = x.len() + y.len();
                if bytes > MAX_BUILT_STRING {
                    return Err(Fault::error(
                        format!("`+` would build a string of {bytes} bytes, over the {MAX_BUILT_STRING} byte limit"),
                        None,
                    ));
                }
                self.charge((bytes / BYTES_PER_STEP) as u64)
            }
            (Value::Array(x), Value::Array(y)) => self.charge((x.len() + y.len()) as u64),
            _ => Ok(()),
        }
    }
}

/// The steps of a builtin that walks `v`: its size, and for an array a sort's n·log n comparisons on top.
fn walk_cost(v: &Value, limit: u64) -> u64 {
    let size = v.size_within(limit);
    match v {
        Value::Array(items) => {
            let n = items.len() as u64;
            size.saturating_add(n.saturating_mul(u64::from(u64::BITS - n.leading_zeros())))
        }
        _ => size,
    }
}
