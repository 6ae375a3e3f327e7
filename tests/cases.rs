//! The data-driven tests: each case of every file under `tests/cases/` is its own named test
//! (`language::basics::<case name>`), so a failure names its case and `cargo test --test cases NAME` runs one.
//! Folders separate the two kinds:
//!
//! - `tests/cases/language/*.yaml`: policy + inputs + the exact findings (or policy errors) expected;
//! - `tests/cases/bundled/*.yaml`: inputs + the exact findings of the bundled packs (no `policy:`), optionally
//!   narrowed to some rules with `only:`; every bundled rule must appear in some expected finding, so a rule
//!   without a failing case fails CI.
//!
//! A case passes only if the findings match one for one, in order, so a wrong rule id, message or location
//! fails the test instead of passing by accident.
//!
//! ```yaml
//! cases:
//!   - name: what it shows
//!     policy: |                      # language cases only
//!       package t
//!       ...
//!     only: [GHA-PIN-]               # bundled cases only, optional
//!     params: {name: value}          # optional --param overrides
//!     max_steps: 1000                # language cases only, optional step budget
//!     inputs:
//!       - name: card.yaml
//!         text: |
//!           ...
//!     findings:                      # exactly these, in order (file order, then position)
//!       - {rule: T1, message: "...", line: 2, column: 10, pointer: /license, cause: violation}
//!     errors:                        # language cases: policy errors expected instead (substring match)
//!       - {message: "unknown name `inpt`", line: 4, column: 11, help: "did you mean `input`?"}
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::{ExpectedFinding, InputFile};
use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use vigil::{Engine, PolicySet, Value};

mod common;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile<C> {
    cases: Vec<C>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageCase {
    name: String,
    policy: String,
    #[serde(default)]
    params: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    max_steps: Option<u64>,
    #[serde(default)]
    inputs: Vec<InputFile>,
    #[serde(default)]
    findings: Vec<ExpectedFinding>,
    #[serde(default)]
    errors: Vec<ExpectedError>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ExpectedError {
    message: String,
    #[serde(default)]
    line: Option<usize>,
    #[serde(default)]
    column: Option<usize>,
    #[serde(default)]
    help: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BundledCase {
    name: String,
    #[serde(default)]
    only: Vec<String>,
    #[serde(default)]
    params: BTreeMap<String, serde_json::Value>,
    inputs: Vec<InputFile>,
    #[serde(default)]
    findings: Vec<ExpectedFinding>,
}

/// The `*.yaml` files of `tests/cases/<folder>`, sorted, with their cases.
fn case_files<C: DeserializeOwned>(folder: &str) -> Vec<(PathBuf, Vec<C>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases").join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files.into_iter().map(|f| (f.clone(), common::load::<CaseFile<C>>(&f).cases)).collect()
}

fn name(folder: &str, file: &Path, case: &str) -> String {
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    format!("{folder}::{stem}::{case}")
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();

    let language = case_files::<LanguageCase>("language");
    let count: usize = language.iter().map(|(_, cases)| cases.len()).sum();
    trials.push(Trial::test("language::the_conformance_list_only_grows", move || {
        if count >= 50 { Ok(()) } else { Err(format!("only {count} language cases found").into()) }
    }));
    for (file, cases) in language {
        let file = Arc::new(file);
        for case in cases {
            let file = file.clone();
            trials.push(Trial::test(name("language", &file, &case.name), move || {
                run_language_case(&file, &case).map_err(Failed::from)
            }));
        }
    }

    // The bundled packs compile once; every case records the rules it saw fail, and the last trial (run after
    // the others: libtest-mimic runs trials in order on one thread unless `--test-threads` says otherwise,
    // so it checks only when every case ran) wants each rule covered.
    let defaults = Arc::new(compile(&BTreeMap::new()));
    let covered = Arc::new(Mutex::new(BTreeSet::<String>::new()));
    let bundled = case_files::<BundledCase>("bundled");
    let count: usize = bundled.iter().map(|(_, cases)| cases.len()).sum();
    let policies = defaults.clone();
    trials.push(Trial::test("bundled::compile_with_metadata", move || {
        let policies = policies.as_ref().as_ref().map_err(|e| e.clone())?;
        for rule in policies.rules() {
            let id = &rule.id;
            let missing = [
                (rule.title.is_empty(), "a title"),
                (rule.controls.is_empty(), "framework controls"),
                (rule.remediation.as_deref().is_none_or(str::is_empty), "a remediation"),
                (rule.description.trim().is_empty(), "a `///` description"),
            ];
            if let Some((_, what)) = missing.iter().find(|(m, _)| *m) {
                return Err(format!("{id} has no {what}").into());
            }
        }
        Ok(())
    }));
    let total_cases = count;
    for (file, cases) in bundled {
        let file = Arc::new(file);
        for case in cases {
            let (file, defaults, covered) = (file.clone(), defaults.clone(), covered.clone());
            trials.push(Trial::test(name("bundled", &file, &case.name), move || {
                let policies = defaults.as_ref().as_ref().map_err(|e| e.clone())?;
                let rules = run_bundled_case(&file, &case, policies)?;
                covered.lock().expect("not poisoned").extend(rules);
                Ok(())
            }));
        }
    }
    let filtered = args.filter.is_some() || !args.skip.is_empty();
    trials.push(Trial::test("bundled::every_rule_has_a_failing_case", move || {
        if filtered {
            return Ok(()); // only some cases ran: coverage cannot be judged
        }
        let policies = defaults.as_ref().as_ref().map_err(|e| e.clone())?;
        let covered = covered.lock().expect("not poisoned");
        // Artifact rules need binary inputs; tests/it/artifact_rules.rs breaks each of them with a generated file.
        // GRD-EXTRACT-001 reads `traffic(...)`, neutral outside `policy serve`: tests/it/serve.rs breaks it.
        let untested: Vec<&str> = policies
            .rules()
            .map(|r| r.id.as_str())
            .filter(|id| !id.starts_with("ART-") && *id != "GRD-EXTRACT-001" && !covered.contains(*id))
            .collect();
        if !untested.is_empty() {
            return Err(format!("bundled rules with no failing case in tests/cases/bundled: {untested:?}").into());
        }
        if total_cases < 50 {
            return Err(format!("only {total_cases} bundled-policy cases found: the list may only grow").into());
        }
        Ok(())
    }));
    libtest_mimic::run(&Arguments { test_threads: Some(1), ..args }, trials).exit();
}

fn run_language_case(file: &Path, case: &LanguageCase) -> Result<(), String> {
    let mut builder = Engine::builder().now("2026-01-01T00:00:00Z".parse().expect("timestamp"));
    if let Some(steps) = case.max_steps {
        builder = builder.max_steps(steps);
    }
    for (name, value) in &case.params {
        builder = builder.param(name.clone(), Value::from(value.clone()));
    }
    let engine = builder.build();
    let compiled = engine.compile([("test.policy", case.policy.as_str())]);
    let policies = match (compiled, case.errors.is_empty()) {
        (Ok(p), true) => p,
        (Ok(_), false) => return Err(format!("expected policy errors {:?}, but the policy compiled", case.errors)),
        (Err(diags), true) => return Err(format!("unexpected policy errors:\n{diags}")),
        (Err(diags), false) => {
            let got: Vec<String> = diags
                .iter()
                .map(|d| {
                    let (l, c) = d.source.line_col(d.span.start);
                    format!("{l}:{c}: {} (help: {})", d.message, d.help.as_deref().unwrap_or("-"))
                })
                .collect();
            if got.len() != case.errors.len() {
                return Err(format!(
                    "expected {} policy errors, got {}:\n{}",
                    case.errors.len(),
                    got.len(),
                    got.join("\n")
                ));
            }
            for (d, want) in diags.iter().zip(&case.errors) {
                let (l, c) = d.source.line_col(d.span.start);
                let ok = d.message.contains(&want.message)
                    && want.line.is_none_or(|x| x == l)
                    && want.column.is_none_or(|x| x == c)
                    && want.help.as_ref().is_none_or(|h| d.help.as_deref().is_some_and(|got| got.contains(h)));
                if !ok {
                    return Err(format!("policy error mismatch\nwanted: {want:?}\ngot:\n{}", got.join("\n")));
                }
            }
            return Ok(());
        }
    };
    let docs = common::documents(&case.inputs)?;
    let report = policies.evaluate(&docs);
    common::compare(file, &case.findings, report.findings.iter().map(|r| &r.finding))
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

fn run_bundled_case(file: &Path, case: &BundledCase, defaults: &PolicySet) -> Result<Vec<String>, String> {
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
    common::compare(file, &case.findings, report.findings.iter().filter(|f| selected(&f.rule.id)).map(|r| &r.finding))?;
    Ok(case.findings.iter().map(|f| f.rule.clone()).collect())
}
