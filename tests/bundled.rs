//! Data-driven tests of the bundled policy packs (`policies/**/*.policy`, compiled into the binary): every
//! `tests/cases/policies/*.yml` file holds cases of inputs and the exact findings the bundled policies must
//! report on them, in order. Same format as `tests/cases/*.yaml` (see tests/cases.rs), except that there is
//! no `policy:` (the bundled set is always what runs) and a case may narrow the comparison to some rules:
//!
//! ```yaml
//! cases:
//!   - name: what it shows
//!     only: [GHA-PIN-]              # optional: compare only findings whose rule id starts with one of these
//!     params: {trusted_registries: ["ghcr.io"]}
//!     inputs:
//!       - {name: ci.yml, text: "..."}
//!     findings:
//!       - {rule: GHA-PIN-001, message: "...", line: 9, pointer: /jobs/build/steps/0/uses}
//! ```
//!
//! The files use the `.yml` extension so that the language-case runner (tests/cases.rs, which loads every
//! `*.yaml` under tests/cases and requires a `policy:`) leaves them alone.
//!
//! Every bundled rule must appear in some expected finding, so a rule without a failing case fails CI.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::{ExpectedFinding, InputFile};
use serde::Deserialize;
use vigil::{Engine, PolicySet, Value};

mod common;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    only: Vec<String>,
    #[serde(default)]
    params: BTreeMap<String, serde_json::Value>,
    inputs: Vec<InputFile>,
    #[serde(default)]
    findings: Vec<ExpectedFinding>,
}

fn case_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/policies");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/cases/policies exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

fn compile(params: &BTreeMap<String, serde_json::Value>) -> Result<PolicySet, String> {
    let mut builder = Engine::builder().now("2026-01-01T00:00:00Z".parse().expect("timestamp"));
    for (name, value) in params {
        builder = builder.param(name.clone(), Value::from(value.clone()));
    }
    builder
        .build()
        .compile(vigil::unstable::bundled::BUNDLED.iter().copied())
        .map_err(|d| format!("bundled policies: {d}"))
}

fn run_case(file: &Path, case: &Case, defaults: &PolicySet) -> Result<Vec<String>, String> {
    let with_params;
    let policies = if case.params.is_empty() {
        defaults
    } else {
        with_params = compile(&case.params)?;
        &with_params
    };
    let docs = common::documents(&case.inputs)?;
    let selected = |rule: &str| case.only.is_empty() || case.only.iter().any(|p| rule.starts_with(p.as_str()));
    let report = policies.evaluate(&docs);
    common::compare(file, &case.findings, report.findings.iter().filter(|f| selected(&f.rule.id)))?;
    Ok(case.findings.iter().map(|f| f.rule.clone()).collect())
}

#[test]
fn bundled_policies_compile_with_metadata() {
    let policies = compile(&BTreeMap::new()).unwrap_or_else(|e| panic!("{e}"));
    for rule in policies.rules() {
        let id = &rule.id;
        assert!(!rule.title.is_empty(), "{id} has no title");
        assert!(!rule.controls.is_empty(), "{id} maps to no framework controls");
        assert!(rule.remediation.as_deref().is_some_and(|r| !r.is_empty()), "{id} has no remediation");
        assert!(!rule.description.trim().is_empty(), "{id} has no `///` description");
    }
}

#[test]
fn bundled_policy_cases() {
    let files = case_files();
    let defaults = compile(&BTreeMap::new()).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    let mut count = 0;
    let mut covered = BTreeSet::new();
    for file in &files {
        for case in common::load::<CaseFile>(file).cases {
            count += 1;
            match run_case(file, &case, &defaults) {
                Ok(rules) => covered.extend(rules),
                Err(e) => failures.push(format!("--- {} :: {}\n{e}", file.display(), case.name)),
            }
        }
    }
    assert!(failures.is_empty(), "{} of {count} cases failed:\n{}", failures.len(), failures.join("\n\n"));
    // Artifact rules need binary inputs; tests/artifact_rules.rs breaks each of them with a generated file.
    let untested: Vec<&str> = defaults
        .rules()
        .map(|r| r.id.as_str())
        // GRD-EXTRACT-001 reads `traffic(...)`, neutral outside `policy serve`: tests/serve.rs breaks it.
        .filter(|id| !id.starts_with("ART-") && *id != "GRD-EXTRACT-001" && !covered.contains(*id))
        .collect();
    assert!(untested.is_empty(), "bundled rules with no failing case in tests/cases/policies: {untested:?}");
    assert!(count >= 50, "only {count} bundled-policy cases found: the list may only grow");
}
