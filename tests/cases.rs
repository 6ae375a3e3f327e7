//! Data-driven language tests: every `tests/cases/**/*.yaml` file holds cases of policy + inputs + the exact
//! findings (or policy errors) expected. A case passes only if the findings match one for one, in order, so a
//! wrong rule id, message or location fails the test instead of passing by accident.
//!
//! Case file format (see tests/cases/README.md):
//! ```yaml
//! cases:
//!   - name: what it shows
//!     policy: |
//!       package t
//!       ...
//!     params: {name: value}          # optional --param overrides
//!     max_steps: 1000                # optional step budget
//!     inputs:
//!       - name: card.yaml
//!         text: |
//!           ...
//!     findings:                      # exactly these, in order (file order, then position)
//!       - {rule: T1, message: "...", line: 2, column: 10, pointer: /license, cause: violation}
//!     errors:                        # or: policy errors expected instead (substring match on message)
//!       - {message: "unknown name `inpt`", line: 4, column: 11, help: "did you mean `input`?"}
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{ExpectedFinding, InputFile};
use serde::Deserialize;
use vigil::{Engine, Value};

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

fn case_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("tests/cases exists") {
        let path = entry.expect("readable entry").path();
        if path.is_dir() {
            case_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

fn run_case(file: &Path, case: &Case) -> Result<(), String> {
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
    common::compare(file, &case.findings, report.findings.iter())
}

#[test]
fn language_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files = Vec::new();
    case_files(&root, &mut files);
    files.sort();
    let mut failures = Vec::new();
    let mut count = 0;
    for file in &files {
        for case in common::load::<CaseFile>(file).cases {
            count += 1;
            if let Err(e) = run_case(file, &case) {
                failures.push(format!("--- {} :: {}\n{e}", file.display(), case.name));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {count} cases failed:\n{}", failures.len(), failures.join("\n\n"));
    assert!(count >= 50, "only {count} cases found: the conformance list may only grow");
}
