//! Document kinds and their detection from content and file names.
//!
//! Rules name the kinds they apply to (`applies_to = [ModelCard, MLBom]`) and a policy set indexes its rules
//! by kind, so rules for other kinds cost nothing. Kinds form a shallow tree: a rule for `Kubernetes` also
//! sees KServe, Seldon and Argo resources.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::value::Value;

macro_rules! kinds {
    ($( $(#[doc = $doc:literal])* $name:ident $(: $parent:ident)? ),* $(,)?) => {
        /// What a document is. Detected from its content; overridable per path.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $( $(#[doc = $doc])* $name, )*
        }

        impl Kind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [Kind] = &[$(Kind::$name),*];

            /// The name policies use.
            pub fn name(self) -> &'static str {
                match self { $(Kind::$name => stringify!($name),)* }
            }

            /// The broader kind this one refines, if any.
            pub fn parent(self) -> Option<Kind> {
                match self { $(Kind::$name => kinds!(@parent $($parent)?),)* }
            }

            /// One line on what documents of this kind are.
            pub fn description(self) -> &'static str {
                match self { $(Kind::$name => concat!($($doc),*).trim_ascii(),)* }
            }
        }
    };
    (@parent) => { None };
    (@parent $p:ident) => { Some(Kind::$p) };
}

kinds! {
    /// Hugging Face model card (README.md front matter and sections), or data declaring `kind: ModelCard`.
    ModelCard,
    /// Hugging Face dataset card (README.md front matter with dataset keys).
    DatasetCard,
    /// CycloneDX BOM (`bomFormat: CycloneDX`), typically an ML-BOM.
    MLBom,
    /// SPDX 3 document with AI and dataset profiles (JSON-LD).
    SpdxAi,
    /// A model file (weights, pickle, archive) inspected statically.
    ModelArtifact,
    /// GitHub Actions workflow (`on` and `jobs`).
    GitHubWorkflow,
    /// Kubeflow Pipelines IR spec (`pipelineInfo`, `deploymentSpec`, `root`).
    KubeflowPipeline,
    /// Kubeflow Pipelines platform spec (`platforms.kubernetes`).
    KubeflowPlatform,
    /// DVC pipeline (`dvc.yaml`).
    DvcPipeline,
    /// DVC lock file (`dvc.lock`).
    DvcLock,
    /// DVC tracking or import file (`*.dvc`).
    DvcFile,
    /// MLflow project (`MLproject`).
    MLproject,
    /// MLflow model metadata (`MLmodel`).
    MLmodel,
    /// Any Kubernetes object (`apiVersion` and `kind`).
    Kubernetes,
    /// KServe InferenceService, LLMInferenceService, InferenceGraph or ServingRuntime.
    InferenceService: Kubernetes,
    /// Seldon Core resource (SeldonDeployment, Model, Pipeline, Experiment, Server).
    Seldon: Kubernetes,
    /// Argo Workflows resource (Workflow, WorkflowTemplate, CronWorkflow).
    ArgoWorkflow: Kubernetes,
    /// Kubernetes AdmissionReview (admission.k8s.io).
    AdmissionReview,
    /// SageMaker endpoint configuration (`ProductionVariants`).
    SageMakerEndpoint,
    /// A runtime inference exchange (request and response), declared with `kind: InferenceExchange`.
    InferenceExchange,
    /// Data of no kind Vigil knows; no rule applies to it.
    Unknown,
}

impl Kind {
    /// Whether a rule for `self` applies to a document of kind `doc`.
    pub fn covers(self, doc: Kind) -> bool {
        let mut k = Some(doc);
        while let Some(kind) = k {
            if kind == self {
                return true;
            }
            k = kind.parent();
        }
        false
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL.iter().copied().find(|k| k.name() == s).ok_or_else(|| format!("unknown document kind `{s}`"))
    }
}

/// Detects the kind of a data document from its file name and content.
pub(crate) fn detect(path: &Path, data: &Value) -> Kind {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    match file_name {
        "dvc.yaml" | "dvc.yml" => return Kind::DvcPipeline,
        "dvc.lock" => return Kind::DvcLock,
        "MLproject" => return Kind::MLproject,
        "MLmodel" => return Kind::MLmodel,
        _ => {}
    }
    if file_name.ends_with(".dvc") {
        return Kind::DvcFile;
    }
    if file_name.ends_with(".MLproject") {
        return Kind::MLproject;
    }
    let Some(map) = data.as_object() else { return Kind::Unknown };
    let text = |key: &str| map.get(key).and_then(Value::as_str);
    if text("bomFormat") == Some("CycloneDX") {
        return Kind::MLBom;
    }
    if is_spdx(data) {
        return Kind::SpdxAi;
    }
    if let (Some(api), Some(kind)) = (text("apiVersion"), text("kind")) {
        let group = api.split('/').next().unwrap_or("");
        return match (group, kind) {
            ("admission.k8s.io", "AdmissionReview") => Kind::AdmissionReview,
            ("serving.kserve.io", _) => Kind::InferenceService,
            ("machinelearning.seldon.io" | "mlops.seldon.io", _) => Kind::Seldon,
            ("argoproj.io", "Workflow" | "WorkflowTemplate" | "ClusterWorkflowTemplate" | "CronWorkflow") => {
                Kind::ArgoWorkflow
            }
            _ => Kind::Kubernetes,
        };
    }
    if map.contains_key("pipelineInfo") && (map.contains_key("deploymentSpec") || map.contains_key("root")) {
        return Kind::KubeflowPipeline;
    }
    if map.get("platforms").is_some_and(|p| p.get("kubernetes").is_some()) {
        return Kind::KubeflowPlatform;
    }
    if map.contains_key("jobs") && (map.contains_key("on") || map.contains_key("true")) {
        return Kind::GitHubWorkflow;
    }
    if map.contains_key("ProductionVariants") {
        return Kind::SageMakerEndpoint;
    }
    if let Some(kind) = text("kind").and_then(|k| k.parse::<Kind>().ok()) {
        return kind;
    }
    Kind::Unknown
}

/// Hugging Face front matter: dataset cards carry dataset-only keys.
pub(crate) fn detect_card(front_matter: &Value) -> Kind {
    const DATASET_KEYS: [&str; 5] =
        ["task_categories", "size_categories", "dataset_info", "source_datasets", "annotations_creators"];
    if DATASET_KEYS.iter().any(|k| front_matter.get(k).is_some()) { Kind::DatasetCard } else { Kind::ModelCard }
}

fn is_spdx(data: &Value) -> bool {
    let mentions_spdx = |v: &Value| v.as_str().is_some_and(|s| s.contains("spdx.org"));
    match data.get("@context") {
        Some(Value::Array(items)) => items.iter().any(mentions_spdx),
        Some(v) => mentions_spdx(v),
        None => data.get("spdxVersion").is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(path: &str, json: &str) -> Kind {
        detect(Path::new(path), &Value::from_json(json).unwrap())
    }

    #[test]
    fn detects_from_content_and_names() {
        assert_eq!(kind_of("x.json", r#"{"bomFormat":"CycloneDX"}"#), Kind::MLBom);
        assert_eq!(
            kind_of("x.yaml", r#"{"apiVersion":"serving.kserve.io/v1beta1","kind":"InferenceService"}"#),
            Kind::InferenceService
        );
        assert_eq!(kind_of("x.yaml", r#"{"apiVersion":"apps/v1","kind":"Deployment"}"#), Kind::Kubernetes);
        assert_eq!(kind_of("ci.yml", r#"{"on":"push","jobs":{}}"#), Kind::GitHubWorkflow);
        assert_eq!(kind_of("dvc.lock", "{}"), Kind::DvcLock);
        assert_eq!(kind_of("doc.yaml", r#"{"kind":"ModelCard"}"#), Kind::ModelCard);
        assert_eq!(kind_of("doc.yaml", r#"{"kind":"Banana"}"#), Kind::Unknown);
    }

    #[test]
    fn kinds_cover_their_children() {
        assert!(Kind::Kubernetes.covers(Kind::InferenceService));
        assert!(!Kind::InferenceService.covers(Kind::Kubernetes));
        assert_eq!("MLBom".parse::<Kind>(), Ok(Kind::MLBom));
        assert!(Kind::ALL.iter().all(|k| !k.description().is_empty()));
    }
}
