//! The CI formats (SARIF, JUnit, GitHub workflow commands) on a report with every kind of entry: located
//! findings, a model-file finding with no line, a waived finding, an expired waiver, an input error and
//! characters that need escaping.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use serde_json::Value as Json;
use vigil::unstable::input::LoadOptions;
use vigil::unstable::report::{InputRecord, github, junit, sarif, to_string};
use vigil::unstable::waiver::Waiver;
use vigil::{Document, Engine, Report, RuleInfo};

const POLICY: &str = r#"package demo

/// Cards must name a license the organisation accepts.
rule "DEMO-001" {
  title = "License is approved"
  severity = high
  applies_to = ModelCard
  controls = ["OWASP-LLM03", "EU-AI-Act-Art15"]
  tags = ["licensing", "security"]
  remediation = "Relicense the model, or ask legal to approve the license."
  url = "https://example.com/rules/DEMO-001"

  require input.license in ["mit", "apache-2.0"] else "license `{input.license}` is not approved"
}

/// Reviewers need to know what the model is for.
rule "DEMO-002" {
  title = "Intended use is documented"
  severity = medium
  applies_to = ModelCard
  remediation = "Add an `intended_use` field."

  require input.intended_use != null else "intended use is not documented"
}

rule "DEMO-003" {
  title = "License is not withdrawn"
  severity = low
  applies_to = ModelCard

  require input.license != "withdrawn" else "license is withdrawn"
}

rule "DEMO-004" {
  title = "Notes are reviewed"
  severity = info
  applies_to = ModelCard

  forbid input.note != null else "note: {input.note}"
}

rule "DEMO-005" {
  title = "Weights cannot run code"
  severity = critical
  applies_to = ModelArtifact
  controls = ["OWASP-LLM03"]

  forbid input.executes_code_on_load else "`{input.name}` can run code when loaded" at input.format
}
"#;

const WAIVERS: &str = "\
- rule: DEMO-002
  path: models/*.yaml
  reason: card is being drafted
  owner: ml-team
  approver: security
  expires: '2099-12-31'
- rule: DEMO-005
  path: models/*.pkl
  reason: legacy weights
  owner: ml-team
  approver: security
  expires: '2020-01-01'
";

/// A pickle that imports `os.system`.
const PICKLE: &[u8] = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.";

/// The message DEMO-004 gives on `docs/team notes.json`: markup characters and a control character.
const NOTE: &str = "note: a<&>\"' \u{1}b";

/// Applies waivers as the pipeline does, on a fixed day.
fn waive(report: &mut Report, waivers: &[Arc<Waiver>]) {
    vigil::unstable::waiver::apply(report, waivers, "2026-06-01".parse().expect("a date"));
}

fn waivers() -> Vec<Arc<Waiver>> {
    let docs = Document::from_str("waivers.yaml", WAIVERS).expect("valid YAML");
    vigil::unstable::waiver::parse_list(docs[0].data(), &docs[0], "waivers.yaml").expect("valid waivers")
}

/// The full report, and the rules it was evaluated with.
fn full() -> (Report, Vec<Arc<RuleInfo>>) {
    let policies = Engine::default().compile([("t.policy", POLICY)]).expect("valid policy");
    let mut docs = Vec::new();
    for (name, text) in [
        ("models/card.yaml", "kind: ModelCard\nlicense: gpl-3.0\n"),
        ("models/clean.yaml", "kind: ModelCard\nlicense: mit\nintended_use: chat\n"),
        (
            "./docs/team notes.json",
            "{\"kind\": \"ModelCard\", \"license\": \"mit\", \"intended_use\": \"x\", \"note\": \"a<&>\\\"' \\u0001b\"}\n",
        ),
    ] {
        docs.extend(Document::from_str(name, text).expect("valid input"));
    }
    docs.push(Document::from_artifact_bytes("models/weights.pkl", PICKLE, &LoadOptions::default()));
    let mut report = policies.evaluate(&docs);
    // The pipeline records every input read; `evaluate` alone does not.
    for doc in &docs {
        report.inputs.push(InputRecord { path: doc.name().to_string(), sha256: None });
    }
    report.errors.push(Document::from_str("bad.json", "{,}").expect_err("invalid JSON"));
    waive(&mut report, &waivers());
    (report, policies.rules().cloned().collect())
}

fn rule_refs(rules: &[Arc<RuleInfo>]) -> Vec<&RuleInfo> {
    rules.iter().map(|r| &**r).collect()
}

#[test]
fn the_report_has_what_the_tests_rely_on() {
    let (report, _) = full();
    let found: Vec<(&str, &str, bool)> =
        report.findings.iter().map(|f| (f.rule.id.as_str(), f.file(), f.waived())).collect();
    assert_eq!(
        found,
        [
            ("DEMO-002", "models/card.yaml", true),
            ("DEMO-001", "models/card.yaml", false),
            ("DEMO-004", "./docs/team notes.json", false),
            ("DEMO-005", "models/weights.pkl", false),
        ],
        "{found:?}"
    );
    let note = report.findings.iter().find(|f| f.rule.id == "DEMO-004").expect("DEMO-004");
    assert_eq!(note.message, NOTE);
    let pkl = report.findings.iter().find(|f| f.rule.id == "DEMO-005").expect("DEMO-005");
    assert!(pkl.line_col().is_none(), "model files have no line");
    assert!(pkl.waiver().is_some_and(|w| w.expired));
}

// ---------------------------------------------------------------------------------------------- SARIF

fn sarif_of(report: &Report, rules: &[Arc<RuleInfo>]) -> Json {
    let text = to_string(|o| sarif::render(report, &rule_refs(rules), Path::new("/repo"), o));
    serde_json::from_str(&text).expect("SARIF is JSON")
}

/// The shared copy of the OASIS schema, when this checkout sits beside `shared/`.
fn sarif_schema() -> Option<Json> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas/sarif-schema-2.1.0.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("skipping SARIF schema validation: {} is absent", path.display());
        return None;
    };
    Some(serde_json::from_str(&text).expect("the schema is JSON"))
}

/// Validators for the schema, checking formats (`uri`, `uri-reference`, `date-time`). The shared copy keeps the
/// log's root under `definitions/Root` with nothing at the top level, which on its own accepts any document at
/// all; so the root is validated through it, and the top level too when it constrains anything (the upstream
/// layout).
fn sarif_validators(schema: &Json) -> Vec<jsonschema::Validator> {
    // The upstream schema's `language` pattern has a stray `]` (`...-[a-zA-Z]{2}]?$`): a literal `]` in
    // ECMA-262's web dialect, but the draft-07 meta-schema's `regex` format check rejects it, so the schema
    // would not compile. Escaping it keeps its meaning; Vigil never writes `language` anyway.
    fn escape_stray(v: &mut Json) {
        match v {
            Json::String(p) if p == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" => {
                *p = r"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\]?$".to_string();
            }
            Json::Array(items) => items.iter_mut().for_each(escape_stray),
            Json::Object(map) => map.values_mut().for_each(escape_stray),
            _ => {}
        }
    }
    let mut schema = schema.clone();
    escape_stray(&mut schema);
    let schema = &schema;
    let build = |s: &Json| {
        jsonschema::draft7::options().should_validate_formats(true).build(s).expect("the schema compiles as draft-07")
    };
    let mut out = Vec::new();
    if schema.get("properties").is_some() || schema.get("$ref").is_some() {
        out.push(build(schema));
    }
    if schema.pointer("/definitions/Root").is_some() {
        let root = serde_json::json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "allOf": [{ "$ref": "#/definitions/Root" }],
            "definitions": schema["definitions"],
        });
        out.push(build(&root));
    }
    assert!(!out.is_empty(), "the schema has neither a root nor definitions/Root");
    out
}

fn schema_errors(validators: &[jsonschema::Validator], log: &Json) -> Vec<String> {
    validators.iter().flat_map(|v| v.iter_errors(log).map(|e| format!("{}: {e}", e.instance_path()))).collect()
}

#[test]
fn sarif_validates_against_the_schema() {
    let (report, rules) = full();
    let log = sarif_of(&report, &rules);
    let Some(schema) = sarif_schema() else { return };
    let validators = sarif_validators(&schema);
    let errors = schema_errors(&validators, &log);
    assert!(errors.is_empty(), "{errors:#?}");
    // An empty run too.
    let empty = sarif_of(&Report::default(), &[]);
    assert!(schema_errors(&validators, &empty).is_empty());

    // The validation bites: broken logs are rejected.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0.into();
    assert!(!schema_errors(&validators, &broken).is_empty(), "startLine 0 must be rejected");
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!schema_errors(&validators, &broken).is_empty(), "an unknown level must be rejected");
    let mut broken = log;
    broken["version"] = "2.0.0".into();
    assert!(!schema_errors(&validators, &broken).is_empty(), "a wrong version must be rejected");
}

#[test]
fn every_sarif_result_has_a_physical_location() {
    let (report, rules) = full();
    let log = sarif_of(&report, &rules);
    let run = &log["runs"][0];
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), report.findings.len());
    assert_eq!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"], "file:///repo/");
    let mut uris = BTreeSet::new();
    for r in results {
        let physical = &r["locations"][0]["physicalLocation"];
        let uri = physical["artifactLocation"]["uri"].as_str().expect("a uri");
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        uris.insert(uri);
        let region = &physical["region"];
        assert!(region["startLine"].as_u64().is_some_and(|l| l >= 1), "{r}");
        assert!(region["startColumn"].as_u64().is_some_and(|c| c >= 1), "{r}");
    }
    // Relative to the working directory, `./` gone, spaces percent-encoded.
    assert_eq!(uris, BTreeSet::from(["docs/team%20notes.json", "models/card.yaml", "models/weights.pkl"]));

    let at = |rule: &str| {
        let r = results.iter().find(|r| r["ruleId"] == rule).expect("the rule fired");
        r["locations"][0]["physicalLocation"]["region"].clone()
    };
    // `license: gpl-3.0`: the value, on line 2.
    assert_eq!(at("DEMO-001"), serde_json::json!({ "startLine": 2, "startColumn": 10, "endLine": 2, "endColumn": 17 }));
    // A model file has no text: the start of the file.
    assert_eq!(at("DEMO-005"), serde_json::json!({ "startLine": 1, "startColumn": 1 }));
}

#[test]
fn sarif_rules_levels_and_severities() {
    let (report, rules) = full();
    let log = sarif_of(&report, &rules);
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "Vigil");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    let descriptors = driver["rules"].as_array().expect("rules");
    let ids: Vec<&str> = descriptors.iter().filter_map(|d| d["id"].as_str()).collect();
    // Every loaded rule, fired or not.
    assert_eq!(ids, ["DEMO-001", "DEMO-002", "DEMO-003", "DEMO-004", "DEMO-005"]);
    for r in log["runs"][0]["results"].as_array().expect("results") {
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(descriptors[index]["id"], r["ruleId"], "ruleIndex points at the rule");
        let severity = r["properties"]["severity"].as_str().expect("severity");
        let level = match severity {
            "critical" | "high" => "error",
            "medium" | "low" => "warning",
            _ => "note",
        };
        assert_eq!(r["level"], level, "{r}");
    }
    let by_id: BTreeMap<&str, &Json> = ids.iter().copied().zip(descriptors).collect();
    let scores: Vec<&str> =
        ids.iter().map(|id| by_id[id]["properties"]["security-severity"].as_str().unwrap()).collect();
    assert_eq!(scores, ["8.0", "5.5", "3.0", "1.0", "9.5"]);
    let levels: Vec<&str> = ids.iter().map(|id| by_id[id]["defaultConfiguration"]["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["error", "warning", "warning", "note", "error"]);

    let d = by_id["DEMO-001"];
    assert_eq!(d["name"], "LicenseIsApproved");
    assert_eq!(d["shortDescription"]["text"], "License is approved");
    assert_eq!(d["fullDescription"]["text"], "Cards must name a license the organisation accepts.");
    assert_eq!(d["help"]["text"], "Relicense the model, or ask legal to approve the license.");
    assert!(d["help"]["markdown"].as_str().unwrap().contains("`EU-AI-Act-Art15`"));
    assert_eq!(d["helpUri"], "https://example.com/rules/DEMO-001");
    // Controls, "security" once, then the rule's own tags.
    assert_eq!(d["properties"]["tags"], serde_json::json!(["OWASP-LLM03", "EU-AI-Act-Art15", "security", "licensing"]));
    // No description: the title stands in; no url: no helpUri.
    assert_eq!(by_id["DEMO-003"]["fullDescription"]["text"], "License is not withdrawn");
    assert!(by_id["DEMO-003"].get("helpUri").is_none());
}

#[test]
fn sarif_waivers_are_suppressions_and_errors_are_notifications() {
    let (report, rules) = full();
    let log = sarif_of(&report, &rules);
    let results = log["runs"][0]["results"].as_array().expect("results");
    let waived = results.iter().find(|r| r["ruleId"] == "DEMO-002").expect("kept, not dropped");
    assert_eq!(
        waived["suppressions"],
        serde_json::json!([{
            "kind": "external",
            "status": "accepted",
            "justification": "card is being drafted (owner ml-team, approved by security, until 2099-12-31; waivers.yaml:1)",
        }])
    );
    let expired = results.iter().find(|r| r["ruleId"] == "DEMO-005").expect("DEMO-005");
    assert!(expired.get("suppressions").is_none(), "an expired waiver suppresses nothing");
    let note = expired["properties"]["expiredWaiver"].as_str().expect("but it is mentioned");
    assert!(note.contains("waivers.yaml:7") && note.contains("2020-01-01"), "{note}");
    assert_eq!(results.iter().filter(|r| r.get("suppressions").is_some()).count(), 1);

    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notifications = invocation["toolExecutionNotifications"].as_array().expect("notifications");
    assert_eq!(notifications.len(), 1);
    assert_eq!(notifications[0]["level"], "error");
    let physical = &notifications[0]["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "bad.json");
    assert_eq!(physical["region"]["startLine"], 1);

    let clean = sarif_of(&Report::default(), &rules);
    assert_eq!(clean["runs"][0]["invocations"][0]["executionSuccessful"], true);
    assert_eq!(clean["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(clean["runs"][0]["tool"]["driver"]["rules"].as_array().map(Vec::len), Some(5));
}

#[test]
fn sarif_fingerprints_are_stable_and_distinct() {
    let fingerprints = |log: &Json| -> Vec<String> {
        log["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["partialFingerprints"]["vigilFindingHash/v2"].as_str().expect("a fingerprint").to_string())
            .collect()
    };
    let (report, rules) = full();
    let first = fingerprints(&sarif_of(&report, &rules));
    // A fresh evaluation, so nothing is shared with the first.
    let (again, rules_again) = full();
    assert_eq!(first, fingerprints(&sarif_of(&again, &rules_again)));
    let distinct: BTreeSet<&String> = first.iter().collect();
    assert_eq!(distinct.len(), first.len(), "{first:?}");
    // Lines move, fingerprints do not: the same finding two lines further down.
    let policies = Engine::default().compile([("t.policy", POLICY)]).expect("valid policy");
    let moved = Document::from_str("models/card.yaml", "kind: ModelCard\n\n\nlicense: gpl-3.0\n").expect("valid");
    let log = sarif_of(&policies.evaluate(&moved), &rules);
    let moved_fp = fingerprints(&log);
    let original = report.findings.iter().position(|f| f.rule.id == "DEMO-001").expect("DEMO-001");
    assert!(moved_fp.contains(&first[original]), "{moved_fp:?}");
}

// ---------------------------------------------------------------------------------------------- JUnit

/// A parsed element: attributes, text and children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, name: &str) -> &str {
        self.attrs.get(name).map_or("", String::as_str)
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn count(&self, name: &str) -> usize {
        self.attr(name).parse().expect("a count")
    }
}

fn element(e: &quick_xml::events::BytesStart<'_>) -> Node {
    let mut node = Node { name: e.name().as_ref().to_string(), ..Node::default() };
    for a in e.attributes() {
        let a = a.expect("a well-formed attribute");
        let value = a.normalized_value(quick_xml::XmlVersion::Implicit1_0).expect("a valid value");
        node.attrs.insert(a.key.as_ref().to_string(), value.into_owned());
    }
    node
}

/// Parses the whole document strictly (mismatched tags and unknown entities are errors).
fn parse_xml(xml: &str) -> Node {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack = vec![Node::default()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => {
                let node = element(&e);
                stack.last_mut().expect("a parent").children.push(node);
            }
            Event::End(_) => {
                let node = stack.pop().expect("an open element");
                stack.last_mut().expect("a parent").children.push(node);
            }
            Event::Text(t) => stack.last_mut().expect("a parent").text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().expect("a valid reference") {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r).expect("a predefined entity").to_string(),
                };
                stack.last_mut().expect("a parent").text.push_str(&c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut root = stack.pop().expect("the document");
    assert!(stack.is_empty() && root.children.len() == 1, "one root element");
    root.children.remove(0)
}

#[test]
fn junit_counts_and_suites() {
    let (report, rules) = full();
    let xml = to_string(|o| junit::render(&report, &rule_refs(&rules), o));
    let root = parse_xml(&xml);
    assert_eq!(root.name, "testsuites");
    assert_eq!(root.attr("name"), "vigil");
    let suites: Vec<&Node> = root.all("testsuite").collect();
    let names: Vec<&str> = suites.iter().map(|s| s.attr("name")).collect();
    // Every file, sorted by its clean path; the clean one and the unreadable one included.
    assert_eq!(
        names,
        ["bad.json", "docs/team notes.json", "models/card.yaml", "models/clean.yaml", "models/weights.pkl"]
    );
    // 5 files' own testcases + DEMO-001, DEMO-002 (waived), DEMO-004, DEMO-005.
    assert_eq!(
        [root.count("tests"), root.count("failures"), root.count("errors"), root.count("skipped")],
        [9, 3, 1, 1]
    );
    for suite in &suites {
        let cases: Vec<&Node> = suite.all("testcase").collect();
        let with = |outcome: &str| cases.iter().filter(|c| c.all(outcome).next().is_some()).count();
        assert_eq!(suite.count("tests"), cases.len());
        assert_eq!(suite.count("failures"), with("failure"));
        assert_eq!(suite.count("errors"), with("error"));
        assert_eq!(suite.count("skipped"), with("skipped"));
        assert!(cases.iter().all(|c| c.attr("classname") == suite.attr("name")));
        assert_eq!(cases[0].attr("name"), "policy check");
    }

    let card = suites[2];
    let cases: Vec<&str> = card.all("testcase").map(|c| c.attr("name")).collect();
    assert_eq!(cases, ["policy check", "DEMO-001: License is approved", "DEMO-002: Intended use is documented"]);
    let failure = card.children[1].all("failure").next().expect("DEMO-001 fails");
    assert_eq!(failure.attr("type"), "high");
    assert_eq!(failure.attr("message"), "license `gpl-3.0` is not approved");
    assert_eq!(
        failure.text,
        "models/card.yaml:2:10: license `gpl-3.0` is not approved\n\
         Remediation: Relicense the model, or ask legal to approve the license."
    );
    let skipped = card.children[2].all("skipped").next().expect("DEMO-002 is waived");
    assert_eq!(skipped.attr("message"), "waived: card is being drafted");

    let pkl = suites[4].children[1].all("failure").next().expect("DEMO-005 fails: its waiver expired");
    assert_eq!(pkl.attr("type"), "critical");
    assert!(
        pkl.text.starts_with("models/weights.pkl: `weights.pkl` can run code when loaded (at /format)"),
        "{}",
        pkl.text
    );
    assert!(pkl.text.contains("(waiver waivers.yaml:7 expired on 2020-01-01)"), "{}", pkl.text);

    let bad = suites[0].children[0].all("error").next().expect("the unreadable file errors");
    assert!(!bad.attr("message").is_empty());
    assert!(bad.text.starts_with("bad.json:1:2: "), "{}", bad.text);

    // Deterministic.
    assert_eq!(xml, to_string(|o| junit::render(&full().0, &rule_refs(&rules), o)));
}

#[test]
fn junit_escapes_round_trip() {
    let (report, rules) = full();
    let xml = to_string(|o| junit::render(&report, &rule_refs(&rules), o));
    // Nothing XML 1.0 forbids reaches the file.
    assert!(!xml.chars().any(|c| c < ' ' && !matches!(c, '\t' | '\n' | '\r')), "{xml:?}");
    let root = parse_xml(&xml);
    let notes = root.all("testsuite").nth(1).expect("the notes file");
    let failure = notes.children[1].all("failure").next().expect("DEMO-004 fails");
    // Markup characters survive in attributes and text; the control character is dropped.
    let expected = NOTE.replace('\u{1}', "");
    assert_eq!(failure.attr("message"), expected);
    assert_eq!(failure.text, format!("docs/team notes.json:1:70: {expected}"));
    assert_eq!(failure.attr("type"), "info");

    // Newlines, tabs and carriage returns survive in attributes too.
    let policy = "package x\nrule \"X-1\" {\n  title = \"a\\tb <c> & \\\"d\\\"\"\n  severity = low\n  applies_to = ModelCard\n  require false else \"line 1\\r\\nline 2\"\n}\n";
    let policies = Engine::default().compile([("x.policy", policy)]).expect("valid policy");
    let docs = Document::from_str("a&b.yaml", "kind: ModelCard\n").expect("valid");
    let rules: Vec<Arc<RuleInfo>> = policies.rules().cloned().collect();
    let root = parse_xml(&to_string(|o| junit::render(&policies.evaluate(&docs), &rule_refs(&rules), o)));
    let case = &root.children[0].children[1];
    assert_eq!(case.attr("classname"), "a&b.yaml");
    assert_eq!(case.attr("name"), "X-1: a\tb <c> & \"d\"");
    let failure = case.all("failure").next().expect("X-1 fails");
    assert_eq!(failure.attr("message"), "line 1\r\nline 2");
    assert!(failure.text.ends_with(": line 1\r\nline 2"), "{:?}", failure.text);
}

// --------------------------------------------------------------------------------------------- GitHub

#[test]
fn github_annotations() {
    let policy = r#"package gh

rule "GH-1" {
  title = "Limits: size, count"
  severity = high
  applies_to = ModelCard
  require input.license == "mit" else "license is {input.license}"
}

rule "GH-2" {
  title = "Use is stated"
  severity = medium
  applies_to = ModelCard
  require input.intended_use != null else "no intended use"
}

rule "GH-3" {
  title = "Notes"
  severity = info
  applies_to = ModelCard
  forbid input.note != null else "note"
}

rule "GH-4" {
  title = "Weights are safe"
  severity = critical
  applies_to = ModelArtifact
  forbid input.executes_code_on_load else "can run code" at input.format
}
"#;
    let policies = Engine::default().compile([("gh.policy", policy)]).expect("valid policy");
    let mut docs =
        Document::from_str("./dir/a,b.yaml", "kind: ModelCard\nlicense: \"100%\\nnew: line, here\"\nnote: x\n")
            .expect("valid input");
    docs.push(Document::from_artifact_bytes("models/w.pkl", PICKLE, &LoadOptions::default()));
    let mut report = policies.evaluate(&docs);
    report.errors.push(Document::from_str("bad.json", "{,}").expect_err("invalid JSON"));
    let waiver = "- rule: GH-2\n  path: dir/*.yaml\n  reason: 'drafting: 50%, nearly done'\n  owner: a\n  approver: b\n  expires: '2099-01-01'\n";
    let doc = Document::from_str("waivers.yaml", waiver).expect("valid");
    let waivers = vigil::unstable::waiver::parse_list(doc[0].data(), &doc[0], "waivers.yaml").expect("valid waivers");
    waive(&mut report, &waivers);
    let error_message = report.errors[0].message.replace('%', "%25");

    let expected = [
        "::notice file=dir/a%2Cb.yaml,line=1,col=1,endLine=1,endColumn=16,title=GH-2 Use is stated::no intended use (waived: drafting: 50%25, nearly done)",
        "::error file=dir/a%2Cb.yaml,line=2,col=10,endLine=2,endColumn=33,title=GH-1 Limits%3A size%2C count::license is 100%25%0Anew: line, here",
        "::notice file=dir/a%2Cb.yaml,line=3,col=7,endLine=3,endColumn=8,title=GH-3 Notes::note",
        "::error file=models/w.pkl,title=GH-4 Weights are safe::can run code",
        &format!("::error file=bad.json,line=1,col=2,title=input error::{error_message}"),
    ];
    let text = to_string(|o| github::render(&report, o));
    assert!(text.ends_with('\n'));
    assert_eq!(text.lines().collect::<Vec<_>>(), expected, "{text}");
    assert_eq!(to_string(|o| github::render(&Report::default(), o)), "");
}

#[test]
fn github_annotations_escape_terminal_sequences_and_overrides() {
    let policy = "package gh\nrule \"GH-1\" {\n  title = \"License\"\n  severity = high\n  applies_to = ModelCard\n  require input.license == \"mit\" else \"license {input.license}\"\n}\n";
    let policies = Engine::default().compile([("gh.policy", policy)]).expect("valid policy");
    let card = "kind: ModelCard\nlicense: \"\\e[2J\\a\\x9b31m\\u202etxt.exe\"\n";
    let docs = Document::from_str("m\u{1b}]8;;x\u{7}.yaml", card).expect("valid input");
    let text = to_string(|o| github::render(&policies.evaluate(&docs), o));
    assert_eq!(
        text,
        "::error file=m\\u{1b}]8;;x\\u{7}.yaml,line=2,col=10,endLine=2,endColumn=39,title=GH-1 License::license \\u{1b}[2J\\u{7}\\u{9b}31m\\u{202e}txt.exe\n"
    );
}
