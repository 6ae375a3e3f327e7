//! Report writers write to any `io::Write`: a large report goes out in pieces as it is made (never built
//! whole first), a failing writer stops the report with its error (never a panic), and the `policy` binary
//! turns a report it could not deliver — full disk, closed pipe — into exit code 2 naming where it failed.

use std::io::{self, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use vigil::unstable::report::html::{self, Run};
use vigil::unstable::report::human::Style;
use vigil::unstable::report::{github, human, json, junit, sarif, to_string};
use vigil::{Document, Engine, PolicySet, Report, RuleInfo};

use super::support::{policy, text};

const POLICY: &str = "package t\nrule \"T-1\" {\n  title = \"named\"\n  severity = high\n  applies_to = ModelCard\n  require input.name == \"ok\" else \"`{input.name}` is not ok\" at input.name\n}\n";

/// `n` findings, one per document of one file.
fn big(n: usize) -> (PolicySet, Report) {
    let policies = Engine::default().compile([("t.policy", POLICY)]).expect("valid policy");
    let text: String = (0..n).map(|i| format!("---\nkind: ModelCard\nname: model-{i}\n")).collect();
    let docs = Document::from_str("many.yaml", &text).expect("valid YAML");
    let report = policies.evaluate(&docs);
    assert_eq!(report.findings.len(), n);
    (policies, report)
}

type Writer = fn(&Report, &[&RuleInfo], &mut dyn Write) -> io::Result<()>;

/// Every writer of `policy check --format`, by name.
fn writers() -> Vec<(&'static str, Writer)> {
    vec![
        ("human", |r, _, mut o| human::render(r, Style { color: false, width: 100 }, &mut o)),
        ("json", |r, _, mut o| json::render(r, None, &mut o)),
        ("sarif", |r, rules, mut o| sarif::render(r, rules, Path::new("."), &mut o)),
        ("junit", |r, rules, mut o| junit::render(r, rules, &mut o)),
        ("github", |r, _, mut o| github::render(r, &mut o)),
        ("html", |r, rules, mut o| {
            let run = Run { rules, policy_digest: "d", now: jiff::Timestamp::UNIX_EPOCH, profile: None, fail_on: None };
            html::render(r, &run, &mut o)
        }),
    ]
}

/// Records the size of every write; fails every write once `limit` bytes were taken.
struct Recorder {
    writes: Vec<usize>,
    taken: Vec<u8>,
    limit: usize,
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.taken.len() >= self.limit {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "no space left"));
        }
        let n = buf.len().min(self.limit - self.taken.len());
        self.writes.push(n);
        self.taken.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn large_reports_are_written_in_pieces_as_they_are_made() {
    let (policies, report) = big(3_000);
    let rules: Vec<&RuleInfo> = policies.rules().map(|r| &**r).collect();
    for (name, write) in writers() {
        let whole = to_string(|o| write(&report, &rules, o));
        let mut out = Recorder { writes: Vec::new(), taken: Vec::new(), limit: usize::MAX };
        write(&report, &rules, &mut out).expect("writing into memory succeeds");
        assert_eq!(String::from_utf8(out.taken).expect("UTF-8"), whole, "{name}: the same text either way");
        let largest = out.writes.iter().max().copied().unwrap_or_default();
        assert!(
            largest < whole.len() / 4,
            "{name}: the largest write is {largest} of {} bytes: the report was built whole before writing",
            whole.len()
        );
    }
}

#[test]
fn a_failing_writer_stops_the_report_with_its_error() {
    let (policies, report) = big(500);
    let rules: Vec<&RuleInfo> = policies.rules().map(|r| &**r).collect();
    for (name, write) in writers() {
        let whole = to_string(|o| write(&report, &rules, o));
        let mut out = Recorder { writes: Vec::new(), taken: Vec::new(), limit: 1_000 };
        let error = write(&report, &rules, &mut out).expect_err(name);
        assert_eq!(error.kind(), io::ErrorKind::StorageFull, "{name}: {error}");
        assert!(whole.as_bytes().starts_with(&out.taken), "{name}: what was written is the report's start");
    }
}

/// A project with one finding, in a temporary folder.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("t.policy"), POLICY).expect("write");
    std::fs::write(dir.path().join("card.yaml"), "kind: ModelCard\nname: bad\n").expect("write");
    dir
}

#[test]
fn a_report_that_cannot_be_delivered_is_exit_2_naming_where() {
    let dir = project();
    let check = ["check", "--no-builtin", "-p", "t.policy", "card.yaml"];
    // HTML (the one format repo_trust does not send to a full disk), on standard output.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let out = Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(check.iter().copied().chain(["--format", "html"]))
        .current_dir(dir.path())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot write the report to standard output"), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("panicked"), "{}", text(&out.stderr));
    // Every format to a file on a full disk: the error names the file.
    for format in ["human", "json", "sarif", "junit", "github", "html"] {
        let output = format!("{format}=/dev/full");
        let out = policy(&[&check[..], &["--output", &output]].concat(), dir.path());
        assert_eq!(out.status.code(), Some(2), "{format}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("cannot write /dev/full"), "{format}: {}", text(&out.stderr));
    }
}

#[test]
fn a_reader_that_stops_early_is_exit_2_not_a_panic() {
    // `policy check ... | head -c 100`: a large report, and a reader that leaves after its first bytes.
    let dir = project();
    let many: String = (0..5_000).map(|i| format!("---\nkind: ModelCard\nname: model-{i}\n")).collect();
    std::fs::write(dir.path().join("many.yaml"), many).expect("write");
    for format in ["human", "json", "html"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_policy"))
            .args(["check", "--no-builtin", "-p", "t.policy", "--format", format, "many.yaml"])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let mut stdout = child.stdout.take().expect("stdout");
        let mut first = [0u8; 100];
        io::Read::read_exact(&mut stdout, &mut first).expect("the report starts");
        drop(stdout);
        let out = child.wait_with_output().expect("the binary ends");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{format}: {stderr}");
        assert!(stderr.contains("cannot write the report to standard output"), "{format}: {stderr}");
        assert!(!stderr.contains("panicked"), "{format}: {stderr}");
    }
}

#[test]
fn report_merge_to_a_full_disk_is_exit_2() {
    let dir = project();
    let out = policy(&["check", "--no-builtin", "-p", "t.policy", "--output", "json=a.json", "card.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let out = Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(["report", "merge", "a.json"])
        .current_dir(dir.path())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot write the report to standard output"), "{}", text(&out.stderr));
}
