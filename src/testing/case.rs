//! One test: its fields read and checked, its documents built, the policies run, its expectations compared
//! with what happened.

use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic, suggestion};
use crate::engine::PolicySet;
use crate::eval::cover::{CheckSite, Hits};
use crate::input::{Document, Kind, LoadOptions};
use crate::source::{Source, Span};
use crate::syntax::ast::{Expect, ExpectDetail, Expr, ExprKind, TestDecl};
use crate::value::Value;

/// What every test shares: the policy texts, the set compiled without overrides, the declared parameters.
pub(super) struct Context<'a> {
    pub texts: &'a [(String, String)],
    pub base: &'a PolicySet,
    pub params: &'a [String],
}

/// A reason a test failed, with its place in the test file.
#[derive(Clone, Debug)]
pub struct Problem {
    /// What went wrong, as a diagnostic on the test file (rendered with its source line).
    pub diagnostic: Diagnostic,
}

/// A finding (or an error) the test produced, for the failure report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Actual {
    /// The rule id, or `error` for an input or policy error.
    pub rule: String,
    /// The message.
    pub message: String,
    /// JSON pointer of the finding.
    pub pointer: String,
    /// 1-based line in the input, when known.
    pub line: Option<usize>,
    /// `violation`, `missing-data`, ... (`error` for errors).
    pub cause: String,
    /// The input file.
    pub file: String,
}

/// The result of one test.
#[derive(Clone, Debug)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// The test file.
    pub file: String,
    /// Line of the `test` keyword.
    pub line: usize,
    /// Why it failed; empty when it passed.
    pub problems: Vec<Problem>,
    /// The expectations as written, each with whether it held.
    pub expected: Vec<(String, bool)>,
    /// What the policies reported.
    pub actual: Vec<Actual>,
    /// The input texts `(name, text)`, for the failure report.
    pub inputs: Vec<(String, Arc<str>)>,
    /// How long it took.
    pub duration: std::time::Duration,
}

impl TestResult {
    /// Whether the test passed.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

const FIELDS: &[&str] = &["input", "file", "kind", "params", "now", "traffic"];

pub(super) fn run(
    cx: &Context<'_>,
    source: &Arc<Source>,
    package: &str,
    test: &TestDecl,
) -> (TestResult, Vec<CheckSite>, Hits) {
    let started = std::time::Instant::now();
    let mut t = Case { source, problems: Vec::new() };
    let mut result = TestResult {
        name: test.name.name.clone(),
        file: source.name().to_string(),
        line: source.line_col(test.span.start).0,
        problems: Vec::new(),
        expected: Vec::new(),
        actual: Vec::new(),
        inputs: Vec::new(),
        duration: Default::default(),
    };
    let mut hits = Hits::default();
    // Fields: names first, then the settings every document needs.
    let (mut kind, mut params, mut now, mut traffic) = (None, Vec::new(), None, None);
    for (name, value) in &test.fields {
        if !FIELDS.contains(&name.name.as_str()) {
            let help = suggestion(&name.name, FIELDS.iter().copied());
            t.fail_help(name.span, format!("unknown test field `{}`", name.name), help);
            continue;
        }
        let repeatable = matches!(name.name.as_str(), "input" | "file");
        if !repeatable && test.fields.iter().filter(|(n, _)| n.name == name.name).count() > 1 {
            t.fail(name.span, format!("`{}` is given more than once", name.name));
        }
        match name.name.as_str() {
            "kind" => kind = t.kind(value),
            "params" => params = t.params(value, package, cx.params),
            "now" => now = t.now(value),
            "traffic" => match super::traffic::Table::parse(value) {
                Ok(table) => traffic = Some(table),
                Err(problems) => problems.into_iter().for_each(|(span, m, help)| t.fail_help(span, m, help)),
            },
            _ => {}
        }
    }
    let mut errors: Vec<String> = Vec::new();
    let mut docs = Vec::new();
    for (name, value) in &test.fields {
        match name.name.as_str() {
            "input" => t.input(value, kind, &test.name.name, &mut docs, &mut result.inputs),
            "file" => t.file(value, &mut docs, &mut errors, &mut result.inputs),
            _ => {}
        }
    }
    if docs.is_empty() && errors.is_empty() && t.problems.is_empty() {
        t.fail(test.name.span, "the test has no input: add `input = {...}` (with `kind`) or `file = \"...\"`");
    }
    // The policies: the shared set, or one compiled with this test's parameters, clock and traffic.
    let own = (!params.is_empty() || now.is_some() || traffic.is_some())
        .then(|| super::compile_for(cx.texts, &params, now, traffic));
    let policies = match &own {
        None => Some(cx.base),
        Some(Ok(set)) => Some(set),
        Some(Err(diagnostics)) => {
            errors.extend(diagnostics.iter().map(|d| d.message.clone()));
            None
        }
    };
    let mut findings = Vec::new();
    // A test that is wrong in itself (a bad field, parameter or file) is not run: its findings would mislead.
    let runnable = t.problems.is_empty();
    if let Some(policies) = policies.filter(|_| runnable) {
        let session = policies.session(&docs);
        for doc in &docs {
            findings.extend(session.evaluate_covered(doc, &mut hits));
        }
    }
    result.actual = findings
        .iter()
        .map(|f| Actual {
            rule: f.rule.id.clone(),
            message: f.message.clone(),
            pointer: f.pointer().to_string(),
            line: f.line_col().map(|(l, _)| l),
            cause: f.cause.name().to_string(),
            file: f.file().to_string(),
        })
        .chain(errors.iter().map(|e| Actual {
            rule: "error".into(),
            message: e.clone(),
            pointer: String::new(),
            line: None,
            cause: "error".into(),
            file: String::new(),
        }))
        .collect();
    // Expectations.
    if test.expects.is_empty() {
        t.fail(
            test.name.span,
            "the test expects nothing: add `expect \"RULE-ID\"`, `expect no \"RULE-ID\"` or `expect error \"...\"`",
        );
    }
    let rule_ids: Vec<&str> = cx.base.rules().map(|r| r.id.as_str()).collect();
    let mut expects_error = false;
    for expect in &test.expects {
        let unknown = match expect {
            Expect::Fires { rule, .. } | Expect::No { rule, .. } => {
                Some(rule).filter(|r| !rule_ids.iter().any(|id| id_matches(&r.name, id)))
            }
            Expect::Error { .. } => None,
        };
        if let Some(rule) = unknown {
            let help = suggestion(&rule.name, rule_ids.iter().copied());
            t.fail_help(rule.span, format!("no rule `{}` in the policies under test", rule.name), help);
            result.expected.push((format!("{} (unknown rule)", rule.name), false));
            continue;
        }
        if !runnable {
            continue;
        }
        let (text, held) = match expect {
            Expect::Fires { rule, details, span } => {
                let matching = result
                    .actual
                    .iter()
                    .filter(|a| id_matches(&rule.name, &a.rule) && details.iter().all(|(d, _)| matches(d, a)));
                let count = matching.count();
                let wanted = details
                    .iter()
                    .find_map(|(d, _)| if let ExpectDetail::Count(n) = d { Some(*n as usize) } else { None });
                let held = match wanted {
                    Some(n) => count == n,
                    None => count > 0,
                };
                let text = describe(&rule.name, details);
                if !held {
                    let what = match wanted {
                        Some(n) => format!("expected {n} finding(s) of {text}, got {count}"),
                        None => format!("expected a finding of {text}, got none that matches"),
                    };
                    t.fail(*span, what);
                }
                (text, held)
            }
            Expect::No { rule, span } => {
                let held = !result.actual.iter().any(|a| id_matches(&rule.name, &a.rule));
                if !held {
                    t.fail(*span, format!("expected no finding of `{}`, but it fired", rule.name));
                }
                (format!("no {}", rule.name), held)
            }
            Expect::Error { text, span } => {
                expects_error = true;
                let held = errors.iter().any(|e| e.contains(text.as_str()));
                if !held {
                    t.fail(
                        *span,
                        format!(
                            "expected an error containing {text:?}, got {}",
                            if errors.is_empty() { "none".to_string() } else { format!("{errors:?}") }
                        ),
                    );
                }
                (format!("error {text:?}"), held)
            }
        };
        result.expected.push((text, held));
    }
    if runnable && !errors.is_empty() && !expects_error {
        t.fail(test.name.span, format!("unexpected error: {}", errors.join("; ")));
    }
    let sites = match &own {
        Some(Ok(set)) => set.coverage(&hits),
        _ => cx.base.coverage(&hits),
    };
    result.problems = t.problems;
    result.duration = started.elapsed();
    (result, sites, hits)
}

/// Whether an expectation's rule id (`MC-USE-001`, or a prefix ending in `*`: `MC-*`, `*`) names `id`.
fn id_matches(pattern: &str, id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix) && id != "error",
        None => pattern == id,
    }
}

/// Whether finding `a` has detail `d`.
fn matches(d: &ExpectDetail, a: &Actual) -> bool {
    match d {
        ExpectDetail::At(p) => a.pointer == *p,
        ExpectDetail::Line(l) => a.line == Some(*l as usize),
        ExpectDetail::Message(m) => a.message.contains(m.as_str()),
        ExpectDetail::Cause(c) => a.cause == *c,
        ExpectDetail::Count(_) => true,
    }
}

/// `RULE at "/x" message "..."`, as the expectation reads.
fn describe(rule: &str, details: &[(ExpectDetail, Span)]) -> String {
    let mut out = rule.to_string();
    for (d, _) in details {
        out.push_str(&match d {
            ExpectDetail::At(p) => format!(" at {p:?}"),
            ExpectDetail::Line(l) => format!(" line {l}"),
            ExpectDetail::Message(m) => format!(" message {m:?}"),
            ExpectDetail::Cause(c) => format!(" cause {c}"),
            ExpectDetail::Count(n) => format!(" count {n}"),
        });
    }
    out
}

struct Case<'a> {
    source: &'a Arc<Source>,
    problems: Vec<Problem>,
}

impl Case<'_> {
    fn fail(&mut self, span: Span, message: impl Into<String>) {
        self.fail_help(span, message, None);
    }

    fn fail_help(&mut self, span: Span, message: impl Into<String>, help: Option<String>) {
        let diagnostic = Diagnostic::new(Code::Definition, self.source, span, message).with_help_opt(help);
        self.problems.push(Problem { diagnostic });
    }

    fn kind(&mut self, value: &Expr) -> Option<Kind> {
        let name = match &value.kind {
            ExprKind::Name(n) | ExprKind::Str(n) => n.as_str(),
            _ => {
                self.fail(value.span, "`kind` is a document kind such as `ModelCard`");
                return None;
            }
        };
        let found = Kind::ALL.iter().copied().find(|k| k.name() == name);
        if found.is_none() {
            let help = suggestion(name, Kind::ALL.iter().map(|k| k.name()));
            self.fail_help(value.span, format!("unknown document kind `{name}`"), help);
        }
        found
    }

    fn params(&mut self, value: &Expr, package: &str, known: &[String]) -> Vec<(String, Value)> {
        let ExprKind::Object(entries) = &value.kind else {
            self.fail(value.span, "`params` is an object such as `{max_replicas: 3}`");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, expr) in entries {
            // A short name is the test file's package's parameter.
            let name = if key.name.contains('.') { key.name.clone() } else { format!("{package}.{}", key.name) };
            if !known.contains(&name) {
                let help = suggestion(&name, known.iter().map(String::as_str));
                self.fail_help(key.span, format!("no parameter `{name}` in the policies under test"), help);
                continue;
            }
            if let Some(v) = self.literal(expr) {
                out.push((name, Value::from(v)));
            }
        }
        out
    }

    fn now(&mut self, value: &Expr) -> Option<jiff::Timestamp> {
        let parsed = match &value.kind {
            ExprKind::Str(s) => s.parse::<jiff::Timestamp>().ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.fail(value.span, "`now` is a timestamp such as \"2026-01-01T00:00:00Z\"");
        }
        parsed
    }

    /// `input = {...}`: data of the test's `kind`, as a JSON document (so findings have pointers).
    fn input(
        &mut self,
        value: &Expr,
        kind: Option<Kind>,
        test: &str,
        docs: &mut Vec<Document>,
        inputs: &mut Vec<(String, Arc<str>)>,
    ) {
        let Some(kind) = kind else {
            self.fail(value.span, "an `input` needs the document's `kind`, such as `kind = ModelCard`");
            return;
        };
        let Some(json) = self.literal(value) else { return };
        let text = serde_json::to_string_pretty(&json).unwrap_or_default();
        let name = format!("{test}.json");
        let options = LoadOptions { kind: Some(kind), ..LoadOptions::default() };
        match Document::parse(&name, &text, &options) {
            Ok(found) => docs.extend(found),
            Err(e) => self.fail(value.span, format!("the input cannot be read as {}: {e}", kind.name())),
        }
        inputs.push((name, text.into()));
    }

    /// `file = "path"` (relative to the test file) or `file = {name: "README.md", text: "...", kind: K}`.
    fn file(
        &mut self,
        value: &Expr,
        docs: &mut Vec<Document>,
        errors: &mut Vec<String>,
        inputs: &mut Vec<(String, Arc<str>)>,
    ) {
        // The test's `kind` is for `input` data; a file's kind is detected from its name and content, as
        // `policy check` would, unless the inline file names one.
        let options = LoadOptions::default();
        let loaded = match &value.kind {
            ExprKind::Str(path) => {
                let full = super::base_dir(self.source).join(path);
                if !full.is_file() {
                    self.fail(value.span, format!("no file `{}`", full.display()));
                    return;
                }
                let loaded = Document::load(&full, &options);
                if let Ok(text) = std::fs::read_to_string(&full) {
                    inputs.push((full.display().to_string(), text.into()));
                }
                loaded
            }
            ExprKind::Object(entries) => {
                let get = |k: &str| entries.iter().find(|(key, _)| key.name == k).map(|(_, e)| e);
                let (Some(name), Some(text)) = (get("name"), get("text")) else {
                    self.fail(value.span, "an inline file is `{name: \"README.md\", text: \"...\"}`");
                    return;
                };
                if let Some((key, _)) =
                    entries.iter().find(|(k, _)| !["name", "text", "kind"].contains(&k.name.as_str()))
                {
                    self.fail(
                        key.span,
                        format!("unknown key `{}` of an inline file (`name`, `text`, `kind`)", key.name),
                    );
                }
                // Its own `kind`, else the test's.
                let options = match get("kind") {
                    Some(k) => LoadOptions { kind: self.kind(k), ..LoadOptions::default() },
                    None => options,
                };
                let (ExprKind::Str(name), ExprKind::Str(text)) = (&name.kind, &text.kind) else {
                    self.fail(value.span, "an inline file's `name` and `text` are strings");
                    return;
                };
                let text = dedent(text);
                inputs.push((name.clone(), text.as_str().into()));
                Document::parse(name, &text, &options)
            }
            _ => {
                self.fail(value.span, "`file` is a path or `{name: \"...\", text: \"...\"}`");
                return;
            }
        };
        match loaded {
            Ok(found) => docs.extend(found),
            Err(e) => errors.push(e.to_string()),
        }
    }

    /// A literal (null, booleans, numbers, strings, arrays, objects) as JSON.
    fn literal(&mut self, value: &Expr) -> Option<serde_json::Value> {
        use serde_json::Value as J;
        Some(match &value.kind {
            ExprKind::Null => J::Null,
            ExprKind::Bool(b) => J::Bool(*b),
            ExprKind::Int(i) => J::from(*i),
            ExprKind::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            ExprKind::Str(s) => J::String(s.clone()),
            ExprKind::Unary(crate::syntax::ast::UnaryOp::Neg, inner) => match &inner.kind {
                ExprKind::Int(i) => J::from(-*i),
                ExprKind::Float(f) => serde_json::Number::from_f64(-*f).map_or(J::Null, J::Number),
                _ => return self.not_literal(value),
            },
            ExprKind::Array(items) => J::Array(items.iter().map(|i| self.literal(i)).collect::<Option<_>>()?),
            ExprKind::Object(entries) => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries {
                    map.insert(k.name.clone(), self.literal(v)?);
                }
                J::Object(map)
            }
            _ => return self.not_literal(value),
        })
    }

    fn not_literal(&mut self, value: &Expr) -> Option<serde_json::Value> {
        self.fail(
            value.span,
            "test data is written as literals: null, booleans, numbers, strings, `[...]` and `{...}`",
        );
        None
    }
}

/// Text written indented inside a test: when it starts with a line break, the common indentation of its
/// lines is removed (and the break), as is a last line of only blanks, so YAML keeps its structure.
pub(super) fn dedent(text: &str) -> String {
    let Some(body) = text.strip_prefix('\n').or_else(|| text.strip_prefix("\r\n")) else { return text.to_string() };
    let lines: Vec<&str> = body.lines().collect();
    let lines = match lines.split_last() {
        Some((last, rest)) if last.trim().is_empty() => rest,
        _ => &lines[..],
    };
    let indent =
        lines.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    let mut out = String::new();
    for line in lines {
        out.push_str(line.get(indent..).unwrap_or(line.trim_start()));
        out.push('\n');
    }
    out
}
