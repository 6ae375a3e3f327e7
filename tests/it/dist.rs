//! Scale-out and installation, through the real binary: `--shard`, `policy report merge`, completions, man
//! pages, `--version`, and no progress output when standard error is not a terminal.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use crate::support::{policy, text};
use serde_json::Value;

const POLICY: &str = r#"package t
rule "T-1" {
  title = "license allowed"
  severity = high
  applies_to = ModelCard
  remediation = "Pick an allowed license."
  require input.license in ["mit", "apache-2.0"] else "license `{input.license}` is not allowed"
}
rule "T-2" {
  title = "a BOM names its components"
  severity = medium
  applies_to = MLBom
  require len(input.components) > 0 else "no components"
}
"#;

/// A generated tree: model cards good and bad, BOMs, files no format claims (skipped), a broken YAML file
/// (an input error) and nested folders, so every part of a report is exercised.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, content: &str| {
        let path = dir.path().join("tree").join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    };
    for i in 0..90 {
        let license = ["mit", "gpl-3.0", "apache-2.0", "proprietary"][i % 4];
        write(
            &format!("team{}/model-{i}/card.yaml", i % 5),
            &format!("kind: ModelCard\nname: m{i}\nlicense: {license}\n"),
        );
    }
    for i in 0..20 {
        let components = if i % 3 == 0 { "[]" } else { "[{type: machine-learning-model, name: x}]" };
        write(&format!("boms/bom-{i}.yaml"), &format!("kind: MLBom\nbomFormat: CycloneDX\ncomponents: {components}\n"));
    }
    for i in 0..6 {
        write(&format!("notes/n{i}.txt"), "just text\n");
    }
    write("team0/broken.yaml", "kind: ModelCard\nlicense: [unclosed\n");
    std::fs::write(dir.path().join("t.policy"), POLICY).expect("policy");
    dir
}

fn check(dir: &Path, extra: &[&str], out: &str) -> Output {
    let mut args = vec!["check", "--no-builtin", "-p", "t.policy", "--format", "json", "--root", "."];
    args.extend_from_slice(extra);
    args.push("tree");
    let run = policy(&args, dir);
    std::fs::create_dir_all(dir.join("reports")).expect("reports dir");
    std::fs::write(dir.join("reports").join(out), &run.stdout).expect("save report");
    run
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
}

/// The findings of a report, each as its whole JSON object (fingerprint included), sorted.
fn findings(report: &Value) -> Vec<String> {
    let mut all: Vec<String> = report["findings"].as_array().expect("findings").iter().map(Value::to_string).collect();
    all.sort();
    all
}

fn files_of(report: &Value, key: &str) -> BTreeSet<String> {
    report[key].as_array().expect(key).iter().map(|f| f["file"].as_str().expect("file").to_string()).collect()
}

#[test]
fn shards_are_disjoint_and_their_union_is_the_whole_run() {
    let ws = tree();
    let dir = ws.path();
    let whole_run = check(dir, &[], "whole.json");
    assert_eq!(whole_run.status.code(), Some(2), "the broken file fails the run: {}", text(&whole_run.stderr));
    let whole = json(&whole_run);
    assert!(whole["summary"]["documents"].as_u64() > Some(100), "{}", whole["summary"]);
    assert!(!whole["skipped"].as_array().expect("skipped").is_empty());
    for n in [1u64, 3, 7] {
        let mut names = Vec::new();
        let mut seen_files: Vec<BTreeSet<String>> = Vec::new();
        let (mut all, mut documents) = (Vec::new(), 0);
        for i in 0..n {
            let name = format!("shard-{i}-of-{n}.json");
            let run = check(dir, &["--shard", &format!("{i}/{n}")], &name);
            let report = json(&run);
            assert_eq!(report["shard"], serde_json::json!({ "index": i, "count": n }));
            // Every file a shard reports on (findings, errors, skipped) belongs to no other shard.
            let mut mine = files_of(&report, "findings");
            mine.extend(files_of(&report, "errors"));
            mine.extend(files_of(&report, "skipped"));
            for other in &seen_files {
                assert!(mine.is_disjoint(other), "shards of {n} overlap: {:?}", mine.intersection(other));
            }
            seen_files.push(mine);
            all.extend(findings(&report));
            documents += report["summary"]["documents"].as_u64().expect("documents");
            names.push(format!("reports/{name}"));
        }
        all.sort();
        assert_eq!(all, findings(&whole), "the findings of {n} shards are the whole run's");
        assert_eq!(Some(documents), whole["summary"]["documents"].as_u64());

        let mut args = vec!["report", "merge", "--format", "json"];
        args.extend(names.iter().map(String::as_str));
        let merged_run = policy(&args, dir);
        assert_eq!(merged_run.status.code(), whole_run.status.code(), "{}", text(&merged_run.stderr));
        let merged = json(&merged_run);
        assert_eq!(merged["summary"], whole["summary"], "merged summary of {n} shards");
        assert_eq!(findings(&merged), findings(&whole));
        assert_eq!(files_of(&merged, "errors"), files_of(&whole, "errors"));
        assert_eq!(files_of(&merged, "skipped"), files_of(&whole, "skipped"));
        assert_eq!(merged["policy_digest"], whole["policy_digest"]);
        assert!(merged.get("shard").is_none(), "a merged report is no shard");

        if n > 1 {
            // A missing shard would leave files unchecked: refused.
            let mut partial = vec!["report", "merge"];
            partial.extend(names[1..].iter().map(String::as_str));
            let out = policy(&partial, dir);
            assert_eq!(out.status.code(), Some(2));
            assert!(text(&out.stderr).contains(&format!("shard 0/{n} missing")), "{}", text(&out.stderr));
            let mut twice = vec!["report", "merge", names[0].as_str()];
            twice.extend(names.iter().map(String::as_str));
            let twice = policy(&twice, dir);
            assert_eq!(twice.status.code(), Some(2), "{}", text(&twice.stderr));
        }
    }
}

#[test]
fn shard_specs_are_validated() {
    let ws = tree();
    for bad in ["0/0", "3/2", "2/2", "1/0", "junk", "1/x", "", "-1/2", "1/2/3"] {
        let out = policy(&["check", "--no-builtin", "-p", "t.policy", &format!("--shard={bad}"), "tree"], ws.path());
        assert_eq!(out.status.code(), Some(2), "--shard {bad:?}");
        assert!(text(&out.stderr).contains("--shard"), "--shard {bad:?}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "no report for --shard {bad:?}");
    }
}

#[test]
fn a_merge_of_one_report_is_the_same_report() {
    let ws = tree();
    let dir = ws.path();
    // Waivers (one used, one unused) and a baseline-free run with an input error: every part of the JSON.
    std::fs::write(
        dir.join("waivers.yaml"),
        "waivers:\n  - rule: T-1\n    path: tree/team1/**\n    reason: legacy\n    owner: a\n    approver: b\n    expires: 2999-01-01\n  - rule: T-2\n    path: nowhere/*\n    reason: r\n    owner: a\n    approver: b\n    expires: 2999-01-01\n",
    )
    .expect("waivers");
    let original = check(dir, &["--waivers", "waivers.yaml"], "one.json");
    let merged = policy(&["report", "merge", "--format", "json", "reports/one.json"], dir);
    assert_eq!(merged.status.code(), original.status.code());
    assert_eq!(text(&merged.stdout), text(&original.stdout), "check JSON → merge of one → the same JSON");
    // Also when the files are gone (a merge job without the checkout): positions and fingerprints stay.
    std::fs::rename(dir.join("tree"), dir.join("moved")).expect("move");
    let merged = policy(&["report", "merge", "--format", "json", "reports/one.json"], dir);
    assert_eq!(text(&merged.stdout), text(&original.stdout));
}

#[test]
fn merge_renders_every_format_and_checks_what_it_merges() {
    let ws = tree();
    let dir = ws.path();
    std::fs::remove_file(dir.join("tree/team0/broken.yaml")).expect("rm");
    check(dir, &["--shard", "0/2"], "a.json");
    check(dir, &["--shard", "1/2"], "b.json");
    let merge = |extra: &[&str]| {
        let mut args = vec!["report", "merge", "reports/a.json", "reports/b.json"];
        args.extend_from_slice(extra);
        policy(&args, dir)
    };
    let human = merge(&[]);
    assert_eq!(human.status.code(), Some(1), "{}", text(&human.stderr));
    assert!(text(&human.stdout).contains("license `gpl-3.0` is not allowed"));
    // The files are there, so the offending line is shown.
    assert!(text(&human.stdout).contains("license: gpl-3.0"), "{}", text(&human.stdout));
    assert_eq!(merge(&["--fail-on", "never"]).status.code(), Some(0));
    assert_eq!(merge(&["--fail-on", "critical"]).status.code(), Some(0));
    let sarif: Value = serde_json::from_slice(&merge(&["--format", "sarif"]).stdout).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["runs"][0]["results"].as_array().is_some_and(|r| !r.is_empty()));
    let junit = text(&merge(&["--format", "junit"]).stdout);
    assert!(junit.contains("<testsuite") && junit.contains("T-1"), "{junit}");
    assert!(text(&merge(&["--format", "github"]).stdout).contains("::error"));
    let html = merge(&["-o", "html=merged.html", "--format", "json"]);
    assert_eq!(html.status.code(), Some(1));
    let page = std::fs::read_to_string(dir.join("merged.html")).expect("HTML written");
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("T-1"));

    // Another policy set: refused unless --allow-mixed.
    std::fs::write(dir.join("t.policy"), POLICY.replace("\"mit\", ", "")).expect("policy");
    check(dir, &["--shard", "1/2"], "b.json");
    let mixed = merge(&[]);
    assert_eq!(mixed.status.code(), Some(2));
    assert!(text(&mixed.stderr).contains("not checked with one policy set"), "{}", text(&mixed.stderr));
    assert_eq!(merge(&["--allow-mixed"]).status.code(), Some(1));

    // Not a report, or no file at all: exit 2 naming it.
    std::fs::write(dir.join("reports/junk.json"), "{\"hello\": 1}").expect("junk");
    let junk = policy(&["report", "merge", "reports/junk.json"], dir);
    assert_eq!(junk.status.code(), Some(2));
    assert!(text(&junk.stderr).contains("reports/junk.json"), "{}", text(&junk.stderr));
    assert_eq!(policy(&["report", "merge", "reports/none.json"], dir).status.code(), Some(2));
}

#[test]
fn completions_and_man_pages_name_the_subcommands() {
    let dir = tempfile::tempdir().expect("temp dir");
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = policy(&["completions", shell], dir.path());
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = text(&out.stdout);
        for word in ["check", "report", "merge", "shard", "fail-on"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    assert_eq!(policy(&["completions", "tcsh"], dir.path()).status.code(), Some(2));
    let man = text(&policy(&["man"], dir.path()).stdout);
    assert!(man.starts_with(".ie") && man.contains(".TH policy 1") && man.contains("check"), "{man}");
    let out = policy(&["man", "-o", "man1"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for page in ["policy.1", "policy-check.1", "policy-report-merge.1"] {
        assert!(dir.path().join("man1").join(page).is_file(), "{page} written");
    }
}

#[test]
fn version_names_the_commit_and_the_features() {
    let out = policy(&["--version"], Path::new("."));
    let version = text(&out.stdout);
    assert!(version.starts_with(&format!("policy {} (commit ", env!("CARGO_PKG_VERSION"))), "{version}");
    assert!(version.contains("features: ") && version.contains("cli"), "{version}");
}

#[test]
fn no_progress_output_when_stderr_is_not_a_terminal() {
    let ws = tree();
    std::fs::remove_file(ws.path().join("tree/team0/broken.yaml")).expect("rm");
    // Exit 1 with findings; stderr is a pipe here, so nothing but errors may be written to it.
    let out = policy(&["check", "--no-builtin", "-p", "t.policy", "--format", "json", "tree"], ws.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty(), "stderr: {}", text(&out.stderr));
}

#[test]
fn the_action_and_the_kubernetes_example_pass_the_bundled_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The action is a composite action: the GitHub workflow rules read it (pins, injection, credentials).
    let out = policy(&["check", "--no-config", "--format", "json", "action.yml"], root);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let report = json(&out);
    assert_eq!(report["summary"]["kinds"]["GitHubWorkflow"], 1, "read as a workflow: {}", report["summary"]);
    assert_eq!(report["summary"]["findings"], 0, "{}", text(&out.stdout));
    // The Indexed Job and its merge step: only the image to fill in is reported, as information.
    let out = policy(&["check", "--no-config", "--format", "json", "examples/k8s-shards"], root);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let report = json(&out);
    assert_eq!(report["summary"]["kinds"]["Kubernetes"], 2, "{}", report["summary"]);
    for f in report["findings"].as_array().expect("findings") {
        assert_eq!((f["rule"].as_str(), f["severity"].as_str()), (Some("K8S-PH-001"), Some("info")), "{f}");
    }
}
