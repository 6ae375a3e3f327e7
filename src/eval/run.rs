//! Running rule bodies over one document: statements in order, one finding per failed check.
//!
//! A check whose condition is false reports the rule's message at its `at` location. A check that cannot be
//! evaluated reports why (missing data, wrong type, error) where the problem is, so nothing passes by
//! accident. A failing `when` or `let` reports too, and skips the rest of its block.

use super::cover::{Hits, Side};
use super::{Cause, Eval, Fault, Finding};
use crate::input::locate::push_pointer;
use crate::input::{Document, Location};
use crate::ir::{Check, Rule, Severity, Stmt};

/// Evaluates `rules` on `doc`, appending findings to `out`.
pub(crate) fn run_rules<'a>(
    ev: &mut Eval<'a>,
    rules: impl Iterator<Item = (&'a Rule, Severity)>,
    doc: &'a Document,
    out: &mut Vec<Finding>,
) {
    run::<false>(ev, rules, doc, out, None);
}

/// [`run_rules`], recording in `hits` which way every check went (`policy test --coverage`). `policy check`
/// never comes here: the recording is compiled only into this copy of the runner (`COVER = true`).
pub(crate) fn run_rules_covered<'a>(
    ev: &mut Eval<'a>,
    rules: impl Iterator<Item = (&'a Rule, Severity)>,
    doc: &'a Document,
    out: &mut Vec<Finding>,
    hits: &mut Hits,
) {
    run::<true>(ev, rules, doc, out, Some(hits));
}

fn run<'a, const COVER: bool>(
    ev: &mut Eval<'a>,
    rules: impl Iterator<Item = (&'a Rule, Severity)>,
    doc: &'a Document,
    out: &mut Vec<Finding>,
    mut hits: Option<&mut Hits>,
) {
    ev.set_document(doc.data(), doc.meta());
    super::touch::document(doc.data());
    for (rule, severity) in rules {
        ev.reset_frame(rule.locals);
        let start = out.len();
        let mut runner = Runner::<COVER> { rule, severity, doc, out, start, seen: None, hits: hits.as_deref_mut() };
        runner.block(ev, &rule.body);
        if COVER && let Some(hits) = runner.hits {
            let fired = runner.out.len() > start;
            hits.rule(&rule.info.id, if fired { Side::Fail } else { Side::Pass });
        }
    }
}

struct Runner<'r, 'a, const COVER: bool> {
    rule: &'a Rule,
    severity: Severity,
    doc: &'a Document,
    out: &'r mut Vec<Finding>,
    /// Where this rule's findings start in `out`, for de-duplication.
    start: usize,
    /// Hashes of the (message, pointer) pairs this rule has reported; made at the first finding, as most
    /// rules report none (a random hash state costs a seed per rule).
    seen: Option<std::collections::HashSet<u64, foldhash::fast::RandomState>>,
    /// Coverage, written only when `COVER`.
    hits: Option<&'r mut Hits>,
}

impl<'a, const COVER: bool> Runner<'_, 'a, COVER> {
    /// Records that the check whose condition is `cond` went to `side` (nothing unless `COVER`).
    #[inline(always)]
    fn hit(&mut self, cond: crate::ir::ExprId, side: Side) {
        if COVER && let Some(hits) = self.hits.as_deref_mut() {
            hits.check(cond, side);
        }
    }

    fn block(&mut self, ev: &mut Eval<'a>, stmts: &'a [Stmt]) {
        for stmt in stmts {
            match stmt {
                Stmt::When(cond) => match ev.boolean(*cond) {
                    Ok(true) => self.hit(*cond, Side::Pass),
                    Ok(false) => {
                        self.hit(*cond, Side::Fail);
                        return;
                    }
                    Err(fault) => {
                        self.hit(*cond, Side::Fault);
                        self.fault(ev, &fault, "cannot tell whether the rule applies: ");
                        return;
                    }
                },
                Stmt::Let { slot, value } => match ev.eval(*value) {
                    Ok(v) => ev.set_local(*slot, v),
                    Err(fault) => {
                        self.fault(ev, &fault, "");
                        return;
                    }
                },
                Stmt::Check(check) => self.check(ev, check),
                Stmt::For { lp, body } => {
                    // The filter runs here, not in `each`, so one element's missing data is one finding
                    // and the loop goes on to the next element.
                    let result = ev.each(lp, false, &mut |ev| {
                        match lp.filter.map(|f| (f, ev.boolean(f))) {
                            Some((f, Ok(false))) => self.hit(f, Side::Fail),
                            Some((f, Err(fault))) => {
                                self.hit(f, Side::Fault);
                                self.fault(ev, &fault, "");
                            }
                            Some((f, Ok(true))) => {
                                self.hit(f, Side::Pass);
                                self.block(ev, body);
                            }
                            None => self.block(ev, body),
                        }
                        Ok(true)
                    });
                    if let Err(fault) = result {
                        self.fault(ev, &fault, "");
                    }
                }
            }
        }
    }

    fn check(&mut self, ev: &mut Eval<'a>, check: &Check) {
        let holds = match ev.boolean(check.cond) {
            Ok(b) => b != check.forbid,
            Err(fault) => {
                self.hit(check.cond, Side::Fault);
                self.fault(ev, &fault, "");
                return;
            }
        };
        if holds {
            self.hit(check.cond, Side::Pass);
            return;
        }
        self.hit(check.cond, Side::Fail);
        let message = match check.message.and_then(|m| ev.message(m)) {
            Some(text) => text,
            None => {
                let verb = if check.forbid { "forbidden" } else { "requirement not met" };
                format!("{verb}: `{}`", ev.program.text(check.cond))
            }
        };
        let location = match check.at.map(|at| ev.eval(at)) {
            Some(Ok(std::borrow::Cow::Borrowed(node))) => self.doc.locate(node),
            // A copy made by a comprehension or a function shares its contents with the document: found by them.
            Some(Ok(std::borrow::Cow::Owned(node))) => self.doc.locate(&node),
            Some(Err(fault)) => self.locate_fault(&fault),
            _ => None,
        };
        self.push(message, Cause::Violation, location);
    }

    fn fault(&mut self, ev: &Eval<'a>, fault: &Fault<'a>, prefix: &str) {
        let cause = match fault {
            Fault::Missing { .. } => Cause::MissingData,
            Fault::Type { .. } | Fault::Invalid { .. } => Cause::InvalidData,
            Fault::Error { .. } => Cause::Error,
        };
        let message = format!("{prefix}{}", fault.message(ev.program));
        let location = self.locate_fault(fault);
        self.push(message, cause, location);
    }

    fn locate_fault(&self, fault: &Fault<'a>) -> Option<Location> {
        match fault {
            Fault::Missing { parent: Some(parent), key, .. } => self.doc.locate(parent).map(|mut l| {
                push_pointer(&mut l.pointer, &key.segment());
                l
            }),
            Fault::Type { node: Some(n), .. }
            | Fault::Invalid { node: Some(n), .. }
            | Fault::Error { node: Some(n), .. } => self.doc.locate(n),
            _ => None,
        }
    }

    fn push(&mut self, message: String, cause: Cause, location: Option<Location>) {
        // Without a better place, a finding points at the document itself.
        let location = location.or_else(|| self.doc.locate(self.doc.data()));
        // One finding per (message, place) and rule; hashed, so a rule over a huge array stays linear.
        let key = {
            use std::hash::BuildHasher;
            foldhash::fast::FixedState::default().hash_one((&message, location.as_ref().map(|l| &l.pointer)))
        };
        if !self.seen.get_or_insert_with(Default::default).insert(key) {
            let same = |f: &Finding| {
                f.message == message && f.location.as_ref().map(|l| &l.pointer) == location.as_ref().map(|l| &l.pointer)
            };
            if self.out[self.start..].iter().any(same) {
                return;
            }
        }
        self.out.push(Finding {
            rule: self.rule.info.clone(),
            severity: self.severity,
            message,
            cause,
            source: self.doc.source().clone(),
            document: self.doc.index(),
            kind: self.doc.kind(),
            location,
            fingerprint: None,
        });
    }
}
