//! Loops: `for` statements, quantifiers and comprehensions bind each element of their source in turn.

use std::borrow::Cow;

use super::{Eval, Fault, Faulty, R, Val, node, touch};
use crate::functions::Ty;
use crate::ir::{ExprId, Loop, Quant};
use crate::value::Value;

impl<'a> Eval<'a> {
    /// Calls `body` for each element of a loop's source (that passes its filter, when `filter`), with the
    /// loop's slots bound. `body` returns whether to go on.
    pub(crate) fn each<F>(&mut self, lp: &Loop, filter: bool, body: &mut F) -> Result<(), Faulty<'a>>
    where
        F: FnMut(&mut Eval<'a>) -> Result<bool, Faulty<'a>>,
    {
        let source = self.operand(lp.source)?;
        match source {
            Cow::Borrowed(Value::Array(items)) => {
                self.read_ahead(items);
                for (i, item) in items.iter().enumerate() {
                    if !self.visit(lp, filter, || Value::Int(i as i64), Cow::Borrowed(item), body)? {
                        break;
                    }
                }
            }
            Cow::Borrowed(Value::Object(map)) => {
                for (k, v) in map.iter() {
                    if !self.visit(lp, filter, || Value::String(k.clone()), Cow::Borrowed(v), body)? {
                        break;
                    }
                }
            }
            Cow::Owned(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if !self.visit(lp, filter, || Value::Int(i as i64), Cow::Owned(item.clone()), body)? {
                        break;
                    }
                }
            }
            Cow::Owned(Value::Object(map)) => {
                for (k, v) in map.iter() {
                    if !self.visit(lp, filter, || Value::String(k.clone()), Cow::Owned(v.clone()), body)? {
                        break;
                    }
                }
            }
            other => return Err(Fault::wrong_type(lp.source, Ty::ARRAY.or(Ty::OBJECT), &other, node(&other))),
        }
        Ok(())
    }

    /// Reads a loop's array ahead (`touch::items`), unless a loop of this evaluation already did.
    #[inline]
    fn read_ahead(&mut self, items: &std::sync::Arc<Vec<Value>>) {
        let at = std::sync::Arc::as_ptr(items) as usize;
        if !self.touched.contains(&at) {
            self.touched[self.touched_next % self.touched.len()] = at;
            self.touched_next = self.touched_next.wrapping_add(1);
            touch::items(items);
        }
    }

    /// One loop iteration: bind, filter, run. Returns whether to go on.
    #[inline]
    fn visit<F>(
        &mut self,
        lp: &Loop,
        filter: bool,
        key: impl FnOnce() -> Value,
        item: Val<'a>,
        body: &mut F,
    ) -> Result<bool, Faulty<'a>>
    where
        F: FnMut(&mut Eval<'a>) -> Result<bool, Faulty<'a>>,
    {
        self.step()?;
        if let Some(k) = lp.key {
            self.set_local(k, Cow::Owned(key()));
        }
        self.set_local(lp.var, item);
        if let Some(cond) = lp.filter.filter(|_| filter)
            && !self.boolean(cond)?
        {
            return Ok(true);
        }
        body(self)
    }

    pub(super) fn quantified(&mut self, q: Quant, lp: &Loop, cond: Option<ExprId>) -> R<'a> {
        let mut count = 0i64;
        let mut decided = None;
        self.each(lp, true, &mut |ev| {
            let holds = match cond {
                Some(c) => ev.boolean(c)?,
                None => true,
            };
            match (q, holds) {
                (Quant::All, false) => decided = Some(false),
                (Quant::Any, true) => decided = Some(true),
                (Quant::None, true) => decided = Some(false),
                (Quant::Count, true) => count += 1,
                _ => {}
            }
            Ok(decided.is_none())
        })?;
        Ok(Cow::Owned(match q {
            Quant::Count => Value::Int(count),
            Quant::All | Quant::None => Value::Bool(decided.unwrap_or(true)),
            Quant::Any => Value::Bool(decided.unwrap_or(false)),
        }))
    }

    pub(super) fn comprehension(
        &mut self,
        elem: ExprId,
        loops: &[Loop],
        out: &mut Vec<Value>,
    ) -> Result<(), Faulty<'a>> {
        let Some((first, rest)) = loops.split_first() else {
            out.push(self.eval(elem)?.into_owned());
            return Ok(());
        };
        self.each(first, true, &mut |ev| {
            ev.comprehension(elem, rest, out)?;
            Ok(true)
        })
    }
}
