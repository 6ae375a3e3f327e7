//! The embedder's error story: `?` from compiling or loading into `vigil::Error` or `miette::Result` keeps
//! every problem with its source span.

use miette::Diagnostic as _;
use vigil::{Code, Document, Engine, Error};

/// Two independent problems in two files: an unknown name and an unknown function.
const BROKEN: [(&str, &str); 2] = [
    (
        "a.policy",
        "package a\nrule \"A-1\" {\n  title = \"t\"\n  severity = high\n  applies_to = ModelCard\n  require input.x == nope\n}\n",
    ),
    (
        "b.policy",
        "package b\nrule \"B-1\" {\n  title = \"t\"\n  severity = high\n  applies_to = ModelCard\n  require frobnicate(input.x)\n}\n",
    ),
];

fn compile_into_miette() -> miette::Result<vigil::PolicySet> {
    Ok(Engine::default().compile(BROKEN)?)
}

#[test]
fn question_mark_into_miette_keeps_every_problem_and_span() {
    let report = compile_into_miette().expect_err("two errors");
    assert_eq!(report.code().map(|c| c.to_string()).as_deref(), Some(Code::UnknownName.as_str()));
    assert!(report.source_code().is_some(), "the first problem brings its file");
    assert_eq!(report.labels().map(|l| l.count()), Some(1));
    let related: Vec<_> = report.related().expect("the other problems").collect();
    assert_eq!(related.len(), 1);
    assert_eq!(related[0].code().map(|c| c.to_string()).as_deref(), Some(Code::UnknownFunction.as_str()));
    assert!(related[0].source_code().is_some() && related[0].labels().is_some_and(|mut l| l.next().is_some()));

    // Rendered, both files and both lines appear.
    let mut out = String::new();
    miette::NarratableReportHandler::new().render_report(&mut out, report.as_ref()).expect("renders");
    for needle in ["a.policy", "b.policy", "nope", "frobnicate", "vigil::unknown-name", "vigil::unknown-function"] {
        assert!(out.contains(needle), "`{needle}` missing from:\n{out}");
    }
}

#[test]
fn diagnostics_are_never_empty() {
    let diagnostics = Engine::default().compile(BROKEN).expect_err("two errors");
    assert_eq!(diagnostics.len(), 2);
    assert!(!diagnostics.is_empty());
    assert_eq!(diagnostics.first().code, Code::UnknownName);
    assert!(vigil::Diagnostics::from_vec(Vec::new()).is_none());
}

#[test]
fn compile_and_load_errors_convert_into_one_error_type() {
    let compile: Error = Engine::default().compile(BROKEN).expect_err("broken").into();
    assert!(matches!(compile, Error::Compile(ref d) if d.len() == 2));
    assert_eq!(compile.code().map(|c| c.to_string()).as_deref(), Some("vigil::unknown-name"));
    assert!(compile.related().is_some_and(|r| r.count() == 1));

    let load: Error = Document::from_str("card.yaml", "a: [1, 2\n").expect_err("bad YAML").into();
    assert!(matches!(load, Error::Load(_)));
    assert_eq!(load.code().map(|c| c.to_string()).as_deref(), Some(Code::Input.as_str()));
    assert!(load.source_code().is_some() && load.labels().is_some(), "the YAML error keeps its span");
    assert!(load.to_string().starts_with("card.yaml:"), "{load}");
}
