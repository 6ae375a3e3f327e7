//! Compile-time work done once constants are known, so evaluation never repeats it per document:
//!
//! - every sub-expression that reads neither the document nor the clock is computed now and becomes a
//!   constant (`[lower(o) for o in trusted_orgs]`, `split(prefix, "/")`, a call of a pure user function with
//!   constant arguments);
//! - `x in <constant array>` becomes a hash-set lookup when the array is long enough for that to pay.

use crate::eval::{Eval, World};
use crate::functions::{CallContext, Registry};
use crate::ir::{Expr, ExprId, Program};
use crate::value::Value;

/// Runs both passes over a program whose constant table is filled in.
pub(crate) fn optimise(program: &mut Program, registry: &Registry, cx: CallContext, max_steps: u64) {
    fold_constants(program, registry, cx, max_steps);
    membership(program);
}

/// Whether `id` can be computed without a document: no `input`, `doc`, `documents`, clock, or local bound
/// outside it.
fn is_constant(program: &Program, registry: &Registry, id: ExprId, bound: &mut Vec<u32>) -> bool {
    let expr = &program.exprs[id as usize];
    match expr {
        Expr::Input | Expr::Doc | Expr::Documents(_) => return false,
        Expr::Local(slot) => return bound.contains(slot),
        Expr::Call(f, _) if registry.get(*f).is_contextual() => return false,
        Expr::CallUser(f, _) if program.fns[*f as usize].contextual => return false,
        _ => {}
    }
    let (children, binds) = expr.children();
    let depth = bound.len();
    bound.extend(binds);
    let constant = children.into_iter().all(|c| is_constant(program, registry, c, bound));
    bound.truncate(depth);
    constant
}

fn fold_constants(program: &mut Program, registry: &Registry, cx: CallContext, max_steps: u64) {
    let n = program.exprs.len();
    let constant: Vec<bool> = (0..n).map(|id| is_constant(program, registry, id as ExprId, &mut Vec::new())).collect();
    // The largest constant sub-trees: constant, and not inside a constant parent. Literals are already done.
    let mut parent_constant = vec![false; n];
    for (expr, _) in program.exprs.iter().zip(&constant).filter(|(_, c)| **c) {
        for child in expr.children().0 {
            parent_constant[child as usize] = true;
        }
    }
    let roots: Vec<ExprId> = (0..n)
        .filter(|&i| constant[i] && !parent_constant[i] && !matches!(program.exprs[i], Expr::Const(_)))
        .map(|i| i as ExprId)
        .collect();
    let frame = program
        .rules
        .iter()
        .map(|r| r.locals)
        .chain(program.fns.iter().map(|f| f.locals))
        .chain(program.const_inits.iter().map(|c| c.locals))
        .max()
        .unwrap_or(0);
    let world = World::default();
    let folded: Vec<(ExprId, Value)> = {
        let mut ev = Eval::new(program, &program.consts, registry, &world, cx);
        ev.max_steps = max_steps;
        roots
            .into_iter()
            .filter_map(|id| {
                ev.reset_frame(frame);
                // A constant expression that fails (`1 / 0`) is left to fail at run time, as a finding.
                ev.eval(id).ok().map(|v| (id, v.into_owned()))
            })
            .collect()
    };
    for (id, value) in folded {
        program.consts.push(value);
        program.exprs[id as usize] = Expr::Const((program.consts.len() - 1) as u32);
    }
}

/// Most nodes (see `Value::size_within`) a constant list may hold to become a hash set.
const MAX_SET_SIZE: u64 = 1 << 20;

/// `x in <constant array>` becomes a hash-set lookup when the array is long enough for that to pay.
fn membership(program: &mut Program) {
    for i in 0..program.exprs.len() {
        let Expr::In(x, xs, negate) = program.exprs[i] else { continue };
        let Expr::Const(slot) = program.exprs[xs as usize] else { continue };
        let Value::Array(items) = &program.consts[slot as usize] else { continue };
        // Hashing reads every item whole; a list built from shared parts (`[a, a]`, nested) can be far larger
        // read than held, so a list too big to hash now stays a linear scan, which the step budget bounds.
        if items.len() < 4 || !fits(items, MAX_SET_SIZE) {
            continue;
        }
        program.sets.push(crate::ir::ConstSet::new(items));
        program.exprs[i] = Expr::InSet(x, (program.sets.len() - 1) as u32, negate);
    }
}

/// Whether `items` hold at most `limit` nodes in all; reads no more than about that many.
fn fits(items: &[Value], limit: u64) -> bool {
    let mut used = 0u64;
    for item in items {
        used = used.saturating_add(item.size_within(limit - used));
        if used > limit {
            return false;
        }
    }
    true
}
