//! The authoring commands through the real binary: `policy fmt`, `policy test` (results, failures with
//! spans, JSON, JUnit, coverage, lcov, thresholds) and `policy init`; and the bundled packs' own tests.

use crate::support::text;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn policy(args: &[&str], dir: &Path) -> Output {
    policy_stdin(args, dir, None)
}

fn policy_stdin(args: &[&str], dir: &Path, stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(input) = stdin {
        use std::io::Write as _;
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("the binary finishes")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
    dir
}

const MESSY: &str = "package t\nrule \"T-1\"{title=\"t\" severity=high applies_to=ModelCard # why\nrequire input.license in [\"mit\",\"apache-2.0\"]   else \"license `{input.license}` is not allowed\" at input.license}\n";
const TIDY: &str = "package t\nrule \"T-1\" {\n  title = \"t\"\n  severity = high\n  applies_to = ModelCard # why\n  require input.license in [\"mit\", \"apache-2.0\"] else \"license `{input.license}` is not allowed\" at input.license\n}\n";

#[test]
fn fmt_check_diff_write_and_stdin() {
    let dir = workspace(&[("p/t.policy", MESSY), ("p/ok.policy", TIDY)]);
    let check = policy(&["fmt", "--check", "p"], dir.path());
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stderr));
    assert_eq!(text(&check.stdout), "p/t.policy\n", "only the unformatted file is listed");
    let diff = policy(&["fmt", "--diff", "p/t.policy"], dir.path());
    assert_eq!(diff.status.code(), Some(1));
    let d = text(&diff.stdout);
    assert!(d.starts_with("--- a/p/t.policy\n+++ b/p/t.policy\n@@"), "{d}");
    assert!(d.contains("+  title = \"t\"\n"), "{d}");
    assert_eq!(std::fs::read_to_string(dir.path().join("p/t.policy")).expect("read"), MESSY, "--diff writes nothing");
    let write = policy(&["fmt", "p"], dir.path());
    assert_eq!(write.status.code(), Some(0), "{}", text(&write.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("p/t.policy")).expect("read"), TIDY);
    assert_eq!(policy(&["fmt", "--check", "p"], dir.path()).status.code(), Some(0));
    let piped = policy_stdin(&["fmt", "-"], dir.path(), Some(MESSY));
    assert_eq!((piped.status.code(), text(&piped.stdout)), (Some(0), TIDY.to_string()));
}

#[test]
fn fmt_refuses_a_file_that_does_not_parse_and_leaves_it_alone() {
    let broken = "package t\nrule \"T-1\" {\n  require input.a ==\n}\n";
    let dir = workspace(&[("b.policy", broken)]);
    let out = policy(&["fmt", "b.policy"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("b.policy:4:1"), "the error has the file and position: {err}");
    assert_eq!(std::fs::read_to_string(dir.path().join("b.policy")).expect("read"), broken);
    assert_eq!(policy(&["fmt", "missing.policy"], dir.path()).status.code(), Some(2));
}

const POLICY: &str = "package t\n\nparam allowed = [\"mit\", \"apache-2.0\"]\n\nrule \"T-1\" {\n  title = \"license allowed\"\n  severity = high\n  applies_to = ModelCard\n  require input.license in allowed else \"license `{input.license}` is not allowed\" at input.license\n}\n";

const TESTS: &str = r#"package t

test "mit passes" {
  kind = ModelCard
  input = {license: "mit"}
  expect no "T-1"
}

test "gpl fails at the license" {
  file = {name: "README.md", text: "
    ---
    license: gpl-3.0
    ---
    # Card
  "}
  expect "T-1" at "/license" line 2 message "`gpl-3.0` is not allowed" cause violation count 1
}

test "a wrong expectation fails" {
  kind = ModelCard
  input = {license: "bsd"}
  params = {allowed: ["bsd"]}
  expect "T-1"
}

test "wrong names fail with a span" {
  kind = ModelCard
  input = {license: "mit"}
  params = {alowed: []}
  expect no "T-2"
}
"#;

#[test]
fn test_reports_passes_failures_and_wrong_names() {
    let dir = workspace(&[("p/t.policy", POLICY), ("p/t_test.policy", TESTS)]);
    let out = policy(&["test", "p"], dir.path());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for line in [
        "ok   p/t_test.policy:3 mit passes",
        "ok   p/t_test.policy:9 gpl fails at the license",
        "FAIL p/t_test.policy:19 a wrong expectation fails",
        "FAIL p/t_test.policy:26 wrong names fail with a span",
        "2 passed, 2 failed, 4 tests",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    // Expected and actual side by side, then the input.
    assert!(stdout.contains("✗ T-1"), "{stdout}");
    assert!(stdout.contains("input a wrong expectation fails.json:"), "{stdout}");
    // A misspelt parameter and an unknown rule id each point at the test file, with a suggestion.
    assert!(stdout.contains("no parameter `t.alowed`") && stdout.contains("did you mean `t.allowed`?"), "{stdout}");
    assert!(stdout.contains("no rule `T-2`") && stdout.contains("p/t_test.policy:30:13"), "{stdout}");
    // --run selects; a passing selection exits 0.
    let only = policy(&["test", "--run", "passes$", "p"], dir.path());
    assert_eq!(only.status.code(), Some(0), "{}", text(&only.stdout));
    assert!(text(&only.stdout).contains("1 passed, 0 failed, 1 tests"));
}

#[test]
fn test_json_junit_coverage_and_lcov() {
    let dir = workspace(&[("p/t.policy", POLICY), ("p/t_test.policy", TESTS)]);
    let out = policy(&["test", "--format", "json", "p"], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!((v["passed"].as_u64(), v["failed"].as_u64()), (Some(2), Some(2)));
    assert_eq!(v["tests"][3]["problems"][0]["line"], 29);
    assert_eq!(v["coverage"]["rules_percent"], 100.0);
    let junit = policy(&["test", "--format", "junit", "p"], dir.path());
    let xml = text(&junit.stdout);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => match e.name().as_ref() {
                "testcase" => cases += 1,
                "failure" => failures += 1,
                _ => {}
            },
            _ => {}
        }
    }
    assert_eq!((cases, failures), (4, 2), "{xml}");
    let cov = policy(
        &["test", "--run", "mit|gpl", "--coverage", "--lcov", "cov.lcov", "--min-coverage", "100", "p"],
        dir.path(),
    );
    let stdout = text(&cov.stdout);
    assert!(stdout.contains("coverage: rules 100.0% (1/1), checks 100.0% (1/1)"), "{stdout}");
    assert_eq!(cov.status.code(), Some(0), "{stdout}{}", text(&cov.stderr));
    let lcov = std::fs::read_to_string(dir.path().join("cov.lcov")).expect("lcov written");
    assert!(lcov.contains("SF:p/t.policy\nFN:5,T-1\nFNDA:2,T-1\n"), "{lcov}");
    assert!(lcov.contains("BRDA:9,0,0,1\nBRDA:9,0,1,1\nBRF:2\nBRH:2\n"), "{lcov}");
    // Only the passing test: the check never failed, so coverage is 0% of checks and 0% of rules.
    let low = policy(&["test", "--run", "mit", "--min-coverage", "50", "p"], dir.path());
    assert_eq!(low.status.code(), Some(1));
    assert!(text(&low.stderr).contains("coverage of checks is 0.0%, below --min-coverage 50"), "{}", text(&low.stderr));
}

/// A rate rule over `traffic(...)`, as guard policies write them.
const RATE: &str = r#"package r
param limit = 10
rule "R-1" {
  title = "t"
  severity = high
  applies_to = InferenceExchange
  when is_string(input.caller ?? null)
  let t = traffic("caller", input.caller, input.prompt ?? null)
  forbid t.requests_1m > limit else "{input.caller}: {t.requests_1m} requests, tracked {t.tracked}" at input.caller
}
"#;

const RATE_TESTS: &str = r#"package r
test "over the limit" {
  traffic = {caller: {"bob": {requests_1m: 11}}}
  kind = InferenceExchange
  input = {caller: "bob", prompt: "hi"}
  expect "R-1" at "/caller" message "bob: 11 requests, tracked true"
}
test "another caller's traffic is not this one's" {
  traffic = {caller: {"bob": {requests_1m: 11}}, model: {"m": {requests_1m: 99}}}
  kind = InferenceExchange
  input = {caller: "alice"}
  expect no "R-1"
}
test "without traffic the builtin is neutral" {
  kind = InferenceExchange
  input = {caller: "bob"}
  expect no "R-1"
}
test "typos fail" {
  traffic = {caler: {"bob": {requests_1m: 11}}, caller: {"bob": {request_1m: 11, tokens_1m: -1}}}
  kind = InferenceExchange
  input = {caller: "bob"}
  expect "R-1"
}
"#;

/// `traffic = {...}` gives a test the counters `policy serve`'s window would hold; its names are checked.
#[test]
fn test_traffic_field_feeds_rate_rules_and_checks_its_names() {
    let dir = workspace(&[("p/r.policy", RATE), ("p/r_test.policy", RATE_TESTS)]);
    let out = policy(&["test", "--coverage", "p"], dir.path());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for line in [
        "ok   p/r_test.policy:2 over the limit",
        "ok   p/r_test.policy:8 another caller's traffic is not this one's",
        "ok   p/r_test.policy:14 without traffic the builtin is neutral",
        "FAIL p/r_test.policy:19 typos fail",
        "unknown traffic dimension `caler` (caller, api_key, model)",
        "did you mean `caller`?",
        "unknown traffic counter `request_1m`",
        "did you mean `requests_1m`?",
        "a traffic count is a whole number ≥ 0",
        "p/r_test.policy:20:14",
        "coverage: rules 100.0% (1/1)",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}

#[test]
fn test_errors_exit_2_when_the_policies_do_not_compile() {
    let dir = workspace(&[("p/t.policy", "package t\nrule \"T-1\" {\n  require inpt.a\n}\n")]);
    let out = policy(&["test", "p"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no test was run"), "{}", text(&out.stderr));
}

#[test]
fn init_scaffolds_a_working_repository_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = policy(&["init", "repo"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let repo = dir.path().join("repo");
    for file in ["vigil.toml", "policies/acme.policy", "policies/acme_test.policy", ".github/workflows/policies.yml"] {
        assert!(repo.join(file).is_file(), "{file} created");
    }
    // What it writes is formatted, its tests pass with full coverage, and `policy check` accepts the config.
    assert_eq!(policy(&["fmt", "--check", "policies"], &repo).status.code(), Some(0));
    let tested = policy(&["test", "--min-coverage", "100", "--min-rule-coverage", "100", "policies"], &repo);
    assert_eq!(tested.status.code(), Some(0), "{}{}", text(&tested.stdout), text(&tested.stderr));
    let checked = policy(&["check", "."], &repo);
    assert_eq!(checked.status.code(), Some(0), "{}{}", text(&checked.stdout), text(&checked.stderr));
    std::fs::write(repo.join("policies/acme.policy"), "package mine\n").expect("edit");
    let again = policy(&["init", "repo"], dir.path());
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("not overwriting"), "{}", text(&again.stderr));
    assert_eq!(std::fs::read_to_string(repo.join("policies/acme.policy")).expect("read"), "package mine\n");
}

/// The bundled packs' tests pass and cover every rule (the traffic rules through a test's `traffic`
/// counters) and at least 90% of checks (also run by CI).
#[test]
fn bundled_pack_tests_pass_with_coverage() {
    let out =
        policy(&["test", "--coverage", "--min-rule-coverage", "100", "--min-coverage", "90", "policies/"], &root());
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
}

/// Schema warnings reach the JSON report of `policy check` (the human report prints them on stderr), with
/// their policy file, span and "did you mean"; a run without warnings has no `warnings` field.
#[test]
fn check_json_report_lists_schema_warnings() {
    let policy_text = "package t\nrule \"T-1\" {\n  title = \"t\"\n  severity = high\n  applies_to = ModelCard\n  require input.licence != null else \"no licence\"\n}\n";
    let card = "---\nlicense: mit\n---\n# Card\n";
    let dir = workspace(&[("t.policy", policy_text), ("README.md", card)]);
    let out = policy(&["check", "--format", "json", "--no-builtin", "-p", "t.policy", "README.md"], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    insta::assert_snapshot!("check_json_schema_warnings", serde_json::to_string_pretty(&v["warnings"]).expect("JSON"));
    assert_eq!(v["findings"][0]["rule"], "T-1", "the warning does not stop the run");
    let clean = policy_text.replace("licence", "license");
    std::fs::write(dir.path().join("t.policy"), clean).expect("write");
    let out = policy(&["check", "--format", "json", "--no-builtin", "-p", "t.policy", "README.md"], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert!(v.get("warnings").is_none(), "{v}");
}
