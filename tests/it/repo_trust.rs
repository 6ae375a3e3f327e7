//! The repository under check cannot blind the gate or reach outside it (issue 14, items 6–8, 13, 15),
//! through the real binary: ignore files, excludes and every other reason a file is left out; symbolic links
//! leaving the checked folder; a repository's `vigil.toml` naming files elsewhere; reports and audit logs
//! written through planted links; FIFOs and devices; report writes that fail. The trusted `[lock]` is in
//! tests/lock.rs.

#![cfg(unix)]

use crate::support::{text, write};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary in `dir`; a run that takes more than 30 s is a hang, killed and failed.
fn run(cmd: &mut Command) -> Output {
    let mut child = cmd.stdin(Stdio::null()).spawn().expect("the binary runs");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`policy` hung for 30 s: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn policy(args: &[&str], dir: &Path) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "300")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped()))
}

fn all(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", all(out)))
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A protocol-2 pickle that calls `posix.system("id")` when loaded. Generated, never loaded.
const EVIL_PICKLE: &[u8] = b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.";

const POLICY: &str = r#"package t
rule "T-1" {
  title = "license allowed"
  severity = high
  applies_to = ModelCard
  controls = ["OWASP-LLM03"]
  require input.license in ["mit"] else "license `{input.license}` is not allowed"
}
"#;

/// A checkout with a policy (outside the checked folder `repo/`) and a sibling folder `outside/` holding a
/// secret the repository must never get into a report.
fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "t.policy", POLICY.as_bytes());
    write(dir.path(), "outside/secret.yaml", b"kind: ModelCard\nlicense: SECRET-TOKEN-1234\n");
    write(dir.path(), "outside/broken.yaml", b"SECRET-TOKEN-1234: [\n");
    std::fs::create_dir_all(dir.path().join("repo")).expect("mkdir");
    dir
}

fn rules_and_files(report: &serde_json::Value) -> Vec<(String, String)> {
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    findings
        .iter()
        .map(|f| (f["rule"].as_str().unwrap_or("").into(), f["file"].as_str().unwrap_or("").into()))
        .collect()
}

fn skipped(report: &serde_json::Value) -> Vec<(String, String)> {
    let list = report["skipped"].as_array().cloned().unwrap_or_default();
    list.iter().map(|s| (s["file"].as_str().unwrap_or("").into(), s["reason"].as_str().unwrap_or("").into())).collect()
}

#[test]
fn ignore_files_hide_nothing_from_the_gate() {
    let c = checkout();
    let repo = c.path().join("repo");
    write(&repo, ".gitignore", b"models/\n*.pkl\ncards/\n");
    write(&repo, ".ignore", b"*\n");
    write(&repo, "models/evil.pkl", EVIL_PICKLE);
    write(&repo, "cards/card.yaml", b"kind: ModelCard\nlicense: gpl-3.0\n");
    let out = policy(&["check", "--format", "json", "-p", "../t.policy", "."], &repo);
    let found = rules_and_files(&json(&out));
    assert!(found.iter().any(|(r, f)| r == "ART-001" && f.ends_with("models/evil.pkl")), "{found:?}");
    assert!(found.iter().any(|(r, f)| r == "T-1" && f.ends_with("cards/card.yaml")), "{found:?}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn every_file_left_out_is_counted_and_listed_with_its_reason() {
    let c = checkout();
    let repo = c.path().join("repo");
    write(&repo, "keep/card.yaml", b"kind: ModelCard\nlicense: mit\n");
    write(&repo, "vendor/evil.pkl", EVIL_PICKLE);
    write(&repo, "notes.txt", b"just text\n");
    write(&repo, "README.md", b"# no front matter\n");
    mkfifo(&repo.join("pipe.yaml"));
    symlink("../outside/secret.yaml", repo.join("leak.yaml")).expect("symlink");
    symlink("../outside", repo.join("linked")).expect("symlink");
    symlink("nowhere.yaml", repo.join("dangling.yaml")).expect("symlink");
    let args = ["check", "--no-builtin", "-p", "../t.policy", "--exclude", "vendor/", "--format", "json", "."];
    let out = policy(&args, &repo);
    let report = json(&out);
    let got = skipped(&report);
    let reason = |name: &str| got.iter().find(|(f, _)| f.ends_with(name)).map(|(_, r)| r.clone()).unwrap_or_default();
    assert!(reason("vendor").contains("excluded"), "{got:?}");
    assert!(reason("notes.txt").contains("not a known input format"), "{got:?}");
    assert!(reason("README.md").contains("Markdown without front matter"), "{got:?}");
    assert!(reason("pipe.yaml").contains("not a regular file"), "{got:?}");
    assert!(reason("leak.yaml").contains("outside the checked folder"), "{got:?}");
    assert!(reason("linked").contains("outside the checked folder"), "{got:?}");
    assert!(reason("dangling.yaml").contains("broken symbolic link"), "{got:?}");
    assert_eq!(report["summary"]["skipped"], got.len());
    assert_eq!(got.len(), 7, "{got:?}");
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    assert!(!all(&out).contains("SECRET"), "{}", all(&out));

    // The human report counts them; --list-skipped names each, with the reason.
    let human = policy(&["check", "--no-builtin", "-p", "../t.policy", "--exclude", "vendor/", "."], &repo);
    assert!(text(&human.stdout).contains("7 files skipped"), "{}", all(&human));
    assert!(!text(&human.stdout).contains("skipped: "), "listed only on request");
    let listed =
        policy(&["check", "--no-builtin", "-p", "../t.policy", "--exclude", "vendor/", "--list-skipped", "."], &repo);
    let stdout = text(&listed.stdout);
    assert!(stdout.contains("skipped: ./leak.yaml (symbolic link leading outside the checked folder"), "{stdout}");
    assert!(stdout.contains("skipped: ./pipe.yaml (not a regular file"), "{stdout}");
    assert_eq!(stdout.matches("skipped: ").count(), 7, "{stdout}");
}

#[test]
fn links_out_of_the_tree_never_bring_content_into_a_report() {
    let c = checkout();
    let repo = c.path().join("repo");
    symlink("../outside/broken.yaml", repo.join("broken.yaml")).expect("symlink");
    symlink("../outside/secret.yaml", repo.join("card.yaml")).expect("symlink");
    symlink(c.path().join("outside"), repo.join("models")).expect("symlink");
    // Every file is a skipped link, so nothing is checked: `--allow-empty` keeps that from being the error.
    for args in [
        vec!["check", "--no-builtin", "-p", "../t.policy", "--allow-empty", "."],
        vec!["check", "--no-builtin", "-p", "../t.policy", "--allow-empty", "--format", "json", "."],
        vec!["check", "--no-builtin", "-p", "../t.policy", "--allow-empty", "--format", "sarif", "."],
    ] {
        let out = policy(&args, &repo);
        assert!(!all(&out).contains("SECRET"), "{args:?}: {}", all(&out));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", all(&out));
    }
    // Named on the command line, a link out of its folder is an error that does not quote the target.
    for named in ["broken.yaml", "card.yaml", "models", "models/secret.yaml"] {
        let out = policy(&["check", "--no-builtin", "-p", "../t.policy", named], &repo);
        assert_eq!(out.status.code(), Some(2), "{named}: {}", all(&out));
        assert!(all(&out).contains("symbolic link leading outside"), "{named}: {}", all(&out));
        assert!(!all(&out).contains("SECRET"), "{named}: {}", all(&out));
    }
    // A link that stays inside is followed as before.
    write(&repo, "real/card.yaml", b"kind: ModelCard\nlicense: gpl-3.0\n");
    std::fs::remove_file(repo.join("card.yaml")).expect("rm");
    symlink("real/card.yaml", repo.join("card.yaml")).expect("symlink");
    let out = policy(&["check", "--no-builtin", "-p", "../t.policy", "--format", "json", "card.yaml"], &repo);
    assert_eq!(rules_and_files(&json(&out)), [("T-1".to_string(), "card.yaml".to_string())]);
}

#[test]
fn a_repository_config_cannot_name_files_outside_the_repository() {
    let c = checkout();
    let repo = c.path().join("repo");
    write(&repo, "card.yaml", b"kind: ModelCard\nlicense: mit\n");
    symlink("../outside", repo.join("rules")).expect("symlink");
    symlink("../outside/secret.yaml", repo.join("waivers.yaml")).expect("symlink");
    let outside = c.path().join("outside").display().to_string();
    let cases = [
        ("waivers = \"../outside/secret.yaml\"\n", "climbs out with `..`"),
        (&*format!("waivers = \"{outside}/secret.yaml\"\n"), "is absolute"),
        ("waivers = \"waivers.yaml\"\n", "leads outside it through a symbolic link"),
        ("policies = [\"rules/\"]\n", "leads outside it through a symbolic link"),
        ("policies = [\"../t.policy\"]\n", "climbs out with `..`"),
        ("paths = [\"../outside\"]\n", "climbs out with `..`"),
        ("audit_log = \"../audit.jsonl\"\n", "climbs out with `..`"),
    ];
    for (config, expected) in cases {
        write(&repo, "vigil.toml", config.as_bytes());
        let out = policy(&["check", "card.yaml"], &repo);
        assert_eq!(out.status.code(), Some(2), "{config}: {}", all(&out));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected) && stderr.contains("stay inside"), "{config}: {stderr}");
        assert!(!all(&out).contains("SECRET"), "{config}: {}", all(&out));
    }
    assert!(!c.path().join("audit.jsonl").exists());
    // vigil.toml itself linked to a file elsewhere is not read (its text would be quoted in errors).
    std::fs::remove_file(repo.join("vigil.toml")).expect("rm");
    symlink("../outside/broken.yaml", repo.join("vigil.toml")).expect("symlink");
    let out = policy(&["check", "card.yaml"], &repo);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert!(!all(&out).contains("SECRET"), "{}", all(&out));
    // The same paths from a trusted --config are the operator's choice and work.
    write(c.path(), "trusted.toml", b"waivers = \"outside/none.yaml\"\npolicies = [\"t.policy\"]\nbuiltin = false\n");
    write(c.path(), "outside/none.yaml", b"[]\n");
    let out = policy(&["check", "--config", "../trusted.toml", "card.yaml"], &repo);
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
}

#[test]
fn reports_and_audit_logs_are_never_written_through_a_link() {
    let c = checkout();
    let repo = c.path().join("repo");
    write(&repo, "card.yaml", b"kind: ModelCard\nlicense: mit\n");
    write(c.path(), "outside/victim", b"precious\n");
    symlink("../outside/victim", repo.join("report.json")).expect("symlink");
    symlink("../outside/victim", repo.join("audit.jsonl")).expect("symlink");
    symlink("../outside", repo.join("out")).expect("symlink");
    let base = ["check", "--no-builtin", "-p", "../t.policy", "card.yaml"];
    for extra in [
        vec!["--output", "json=report.json"],
        vec!["--output", "sarif=out/vigil.sarif"],
        vec!["--audit-log", "audit.jsonl"],
        vec!["--audit-log", "out/audit.jsonl"],
    ] {
        let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
        let out = policy(&args, &repo);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", all(&out));
        assert!(text(&out.stderr).contains("symbolic link"), "{extra:?}: {}", all(&out));
    }
    assert_eq!(std::fs::read_to_string(c.path().join("outside/victim")).unwrap(), "precious\n");
    assert!(!c.path().join("outside/vigil.sarif").exists() && !c.path().join("outside/audit.jsonl").exists());
    // A repository's audit_log gets the same treatment.
    write(&repo, "vigil.toml", b"audit_log = \"audit.jsonl\"\n");
    let out = policy(&["check", "--no-builtin", "-p", "../t.policy", "card.yaml"], &repo);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert_eq!(std::fs::read_to_string(c.path().join("outside/victim")).unwrap(), "precious\n");
}

#[test]
fn a_report_that_cannot_be_written_is_never_a_pass() {
    let c = checkout();
    let repo = c.path().join("repo");
    // A finding, so every format has something to write.
    write(&repo, "card.yaml", b"kind: ModelCard\nlicense: gpl-3.0\n");
    let args = ["check", "--no-builtin", "-p", "../t.policy", "card.yaml"];
    for format in ["human", "json", "sarif", "junit", "github"] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
        let args: Vec<&str> = args.iter().copied().chain(["--format", format]).collect();
        let out = run(Command::new(env!("CARGO_BIN_EXE_policy"))
            .args(&args)
            .current_dir(&repo)
            .stdout(full)
            .stderr(Stdio::piped()));
        assert_eq!(out.status.code(), Some(2), "{format} > /dev/full: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("cannot write the report"), "{}", text(&out.stderr));
    }
    // A reader that went away before the report was written.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = run(Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(["check", "--no-builtin", "-p", "../t.policy", "--format", "json", "card.yaml"])
        .current_dir(&repo)
        .stdout(writer)
        .stderr(Stdio::piped()));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // --output to a full disk as well.
    let out = policy(&["check", "--no-builtin", "-p", "../t.policy", "--output", "json=/dev/full", "card.yaml"], &repo);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
}

#[test]
fn fifos_and_devices_are_refused_never_waited_on() {
    let c = checkout();
    let repo = c.path().join("repo");
    for name in ["pipe.yaml", "pipe.pkl", "pipe", "pipe.policy"] {
        mkfifo(&repo.join(name));
    }
    for named in ["pipe.yaml", "pipe.pkl", "pipe", "/dev/zero"] {
        let out = policy(&["check", "--no-builtin", "-p", "../t.policy", named], &repo);
        assert_eq!(out.status.code(), Some(2), "{named}: {}", all(&out));
        assert!(text(&out.stderr).contains("not a regular file"), "{named}: {}", all(&out));
    }
    // In a folder they are skipped (and listed); as a policy, an error; as an output, refused.
    let out = policy(&["check", "--no-builtin", "-p", "../t.policy", "--allow-empty", "--format", "json", "."], &repo);
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    let fifos = skipped(&json(&out)).into_iter().filter(|(f, r)| f.contains("pipe") && r.contains("FIFO")).count();
    assert_eq!(fifos, 4);
    let out = policy(&["check", "--no-builtin", "-p", "pipe.policy", "."], &repo);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    let out = policy(&["check", "--no-builtin", "-p", "../t.policy", "--output", "json=pipe", "."], &repo);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    let out = policy(&["inspect", "pipe.pkl"], &repo);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
}
