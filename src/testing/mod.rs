//! `policy test`: runs the `test` blocks of policy files (docs/authoring.md) against the policies beside
//! them, and measures which rules and checks the tests exercised.
//!
//! Every `.policy` file under the given paths is compiled into one set (tests included, so a test file may
//! sit beside the policies it tests, as `NAME_test.policy`); each test builds its input documents, runs the
//! set on them with coverage recording on, and compares the findings with its `expect` lines. A name that
//! does not exist — a rule id, a parameter, a kind, a field, a file — fails the test with a span on it:
//! a wrong name never passes quietly.

mod case;
mod report;
mod traffic;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

pub use self::case::{Actual, Problem, TestResult};
pub use self::report::{coverage_json, coverage_text, lcov, results_json};
#[cfg(feature = "cli")]
pub use self::report::{junit, results_text};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::engine::{Engine, PolicySet};
pub use crate::eval::cover::{CheckSite, Hits};
use crate::source::Source;
use crate::syntax::ast::{File, TestDecl};

/// What to run.
#[derive(Clone, Debug, Default)]
pub struct TestOptions {
    /// Only tests whose `file::name` matches.
    pub filter: Option<regex::Regex>,
}

/// The outcome of a run.
#[derive(Debug)]
pub struct TestRun {
    /// One result per test, in file and source order.
    pub results: Vec<TestResult>,
    /// Coverage per rule: `(id, file, line, times it passed, times it fired)`, in rule order.
    pub rules: Vec<RuleCoverage>,
    /// Coverage per check, in rule and source order.
    pub checks: Vec<CheckSite>,
}

/// Whether tests made a rule pass and fire.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RuleCoverage {
    /// The rule id.
    pub id: String,
    /// Its policy file.
    pub file: String,
    /// Line of its `rule` keyword.
    pub line: usize,
    /// Documents it ran on without a finding.
    pub passed: u32,
    /// Documents it fired on.
    pub fired: u32,
}

impl TestRun {
    /// Tests that failed.
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed()).count()
    }

    /// Percentage of rules seen both passing and firing (100 when there are none).
    pub fn rule_percent(&self) -> f64 {
        percent(self.rules.iter().filter(|r| r.passed > 0 && r.fired > 0).count(), self.rules.len())
    }

    /// Percentage of checks seen both holding and not holding (100 when there are none).
    pub fn check_percent(&self) -> f64 {
        percent(self.checks.iter().filter(|c| c.counts[0] > 0 && c.counts[1] > 0).count(), self.checks.len())
    }
}

fn percent(covered: usize, total: usize) -> f64 {
    if total == 0 { 100.0 } else { covered as f64 * 100.0 / total as f64 }
}

/// `*.policy` files under `paths` (files as given, folders searched; hidden folders and `target/` skipped),
/// sorted within each path.
pub fn policy_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if !meta.is_dir() {
            out.push(path.clone());
            continue;
        }
        let mut found = Vec::new();
        let mut stack = vec![path.clone()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Ok(kind) = entry.file_type() else { continue };
                if kind.is_dir() && !name.starts_with('.') && name != "target" {
                    stack.push(entry.path());
                } else if kind.is_file() && name.ends_with(".policy") {
                    found.push(entry.path());
                }
            }
        }
        found.sort();
        out.extend(found);
    }
    out.dedup();
    Ok(out)
}

/// Runs the tests of the policy files `files`. Policies that do not parse or compile are an error (exit 2):
/// no test result would mean anything.
pub fn run(files: &[PathBuf], options: &TestOptions) -> Result<TestRun, Diagnostics> {
    let mut sources = Vec::new();
    for path in files {
        let name = path.to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).map_err(|e| {
            let source = Source::new(name.as_str(), "");
            Diagnostics::new(Diagnostic::new(
                crate::Code::Syntax,
                &source,
                crate::Span::new(0, 0),
                format!("cannot read the policy file: {e}"),
            ))
        })?;
        sources.push(Source::new(name, text));
    }
    let mut parsed: Vec<(Arc<Source>, File)> = Vec::new();
    let mut errors = Vec::new();
    for source in &sources {
        match crate::syntax::parse(source) {
            Ok(file) => parsed.push((source.clone(), file)),
            Err(e) => errors.extend(e),
        }
    }
    if let Some(errors) = Diagnostics::from_vec(errors) {
        return Err(errors);
    }
    let texts: Vec<(String, String)> = sources.iter().map(|s| (s.name().to_string(), s.text().to_string())).collect();
    let base = Engine::default().compile(texts.clone())?;
    let known_params: Vec<String> = crate::params::params(&base).into_iter().map(|p| p.name).collect();
    let cx = case::Context { texts: &texts, base: &base, params: &known_params };
    let tests: Vec<(&Arc<Source>, &str, &TestDecl)> = parsed
        .iter()
        .flat_map(|(source, file)| file.tests.iter().map(move |t| (source, file.package.name.as_str(), t)))
        .filter(|(source, _, t)| {
            options.filter.as_ref().is_none_or(|f| f.is_match(&format!("{}::{}", source.name(), t.name.name)))
        })
        .collect();
    // In parallel; `collect` keeps the source order, so the output is the same on every run.
    let outcomes: Vec<(TestResult, Vec<CheckSite>, Hits)> =
        tests.par_iter().map(|(source, package, test)| case::run(&cx, source, package, test)).collect();
    let mut checks = base.coverage(&Hits::default());
    let mut rule_hits = Hits::default();
    let mut results = Vec::new();
    for (result, sites, hits) in outcomes {
        // Keyed by place, not by expression id: a test with its own parameters compiles its own program.
        for site in sites {
            if let Some(c) = checks.iter_mut().find(|c| c.file == site.file && c.start == site.start) {
                (0..3).for_each(|i| c.counts[i] = c.counts[i].saturating_add(site.counts[i]));
            }
        }
        rule_hits.merge(&hits);
        results.push(result);
    }
    let rules = base
        .rules()
        .map(|r| {
            let [passed, fired, _] = rule_hits.rule_counts(&r.id);
            RuleCoverage { id: r.id.clone(), file: r.file.clone(), line: r.line, passed, fired }
        })
        .collect();
    Ok(TestRun { results, rules, checks })
}

/// The directory a test file's relative `file = "..."` paths start from.
fn base_dir(source: &Source) -> &Path {
    Path::new(source.name()).parent().unwrap_or(Path::new("."))
}

/// The engine a test with parameters, a pinned clock or traffic counters needs (the shared one otherwise).
fn engine_for(
    params: &[(String, crate::Value)],
    now: Option<jiff::Timestamp>,
    traffic: Option<traffic::Table>,
) -> Engine {
    let mut builder = Engine::builder();
    if let Some(table) = traffic {
        // Replaces the neutral builtin by name, as `policy serve` replaces it with its live window.
        builder = builder.function(table.function());
    }
    for (name, value) in params {
        builder = builder.param(name.clone(), value.clone());
    }
    if let Some(now) = now {
        builder = builder.now(now);
    }
    builder.build()
}

/// Compiles `texts` for a test with its own parameters, clock or traffic.
fn compile_for(
    texts: &[(String, String)],
    params: &[(String, crate::Value)],
    now: Option<jiff::Timestamp>,
    traffic: Option<traffic::Table>,
) -> Result<PolicySet, Diagnostics> {
    engine_for(params, now, traffic).compile(texts.iter().cloned())
}
