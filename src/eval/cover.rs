//! Coverage of policy tests: which way each rule and each check went.
//!
//! A check is a `require`/`forbid` condition, a `when` guard or a `for ... where` filter, named by its
//! condition's expression (unique in a compiled program). Each can go two ways — it held (the rule passes
//! that step, applies, or takes that element) or it did not — and is covered when tests have seen both.
//! A condition that could not be evaluated (missing data) is recorded apart: it is neither way. A constant
//! condition (`forbid true` inside a loop) is not a check: it can only go one way.
//!
//! Only the test runner records: `run_rules_covered` is a separate instantiation of the runner, so the
//! evaluator `policy check` runs contains no coverage code at all.

use std::collections::HashMap;

use crate::ir::{ExprId, Program, Stmt};

/// Which way a check or rule went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Held / passed.
    Pass,
    /// Did not hold / the rule fired.
    Fail,
    /// Could not be evaluated.
    Fault,
}

/// What one test run saw: per check and per rule, how often each side came up.
#[derive(Clone, Debug, Default)]
pub struct Hits {
    checks: HashMap<ExprId, [u32; 3]>,
    rules: HashMap<String, [u32; 3]>,
}

fn bump(counts: &mut [u32; 3], side: Side) {
    let slot = &mut counts[side as usize];
    *slot = slot.saturating_add(1);
}

impl Hits {
    pub(crate) fn check(&mut self, cond: ExprId, side: Side) {
        bump(self.checks.entry(cond).or_default(), side);
    }

    pub(crate) fn rule(&mut self, id: &str, side: Side) {
        match self.rules.get_mut(id) {
            Some(counts) => bump(counts, side),
            None => bump(self.rules.entry(id.to_string()).or_default(), side),
        }
    }

    /// Adds another run's hits to these.
    pub fn merge(&mut self, other: &Hits) {
        for (k, v) in &other.checks {
            let mine = self.checks.entry(*k).or_default();
            (0..3).for_each(|i| mine[i] = mine[i].saturating_add(v[i]));
        }
        for (k, v) in &other.rules {
            let mine = self.rules.entry(k.clone()).or_default();
            (0..3).for_each(|i| mine[i] = mine[i].saturating_add(v[i]));
        }
    }

    /// How often `rule` passed, fired and faulted.
    pub fn rule_counts(&self, rule: &str) -> [u32; 3] {
        self.rules.get(rule).copied().unwrap_or_default()
    }

    pub(crate) fn check_counts(&self, cond: ExprId) -> [u32; 3] {
        self.checks.get(&cond).copied().unwrap_or_default()
    }
}

/// A check of a compiled program, for coverage reports.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CheckSite {
    /// The rule it belongs to.
    pub rule: String,
    /// `require`, `forbid`, `when` or `where` (a `for` filter).
    pub kind: &'static str,
    /// The policy file.
    pub file: String,
    /// 1-based line of the condition.
    pub line: usize,
    /// Byte offset of the condition in the file (with `file`, what names the check across compilations).
    pub start: u32,
    /// The condition's text (first line).
    pub text: String,
    /// How often it held, did not hold and could not be evaluated.
    #[serde(skip)]
    pub counts: [u32; 3],
}

/// Every check of `program`, in rule and statement order, with the counts in `hits`.
pub(crate) fn sites(program: &Program, hits: &Hits) -> Vec<CheckSite> {
    let mut out = Vec::new();
    for rule in &program.rules {
        let mut stack: Vec<&[Stmt]> = vec![&rule.body];
        let mut found = Vec::new();
        while let Some(stmts) = stack.pop() {
            for stmt in stmts {
                match stmt {
                    Stmt::When(c) => found.push((*c, "when")),
                    Stmt::Check(c) => found.push((c.cond, if c.forbid { "forbid" } else { "require" })),
                    Stmt::For { lp, body } => {
                        found.extend(lp.filter.map(|f| (f, "where")));
                        stack.push(body);
                    }
                    Stmt::Let { .. } => {}
                }
            }
        }
        // A constant condition (`forbid true` in a loop) has one way to go: the loop's filter is what branches.
        found.retain(|(c, _)| !matches!(program.exprs[*c as usize], crate::ir::Expr::Const(_)));
        found.sort_by_key(|(c, _)| program.origins[*c as usize].span.start);
        for (cond, kind) in found {
            let origin = program.origins[cond as usize];
            let source = &program.sources[origin.source as usize];
            let line = source.line_col(origin.span.start).0;
            let text = program.text(cond).lines().next().unwrap_or("").trim().to_string();
            out.push(CheckSite {
                rule: rule.info.id.to_string(),
                kind,
                file: source.name().to_string(),
                line,
                start: origin.span.start,
                text,
                counts: hits.check_counts(cond),
            });
        }
    }
    out
}
