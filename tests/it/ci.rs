//! `policy check` in CI, through the real binary: vigil.toml, profiles, rule settings, waivers, several
//! outputs at once, the audit log and `policy list`.

use crate::support::{policy, text};
use std::path::Path;
use std::process::Output;

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", text(&out.stdout), text(&out.stderr)))
}

const POLICY: &str = r#"package ci
param allowed = ["mit"]
rule "CI-LIC" {
  title = "license allowed"
  severity = medium
  applies_to = ModelCard
  controls = ["OWASP-LLM03"]
  require input.license in allowed else "license {input.license}"
}
rule "CI-ART" {
  title = "artifacts are safetensors"
  severity = high
  applies_to = ModelCard
  controls = ["EU-AI-Act-Art15"]
  for a in input.artifacts ?? [] {
    require a.format == "safetensors" else "{a.path} is {a.format}" at a.format
  }
}
"#;

const CARD: &str = "kind: ModelCard\nlicense: gpl-3.0\nartifacts:\n  - {path: a.bin, format: pickle}\n  - {path: b.bin, format: pickle}\n";

fn project(config: &str, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, content: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    };
    write("rules/ci.policy", POLICY);
    write("models/card.yaml", CARD);
    write("vigil.toml", config);
    for (name, content) in extra {
        write(name, content);
    }
    dir
}

const BASE: &str = "policies = [\"rules/\"]\nbuiltin = false\npaths = [\"models/\"]\n";

fn rules_of(report: &serde_json::Value) -> Vec<String> {
    report["findings"].as_array().into_iter().flatten().map(|f| f["rule"].as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn vigil_toml_supplies_policies_paths_params_and_fail_on() {
    let p = project(&format!("{BASE}fail_on = \"high\"\n[params]\nallowed = [\"gpl-3.0\"]\n"), &[]);
    let out = policy(&["check", "--format", "json"], p.path());
    let report = json(&out);
    assert_eq!(rules_of(&report), ["CI-ART", "CI-ART"], "the param allowed gpl-3.0");
    assert_eq!(report["summary"]["fail_on"], "high");
    assert_eq!(out.status.code(), Some(1));
    // The command line wins over the file.
    let out = policy(&["check", "--format", "json", "--fail-on", "critical", "--param", "allowed=[\"mit\"]"], p.path());
    assert_eq!(rules_of(&json(&out)).len(), 3);
    assert_eq!(out.status.code(), Some(0), "nothing is critical");
    // Found from a sub-folder too, with paths relative to the file.
    let out = policy(&["check", "--format", "json"], &p.path().join("models"));
    assert_eq!(json(&out)["summary"]["documents"], 1, "{}", text(&out.stderr));
}

#[test]
fn profiles_change_fail_on_rules_and_severities() {
    let config = format!(
        "{BASE}[rules]\nseverity = {{ \"CI-LIC\" = \"low\" }}\n[profiles.dev]\nfail_on = \"never\"\ndisable = [\"CI-ART\"]\n\
         [profiles.prod]\nseverity = {{ \"CI-LIC\" = \"critical\" }}\nfail_on = \"critical\"\n"
    );
    let p = project(&config, &[]);
    let base = json(&policy(&["check", "--format", "json"], p.path()));
    assert_eq!(base["findings"][0]["severity"], "low", "the base config re-rates CI-LIC");
    let dev = policy(&["check", "--format", "json", "--profile", "dev"], p.path());
    assert_eq!((rules_of(&json(&dev)), dev.status.code()), (vec!["CI-LIC".to_string()], Some(0)));
    let prod = policy(&["check", "--format", "json", "--profile", "prod"], p.path());
    assert_eq!(json(&prod)["findings"][0]["severity"], "critical");
    assert_eq!(prod.status.code(), Some(1));
    let missing = policy(&["check", "--profile", "staging"], p.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no profile `staging`") && text(&missing.stderr).contains("dev, prod"));
    let cli = policy(
        &["check", "--format", "json", "--disable", "CI-*", "--enable", "CI-ART", "--severity", "CI-ART=info"],
        p.path(),
    );
    let report = json(&cli);
    assert_eq!(rules_of(&report), ["CI-ART", "CI-ART"]);
    assert_eq!(report["findings"][0]["severity"], "info");
    let typo = policy(&["check", "--disable", "CI-LCI"], p.path());
    assert_eq!(typo.status.code(), Some(2));
    assert!(text(&typo.stderr).contains("no loaded rule matches `CI-LCI`"), "{}", text(&typo.stderr));
}

#[test]
fn config_errors_point_into_the_file() {
    let p = project(&format!("{BASE}fail_onn = \"high\"\n[rules]\ndisable = 3\n"), &[]);
    let out = policy(&["check"], p.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("unknown top-level key `fail_onn`") && stderr.contains("did you mean `fail_on`?"),
        "{stderr}"
    );
    assert!(stderr.contains("vigil.toml:4:1") || stderr.contains("vigil.toml:4:"), "{stderr}");
    assert!(stderr.contains("expected a string or a list of strings"), "{stderr}");
    let ignored = policy(&["check", "--no-config", "--no-builtin", "-p", "rules", "models"], p.path());
    assert_eq!(ignored.status.code(), Some(1), "--no-config skips the broken file");
}

const WAIVER: &str = "  reason: legacy weights, being converted\n  owner: ml-platform\n  approver: security\n";

#[test]
fn waivers_match_scope_expire_and_are_accounted_for() {
    let waivers = format!(
        "- rule: CI-ART\n  path: models/*.yaml\n  pointer: /artifacts/0\n{WAIVER}  expires: '2026-12-31'\n\
         - rule: CI-LIC\n  path: models/card.yaml\n{WAIVER}  expires: '2026-01-31'\n\
         - rule: CI-ART\n  path: other/**\n{WAIVER}  expires: '2027-06-30'\n"
    );
    let p = project(&format!("{BASE}waivers = \"waivers.yaml\"\n"), &[("waivers.yaml", &waivers)]);
    let out = policy(&["check", "--format", "json", "--now", "2026-03-01"], p.path());
    let report = json(&out);
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 3, "waived findings are kept");
    let by = |rule: &str, pointer: &str| {
        findings.iter().find(|f| f["rule"] == rule && f["pointer"] == pointer).expect("finding")
    };
    let first = by("CI-ART", "/artifacts/0/format");
    assert_eq!((first["waived"].as_bool(), first["waiver"]["owner"].as_str()), (Some(true), Some("ml-platform")));
    assert_eq!(by("CI-ART", "/artifacts/1/format")["waived"], false, "the waiver covers one item only");
    let expired = by("CI-LIC", "/license");
    assert_eq!((expired["waived"].as_bool(), expired["waiver"]["expired"].as_bool()), (Some(false), Some(true)));
    assert_eq!(report["summary"]["waived"], 1);
    assert_eq!(report["unused_waivers"][0]["path"], "other/**");
    assert_eq!(out.status.code(), Some(1), "the unwaived findings still fail");

    let human = policy(&["check", "--now", "2026-03-01"], p.path());
    let stdout = text(&human.stdout);
    assert!(stdout.contains("CI-ART · high · waived"), "{stdout}");
    assert!(stdout.contains("waived until 2026-12-31: legacy weights, being converted (owner ml-platform, approved by security; waivers.yaml:1)"), "{stdout}");
    assert!(stdout.contains("the waiver expired on 2026-01-31"), "{stdout}");
    assert!(stdout.contains("matches no finding") && stdout.contains("1 waived; 1 unused waiver"), "{stdout}");

    let strict = policy(&["check", "--now", "2026-03-01", "--strict-waivers"], p.path());
    assert_eq!(strict.status.code(), Some(2));
    assert!(
        text(&strict.stderr).contains("waiver for CI-ART on `other/**` (waivers.yaml:"),
        "{}",
        text(&strict.stderr)
    );
}

#[test]
fn waivers_pin_digests_and_name_loaded_rules() {
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(CARD.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let waivers = format!(
        "- rule: CI-LIC\n  path: models/card.yaml\n  digest: sha256:{digest}\n{WAIVER}  expires: '2099-01-01'\n"
    );
    let p = project(BASE, &[("waivers.yaml", &waivers)]);
    let report = json(&policy(&["check", "--format", "json", "--waivers", "waivers.yaml"], p.path()));
    assert_eq!(report["summary"]["waived"], 1, "the digest matches the reviewed file");
    std::fs::write(p.path().join("models/card.yaml"), format!("{CARD}# edited\n")).expect("edit");
    let report = json(&policy(&["check", "--format", "json", "--waivers", "waivers.yaml"], p.path()));
    assert_eq!(report["summary"]["waived"], 0, "an edited file is no longer covered");

    std::fs::write(p.path().join("typo.yaml"), waivers.replace("CI-LIC", "CI-LICENSE")).expect("write");
    let out = policy(&["check", "--waivers", "typo.yaml"], p.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("names rule `CI-LICENSE`, which is not loaded"), "{}", text(&out.stderr));
    std::fs::write(p.path().join("bad.yaml"), "- rule: CI-LIC\n  path: x\n").expect("write");
    let out = policy(&["check", "--waivers", "bad.yaml"], p.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("waiver has no `reason`"), "{}", text(&out.stderr));
}

#[test]
fn several_outputs_at_once() {
    let p = project(BASE, &[]);
    let out = policy(
        &["check", "--output", "json=out/report.json", "--output", "github=gh.txt", "--output", "sarif=vigil.sarif"],
        p.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("✖ 3 findings"), "the terminal keeps the human view");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join("out/report.json")).unwrap_or_default())
            .unwrap_or_default();
    assert_eq!(written["summary"]["findings"], 3);
    let annotations = std::fs::read_to_string(p.path().join("gh.txt")).unwrap_or_default();
    assert!(annotations.lines().any(|l| l.starts_with("::error file=models/card.yaml,line=4")), "{annotations}");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join("vigil.sarif")).unwrap_or_default())
            .unwrap_or_default();
    assert_eq!(sarif["runs"][0]["results"].as_array().map(Vec::len), Some(3));
    let bad = policy(&["check", "--output", "pdf=x.pdf"], p.path());
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
}

#[test]
fn the_audit_log_chains_runs_and_detects_tampering() {
    let p = project(BASE, &[]);
    for _ in 0..2 {
        let out = policy(&["check", "--audit-log", ".vigil/audit.jsonl"], p.path());
        assert_eq!(out.status.code(), Some(1));
    }
    let log = p.path().join(".vigil/audit.jsonl");
    let content = std::fs::read_to_string(&log).expect("log");
    let first: serde_json::Value = serde_json::from_str(content.lines().next().expect("line")).expect("json");
    assert_eq!(first["inputs"][0]["path"], "models/card.yaml");
    assert_eq!(first["inputs"][0]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(first["policies_sha256"].as_str().map(str::len), Some(64));
    assert_eq!(first["findings"].as_array().map(Vec::len), Some(3));
    let ok = policy(&["audit", "verify", ".vigil/audit.jsonl"], p.path());
    assert_eq!(ok.status.code(), Some(0));
    assert!(text(&ok.stdout).contains("2 entries, chain intact"));
    std::fs::write(&log, content.replacen("\"CI-LIC\"", "\"CI-XXX\"", 1)).expect("tamper");
    let bad = policy(&["audit", "verify", ".vigil/audit.jsonl"], p.path());
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("audit.jsonl:1: its content does not match its sha256"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn list_filters_rules_by_kind_and_control() {
    let p = project(BASE, &[]);
    let out = policy(&["list", "--no-builtin", "-p", "rules", "--control", "EU-AI-Act"], p.path());
    let table = text(&out.stdout);
    assert!(table.contains("CI-ART") && !table.contains("CI-LIC"), "{table}");
    let json_list = policy(&["list", "--format", "json", "--kind", "ModelArtifact"], p.path());
    let rules: serde_json::Value = serde_json::from_slice(&json_list.stdout).expect("json");
    assert!(rules.as_array().is_some_and(|r| !r.is_empty() && r.iter().all(|x| x["kinds"][0] == "ModelArtifact")));
    let markdown = policy(&["list", "--format", "markdown", "--no-builtin", "-p", "rules"], p.path());
    assert!(text(&markdown.stdout).contains("| [CI-ART](#ci-art) | artifacts are safetensors | high |"));
}

/// The first ```toml block after `heading` in a Markdown file.
fn toml_block(markdown: &str, heading: &str) -> String {
    let after = markdown.split_once(heading).map(|(_, rest)| rest).expect("the heading is in the file");
    let start = after.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = after[start..].find("```").expect("the block ends");
    after[start..start + end].to_string()
}

#[test]
fn the_sample_vigil_toml_in_docs_ci_md_loads() {
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci.md")).expect("docs/ci.md");
    let sample = toml_block(&docs, "## `vigil.toml`");
    // The files it names, so that only the sample itself can be wrong.
    let p = project(&sample, &[("policies/own.policy", POLICY), ("waivers.yaml", "[]\n"), ("deploy/card.yaml", CARD)]);
    for profile in [None, Some("dev"), Some("prod")] {
        let mut args = vec!["check", "--format", "json"];
        args.extend(profile.iter().flat_map(|p| ["--profile", p]));
        let out = policy(&args, p.path());
        let report = json(&out);
        assert_ne!(out.status.code(), Some(2), "{profile:?}: {}{report:#}", text(&out.stderr));
        assert!(report["summary"]["documents"].as_u64() >= Some(2), "{profile:?}: {report:#}");
    }
    // And the trusted configuration of the `[lock]` section.
    let trusted = toml_block(&docs, "## Trusted configuration");
    let t = project(
        &trusted,
        &[("org-policies/own.policy", POLICY), ("org-waivers.yaml", "[]\n"), ("third_party/x.yaml", CARD)],
    );
    let out = policy(&["check", "--config", "vigil.toml", "--no-builtin", "--format", "json", "models"], t.path());
    assert_ne!(out.status.code(), Some(2), "{}{}", text(&out.stderr), text(&out.stdout));
}

#[test]
fn settings_that_match_nothing_point_at_their_line_in_vigil_toml() {
    let cases = [
        ("[params]\nallowed = 3\n", "vigil.toml:6:1", "parameter `allowed` must be an array"),
        ("[params]\nalowed = [\"mit\"]\n", "vigil.toml:6:1", "no policy declares a parameter `alowed`"),
        ("[rules]\nenable = [\"CI-NOPE\"]\n", "vigil.toml:6:11", "no loaded rule matches `CI-NOPE`"),
        ("[profiles.dev]\nparams = { alowed = [] }\n", "vigil.toml:6:12", "no policy declares a parameter `alowed`"),
        ("[profiles.dev]\ndisable = [\"CI-LCI\"]\n", "vigil.toml:6:12", "no loaded rule matches `CI-LCI`"),
    ];
    for (extra, at, message) in cases {
        let p = project(&format!("{BASE}\n{extra}"), &[]);
        let profile: &[&str] = if extra.starts_with("[profiles") { &["--profile", "dev"] } else { &[] };
        let out = policy(&[&["check"], profile].concat(), p.path());
        assert_eq!(out.status.code(), Some(2), "{extra}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(message), "{extra}: {stderr}");
        assert!(stderr.contains(at), "{extra}: expected {at} in {stderr}");
    }
    // Set on the command line too, the command line's value is the one in error.
    let p = project(&format!("{BASE}\n[params]\nallowed = 3\n"), &[]);
    let out = policy(&["check", "--param", "allowed=4"], p.path());
    assert!(!text(&out.stderr).contains("vigil.toml:"), "{}", text(&out.stderr));
}

#[test]
fn list_params_shows_type_default_and_the_rules_using_each() {
    let p = project(BASE, &[]);
    let out = policy(&["list", "--params", "--no-builtin", "-p", "rules"], p.path());
    assert_eq!(out.status.code(), Some(0));
    let table = text(&out.stdout);
    assert!(table.starts_with("PARAM       TYPE   DEFAULT  RULES\nci.allowed  array  [\"mit\"]  CI-LIC\n"), "{table}");
    let bundled = policy(&["list", "--params", "--format", "json"], p.path());
    let params: serde_json::Value = serde_json::from_slice(&bundled.stdout).expect("json");
    let licenses = params
        .as_array()
        .expect("array")
        .iter()
        .find(|p| p["name"] == "model_card.allowed_licenses")
        .expect("the license allowlist is a parameter");
    assert_eq!(licenses["type"], "array");
    assert!(licenses["default"].as_array().is_some_and(|d| d.iter().any(|l| l == "mit")));
    assert!(licenses["rules"].as_array().is_some_and(|r| !r.is_empty()), "{licenses:#}");
    assert!(!licenses["description"].as_str().unwrap_or("").is_empty());
    // Every bundled parameter is used by some rule.
    let unused: Vec<&serde_json::Value> =
        params.as_array().expect("array").iter().filter(|p| p["rules"].as_array().is_some_and(Vec::is_empty)).collect();
    assert!(unused.is_empty(), "{unused:#?}");
}

#[test]
fn a_parameter_error_is_shown_in_vigil_toml_and_at_the_declaration() {
    let p = project(&format!("{BASE}[params]\nallowed = \"mit\"\nalowed = []\n"), &[]);
    let out = policy(&["check"], p.path());
    assert_eq!(out.status.code(), Some(2));
    let real = std::fs::canonicalize(p.path()).expect("canonical");
    let stderr = text(&out.stderr)
        .replace(&real.display().to_string(), "[repo]")
        .replace(&p.path().display().to_string(), "[repo]");
    insta::assert_snapshot!(stderr);
}
