//! Input text in every format → load, then evaluate a small policy and locate every finding.
#![no_main]

use std::sync::LazyLock;

static POLICIES: LazyLock<vigil::PolicySet> = LazyLock::new(|| {
    let policy = "package f\nrule \"F\" {\n  title = \"t\"\n  severity = low\n  applies_to = [ModelCard, MLBom, Unknown, Kubernetes]\n  require input.a.b[0] matches /x/ else \"{input}\"\n  for k, v in input ?? {} { require v != null at v }\n}\n";
    vigil::Engine::default().compile([("f.policy", policy)]).expect("valid policy")
});

libfuzzer_sys::fuzz_target!(|text: &str| {
    for name in ["in.yaml", "in.json", "in.toml", "README.md"] {
        if let Ok(docs) = vigil::Document::from_str(name, text) {
            for f in POLICIES.evaluate(&docs).findings {
                let _ = (f.line_col(), f.pointer());
            }
        }
    }
});
