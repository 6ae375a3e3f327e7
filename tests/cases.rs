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

use serde::Deserialize;
use vigil::{Document, Engine, Value};

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputFile {
    name: String,
    text: String,
    #[serde(default)]
    kind: Option<String>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct ExpectedFinding {
    rule: String,
    message: String,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    line: Option<usize>,
    #[serde(default)]
    column: Option<usize>,
    #[serde(default)]
    pointer: Option<String>,
    #[serde(default)]
    cause: Option<String>,
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

/// Loads a case file with Vigil's own YAML loader (so the loader is exercised too) and deserializes it.
fn load(path: &Path) -> CaseFile {
    let docs = Document::from_path(path).unwrap_or_else(|e| panic!("{e}"));
    let json = serde_json::to_value(docs[0].data()).expect("serializable");
    serde_json::from_value(json).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
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
    let mut docs = Vec::new();
    for input in &case.inputs {
        let options = vigil::input::LoadOptions {
            kind: input.kind.as_ref().map(|k| k.parse().expect("valid kind in case file")),
            ..Default::default()
        };
        docs.extend(Document::parse(&input.name, &input.text, &options).map_err(|e| format!("input: {e}"))?);
    }
    let report = policies.evaluate(&docs);
    let got: Vec<ExpectedFinding> = report
        .findings
        .iter()
        .map(|f| {
            let at = f.line_col();
            ExpectedFinding {
                rule: f.rule.id.clone(),
                message: f.message.clone(),
                file: Some(f.file().to_string()),
                line: at.map(|p| p.0),
                column: at.map(|p| p.1),
                pointer: Some(f.pointer().to_string()),
                cause: Some(f.cause.name().to_string()),
            }
        })
        .collect();
    let matches = got.len() == case.findings.len()
        && got.iter().zip(&case.findings).all(|(g, w)| {
            g.rule == w.rule
                && g.message == w.message
                && (w.file.is_none() || g.file == w.file)
                && (w.line.is_none() || g.line == w.line)
                && (w.column.is_none() || g.column == w.column)
                && (w.pointer.is_none() || g.pointer == w.pointer)
                && (w.cause.is_none() || g.cause == w.cause)
        });
    if matches {
        Ok(())
    } else {
        let show = |fs: &[ExpectedFinding]| fs.iter().map(|f| format!("  {f:?}")).collect::<Vec<_>>().join("\n");
        Err(format!("{}: findings differ\nexpected:\n{}\ngot:\n{}", file.display(), show(&case.findings), show(&got)))
    }
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
        for case in load(file).cases {
            count += 1;
            if let Err(e) = run_case(file, &case) {
                failures.push(format!("--- {} :: {}\n{e}", file.display(), case.name));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {count} cases failed:\n{}", failures.len(), failures.join("\n\n"));
    assert!(count >= 50, "only {count} cases found: the conformance list may only grow");
}
