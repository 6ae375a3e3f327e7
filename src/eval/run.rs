//! Running rule bodies over one document: statements in order, one finding per failed check.
//!
//! A check whose condition is false reports the rule's message at its `at` location. A check that cannot be
//! evaluated reports why (missing data, wrong type, error) where the problem is, so nothing passes by
//! accident. A failing `when` or `let` reports too, and skips the rest of its block.

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
    for (rule, severity) in rules {
        ev.set_document(doc.data(), doc.meta());
        ev.reset_frame(rule.locals);
        let start = out.len();
        let mut runner = Runner { rule, severity, doc, out, start, seen: Default::default() };
        runner.block(ev, &rule.body);
    }
}

struct Runner<'r, 'a> {
    rule: &'a Rule,
    severity: Severity,
    doc: &'a Document,
    out: &'r mut Vec<Finding>,
    /// Where this rule's findings start in `out`, for de-duplication.
    start: usize,
    /// Hashes of the (message, pointer) pairs this rule has reported.
    seen: std::collections::HashSet<u64, foldhash::fast::RandomState>,
}

impl<'a> Runner<'_, 'a> {
    fn block(&mut self, ev: &mut Eval<'a>, stmts: &'a [Stmt]) {
        for stmt in stmts {
            match stmt {
                Stmt::When(cond) => match ev.boolean(*cond) {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(fault) => {
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
                        match lp.filter.map(|f| ev.boolean(f)) {
                            Some(Ok(false)) => {}
                            Some(Err(fault)) => self.fault(ev, &fault, ""),
                            Some(Ok(true)) | None => self.block(ev, body),
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
                self.fault(ev, &fault, "");
                return;
            }
        };
        if holds {
            return;
        }
        let message = match check.message.map(|m| ev.eval(m)) {
            Some(Ok(v)) => v.to_string(),
            _ => {
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
        if !self.seen.insert(key) {
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
            waiver: None,
            fingerprint: None,
        });
    }
}
