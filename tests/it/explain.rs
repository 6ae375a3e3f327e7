//! The authoring tools of the real binary: `policy explain`, `policy check --explain`, and the schema
//! warnings with `--deny-warnings` and `[schemas]` in vigil.toml.

use crate::support::{policy, text};

const POLICY: &str = r#"package t

const safe = ["safetensors", "gguf"]

rule "T-1" {
  title = "Weights are safe"
  severity = high
  applies_to = ModelCard
  when input.license != "internal"
  let n = count(a in input.artifacts)
  require n > 0 else "no artifacts"
  require all(a in input.artifacts: a.format in safe)
  for i, a in input.artifacts where a.role == "weights" {
    require a.format in safe else "`{a.path}` is {a.format}"
  }
}
"#;

const CARD: &str = "---
license: mit
artifacts:
  - path: model.safetensors
    role: weights
    format: safetensors
  - path: model.bin
    role: weights
    format: pickle
---
# Card
";

fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).expect("write");
    }
    dir
}

#[test]
fn explain_shows_values_the_deciding_element_and_the_failing_item() {
    let dir = workspace(&[("t.policy", POLICY), ("card.md", CARD)]);
    let out = policy(&["explain", "--rule", "T-1", "--no-builtin", "-p", "t.policy", "card.md"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!("explain_tree", text(&out.stdout));
}

#[test]
fn explain_as_json_and_every_verdict() {
    let skipped = CARD.replace("license: mit", "license: internal");
    let missing = "---\nlicense: mit\n---\n# Card\n";
    let dir = workspace(&[
        ("t.policy", POLICY),
        ("a.md", CARD),
        ("b.md", &skipped),
        ("c.md", missing),
        ("d.yaml", "bomFormat: CycloneDX\n"),
    ]);
    let args = ["explain", "--rule", "T-1", "--no-builtin", "-p", "t.policy", "--format", "json", "--all"];
    let files = ["a.md", "b.md", "c.md", "d.yaml"];
    let out = policy(&[&args[..], &files[..]].concat(), dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let verdicts: Vec<&str> = json.as_array().expect("array").iter().filter_map(|e| e["verdict"].as_str()).collect();
    assert_eq!(verdicts, ["failed", "skipped", "unknown", "not-applicable"]);
    let failed = &json[0];
    assert_eq!(failed["findings"].as_array().map(Vec::len), Some(2));
    let lp = &failed["steps"][4];
    assert_eq!(lp["statement"], "for");
    assert_eq!(lp["passed_items"], 1);
    assert_eq!(lp["children"][0]["text"], "[1]");
    assert_eq!(lp["children"][0]["at"]["pointer"], "/artifacts/1");
    assert_eq!(lp["children"][0]["children"][0]["at"]["line"], 9);
    assert_eq!(
        failed["steps"][3]["value"]["decided_by"],
        "{path: \"model.bin\", role: \"weights\", format: \"pickle\"} (line 7, /artifacts/1)"
    );
    assert_eq!(
        json[1]["summary"],
        "the guard `when input.license != \"internal\"` is false, so the rule does not apply"
    );
    assert_eq!(json[2]["steps"][1]["outcome"], "error");
    assert_eq!(json[2]["steps"][1]["problem"], "missing `input.artifacts`");
}

#[test]
fn explain_names_an_unknown_rule() {
    let dir = workspace(&[("t.policy", POLICY), ("card.md", CARD)]);
    let out = policy(&["explain", "--rule", "T-2", "--no-builtin", "-p", "t.policy", "card.md"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no loaded rule has the id `T-2` (did you mean `T-1`?)"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_explain_adds_the_tree_to_each_finding() {
    let dir = workspace(&[("t.policy", POLICY), ("card.md", CARD)]);
    let out =
        policy(&["check", "--explain", "--no-builtin", "-p", "t.policy", "--format", "json", "card.md"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let findings = json["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 2);
    assert!(findings.iter().all(|f| f["explain"]["verdict"] == "failed"));
    let human = policy(&["check", "--explain", "--no-builtin", "-p", "t.policy", "card.md"], dir.path());
    assert!(
        text(&human.stdout).contains("Why:\n\nT-1 on card.md (ModelCard): failed — 2 checks failed"),
        "{}",
        text(&human.stdout)
    );
    // Without --explain, no tree.
    let plain = policy(&["check", "--no-builtin", "-p", "t.policy", "card.md"], dir.path());
    assert!(!text(&plain.stdout).contains("Why:"));
}

#[test]
fn schema_warnings_are_shown_and_fail_only_with_deny_warnings() {
    let typo = POLICY.replace("input.license !=", "input.licence !=");
    let dir = workspace(&[("t.policy", &typo), ("card.md", CARD)]);
    let out = policy(&["check", "--no-builtin", "-p", "t.policy", "card.md"], dir.path());
    assert_eq!(out.status.code(), Some(1), "findings decide the exit code: {}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("vigil::unknown-path"), "{stderr}");
    assert!(stderr.contains("`input` has no known member `licence` in ModelCard documents"), "{stderr}");
    assert!(stderr.contains("did you mean `license`?"), "{stderr}");
    assert!(stderr.contains("warning: 1 warning in the policies"), "{stderr}");
    let out = policy(&["check", "--deny-warnings", "--no-builtin", "-p", "t.policy", "card.md"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).is_empty());
    // The bundled packs have none.
    let out = policy(&["check", "--deny-warnings", "card.md"], dir.path());
    assert_ne!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn a_schema_in_vigil_toml_allows_more() {
    let typo = POLICY.replace("input.license !=", "input.licence !=");
    let schema = r#"{"type": "object", "properties": {"licence": {"description": "Our spelling."}}}"#;
    let config = "[schemas]\nModelCard = \"schemas/card.json\"\n";
    let dir = workspace(&[("t.policy", &typo), ("card.md", CARD), ("vigil.toml", config)]);
    std::fs::create_dir(dir.path().join("schemas")).expect("mkdir");
    std::fs::write(dir.path().join("schemas/card.json"), schema).expect("write");
    let out = policy(&["check", "--deny-warnings", "--no-builtin", "-p", "t.policy", "card.md"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    std::fs::write(dir.path().join("schemas/card.json"), "{ broken").expect("write");
    let out = policy(&["check", "--no-builtin", "-p", "t.policy", "card.md"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("schemas/card.json:1:"), "{}", text(&out.stderr));
    let bad_kind =
        workspace(&[("t.policy", POLICY), ("card.md", CARD), ("vigil.toml", "[schemas]\nModelCrd = \"x.json\"\n")]);
    let out = policy(&["check", "--no-builtin", "-p", "t.policy", "card.md"], bad_kind.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("did you mean `ModelCard`?"), "{}", text(&out.stderr));
}
