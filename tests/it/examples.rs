//! The example projects (issue 16): `examples/compliant-project/` passes every bundled rule, and on
//! `examples/noncompliant-project/` every bundled rule fires at least once — so a new rule must come with a
//! failing example. The rule ids come from the engine, not from a list kept here.

use std::collections::BTreeSet;
use std::path::PathBuf;

use vigil::Engine;
use vigil::unstable::pipeline::{CheckOptions, check};

/// Artifact rules that need hostile model files (dangerous pickle imports, Keras Lambda layers, truncated
/// pickles, Keras configs importing Python callables). Such files are never committed: tests/artifact_rules.rs
/// generates each byte by byte and shows the rule firing on it.
const GENERATED_IN_ARTIFACT_TESTS: [&str; 5] = ["ART-001", "ART-005", "ART-009", "ART-010", "ART-011"];

/// Rules that only fire with `policy serve`'s traffic counters (neutral in `policy check`): tests/it/serve.rs
/// drives the traffic that breaks each over HTTP.
const NEEDS_SERVE_TRAFFIC: [&str; 1] = ["GRD-EXTRACT-001"];

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)
}

fn run(name: &str) -> vigil::Report {
    let policies = Engine::builder()
        .now("2026-01-01T00:00:00Z".parse().expect("timestamp"))
        .build()
        .compile(vigil::unstable::bundled::BUNDLED.iter().copied())
        .expect("bundled policies compile");
    let report = check(&policies, &CheckOptions::new([example(name)]));
    assert!(
        report.errors.is_empty(),
        "{name}: input errors: {:?}",
        report.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>()
    );
    report
}

#[test]
fn the_compliant_project_passes_every_bundled_rule() {
    let report = run("compliant-project");
    let findings: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{} {}:{:?} {}", f.rule.id, f.file(), f.line_col(), f.message))
        .collect();
    assert!(findings.is_empty(), "the compliant project has findings:\n{}", findings.join("\n"));
    assert!(report.documents() >= 13, "every part of the project is read: {}", report.documents());
}

#[test]
fn every_bundled_rule_fires_on_the_noncompliant_project() {
    let report = run("noncompliant-project");
    let fired: BTreeSet<&str> = report.findings.iter().map(|f| f.rule.id.as_str()).collect();
    let policies = Engine::default().compile(vigil::unstable::bundled::BUNDLED.iter().copied()).expect("compiles");
    let missing: Vec<&str> = policies
        .rules()
        .map(|r| r.id.as_str())
        .filter(|id| {
            !fired.contains(id) && !GENERATED_IN_ARTIFACT_TESTS.contains(id) && !NEEDS_SERVE_TRAFFIC.contains(id)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "bundled rules with no finding on examples/noncompliant-project (add a failing example for each): {missing:?}"
    );
    for id in GENERATED_IN_ARTIFACT_TESTS.iter().chain(&NEEDS_SERVE_TRAFFIC) {
        assert!(policies.rules().any(|r| r.id == *id), "{id} is no longer a bundled rule: drop it from the list");
    }
}
