//! The HTML report read back as a browser reads it (a WHATWG tokenizer): its structure (an insta snapshot
//! of the outline, not the styling), escaping of hostile inputs, policies and waivers, the absence of any
//! external resource, and a 100,000-finding report. tests/html_browser.rs opens it in Chromium.

use html5gum::{DefaultEmitter, Token, Tokenizer};
use vigil::unstable::input::{LoadOptions, Skipped};
use vigil::unstable::report::html::{self, Run};
use vigil::{Document, Engine, PolicySet, Report, RuleInfo, Severity};

/// A parsed token, simplified.
#[derive(Debug)]
enum Tok {
    Start(String, Vec<(String, String)>),
    End,
    Text(String),
    Comment(String),
    Error(String),
}

fn utf8(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Tokens as a browser sees them: `<style>` and `<script>` hold raw text, entities are decoded.
fn tokens(page: &str) -> Vec<Tok> {
    let mut emitter = DefaultEmitter::default();
    emitter.naively_switch_states(true);
    let mut out = Vec::new();
    for token in Tokenizer::new_with_emitter(page, emitter).flatten() {
        out.push(match token {
            Token::StartTag(t) => {
                Tok::Start(utf8(&t.name), t.attributes.iter().map(|(k, v)| (utf8(k), utf8(&v.value))).collect())
            }
            Token::EndTag(_) => Tok::End,
            Token::String(s) => Tok::Text(utf8(&s.value)),
            Token::Comment(c) => Tok::Comment(utf8(&c.value)),
            Token::Doctype(_) => continue,
            Token::Error(e) => Tok::Error(format!("{:?}", e.value)),
        });
    }
    out
}

/// Every external resource a page would load: elements that fetch (`img`, `link`, `iframe`, ...), URL
/// attributes other than plain `<a href>` links, and `@import` / `url(` in styles. Plain links are allowed.
fn external_references(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_style = false;
    for t in tokens(page) {
        match t {
            Tok::Start(name, attrs) => {
                in_style = name == "style";
                if [
                    "img", "link", "iframe", "frame", "object", "embed", "video", "audio", "source", "track", "image",
                    "use", "base", "portal",
                ]
                .contains(&name.as_str())
                {
                    found.push(format!("<{name}> element"));
                }
                for (k, v) in attrs {
                    let url_attr = [
                        "src",
                        "href",
                        "xlink:href",
                        "srcset",
                        "action",
                        "formaction",
                        "poster",
                        "data",
                        "background",
                        "ping",
                        "manifest",
                        "cite",
                        "longdesc",
                    ]
                    .contains(&k.as_str());
                    let remote = v.trim().to_ascii_lowercase();
                    let remote = remote.contains("://") || remote.starts_with("//");
                    let plain_link = name == "a" && k == "href";
                    if url_attr && remote && !plain_link {
                        found.push(format!("<{name} {k}={v:?}>"));
                    }
                    if k == "style" && v.contains("url(") {
                        found.push(format!("style attribute with url(): {v}"));
                    }
                }
            }
            Tok::End => in_style = false,
            Tok::Text(text) if in_style => {
                let lower = text.to_ascii_lowercase();
                if lower.contains("@import") || lower.contains("url(") {
                    found.push("@import or url() in a stylesheet".into());
                }
            }
            _ => {}
        }
    }
    found
}

/// The outline of a page: elements indented by depth with id, class and a few meaningful attributes, and
/// their text; the content of `<style>` and `<script>` is left out (styling is not structure).
fn outline(page: &str) -> String {
    const VOID: [&str; 6] = ["meta", "br", "input", "link", "img", "hr"];
    let mut out = String::new();
    let mut depth = 0usize;
    let mut skip = false;
    for t in tokens(page) {
        match t {
            Tok::Start(name, attrs) => {
                let mut line = format!("{}<{name}", "  ".repeat(depth));
                for (k, v) in &attrs {
                    let v = v.replace(env!("CARGO_PKG_VERSION"), "VERSION");
                    match k.as_str() {
                        "id" | "class" | "open" | "hidden" | "scope" | "role" | "data-path" | "title" | "type" => {
                            line.push_str(&format!(" {k}={v:?}"))
                        }
                        "content" if v.starts_with("default-src") => line.push_str(" content=CSP"),
                        "aria-label" | "href" | "lang" | "charset" | "name" => line.push_str(&format!(" {k}={v:?}")),
                        _ => {}
                    }
                }
                out.push_str(&line);
                out.push_str(">\n");
                skip = name == "style" || name == "script";
                if !VOID.contains(&name.as_str()) {
                    depth += 1;
                }
            }
            Tok::End => {
                depth = depth.saturating_sub(1);
                skip = false;
            }
            Tok::Text(text) if !skip => {
                let text = text.replace(env!("CARGO_PKG_VERSION"), "VERSION");
                let words: Vec<&str> = text.split_whitespace().collect();
                if !words.is_empty() {
                    // Text right after its element's tag goes on the tag's line, to keep the outline short.
                    if out.ends_with(">\n") {
                        out.pop();
                        out.push_str(&format!(" {:?}\n", words.join(" ")));
                    } else {
                        out.push_str(&format!("{}{:?}\n", "  ".repeat(depth), words.join(" ")));
                    }
                }
            }
            Tok::Text(_) => out.push_str(&format!("{}[raw text]\n", "  ".repeat(depth))),
            Tok::Comment(c) => out.push_str(&format!("{}<!--{c}-->\n", "  ".repeat(depth))),
            Tok::Error(e) => out.push_str(&format!("PARSE ERROR {e}\n")),
        }
    }
    out
}

const POLICY: &str = r#"package demo

/// Cards must name an approved license.
rule "DEMO-001" {
  title = "License is approved"
  severity = high
  applies_to = ModelCard
  controls = ["OWASP-LLM03", "EU-AI-Act-Art53", "NIST-AI-RMF-MAP-4.1", "ISO-42001-A.10.3"]
  remediation = "Relicense the model, or ask legal to approve the license."
  url = "https://example.com/rules/DEMO-001"
  require input.license in ["mit", "apache-2.0"] else "license `{input.license}` is not approved" at input.license
}

rule "DEMO-002" {
  title = "Intended use is documented"
  severity = medium
  applies_to = ModelCard
  controls = ["EU-AI-Act-Art13"]
  remediation = "Add an `intended_use` field."
  require input.intended_use != null else "intended use is not documented"
}

rule "DEMO-003" {
  title = "Weights cannot run code"
  severity = critical
  applies_to = ModelArtifact
  controls = ["OWASP-LLM03", "ATLAS-AML.T0011.000"]
  forbid input.executes_code_on_load else "`{input.name}` can run code when loaded" at input.format
}

rule "DEMO-004" {
  title = "Deployments set resource limits"
  severity = low
  applies_to = Kubernetes
  controls = ["OWASP-LLM10"]
  require false else "never runs here"
}
"#;

/// A pickle that imports `os.system` (bytes only: never loaded by a real loader).
const PICKLE: &[u8] = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.";

const WAIVERS: &str = "\
- rule: DEMO-002
  path: models/*.yaml
  reason: card is being drafted
  owner: ml-team
  approver: security
  expires: '2026-06-20'
- rule: DEMO-003
  path: models/*.pkl
  reason: legacy weights
  owner: ml-team
  approver: security
  expires: '2026-01-01'
- rule: DEMO-001
  path: old/*.yaml
  reason: nothing matches this
  owner: ml-team
  approver: security
  expires: '2027-01-01'
";

fn now() -> jiff::Timestamp {
    "2026-06-01T00:00:00Z".parse().expect("a timestamp")
}

/// Evaluates `docs`, records inputs and applies `waivers` on the fixed day, as the pipeline does.
fn report_of(policies: &PolicySet, docs: &[Document], waivers: &str) -> Report {
    let mut report = policies.evaluate(docs);
    // `evaluate` records the inputs but not their digests; the pipeline does.
    for (i, input) in report.inputs.iter_mut().enumerate() {
        input.sha256 = Some(format!("{:064x}", i + 0xabc));
    }
    let waivers = if waivers.is_empty() {
        Vec::new()
    } else {
        let w = Document::from_str("waivers.yaml", waivers).expect("valid YAML");
        vigil::unstable::waiver::parse_list(w[0].data(), &w[0], "waivers.yaml").expect("valid waivers")
    };
    vigil::unstable::waiver::apply(&mut report, &waivers, "2026-06-01".parse().expect("a date"));
    report
}

fn render(policies: &PolicySet, report: &Report) -> String {
    let rules: Vec<&RuleInfo> = policies.rules().map(|r| &**r).collect();
    let run = Run {
        rules: &rules,
        policy_digest: policies.digest(),
        now: now(),
        profile: Some("prod"),
        fail_on: Some(Severity::Low),
    };
    vigil::unstable::report::to_string(|o| html::render(report, &run, o))
}

fn demo() -> (PolicySet, Report) {
    let policies = Engine::default().compile([("demo.policy", POLICY)]).expect("valid policy");
    let mut docs = Vec::new();
    for (name, text) in [
        ("models/card.yaml", "kind: ModelCard\nlicense: gpl-3.0\nname: demo\n"),
        ("models/clean.yaml", "kind: ModelCard\nlicense: mit\nintended_use: chat\n"),
    ] {
        docs.extend(Document::from_str(name, text).expect("valid input"));
    }
    docs.push(Document::from_artifact_bytes("models/weights.pkl", PICKLE, &LoadOptions::default()));
    let mut report = report_of(&policies, &docs, WAIVERS);
    report.errors.push(Document::from_str("bad.json", "{,}").expect_err("invalid JSON"));
    report.skipped.push(Skipped { path: "notes.txt".into(), reason: "not a known input format" });
    (policies, report)
}

#[test]
fn the_page_structure_is_stable() {
    let (policies, report) = demo();
    let page = render(&policies, &report);
    assert!(!outline(&page).contains("PARSE ERROR"), "the page parses without errors");
    insta::assert_snapshot!("html_outline", outline(&page));
}

#[test]
fn the_page_has_every_section_and_says_what_failed_and_why() {
    let (policies, mut report) = demo();
    report.baseline =
        Some(vigil::unstable::report::baseline::Diff { file: "<base>.json".into(), unchanged: 5, fixed: vec![] });
    let page = render(&policies, &report);
    // Findings a baseline left out are said to be left out.
    assert!(page.contains("<code>&lt;base&gt;.json</code>: 5 known findings recorded there are left out"));
    for id in ["summary", "compliance", "findings", "errors", "waivers", "inputs"] {
        assert!(page.contains(&format!("<section id=\"{id}\">")), "section {id}");
    }
    // An input error makes the run incomplete, never a pass; no control is shown as passed.
    assert!(page.contains("✖ Incomplete"));
    assert!(!page.contains("✔ Passed"));
    // Every OWASP LLM Top 10 2025 entry is a row, covered or not.
    for n in 1..=10 {
        assert!(page.contains(&format!("<code>OWASP-LLM{n:02}</code>")), "LLM{n:02}");
    }
    assert!(page.contains("System Prompt Leakage") && page.contains("— No rule"));
    // Waivers: the active one with its days left, the expired and the unused ones called out.
    assert!(page.contains("✖ Expired") && page.contains("! Unused") && page.contains("◐ Expires soon"));
    assert!(page.contains("<td class=\"n\">19</td>"), "19 days left until 2026-06-20");
    assert!(page.contains("<td class=\"n\">−151</td>"), "expired 151 days ago");
    // The severity chart states its numbers in text.
    assert!(page.contains("aria-label=\"Findings by severity: 1 critical, 1 high, 1 medium, 0 low, 0 info\""));
}

/// A model card whose every field is an attack on the page, read by a policy whose metadata is one too, with
/// a hostile file name and waiver.
fn hostile() -> String {
    let card = r#"---
license: "<script>alert('license')</script>"
name: "\"><img src=x onerror=alert(1)>"
homepage: "javascript:alert(document.cookie)"
notes: "</style><style>body{display:none}</style><link rel=stylesheet href=https://evil.example/x.css>"
quote: "' onmouseover='alert(2)' x='"
comment: "<!-- --><![CDATA[ ]]></script><script src=https://evil.example/x.js></script>"
---
# Card
"#;
    let policy = r#"package hostile
rule "H-1" {
  title = "<b onmouseover=alert(3)>title</b>"
  severity = high
  applies_to = ModelCard
  controls = ["<script>alert(4)</script>", "javascript:alert(5)", "OWASP-LLM01\" onclick=\"alert(6)"]
  remediation = "</style></script><iframe src=https://evil.example></iframe>"
  url = "javascript:alert(7)"
  forbid true else "license {input.license} name {input.name}" at input.license
  forbid true else "homepage {input.homepage}" at input.homepage
  forbid true else "notes {input.notes} {input.quote} {input.comment}" at input.notes
}
"#;
    let policies = Engine::default().compile([("hostile.policy", policy)]).expect("valid policy");
    let docs = Document::from_str("models/<img src=x onerror=alert(8)>/README.md", card).expect("valid card");
    let waivers = "- rule: H-1\n  path: '**'\n  pointer: /homepage\n  reason: \"\\\" onmouseover=\\\"alert(9)\"\n  owner: \"<script>alert(10)</script>\"\n  approver: \"javascript:alert(11)\"\n  expires: '2099-01-01'\n";
    let mut report = report_of(&policies, &docs, waivers);
    report
        .skipped
        .push(Skipped { path: "</style><script>alert(12)</script>".into(), reason: "not a known input format" });
    render(&policies, &report)
}

#[test]
fn hostile_values_render_as_text() {
    let page = hostile();
    let toks = tokens(&page);
    let errors: Vec<&Tok> = toks.iter().filter(|t| matches!(t, Tok::Error(_))).collect();
    assert!(errors.is_empty(), "parse errors: {errors:?}");
    let starts: Vec<(&String, &Vec<(String, String)>)> =
        toks.iter().filter_map(|t| if let Tok::Start(n, a) = t { Some((n, a)) } else { None }).collect();
    // Exactly the page's own style and script, and no element an input could have smuggled in.
    assert_eq!(starts.iter().filter(|(n, _)| *n == "script").count(), 1);
    assert_eq!(starts.iter().filter(|(n, _)| *n == "style").count(), 1);
    for (name, attrs) in &starts {
        assert!(!["img", "iframe", "link", "b", "object"].contains(&name.as_str()), "<{name}> from an input");
        for (k, v) in *attrs {
            assert!(!k.starts_with("on"), "event handler attribute {k}={v:?} on <{name}>");
            assert!(!v.trim().to_ascii_lowercase().starts_with("javascript:"), "{k}={v:?} on <{name}>");
            if *name == "a" && k == "href" {
                assert!(v.starts_with('#') || v.starts_with("https://"), "link {v:?}");
            }
        }
    }
    // What the attacks tried is on the page as text, for the reviewer to see.
    let text: String = toks.iter().filter_map(|t| if let Tok::Text(s) = t { Some(s.as_str()) } else { None }).collect();
    for shown in [
        "<script>alert('license')</script>",
        "\"><img src=x onerror=alert(1)>",
        "javascript:alert(document.cookie)",
        "</style><style>body{display:none}</style>",
        "' onmouseover='alert(2)' x='",
        "<b onmouseover=alert(3)>title</b>",
        "<script>alert(4)</script>",
        "</style></script><iframe src=https://evil.example></iframe>",
        "models/<img src=x onerror=alert(8)>/README.md",
        "<script>alert(10)</script>",
        "</style><script>alert(12)</script>",
    ] {
        assert!(text.contains(shown), "{shown:?} is not shown as text");
    }
    // The rule's `javascript:` URL is not a link anywhere.
    assert!(!page.contains("alert(7)") || !page.contains("href=\"javascript"));
    assert!(external_references(&page).is_empty(), "{:?}", external_references(&page));
}

#[test]
fn the_page_references_nothing_outside_itself() {
    let (policies, report) = demo();
    let page = render(&policies, &report);
    assert_eq!(external_references(&page), Vec::<String>::new());
    // The policy's documentation URL is a plain link in text, which is allowed.
    assert!(page.contains("href=\"https://example.com/rules/DEMO-001\""));
    // And the Content-Security-Policy forbids fetching anything at all.
    assert!(page.contains("content=\"default-src &#39;none&#39;;"));
}

#[test]
fn the_external_reference_check_catches_what_it_must() {
    for (page, caught) in [
        ("<link rel=\"stylesheet\" href=\"https://x.example/a.css\">", true),
        ("<img src=\"http://x.example/a.png\">", true),
        ("<svg><image href=\"https://x.example/a.svg\"/></svg>", true),
        ("<style>@import \"https://x.example/a.css\";</style>", true),
        ("<style>body { background: url(//x.example/a.png) }</style>", true),
        ("<p style=\"background:url(https://x.example/a.png)\">", true),
        ("<script src=\"https://x.example/a.js\"></script>", true),
        ("<form action=\"https://x.example/\"></form>", true),
        ("<a href=\"https://x.example/\">a plain link</a>", false),
        ("<p>https://x.example/ in text</p>", false),
    ] {
        assert_eq!(!external_references(page).is_empty(), caught, "{page}");
    }
}

/// `documents` model cards of `items` items each, every item a finding of one rule.
fn large(documents: usize, items: usize) -> (PolicySet, Report) {
    let policy = r#"package big
rule "BIG-1" {
  title = "Items are reviewed"
  severity = medium
  applies_to = ModelCard
  controls = ["OWASP-LLM03"]
  remediation = "Review the item."
  for x in input.items {
    forbid true else "item `{x}` is not reviewed" at x
  }
}
"#;
    let policies = Engine::default().compile([("big.policy", policy)]).expect("valid policy");
    let mut docs = Vec::new();
    for d in 0..documents {
        let list: Vec<String> = (0..items).map(|i| format!("  \"item-{d}-{i} <&>\"")).collect();
        let text = format!("{{\"kind\": \"ModelCard\", \"items\": [\n{}\n]}}\n", list.join(",\n"));
        docs.extend(Document::from_str(&format!("cards/card-{d:04}.json"), &text).expect("valid JSON"));
    }
    let report = report_of(&policies, &docs, "");
    (policies, report)
}

/// 100,000 findings: every finding is listed, document groups start closed, snippets are capped, and the
/// page stays a size a browser opens. docs/output.md states the release-build figures this prints.
#[test]
fn a_100000_finding_report_stays_usable() {
    let (policies, report) = large(1_000, 100);
    assert_eq!(report.findings.len(), 100_000);
    let started = std::time::Instant::now();
    let page = render(&policies, &report);
    let took = started.elapsed();
    eprintln!("100,000 findings in 1,000 documents: {} bytes, rendered in {took:?}", page.len());
    assert_eq!(page.matches("<details class=\"doc\"").count(), 1_000);
    assert_eq!(page.matches(" open>").count(), 0, "large reports start closed");
    assert_eq!(page.matches("<li><p class=\"msg\">").count(), 100_000, "every finding is listed");
    assert_eq!(page.matches("<pre class=\"snip\">").count(), 2_000, "snippets are capped");
    assert!(page.len() < 40 << 20, "{} bytes", page.len());
    assert!(page.ends_with("</html>\n"));

    // One document holding them all: the same caps, and one group.
    let (policies, report) = large(1, 100_000);
    let started = std::time::Instant::now();
    let page = render(&policies, &report);
    eprintln!("100,000 findings in 1 document: {} bytes, rendered in {:?}", page.len(), started.elapsed());
    assert_eq!(page.matches("<pre class=\"snip\">").count(), 10);
    assert!(page.contains("line 100001, column 3"), "positions are right at the end of a long file");
}
