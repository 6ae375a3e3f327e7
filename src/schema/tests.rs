//! Schemas and the typo check, on small policies.

use crate::Engine;
use crate::diagnostic::Code;

fn warnings(policy: &str) -> Vec<String> {
    let set = Engine::default().compile([("p.policy", policy)]).expect("compiles");
    set.warnings()
        .iter()
        .map(|d| format!("{} {} | {}", d.location(), d.message, d.help.clone().unwrap_or_default()))
        .collect()
}

fn rule(kinds: &str, body: &str) -> String {
    format!("package t\nrule \"T-1\" {{\n  title = \"t\"\n  severity = low\n  applies_to = {kinds}\n{body}\n}}\n")
}

#[test]
fn builtin_schemas_parse_and_cover_their_kinds() {
    let schemas = super::Schemas::builtin();
    for (kind, _, _) in super::KIND_ROOTS {
        assert!(schemas.has(*kind), "{kind}");
        assert!(!schemas.input(&[*kind]).nodes.is_empty(), "{kind} resolves");
    }
}

#[test]
fn typos_in_closed_schemas_warn_with_a_suggestion() {
    // (applies_to, body, expected warning or "" for none)
    let cases = [
        (
            "ModelCard",
            "require input.licence == \"mit\"",
            "p.policy:6:15 `input` has no known member `licence` in ModelCard documents | did you mean `license`?",
        ),
        ("ModelCard", "require input.license == \"mit\"", ""),
        ("ModelCard", "require input[\"licence\"] == \"mit\"", "did you mean `license`?"),
        ("ModelCard", "require exists(input.base_modle)", "did you mean `base_model`?"),
        // Cards may hold any key: only near misses of known ones are reported there.
        ("ModelCard", "require input.artifacts != null", ""),
        ("ModelCard", "require doc.sectoins != null", "did you mean `sections`?"),
        (
            "GitHubWorkflow",
            "for id, job in input.jobs { for s in job.steps { require s.usse != null } }",
            "did you mean `uses`?",
        ),
        ("GitHubWorkflow", "for id, job in input.jobs { require job[\"runs-on\"] != null }", ""),
        ("MLBom", "for c in input.components { require c.modelcard != null }", "did you mean `modelCard`?"),
        ("MLBom", "for c in input.components { require c.modelCard.modelParameters.task != null }", ""),
        ("MLBom", "for c in input.components ?? [] { require c.hashes[0].contnt != null }", "did you mean `content`?"),
        ("ModelArtifact", "require input.verdikt == \"clean\"", "did you mean `verdict`?"),
        ("ModelArtifact", "for p in input.pickles { require p.globals[0].classification == \"safe\" }", ""),
        ("DvcLock", "for n, s in input.stages { require s.outs[0].md55 != null }", ""),
        ("DvcFile", "require input.ouTs != null", "did you mean `outs`?"),
        // Open schemas and kinds without one never warn.
        ("Kubernetes", "require input.spec.anything != null", ""),
        ("Kubernetes", "require input.metadata.lables != null", "did you mean `labels`?"),
        ("Kubernetes", "require input.metadata.labels.anything != null", ""),
        ("SpdxAi", "require input.whatever != null", ""),
        ("[ModelCard, DatasetCard]", "require input.whatever != null", ""),
        ("InferenceExchange", "require input.whatever != null", ""),
        // A value computed by a function or a default is not checked further.
        ("ModelCard", "require (input.license ?? {}).foo != null", ""),
        ("ModelCard", "let l = input.license\n require l != null", ""),
    ];
    for (kinds, body, expected) in cases {
        let got = warnings(&rule(kinds, body));
        if expected.is_empty() {
            assert!(got.is_empty(), "{kinds} {body}: {got:?}");
        } else {
            assert_eq!(got.len(), 1, "{kinds} {body}: {got:?}");
            assert!(got[0].contains(expected), "{kinds} {body}: {got:?}");
        }
    }
}

#[test]
fn warnings_are_warnings() {
    assert!(Code::UnknownPath.is_warning());
    assert!(!Code::Syntax.is_warning());
    assert_eq!(Code::UnknownPath.as_str(), "vigil::unknown-path");
}

#[test]
fn user_schemas_allow_more() {
    let schema = r#"{"type": "object", "properties": {"licence": {"description": "British spelling"}}}"#;
    let engine = Engine::builder().schema(crate::Kind::ModelCard, "card.json", schema).expect("valid").build();
    let set = engine.compile([("p.policy", rule("ModelCard", "require input.licence == \"mit\""))]).expect("compiles");
    assert!(set.warnings().is_empty(), "{:?}", set.warnings());
    let bad = Engine::builder().schema(crate::Kind::ModelCard, "card.json", "{ nope");
    assert!(bad.is_err_and(|e| e.starts_with("card.json:1:")));
}

#[test]
fn artifact_schema_has_descriptions_from_the_docs() {
    let schemas = super::Schemas::builtin();
    let shape = schemas.input(&[crate::Kind::ModelArtifact]);
    let members = schemas.members(&shape);
    assert_eq!(members.len(), crate::artifact::to_value::ARTIFACT_KEYS.len());
    assert!(members.iter().all(|(_, d)| d.is_some()), "{members:?}");
}

#[test]
fn every_bundled_policy_passes_with_deny_warnings() {
    let files: Vec<_> = crate::bundled::BUNDLED
        .iter()
        .map(|(name, text)| {
            let source = crate::source::Source::new(*name, *text);
            let tree = crate::syntax::parse(&source).expect("bundled packs parse");
            (source, tree)
        })
        .collect();
    let refs: Vec<_> = files.iter().map(|(s, f)| (s.clone(), f)).collect();
    let (warnings, notes) = super::lint(&refs, &super::Schemas::builtin(), true);
    let shown: Vec<String> = warnings.iter().map(|d| format!("{}: {}", d.location(), d.message)).collect();
    assert!(shown.is_empty(), "{shown:#?}");
    // The walk did look at them: the packs read many schema-described paths.
    assert!(notes.len() > 100, "{}", notes.len());
}
