//! Embedding Vigil in a Rust program: compile policies once, evaluate many documents, read the findings.
//!
//! Run with `cargo run --example embed`.

use vigil::{Document, Engine, Severity, Value};

const POLICY: &str = r#"
package acme.serving

/// Endpoints we allow to serve models.
param allowed_registries = ["hf://acme/", "s3://acme-models/"]

/// A model served from an unvetted location can be swapped by whoever controls that location.
rule "ACME-001" {
  title = "Models are served from an approved registry"
  severity = high
  applies_to = InferenceService
  remediation = "Publish the model to an approved registry and point storageUri at it."

  let uri = input.spec.predictor.model.storageUri
  require any(r in allowed_registries: starts_with(uri, r)) else "model location `{uri}` is not approved"
}
"#;

const DEPLOYMENT: &str = "\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: fraud-scorer
spec:
  predictor:
    model:
      storageUri: gs://someone-elses-bucket/model
";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Host programs can set parameters (here: one more registry) and pin the clock for date rules.
    let engine = Engine::builder()
        .param(
            "allowed_registries",
            Value::from(vec![Value::from("hf://acme/"), Value::from("oci://registry.acme.internal/")]),
        )
        .build();
    let policies = engine.compile([("acme.policy", POLICY)])?;

    let documents = Document::from_str("deploy/fraud-scorer.yaml", DEPLOYMENT)?;
    let report = policies.evaluate(&documents);
    for finding in &report.findings {
        let (line, column) = finding.line_col().unwrap_or((0, 0));
        println!(
            "{}:{line}:{column}: [{}] {} ({})",
            finding.file(),
            finding.severity,
            finding.message,
            finding.rule.id
        );
    }
    // A PolicySet is Send + Sync: share it across threads and evaluate concurrently.
    assert_eq!(report.failing(Severity::High), 1);
    Ok(())
}
