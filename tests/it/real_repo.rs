//! `policy check .` on a real repository, through the real binary: files that are not inputs of any rule,
//! empty runs, paths from the repository root wherever the check starts, baselines, and cross-document
//! context for pre-commit runs (issue 15, items 15–18 and 20).

use std::path::Path;
use std::process::Output;

use crate::support::policy;
use serde_json::Value as Json;

fn all(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn json(out: &Output) -> Json {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", all(out)))
}

/// A repository (with a `.git` folder) holding `files`.
fn repo(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect("mkdir .git");
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
    dir
}

const CARD_POLICY: &str = r#"package t
rule "T-LIC" {
  title = "license allowed"
  severity = high
  applies_to = ModelCard
  require input.license in ["mit", "apache-2.0"] else "license `{input.license}` is not allowed"
}
"#;

/// Files found in ordinary ML repositories that are not data, shaped like the real ones.
const NOT_DATA: &[(&str, &[u8])] = &[
    ("tsconfig.json", b"{\n  // TypeScript settings\n  \"compilerOptions\": { \"strict\": true },\n}\n"),
    (".vscode/settings.json", b"{\n  /* editor */\n  \"editor.tabSize\": 2\n}\n"),
    (
        "chart/templates/deployment.yaml",
        b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"app.fullname\" . }}\n  labels:\n    {{- include \"app.labels\" . | nindent 4 }}\nspec:\n  replicas: {{ .Values.replicaCount }}\n",
    ),
    (
        "mkdocs.yml",
        b"site_name: Docs\nmarkdown_extensions:\n  - pymdownx.superfences:\n      custom_fences:\n        - name: mermaid\n          class: mermaid\n          format: !!python/name:pymdownx.superfences.fence_code_format\n",
    ),
    ("docs/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"),
    ("assets/data.json", b"\xff\xfe{\x00\"\x00a\x00\"\x00"),
];

fn skipped(report: &Json) -> Vec<(String, String)> {
    report["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            let file = s["file"].as_str().unwrap_or("").trim_start_matches("./").to_string();
            (file, s["reason"].as_str().unwrap_or("").to_string())
        })
        .collect()
}

#[test]
fn files_no_rule_reads_do_not_fail_a_folder_walk() {
    let mut files = NOT_DATA.to_vec();
    files.push(("models/card.yaml", b"kind: ModelCard\nlicense: gpl-3.0\n"));
    files.push(("t.policy", CARD_POLICY.as_bytes()));
    let r = repo(&files);
    let args = ["check", "--no-builtin", "-p", "t.policy", "--format", "json", "."];
    let out = policy(&args, r.path());
    assert_eq!(out.status.code(), Some(1), "only the card's finding fails the run: {}", all(&out));
    let report = json(&out);
    assert_eq!(report["summary"]["errors"], 0, "{report:#}");
    let reasons = skipped(&report);
    let reason_of = |file: &str| {
        reasons.iter().find(|(f, _)| f == file).map(|(_, r)| r.clone()).unwrap_or_else(|| panic!("{file}: {reasons:?}"))
    };
    assert!(reason_of("tsconfig.json").contains("JSON with comments"));
    assert!(reason_of(".vscode/settings.json").contains("JSON with comments"));
    assert!(reason_of("chart/templates/deployment.yaml").contains("a template"));
    assert!(reason_of("mkdocs.yml").contains("Python object tags"));
    assert!(reason_of("docs/logo.png").contains("not a known input format"));
    assert!(reason_of("assets/data.json").contains("binary"));

    // --strict: every one of them that was read as text is an error again.
    let strict = policy(&[&args[..1], &["--strict"], &args[1..]].concat(), r.path());
    assert_eq!(strict.status.code(), Some(2), "{}", all(&strict));
    let errors: Vec<String> = json(&strict)["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["file"].as_str().unwrap_or("").trim_start_matches("./").to_string())
        .collect();
    assert_eq!(errors.len(), 5, "{errors:?}");
    assert!(errors.contains(&"tsconfig.json".to_string()), "{errors:?}");

    // Named explicitly, a file that does not parse is an error, as it always was.
    let named = policy(&["check", "--no-builtin", "-p", "t.policy", "tsconfig.json"], r.path());
    assert_eq!(named.status.code(), Some(2), "{}", all(&named));
    assert!(all(&named).contains("comments are not allowed"), "{}", all(&named));
}

#[test]
fn a_broken_file_of_a_kind_rules_read_still_fails_closed() {
    let broken: &[(&str, &[u8])] = &[
        (".github/workflows/ci.yml", b"on: push\njobs:\n  build: [\n"),
        ("deploy/isvc.yaml", b"apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nspec: {predictor\n"),
        ("models/README.md", b"---\nlicense: [mit\n---\n# My model\n"),
        ("MLproject", b"name: train\ndocker_env:\n  image: [\n"),
    ];
    for (name, content) in broken {
        let r = repo(&[(name, content), ("t.policy", CARD_POLICY.as_bytes())]);
        // The bundled packs read workflows, deployments, cards and DVC pipelines.
        let out = policy(&["check", "--format", "json", "."], r.path());
        assert_eq!(out.status.code(), Some(2), "{name}: {}", all(&out));
        let report = json(&out);
        assert!(report["errors"][0]["file"].as_str().unwrap_or("").ends_with(name), "{name}: {report:#}");
        assert!(report["errors"][0]["line"].is_number(), "{name}: the parse error keeps its position");
    }
    // A broken deployment is skipped when no loaded rule reads deployments (only a card rule here).
    let r = repo(&[broken[1], ("t.policy", CARD_POLICY.as_bytes()), ("card.yaml", b"kind: ModelCard\nlicense: mit\n")]);
    let out = policy(&["check", "--no-builtin", "-p", "t.policy", "--format", "json", "."], r.path());
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    let reasons = skipped(&json(&out));
    assert!(reasons.iter().any(|(f, r)| f == "deploy/isvc.yaml" && r.contains("no loaded rule reads")), "{reasons:?}");
    // ... but not when the user says what it is and a rule reads that kind.
    let forced = policy(
        &["check", "--no-builtin", "-p", "t.policy", "--kind", "deploy/*.yaml=ModelCard", "--format", "json", "."],
        r.path(),
    );
    assert_eq!(forced.status.code(), Some(2), "{}", all(&forced));
}

#[test]
fn an_empty_run_says_so_and_fails_unless_allowed() {
    let r = repo(&[
        ("notes.txt", b"Release notes: nothing yet."),
        ("tsconfig.json", b"{ // c\n}\n"),
        ("t.policy", CARD_POLICY.as_bytes()),
    ]);
    let out = policy(&["check", "--no-builtin", "-p", "t.policy", "."], r.path());
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert!(all(&out).contains("nothing was checked"), "{}", all(&out));
    assert!(!all(&out).contains('✔'), "{}", all(&out));
    let out = policy(&["check", "--no-builtin", "-p", "t.policy", "--format", "json", "."], r.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["summary"]["documents"], 0);
    let allowed = policy(&["check", "--no-builtin", "-p", "t.policy", "--allow-empty", "."], r.path());
    assert_eq!(allowed.status.code(), Some(0), "{}", all(&allowed));
    assert!(String::from_utf8_lossy(&allowed.stdout).contains("nothing was checked"), "{}", all(&allowed));
}

#[test]
fn input_errors_never_print_a_green_tick() {
    let r = repo(&[("card.yaml", b"kind: ModelCard\nlicense: mit\n"), ("t.policy", CARD_POLICY.as_bytes())]);
    std::fs::write(r.path().join("bad.yaml"), "kind: ModelCard\nlicense: [mit\n").expect("write");
    let out = policy(&["check", "--no-builtin", "-p", "t.policy", "card.yaml", "bad.yaml"], r.path());
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(stdout.contains("✖ no findings in 1 document (1 file); 1 input error"), "{stdout}");
    assert!(!stdout.contains('✔'), "{stdout}");
}

const BOM_POLICY: &str = r#"package c
rule "C-BOM" {
  title = "the card's model is in an ML-BOM"
  severity = high
  applies_to = ModelCard
  let names = [c.name for bom in documents(MLBom) for c in bom.components ?? []]
  require input.model_name in names else "`{input.model_name}` is in no ML-BOM"
}
"#;

#[test]
fn sarif_and_junit_name_files_from_the_repository_root() {
    let r = repo(&[
        ("deploy/prod/card.yaml", b"kind: ModelCard\nlicense: gpl-3.0\n"),
        ("t.policy", CARD_POLICY.as_bytes()),
    ]);
    let sub = r.path().join("deploy/prod");
    let run = |dir: &Path, extra: &[&str]| {
        let mut args = vec!["check", "--no-builtin", "-p"];
        let policy_path = r.path().join("t.policy");
        let policy_path = policy_path.to_str().expect("utf-8");
        args.push(policy_path);
        args.extend(extra);
        policy(&args, dir)
    };
    let sarif: Json = serde_json::from_slice(&run(&sub, &["--format", "sarif", "."]).stdout).expect("SARIF is JSON");
    let location = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(location["uri"], "deploy/prod/card.yaml", "{sarif:#}");
    assert_eq!(location["uriBaseId"], "%SRCROOT%");
    let root_uri = sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().expect("a root URI");
    let real_root = std::fs::canonicalize(r.path()).expect("canonical");
    assert_eq!(url_path(root_uri), format!("{}/", real_root.display()));
    let junit = String::from_utf8_lossy(&run(&sub, &["--format", "junit", "card.yaml"]).stdout).into_owned();
    assert!(junit.contains("<testsuite name=\"deploy/prod/card.yaml\""), "{junit}");
    assert!(junit.contains("deploy/prod/card.yaml:2:10: license"), "{junit}");
    // --root: from the `deploy` folder down.
    let rooted: Json = serde_json::from_slice(&run(&sub, &["--root", "..", "--format", "sarif", "card.yaml"]).stdout)
        .expect("SARIF is JSON");
    assert_eq!(
        rooted["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "prod/card.yaml"
    );
    // The same finding has the same fingerprint wherever the run starts, in SARIF and in JSON.
    let print_of = |log: &Json| log["runs"][0]["results"][0]["partialFingerprints"]["vigilFindingHash/v2"].clone();
    let from_root: Json =
        serde_json::from_slice(&run(r.path(), &["--format", "sarif", "deploy"]).stdout).expect("SARIF is JSON");
    assert_eq!(print_of(&from_root), print_of(&sarif));
    let report = json(&run(&sub, &["--format", "json", "."]));
    assert_eq!(report["findings"][0]["fingerprint"], print_of(&sarif));
}

/// The path of a `file://` URI.
fn url_path(uri: &str) -> String {
    uri.strip_prefix("file://").unwrap_or(uri).to_string()
}

#[test]
fn a_baseline_reports_only_new_findings_and_lists_fixed_ones() {
    let r = repo(&[
        ("models/a.yaml", b"kind: ModelCard\nlicense: gpl-3.0\n"),
        ("models/b.yaml", b"kind: ModelCard\nlicense: agpl-3.0\n"),
        ("models/c.yaml", b"kind: ModelCard\nlicense: mit\n"),
        ("t.policy", CARD_POLICY.as_bytes()),
    ]);
    let base = ["check", "--no-builtin", "-p", "t.policy"];
    let write = policy(&[&base[..], &["--write-baseline", ".vigil/baseline.json", "models"]].concat(), r.path());
    assert_eq!(write.status.code(), Some(0), "{}", all(&write));
    let recorded: Json =
        serde_json::from_slice(&std::fs::read(r.path().join(".vigil/baseline.json")).expect("written")).expect("JSON");
    assert_eq!(recorded["version"], 1);
    let entries = recorded["findings"].as_array().expect("findings");
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0]["rule"].as_str(), entries[0]["file"].as_str()), (Some("T-LIC"), Some("models/a.yaml")));
    assert_eq!(entries[0]["pointer"], "/license");

    let with = |extra: &[&str]| {
        let args = [&base[..], &["--baseline", ".vigil/baseline.json"], extra].concat();
        policy(&args, r.path())
    };
    let same = with(&["models"]);
    assert_eq!(same.status.code(), Some(0), "known findings do not fail the run: {}", all(&same));
    assert!(
        all(&same).contains("baseline .vigil/baseline.json: 2 known findings not shown; 0 fixed"),
        "{}",
        all(&same)
    );

    // Lines move (a comment above), a value is fixed, another file gets a new finding.
    std::fs::write(r.path().join("models/a.yaml"), "# reviewed\n\nkind: ModelCard\nlicense: gpl-3.0\n").expect("w");
    std::fs::write(r.path().join("models/b.yaml"), "kind: ModelCard\nlicense: apache-2.0\n").expect("w");
    std::fs::write(r.path().join("models/c.yaml"), "kind: ModelCard\nlicense: sspl\n").expect("w");
    let out = with(&["--format", "json", "models"]);
    assert_eq!(out.status.code(), Some(1), "{}", all(&out));
    let report = json(&out);
    let new: Vec<&str> =
        report["findings"].as_array().expect("findings").iter().filter_map(|f| f["file"].as_str()).collect();
    assert_eq!(new, ["models/c.yaml"]);
    assert_eq!(report["baseline"]["unchanged"], 1);
    assert_eq!(report["baseline"]["fixed"][0]["file"], "models/b.yaml");
    assert_eq!(report["baseline"]["fixed"][0]["message"], "license `agpl-3.0` is not allowed");
    // A changed value is a new finding, not the recorded one.
    std::fs::write(r.path().join("models/a.yaml"), "kind: ModelCard\nlicense: gpl-2.0\n").expect("w");
    let changed = json(&with(&["--format", "json", "models/a.yaml"]));
    assert_eq!(changed["summary"]["findings"], 1, "{changed:#}");
    // Only checked files can be fixed: a run over one file says nothing about the others.
    assert_eq!(changed["baseline"]["fixed"].as_array().map(Vec::len), Some(1), "{changed:#}");
    assert_eq!(changed["baseline"]["fixed"][0]["file"], "models/a.yaml");
    let human = String::from_utf8_lossy(&with(&["models"]).stdout).into_owned();
    assert!(human.contains("fixed: T-LIC models/b.yaml at /license: license `agpl-3.0` is not allowed"), "{human}");

    // Another format version is refused, never half-read.
    std::fs::write(r.path().join("old.json"), "{\"version\": 9, \"findings\": []}").expect("w");
    let refused = policy(&[&base[..], &["--baseline", "old.json", "models"]].concat(), r.path());
    assert_eq!(refused.status.code(), Some(2));
    assert!(all(&refused).contains("baseline format version 9 is not supported"), "{}", all(&refused));
    // An incomplete run writes no baseline.
    std::fs::write(r.path().join("models/d.yaml"), "kind: ModelCard\nlicense: [mit\n").expect("w");
    let incomplete = policy(&[&base[..], &["--write-baseline", "new.json", "models"]].concat(), r.path());
    assert_eq!(incomplete.status.code(), Some(2));
    assert!(!r.path().join("new.json").exists());
}

#[test]
fn context_lets_cross_document_rules_see_files_that_did_not_change() {
    let bom = br#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "machine-learning-model", "name": "acme-8b"}]}"#;
    let r = repo(&[
        ("boms/model.cdx.json", bom),
        ("models/card.yaml", b"kind: ModelCard\nmodel_name: acme-8b\n"),
        ("c.policy", BOM_POLICY.as_bytes()),
        ("tsconfig.json", b"{ // c\n}\n"),
    ]);
    let base = ["check", "--no-builtin", "-p", "c.policy", "--format", "json"];
    // Only the changed card, as pre-commit passes it: the BOM is not seen.
    let alone = policy(&[&base[..], &["models/card.yaml"]].concat(), r.path());
    assert_eq!(alone.status.code(), Some(1), "{}", all(&alone));
    // With the tree as context, it is, and only the card is checked and reported.
    let out = policy(&[&base[..], &["--context", ".", "models/card.yaml"]].concat(), r.path());
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    let report = json(&out);
    assert_eq!(report["summary"]["documents"], 1, "{report:#}");
    assert_eq!(report["summary"]["errors"], 0, "a context file no rule reads is no error: {report:#}");
}
