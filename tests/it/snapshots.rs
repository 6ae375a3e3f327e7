//! Rendered diagnostics, reviewed like code: policy errors and findings exactly as `policy check` prints them.

use vigil::unstable::input::LoadOptions;
use vigil::unstable::report::human::{self, Style};
use vigil::{Document, Engine};

const STYLE: Style = Style { color: false, width: 90 };

/// Every policy problem, rendered.
fn policy_errors(policy: &str) -> String {
    let errors = Engine::default().compile([("rules.policy", policy)]).expect_err("the policy is broken");
    errors.iter().map(|d| STYLE.render(d)).collect::<Vec<_>>().join("\n")
}

/// The human report of `policy` over `(name, text)` inputs.
fn findings(policy: &str, inputs: &[(&str, &str)]) -> String {
    let policies = Engine::default().compile([("rules.policy", policy)]).expect("valid policy");
    let docs: Vec<Document> = inputs.iter().flat_map(|(n, t)| Document::from_str(n, t).expect("valid input")).collect();
    vigil::unstable::report::to_string(|o| human::render(&policies.evaluate(&docs), STYLE, o))
}

const RULE_HEAD: &str = "package demo\n\nrule \"DEMO-1\" {\n  title = \"Model weights are safe\"\n  severity = high\n  applies_to = ModelCard\n";

#[test]
fn syntax_error() {
    insta::assert_snapshot!(policy_errors("package demo\n\nconst allowed [\"mit\"]\n"));
}

#[test]
fn misspelled_statement() {
    insta::assert_snapshot!(policy_errors(&format!("{RULE_HEAD}  requir input.license == \"mit\"\n}}\n")));
}

#[test]
fn unknown_names_and_functions() {
    insta::assert_snapshot!(policy_errors(&format!(
        "{RULE_HEAD}  require lenght(inpt.artifacts) > 0\n  require input.format in allowed_formats\n}}\n"
    )));
}

#[test]
fn duplicate_rule_ids_point_at_both() {
    let rule = format!("{RULE_HEAD}  require true\n}}\n");
    insta::assert_snapshot!(policy_errors(&format!("{rule}\n{}", rule.replace("package demo\n\n", ""))));
}

#[test]
fn invalid_regex_and_bad_metadata() {
    insta::assert_snapshot!(policy_errors(
        "package demo\nrule \"DEMO-2\" {\n  title = \"pinned\"\n  severity = severe\n  applies_to = ModelCrad\n  require input.rev matches /^[0-9a-f{40}$/\n}\n"
    ));
}

#[test]
fn finding_on_a_value() {
    let policy = format!(
        "{RULE_HEAD}  remediation = \"Convert the weights to safetensors.\"\n  for a in input.artifacts {{\n    require a.format == \"safetensors\" else \"`{{a.path}}` is stored as {{a.format}}\" at a.format\n  }}\n}}\n"
    );
    let card = "kind: ModelCard\nartifacts:\n  - path: model.safetensors\n    format: safetensors\n  - path: pytorch_model.bin\n    format: pickle\n";
    insta::assert_snapshot!(findings(&policy, &[("models/card.yaml", card)]));
}

#[test]
fn finding_for_missing_data() {
    let policy =
        format!("{RULE_HEAD}  require input.base_model.revision matches /^[0-9a-f]{{40}}$/ else \"not pinned\"\n}}\n");
    let card = "kind: ModelCard\nbase_model:\n  name: meta-llama/Llama-3.1-8B\nlicense: llama3.1\n";
    insta::assert_snapshot!(findings(&policy, &[("card.yaml", card)]));
}

#[test]
fn finding_in_a_model_card_section() {
    let policy = format!(
        "{RULE_HEAD}  require doc.sections[\"Out-of-Scope Use\"] != null else \"out-of-scope use is not documented\"\n}}\n"
    );
    let card =
        "---\nlicense: mit\n---\n# Model\n\n## Uses\n\nChat.\n\n### Out-of-Scope Use\n\n[More Information Needed]\n";
    insta::assert_snapshot!(findings(&policy, &[("README.md", card)]));
}

#[test]
fn finding_on_a_model_file() {
    let policies =
        Engine::default().compile(vigil::unstable::bundled::BUNDLED.iter().copied()).expect("bundled policies compile");
    let doc = Document::from_artifact_bytes(
        "weights.pkl",
        b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.",
        &LoadOptions::default(),
    );
    let report = policies.evaluate(&[doc]);
    insta::assert_snapshot!(vigil::unstable::report::to_string(|o| human::render(&report, STYLE, o)));
}

#[test]
fn unreadable_input() {
    let error = Document::from_str("bom.json", "{\n  \"bomFormat\": \"CycloneDX\",\n  \"components\": [],\n}\n")
        .expect_err("trailing comma");
    insta::assert_snapshot!(STYLE.render(&error));
}

/// What a terminal would act on: ESC and a CSI sequence (clear screen), BEL, a lone carriage return (rewrites
/// the line), a C1 CSI and a right-to-left override ("Trojan Source"), raw and as YAML escapes.
const HOSTILE: &str = "\u{1b}[2J\u{7}ok\rfine\u{9b}31m\u{202e}txt.exe";
const HOSTILE_YAML: &str = r"\e[2J\aok\rfine\x9b31m\u202etxt.exe";

#[test]
fn terminal_escapes_from_inputs_are_escaped() {
    // In a message (the value), a file name, a snippet (a raw override in a comment) and an input error.
    let policy = format!(
        "{RULE_HEAD}  require input.license == \"mit\" else \"license `{{input.license}}`\" at input.license\n}}\n"
    );
    let card = format!("kind: ModelCard\nlicense: \"{HOSTILE_YAML}\" # \u{202e}lmth.exe\n");
    let report = findings(&policy, &[(&format!("models/{HOSTILE}.yaml"), &card)]);
    let error =
        Document::from_str(&format!("dup{HOSTILE}.yaml"), &format!("\"{HOSTILE_YAML}\": 1\n\"{HOSTILE_YAML}\": 2\n"))
            .expect_err("duplicate key");
    // Policies may be untrusted too: a snippet of one with the raw characters.
    let policy_error = policy_errors(&format!("package demo\n\nconst allowed [\"{HOSTILE}\"]\n"));
    let rendered = format!("{report}\n{}\n{policy_error}", STYLE.render(&error));
    let raw: Vec<char> = rendered.chars().filter(|c| (c.is_control() && *c != '\n') || *c == '\u{202e}').collect();
    assert!(raw.is_empty(), "unescaped {raw:?} in:\n{rendered}");
    insta::assert_snapshot!(rendered);
}
