//! A trusted configuration the repository cannot weaken (issue 14, item 9), through the real binary:
//! `policy check --config /ci/trusted.toml .` with a `[lock]` layers the repository's vigil.toml on top, which
//! may tighten what the lock names but not loosen it.

use std::path::Path;
use std::process::{Command, Output};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, name: &str, content: &[u8]) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, content).expect("write");
}

const POLICY: &str = r#"package t
param allowed = ["mit"]
rule "T-1" {
  title = "license allowed"
  severity = high
  applies_to = ModelCard
  controls = ["OWASP-LLM03"]
  require input.license in allowed else "license `{input.license}` is not allowed"
}
"#;

/// A protocol-2 pickle that calls `posix.system("id")` when loaded. Generated, never loaded.
const EVIL_PICKLE: &[u8] = b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.";

const TRUSTED: &str = "policies = [\"t.policy\"]\nfail_on = \"high\"\n[profiles.dev]\nfail_on = \"high\"\n[lock]\n";

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    /// `ci/` holds the trusted file and its policy; `repo/` the checkout with its own vigil.toml.
    fn new(trusted: &str, repo_config: &str) -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), "ci/trusted.toml", trusted.as_bytes());
        write(dir.path(), "ci/t.policy", POLICY.as_bytes());
        write(dir.path(), "repo/card.yaml", b"kind: ModelCard\nlicense: gpl-3.0\n");
        write(dir.path(), "repo/models/evil.pkl", EVIL_PICKLE);
        write(dir.path(), "repo/docs/untyped.yaml", b"license: apache-2.0\n");
        write(dir.path(), "repo/vigil.toml", repo_config.as_bytes());
        Setup { dir }
    }

    fn check(&self, extra: &[&str]) -> Output {
        let trusted = self.dir.path().join("ci/trusted.toml");
        Command::new(env!("CARGO_BIN_EXE_policy"))
            .args(["check", "--format", "json", "--config"])
            .arg(trusted)
            .args(extra)
            .arg(".")
            .current_dir(self.dir.path().join("repo"))
            .env("NO_COLOR", "1")
            .env("COLUMNS", "300")
            .output()
            .expect("runs")
    }
}

fn findings(out: &Output) -> Vec<(String, String, String)> {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", text(&out.stdout), text(&out.stderr)));
    let list = report["findings"].as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
            (s("rule"), s("severity"), s("file"))
        })
        .collect()
}

/// Loosening settings a repository may not make, each refused with an error naming both files.
#[test]
fn the_repository_cannot_loosen_what_the_lock_names() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("[rules]\ndisable = [\"T-1\"]\n", &[], "switches off rule T-1"),
        ("[rules]\ndisable = [\"ART-*\"]\n", &[], "switches off rule ART-001"),
        ("[rules]\nseverity = { \"T-1\" = \"low\" }\n", &[], "lowers rule T-1 from high to low"),
        ("[profiles.dev]\ndisable = [\"T-1\"]\n", &["--profile", "dev"], "switches off rule T-1"),
        ("builtin = false\n", &[], "leaves out rule ART-001"),
        ("fail_on = \"never\"\n", &[], "raises `fail_on` to never, above high"),
        ("fail_on = \"critical\"\n", &[], "raises `fail_on` to critical, above high"),
        ("[profiles.dev]\nfail_on = \"critical\"\n", &["--profile", "dev"], "raises `fail_on` to critical"),
        ("[params]\n\"t.allowed\" = [\"gpl-3.0\"]\n", &[], "sets the parameter `t.allowed`"),
        ("paths = [\"docs/\"]\n", &[], "sets `paths`"),
        ("exclude = [\"models/\"]\n", &[], "sets `exclude`"),
        ("bundle_key = \"own.pub\"\n", &[], "sets `bundle_key`"),
        (
            "[[waiver]]\nrule = \"ART-001\"\npath = \"**\"\nreason = \"r\"\nowner = \"o\"\napprover = \"a\"\nexpires = \"2099-01-01\"\n",
            &[],
            "waives rule ART-001",
        ),
        ("[kinds]\n\"**/*.pkl\" = \"Unknown\"\n", &[], "would change this ModelArtifact file"),
    ];
    for (repo_config, extra, expected) in cases {
        let setup = Setup::new(TRUSTED, repo_config);
        let out = setup.check(extra);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{repo_config}: {all}");
        assert!(all.contains(expected), "{repo_config}: expected `{expected}` in\n{all}");
        assert!(all.contains("trusted.toml") && all.contains("vigil.toml"), "{repo_config}: names both files\n{all}");
    }
}

#[test]
fn the_repository_may_tighten_and_add() {
    let repo_config = "policies = [\"extra.policy\"]\nfail_on = \"medium\"\nstrict_waivers = true\n\
                       [rules]\nseverity = { \"T-1\" = \"critical\" }\n[kinds]\n\"docs/*.yaml\" = \"ModelCard\"\n";
    let setup = Setup::new(TRUSTED, repo_config);
    let extra = POLICY.replace("package t", "package extra").replace("T-1", "X-1").replace("high", "low");
    write(setup.dir.path(), "repo/extra.policy", extra.as_bytes());
    let out = setup.check(&[]);
    let got = findings(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(got.contains(&("T-1".into(), "critical".into(), "./card.yaml".into())), "{got:?}");
    assert!(got.contains(&("X-1".into(), "low".into(), "./card.yaml".into())), "the repository's own policy: {got:?}");
    assert!(got.iter().any(|(r, _, f)| r == "ART-001" && f == "./models/evil.pkl"), "{got:?}");
    assert!(got.contains(&("T-1".into(), "critical".into(), "./docs/untyped.yaml".into())), "kind given: {got:?}");
}

#[test]
fn what_the_lock_leaves_open_the_repository_may_change() {
    let trusted = "policies = [\"t.policy\"]\nfail_on = \"high\"\n[lock]\nrules = [\"ART-*\"]\nparams = []\nkinds = [\"ModelArtifact\"]\nfail_on = false\n";
    let repo_config = "fail_on = \"never\"\n[params]\n\"t.allowed\" = [\"gpl-3.0\"]\n[rules]\ndisable = [\"K8S-*\"]\n";
    let out = Setup::new(trusted, repo_config).check(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got = findings(&out);
    assert!(!got.iter().any(|(r, _, _)| r == "T-1"), "the allowlist was widened: {got:?}");
    assert!(got.iter().any(|(r, _, _)| r == "ART-001"), "{got:?}");
}

#[test]
fn without_a_lock_the_trusted_file_replaces_the_repository_file() {
    let trusted = "policies = [\"t.policy\"]\n";
    let out = Setup::new(trusted, "[rules]\ndisable = [\"T-1\"]\nfail_on = \"never\"\n").check(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(findings(&out).iter().any(|(r, _, _)| r == "T-1"));
}

#[test]
fn a_repository_cannot_lock_itself() {
    let setup = Setup::new(TRUSTED, "[lock]\nrules = []\n");
    let out = Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(["check", "."])
        .current_dir(setup.dir.path().join("repo"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "300")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("only has effect in a trusted configuration"), "{}", text(&out.stderr));
}
