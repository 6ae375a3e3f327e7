//! The real `policy` binary: exit codes, output formats, error reporting.

use crate::support::{policy, text};
use std::path::PathBuf;
use std::process::Output;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", text(&out.stdout)))
}

const POLICY: &str = r#"package t
rule "T-1" {
  title = "license allowed"
  severity = high
  applies_to = ModelCard
  controls = ["OWASP-LLM03"]
  remediation = "Pick an allowed license."
  require input.license in ["mit", "apache-2.0"] else "license `{input.license}` is not allowed"
}
"#;

/// A temporary folder with a policy and the given files.
fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("t.policy"), POLICY).expect("write policy");
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write input");
    }
    dir
}

#[test]
fn findings_exit_1_and_are_reported_with_location() {
    let ws = workspace(&[("in/card.yaml", "kind: ModelCard\nlicense: gpl-3.0\n")]);
    let out = policy(&["check", "--no-builtin", "-p", "t.policy", "in"], ws.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("T-1 · high"), "{stdout}");
    assert!(stdout.contains("in/card.yaml:2:10"), "{stdout}");
    assert!(stdout.contains("license `gpl-3.0` is not allowed"), "{stdout}");
    assert!(stdout.contains("help: Pick an allowed license."), "{stdout}");
    assert!(stdout.contains("✖ 1 finding (1 high) in 1 of 1 document (1 file)"), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "NO_COLOR and a pipe mean no escape codes: {stdout:?}");
}

#[test]
fn a_clean_run_exits_0() {
    let ws = workspace(&[("card.yaml", "kind: ModelCard\nlicense: mit\n")]);
    let out = policy(&["check", "--no-builtin", "-p", "t.policy", "card.yaml"], ws.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("✔ no findings in 1 document (1 file)"));
}

#[test]
fn fail_on_sets_the_threshold() {
    let ws = workspace(&[("card.yaml", "kind: ModelCard\nlicense: gpl-3.0\n")]);
    let base = ["check", "--no-builtin", "-p", "t.policy", "card.yaml", "--fail-on"];
    let high = policy(&[&base[..], &["high"]].concat(), ws.path());
    assert_eq!(high.status.code(), Some(1));
    let critical = policy(&[&base[..], &["critical"]].concat(), ws.path());
    assert_eq!(critical.status.code(), Some(0), "a high finding does not fail at --fail-on critical");
    let never = policy(&[&base[..], &["never"]].concat(), ws.path());
    assert_eq!(never.status.code(), Some(0));
}

#[test]
fn json_report_has_the_documented_shape() {
    let ws = workspace(&[("card.yaml", "kind: ModelCard\nlicense: gpl-3.0\n")]);
    let out = policy(&["check", "--no-builtin", "-p", "t.policy", "--format", "json", "card.yaml"], ws.path());
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["version"], 1);
    assert_eq!(report["summary"]["documents"], 1);
    assert_eq!(report["summary"]["findings"], 1);
    assert_eq!(report["summary"]["failing"], 1);
    assert_eq!(report["summary"]["fail_on"], "low");
    let f = &report["findings"][0];
    assert_eq!(f["rule"], "T-1");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["cause"], "violation");
    assert_eq!(f["file"], "card.yaml");
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(2), Some(10)));
    assert_eq!(f["pointer"], "/license");
    assert_eq!(f["controls"][0], "OWASP-LLM03");
    assert_eq!(f["remediation"], "Pick an allowed license.");
}

#[test]
fn a_broken_input_exits_2_names_the_file_and_the_rest_is_still_checked() {
    let ws = workspace(&[
        ("in/a.yaml", "kind: ModelCard\nlicense: gpl-3.0\n"),
        ("in/b.json", "{\"kind\": \"ModelCard\",}"),
        ("in/c.txt", "not an input"),
    ]);
    let out = policy(&["check", "--no-builtin", "-p", "t.policy", "--format", "json", "in"], ws.path());
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    assert_eq!(report["summary"]["findings"], 1, "a.yaml is still checked");
    assert_eq!(report["errors"][0]["file"], "in/b.json");
    assert_eq!(report["errors"][0]["line"], 1);
    assert!(report["errors"][0]["message"].as_str().unwrap_or_default().contains("trailing comma"));
    assert_eq!(report["skipped"][0]["file"], "in/c.txt");

    let human = policy(&["check", "--no-builtin", "-p", "t.policy", "in"], ws.path());
    assert_eq!(human.status.code(), Some(2));
    let stderr = text(&human.stderr);
    assert!(stderr.contains("in/b.json:1:"), "{stderr}");
    assert!(text(&human.stdout).contains("1 input error; 1 file skipped"), "{}", text(&human.stdout));
}

#[test]
fn a_missing_explicit_file_is_an_error() {
    let ws = workspace(&[]);
    let out = policy(&["check", "--no-builtin", "-p", "t.policy", "nowhere.yaml"], ws.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nowhere.yaml: no such file or directory"), "{}", text(&out.stderr));
}

#[test]
fn a_bad_policy_exits_2_with_every_problem_located() {
    let ws = workspace(&[(
        "bad.policy",
        "package b\nrule \"B\" {\n  title = \"t\"\n  severity = hgh\n  applies_to = ModelCard\n  require inpt.x\n}\n",
    )]);
    let out = policy(&["check", "--no-builtin", "-p", "bad.policy", "."], ws.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bad.policy:4:14"), "{stderr}");
    assert!(stderr.contains("`hgh` is not a severity"), "{stderr}");
    assert!(stderr.contains("did you mean `high`?"), "{stderr}");
    assert!(stderr.contains("unknown name `inpt`"), "{stderr}");
    assert!(stderr.contains("2 problems in the policies"), "{stderr}");

    let out = policy(&["check", "--no-builtin", "-p", "bad.policy", "--format", "json", "."], ws.path());
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(2));
    assert_eq!(report["errors"][0]["kind"], "policy");
    assert_eq!(report["errors"][0]["line"], 4);
}

#[test]
fn usage_errors_exit_2() {
    let ws = workspace(&[("card.yaml", "kind: ModelCard\n")]);
    for args in [
        vec!["check", "--no-builtin", "."],
        vec!["check", "--param", "novalue", "."],
        vec!["check", "--now", "yesterday", "."],
        vec!["check", "--kind", "*.yaml=Banana", "."],
        vec!["check", "--format", "xml", "."],
        vec!["check", "--no-builtin", "-p", "t.policy", "--param", "undeclared=1", "."],
    ] {
        let out = policy(&args, ws.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(!text(&out.stderr).is_empty(), "{args:?} says why");
    }
}

#[test]
fn help_shows_examples() {
    let out = policy(&["check", "--help"], &root());
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    assert!(help.contains("Examples:") && help.contains("policy check --format json"), "{help}");
    let top = policy(&["--help"], &root());
    assert!(text(&top.stdout).contains("Exit codes"));
}

#[test]
fn params_kinds_and_now_change_the_run() {
    let ws = workspace(&[
        (
            "p.policy",
            "package p\nparam allowed = [\"mit\"]\nrule \"P\" {\n  title = \"t\"\n  severity = low\n  applies_to = MLBom\n  require input.license in allowed else \"{input.license} on {today()}\"\n}\n",
        ),
        ("data/card.yaml", "license: gpl-3.0\n"),
    ]);
    let args = [
        "check",
        "--no-builtin",
        "-p",
        "p.policy",
        "--kind",
        "data/*.yaml=MLBom",
        "--now",
        "2026-03-04",
        "--format",
        "json",
    ];
    let out = policy(&[&args[..], &["data"]].concat(), ws.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(json(&out)["findings"][0]["message"], "gpl-3.0 on 2026-03-04");
    let out = policy(&[&args[..], &["--param", "allowed=[\"gpl-3.0\"]", "data"]].concat(), ws.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn bundled_policies_run_on_the_examples() {
    let out = policy(&["check", "--format", "json", "examples"], &root());
    assert_eq!(out.status.code(), Some(1), "the examples have findings: {}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(report["summary"]["errors"], 0);
    let rules: Vec<&str> =
        report["findings"].as_array().into_iter().flatten().filter_map(|f| f["rule"].as_str()).collect();
    assert!(rules.contains(&"ART-003"), "the pickle in the examples is flagged: {rules:?}");
    assert!(rules.contains(&"ART-008"), "the mismatched digest is flagged: {rules:?}");
}

#[test]
fn inspect_prints_documents_as_policies_see_them() {
    let ws = workspace(&[("card.md", "---\nlicense: mit\n---\n# Model\n## Uses\nChat.\n")]);
    let out = policy(&["inspect", "card.md"], ws.path());
    assert_eq!(out.status.code(), Some(0));
    let docs = json(&out);
    assert_eq!(docs[0]["kind"], "ModelCard");
    assert_eq!(docs[0]["input"]["license"], "mit");
    assert_eq!(docs[0]["doc"]["sections"]["Uses"], "Chat.");
    let yaml = policy(&["inspect", "--format", "yaml", "card.md"], ws.path());
    assert!(text(&yaml.stdout).contains("license: mit"), "{}", text(&yaml.stdout));
}

#[test]
fn inspect_streams_many_files_in_order_in_every_format() {
    // More files than one output batch, one of them broken: the others are all printed, in path order, and
    // the run ends with exit code 2 and the broken file named.
    let mut files: Vec<(String, String)> =
        (0..150).map(|i| (format!("in/{i:03}.yaml"), format!("kind: ModelCard\nlicense: l{i}\n"))).collect();
    files.push(("in/075b.yaml".into(), "license: [unclosed\n".into()));
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let ws = workspace(&refs);
    let expected: Vec<String> = (0..150).map(|i| format!("l{i}")).collect();

    let out = policy(&["inspect", "in"], ws.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("075b.yaml"), "{}", text(&out.stderr));
    let array = json(&out);
    let licenses: Vec<String> = array
        .as_array()
        .expect("an array")
        .iter()
        .map(|d| d["input"]["license"].to_string().replace('"', ""))
        .collect();
    assert_eq!(licenses, expected);
    // The pretty array is what serde_json writes for the whole array at once.
    assert_eq!(text(&out.stdout), serde_json::to_string_pretty(&array).expect("serializes") + "\n");

    let out = policy(&["inspect", "--format", "jsonl", "in"], ws.path());
    let lines: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    assert_eq!(serde_json::Value::Array(lines), array);

    let out = policy(&["inspect", "--format", "yaml", "in"], ws.path());
    let docs = vigil::Document::from_str("out.yaml", &text(&out.stdout)).expect("a YAML stream");
    let licenses: Vec<String> = docs
        .iter()
        .map(|d| {
            d.data().get("input").and_then(|i| i.get("license")).and_then(|l| l.as_str()).unwrap_or("?").to_string()
        })
        .collect();
    assert_eq!(licenses, expected);

    // Nothing to show is an empty array, not an empty output.
    let empty = workspace(&[("docs/notes.txt", "not a document")]);
    let out = policy(&["inspect", "--format", "json", "docs"], empty.path());
    assert_eq!(text(&out.stdout), "[]\n", "{}", text(&out.stderr));
}
