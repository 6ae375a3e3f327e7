//! The benchmark workload's ground truth: the ten rules in `benches/workloads/modelcard.policy`, run on the
//! documents `../shared/bench/modelcard/generate.py` writes, report exactly the violation records of its
//! `expected.json`, rule by rule and document by document. (Runs when the shared workload and python3 are
//! present; `cargo test -p vigil-bench` also checks Vigil against regorus document by document.)

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use vigil::{Document, Engine};

#[test]
fn findings_equal_expected_json() {
    let generator = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/modelcard/generate.py");
    if !generator.is_file() {
        println!("skipped: {} not found", generator.display());
        return;
    }
    let out = tempfile::tempdir().expect("temp dir");
    let run = Command::new("python3")
        .arg(&generator)
        .args(["--no-yaml", "--count", "3000", "--out"])
        .arg(out.path())
        .output();
    if !run.is_ok_and(|r| r.status.success()) {
        println!("skipped: python3 could not run the generator");
        return;
    }
    let policy =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/workloads/modelcard.policy"))
            .expect("workload policy");
    let policies = Engine::default().compile([("modelcard.policy", policy.as_str())]).expect("compiles");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("expected.json")).expect("expected.json"))
            .expect("json");
    let lines = std::fs::read_to_string(out.path().join("docs.jsonl")).expect("docs.jsonl");
    let session = policies.session(&[]);
    let mut per_rule: BTreeMap<String, u64> = BTreeMap::new();
    for (i, line) in lines.lines().enumerate() {
        let doc = &Document::from_str(&format!("doc-{i}.json"), line).expect("valid JSON")[0];
        let findings = session.evaluate(doc);
        let mut rules: Vec<String> = findings.iter().map(|f| f.rule.id.clone()).collect();
        for rule in &rules {
            *per_rule.entry(rule.clone()).or_default() += 1;
        }
        rules.sort_by_key(|r| r[1..].parse::<u32>().unwrap_or(0));
        rules.dedup();
        let want: Vec<String> = expected["rules_per_doc"][i]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(String::from))
            .collect();
        assert_eq!(rules, want, "document {i}: {findings:#?}");
    }
    for (rule, count) in expected["records_per_rule"].as_object().expect("records_per_rule") {
        assert_eq!(per_rule.get(rule).copied().unwrap_or(0), count.as_u64().unwrap_or(0), "records of {rule}");
    }
}
