//! `policy explain`: why a rule passed, failed, did not apply or could not be evaluated on a document.
//!
//! This is a separate walk over a rule's compiled statements, next to `eval::run` rather than inside it, so
//! `policy check` pays nothing for it: the runner has no tracing hooks to test. It evaluates each statement
//! as the runner does, then re-evaluates the sub-expressions of the statements it shows (evaluation is pure,
//! so the values are the ones the runner saw) and, for a loop or a quantifier, finds the element that
//! decided it. The findings themselves come from the real runner, so the explanation never disagrees with
//! `policy check`.

mod preview;
mod render;
mod tree;

use crate::eval::{Eval, Fault, Finding, World, run_rules};
use crate::functions::{CallContext, Registry};
use crate::input::Document;
use crate::ir::{Expr, ExprId, Loop, Program, Quant, Rule, Stmt};
use crate::value::Value;

pub(crate) use preview::preview;
pub use render::render;
pub use tree::{Explanation, FindingBrief, Node, Place, Step, Verdict};

/// How deep sub-expressions are shown, and how many loop elements.
const MAX_DEPTH: usize = 4;
const MAX_ITEMS: usize = 20;

/// What an explanation needs from a session.
pub(crate) struct Context<'a> {
    pub program: &'a Program,
    pub registry: &'a Registry,
    pub world: &'a World,
    pub cx: CallContext,
    pub max_steps: u64,
}

/// Explains rule `index` of the program on `doc`.
pub(crate) fn explain(cx: &Context<'_>, index: usize, doc: &Document) -> Explanation {
    let rule = &cx.program.rules[index];
    let info = &rule.info;
    let mut out = Explanation {
        rule: info.id.clone(),
        file: doc.name().to_string(),
        document: doc.index(),
        kind: doc.kind().name().to_string(),
        verdict: Verdict::NotApplicable,
        summary: String::new(),
        steps: Vec::new(),
        findings: Vec::new(),
    };
    if !info.kinds.iter().any(|k| k.covers(doc.kind())) {
        let kinds: Vec<&str> = info.kinds.iter().map(|k| k.name()).collect();
        out.summary = format!("the rule applies to {}; this document is a {}", kinds.join(", "), doc.kind().name());
        return out;
    }
    let mut ev = Eval::new(cx.program, &cx.program.consts, cx.registry, cx.world, cx.cx);
    ev.max_steps = cx.max_steps;
    let mut findings = Vec::new();
    run_rules(&mut ev, std::iter::once((rule, info.severity)), doc, &mut findings);
    out.findings = findings.iter().map(|f| brief(f, doc)).collect();

    ev.set_document(doc.data(), doc.meta());
    ev.reset_frame(rule.locals);
    let mut walker = Walker { program: cx.program, doc, guard: None };
    out.steps = walker.block(&mut ev, &rule.body);
    let violations = findings.iter().filter(|f| f.cause == crate::eval::Cause::Violation).count();
    (out.verdict, out.summary) = if violations > 0 {
        (Verdict::Failed, format!("{violations} check{} failed", plural(violations)))
    } else if !findings.is_empty() {
        (Verdict::Unknown, format!("{} check{} could not be evaluated", findings.len(), plural(findings.len())))
    } else if let Some(guard) = walker.guard {
        (Verdict::Skipped, format!("the guard `when {guard}` is false, so the rule does not apply"))
    } else {
        (Verdict::Passed, "every check holds".to_string())
    };
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn brief(f: &Finding, doc: &Document) -> FindingBrief {
    FindingBrief {
        message: f.message.clone(),
        cause: f.cause.name().to_string(),
        line: f.location.as_ref().map(|l| doc.source().line_col(l.span.start).0),
        pointer: f.location.as_ref().map(|l| l.pointer.clone()),
    }
}

struct Walker<'p> {
    program: &'p Program,
    doc: &'p Document,
    /// The first `when` that was false at the rule's top level.
    guard: Option<String>,
}

impl<'a> Walker<'a> {
    fn line(&self, id: ExprId) -> usize {
        let origin = self.program.origins[id as usize];
        self.program.sources[origin.source as usize].line_col(origin.span.start).0
    }

    fn step(&self, statement: &'static str, id: ExprId, outcome: &'static str) -> Step {
        Step {
            statement,
            text: self.program.text(id).to_string(),
            line: self.line(id),
            outcome,
            problem: None,
            at: None,
            value: None,
            children: Vec::new(),
            passed_items: 0,
        }
    }

    /// The statement as written (`let org = publisher(b)`, `for i, b in xs where filled(b)`): the IR keeps
    /// only expressions, so the text runs from the start of the expression's line to the expression's end (to
    /// the `{` for a loop) when that line starts with the keyword.
    fn statement_text(&self, id: ExprId, keyword: &str) -> String {
        let origin = self.program.origins[id as usize];
        let text = self.program.sources[origin.source as usize].text();
        let start = text.get(..origin.span.start as usize).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
        let end = if keyword == "for" {
            text.get(origin.span.start as usize..)
                .and_then(|t| t.find('{'))
                .map_or(origin.span.end as usize, |i| i + origin.span.start as usize)
        } else {
            origin.span.end as usize
        };
        match text.get(start..end).map(str::trim) {
            Some(line) if line.starts_with(keyword) => line.strip_prefix(keyword).unwrap_or(line).trim().to_string(),
            _ => self.program.text(id).to_string(),
        }
    }

    fn place(&self, node: &Value) -> Option<Place> {
        let location = self.doc.locate(node)?;
        let (line, column) = self.doc.source().line_col(location.span.start);
        Some(Place { line, column, pointer: location.pointer })
    }

    fn fault_place(&self, fault: &Fault<'a>) -> Option<Place> {
        match fault {
            Fault::Missing { parent: Some(parent), key, .. } => self.place(parent).map(|mut p| {
                crate::input::locate::push_pointer(&mut p.pointer, &key.segment());
                p
            }),
            Fault::Type { node: Some(n), .. }
            | Fault::Invalid { node: Some(n), .. }
            | Fault::Error { node: Some(n), .. } => self.place(n),
            _ => None,
        }
    }

    /// Runs a block as the runner does; returns its steps. Stops at a false guard or a failed `let`.
    fn block(&mut self, ev: &mut Eval<'a>, stmts: &'a [Stmt]) -> Vec<Step> {
        let mut steps = Vec::new();
        for stmt in stmts {
            match stmt {
                Stmt::When(cond) => {
                    let result = ev.boolean(*cond);
                    let mut step = self.step("when", *cond, "holds");
                    step.value = Some(self.node(ev, *cond, 0));
                    let stop = match result {
                        Ok(true) => false,
                        Ok(false) => {
                            step.outcome = "guard-false";
                            if self.guard.is_none() {
                                self.guard = Some(step.text.clone());
                            }
                            true
                        }
                        Err(fault) => {
                            step.outcome = "error";
                            step.problem =
                                Some(format!("cannot tell whether the rule applies: {}", fault.message(self.program)));
                            step.at = self.fault_place(&fault);
                            true
                        }
                    };
                    steps.push(step);
                    if stop {
                        return steps;
                    }
                }
                Stmt::Let { slot, value } => {
                    let mut step = self.step("let", *value, "bound");
                    step.text = self.statement_text(*value, "let");
                    step.value = Some(self.node(ev, *value, 0));
                    match ev.eval(*value) {
                        Ok(v) => ev.set_local(*slot, v),
                        Err(fault) => {
                            step.outcome = "error";
                            step.problem = Some(fault.message(self.program));
                            step.at = self.fault_place(&fault);
                            steps.push(step);
                            return steps;
                        }
                    }
                    steps.push(step);
                }
                Stmt::Check(check) => {
                    let statement = if check.forbid { "forbid" } else { "require" };
                    let mut step = self.step(statement, check.cond, "holds");
                    step.value = Some(self.node(ev, check.cond, 0));
                    match ev.boolean(check.cond) {
                        Ok(b) if b != check.forbid => {}
                        Ok(_) => {
                            step.outcome = "fails";
                            step.at = match check.at.map(|at| ev.eval(at)) {
                                Some(Ok(v)) => self.place(&v),
                                Some(Err(fault)) => self.fault_place(&fault),
                                None => None,
                            };
                        }
                        Err(fault) => {
                            step.outcome = "error";
                            step.problem = Some(fault.message(self.program));
                            step.at = self.fault_place(&fault);
                        }
                    }
                    steps.push(step);
                }
                Stmt::For { lp, body } => steps.push(self.for_loop(ev, lp, body)),
            }
        }
        steps
    }

    fn for_loop(&mut self, ev: &mut Eval<'a>, lp: &'a Loop, body: &'a [Stmt]) -> Step {
        let mut step = self.step("for", lp.source, "iterated");
        step.text = self.statement_text(lp.source, "for");
        step.value = Some(self.node(ev, lp.source, MAX_DEPTH - 1));
        let mut items: Vec<Step> = Vec::new();
        let mut passed = 0;
        let program = self.program;
        let result = ev.each(lp, false, &mut |ev| {
            let element = ev.local(lp.var).clone();
            let key = lp.key.map(|k| ev.local(k).clone());
            let mut item = Step {
                statement: "item",
                text: match key.as_deref() {
                    Some(Value::String(k)) => format!("[{k:?}]"),
                    Some(Value::Int(i)) => format!("[{i}]"),
                    _ => preview(&element),
                },
                line: self.line(lp.source),
                outcome: "holds",
                problem: None,
                at: self.place(&element),
                value: Some(Node::leaf("item", &element)),
                children: Vec::new(),
                passed_items: 0,
            };
            match lp.filter.map(|f| (f, ev.boolean(f))) {
                Some((_, Ok(false))) => return Ok(true),
                Some((f, Err(fault))) => {
                    item.outcome = "error";
                    item.problem = Some(format!("`where {}`: {}", program.text(f), fault.message(program)));
                }
                _ => {
                    let guard = self.guard.take();
                    item.children = self.block(ev, body);
                    self.guard = guard;
                    if let Some(bad) = item.children.iter().find(|c| matches!(c.outcome, "fails" | "error")) {
                        item.outcome = bad.outcome;
                    } else if item.children.iter().any(|c| c.outcome == "guard-false") {
                        item.outcome = "guard-false";
                    }
                }
            }
            if matches!(item.outcome, "fails" | "error") {
                if items.len() < MAX_ITEMS {
                    items.push(item);
                }
            } else {
                passed += 1;
            }
            Ok(true)
        });
        if let Err(fault) = result {
            step.outcome = "error";
            step.problem = Some(fault.message(program));
            step.at = self.fault_place(&fault);
        }
        step.children = items;
        step.passed_items = passed;
        step
    }

    /// An expression, its value and (to `MAX_DEPTH`) its sub-expressions' values.
    fn node(&self, ev: &mut Eval<'a>, id: ExprId, depth: usize) -> Node {
        let text = self.program.text(id).to_string();
        let mut node = match ev.eval(id) {
            Ok(v) => Node::leaf(&text, &v),
            Err(fault) => Node {
                text,
                value: None,
                problem: Some(fault.message(self.program)),
                decided_by: None,
                children: Vec::new(),
            },
        };
        let expr = &self.program.exprs[id as usize];
        if let Expr::Quantified(q, lp, cond) = expr {
            node.decided_by = self.decider(ev, *q, lp, *cond);
        }
        if depth + 1 >= MAX_DEPTH {
            return node;
        }
        let (children, bound) = expr.children();
        for child in children {
            // Parts that run once per element of a quantifier or comprehension have no single value.
            if !bound.is_empty() && !loop_sources(expr).contains(&child) {
                continue;
            }
            let literal = matches!(self.program.exprs[child as usize], Expr::Const(_))
                && self.program.consts.get(const_slot(&self.program.exprs[child as usize])).is_some_and(|v| {
                    let shown = preview(v);
                    shown == self.program.text(child) || self.program.text(child).starts_with('/')
                });
            if literal || matches!(self.program.exprs[child as usize], Expr::Template(_)) {
                continue;
            }
            node.children.push(self.node(ev, child, depth + 1));
        }
        node
    }

    /// The element that decided an `all`/`any`/`none`, with its place in the input.
    fn decider(&self, ev: &mut Eval<'a>, q: Quant, lp: &'a Loop, cond: Option<ExprId>) -> Option<String> {
        let cond = cond?;
        let wanted = match q {
            Quant::All => false,
            Quant::Any | Quant::None => true,
            Quant::Count => return None,
        };
        let mut found = None;
        let _ = ev.each(lp, true, &mut |ev| {
            if ev.boolean(cond).ok() == Some(wanted) {
                let element = ev.local(lp.var).clone();
                let place =
                    self.place(&element).map(|p| format!(" (line {}, {})", p.line, p.pointer)).unwrap_or_default();
                found = Some(format!("{}{place}", preview(&element)));
                return Ok(false);
            }
            Ok(true)
        });
        found
    }
}

fn loop_sources(expr: &Expr) -> Vec<ExprId> {
    match expr {
        Expr::Quantified(_, lp, _) => vec![lp.source],
        Expr::Comprehension(_, loops) => loops.iter().take(1).map(|l| l.source).collect(),
        _ => Vec::new(),
    }
}

fn const_slot(expr: &Expr) -> usize {
    match expr {
        Expr::Const(slot) => *slot as usize,
        _ => usize::MAX,
    }
}

/// Explains `rule_id` on each of `docs`; an unknown id is an error with a suggestion.
pub(crate) fn explain_all(cx: &Context<'_>, rule_id: &str, docs: &[Document]) -> Result<Vec<Explanation>, String> {
    let index = cx.program.rules.iter().position(|r: &Rule| r.info.id == rule_id).ok_or_else(|| {
        let ids = cx.program.rules.iter().map(|r| r.info.id.as_str());
        let help = crate::diagnostic::suggestion(rule_id, ids).map_or(String::new(), |s| format!(" ({s})"));
        format!("no loaded rule has the id `{rule_id}`{help}")
    })?;
    Ok(docs.iter().map(|d| explain(cx, index, d)).collect())
}
