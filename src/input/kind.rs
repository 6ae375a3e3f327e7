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
        #[non_exhaustive]
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
    /// GitHub Actions workflow (`on` and `jobs`), or a composite action (`action.yml`).
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
    /// Great Expectations validation result (`statistics.evaluated_expectations`) or checkpoint result (`run_results`).
    GxValidation,
    /// Evidently report, snapshot or test suite as JSON (`metrics` of `metric`/`result` or `metric_id`/`value`, `tests`).
    EvidentlyReport,
    /// A dataset profile (row count, null rates, label distribution, duplicates), declared with `kind: DataProfile`.
    DataProfile,
    /// A model evaluation report (metrics, baseline, per-group metrics), declared with `kind: EvaluationReport`.
    EvaluationReport,
    /// MCP client configuration (`mcpServers` in `.mcp.json`, `claude_desktop_config.json`; `servers` in `mcp.json`).
    McpConfig,
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
    if let Some(kind) = by_file_name(file_name) {
        return kind;
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
    // A composite action's steps run in the caller's job, with its token and secrets: checked like a job.
    let runs_using = map.get("runs").and_then(|r| r.get("using")).and_then(Value::as_str);
    if matches!(file_name, "action.yml" | "action.yaml") && runs_using == Some("composite") {
        return Kind::GitHubWorkflow;
    }
    if map.contains_key("ProductionVariants") {
        return Kind::SageMakerEndpoint;
    }
    if let Some(kind) = text("kind").and_then(|k| k.parse::<Kind>().ok()) {
        return kind;
    }
    data_tool_kind(file_name, map).unwrap_or(Kind::Unknown)
}

/// Kinds a file's name gives away whatever its content (also for a file that does not parse: `hint`).
pub(super) fn by_file_name(file_name: &str) -> Option<Kind> {
    match file_name {
        "dvc.yaml" | "dvc.yml" => Some(Kind::DvcPipeline),
        "dvc.lock" => Some(Kind::DvcLock),
        "MLproject" => Some(Kind::MLproject),
        "MLmodel" => Some(Kind::MLmodel),
        n if n.ends_with(".dvc") => Some(Kind::DvcFile),
        n if n.ends_with(".MLproject") => Some(Kind::MLproject),
        _ => None,
    }
}

/// Front-matter keys only dataset cards use (`licenses` is the legacy form of `license` in dataset cards).
pub(super) const DATASET_KEYS: [&str; 14] = [
    "task_categories",
    "task_ids",
    "size_categories",
    "dataset_info",
    "source_datasets",
    "annotations_creators",
    "language_creators",
    "multilinguality",
    "pretty_name",
    "paperswithcode_id",
    "configs",
    "licenses",
    "train-eval-index",
    "viewer",
];

/// Front-matter keys of Hugging Face model cards (the model card spec, and keys quantizers such as TheBloke
/// add: `model_creator`, `model_name`).
pub(super) const MODEL_KEYS: [&str; 18] = [
    "license",
    "license_name",
    "license_link",
    "library_name",
    "pipeline_tag",
    "base_model",
    "base_model_relation",
    "model-index",
    "model_name",
    "model_creator",
    "model_type",
    "datasets",
    "metrics",
    "co2_eq_emissions",
    "widget",
    "inference",
    "new_version",
    "extra_gated_prompt",
];

/// Keys of a Hugging Face Space's README: an app, not a model.
const SPACE_KEYS: [&str; 5] = ["sdk", "emoji", "colorFrom", "colorTo", "app_file"];

/// Markdown with front matter that is not a card whatever its keys: agent and prompt files, issue and pull
/// request templates.
fn never_a_card(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
    let agent_file = [".agent.md", ".prompt.md", ".instructions.md", ".chatmode.md"].iter().any(|s| name.ends_with(s))
        || matches!(name.as_str(), "skill.md" | "agents.md" | "claude.md" | "pull_request_template.md");
    let template_folder = path.components().any(|c| {
        let c = c.as_os_str().to_string_lossy().to_ascii_lowercase();
        matches!(c.as_str(), "issue_template" | "pull_request_template" | "discussion_template")
    });
    agent_file || template_folder
}

/// Whether a file name is one cards are kept under (`README.md`, `modelcard.md`, `<model>_README.md`).
fn card_file_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
    name.contains("readme") || name.contains("card")
}

/// The kind of a Markdown file with front matter: a model card, a dataset card, or (`Unknown`) some other page
/// that happens to have front matter — docs-site pages, Space READMEs, agent files, issue templates and card
/// templates are not cards, and card rules must not judge them.
pub(crate) fn detect_card(path: &Path, text: &str, front_matter: &Value, sections: &Value) -> Kind {
    if never_a_card(path) || super::markdown::is_template(text) {
        return Kind::Unknown;
    }
    let Some(map) = front_matter.as_object() else {
        // A list or scalar where the metadata should be: a broken card if the file is named like one.
        return if card_file_name(path) { Kind::ModelCard } else { Kind::Unknown };
    };
    let has = |keys: &[&str]| keys.iter().any(|k| map.contains_key(*k));
    if has(&SPACE_KEYS) {
        return Kind::Unknown;
    }
    let title = sections.as_object().and_then(|s| s.keys().find(|k| !k.is_empty()).map(|k| k.to_ascii_lowercase()));
    if has(&DATASET_KEYS) || title.is_some_and(|t| t.starts_with("dataset card for")) {
        return Kind::DatasetCard;
    }
    // A README without metadata (named on the command line) is a card that lacks it: the card rules say so.
    let readme_keys = map.is_empty() || map.contains_key("language") || map.contains_key("tags");
    if has(&MODEL_KEYS) || card_file_name(path) && readme_keys {
        return Kind::ModelCard;
    }
    Kind::Unknown
}

/// Reports of data-quality tools and agent tool configurations, recognised by the shapes those tools write.
fn data_tool_kind(file_name: &str, map: &crate::value::Map) -> Option<Kind> {
    let is_obj = |key: &str| map.get(key).is_some_and(|v| v.as_object().is_some());
    let array = |key: &str| map.get(key).and_then(Value::as_array);
    // GX writes `statistics.evaluated_expectations` on every suite result, and `run_results` on checkpoints.
    let gx_suite =
        map.get("statistics").and_then(|s| s.get("evaluated_expectations")).is_some() && array("results").is_some();
    let gx_checkpoint = is_obj("run_results") && (map.contains_key("checkpoint_config") || map.contains_key("success"));
    if gx_suite || gx_checkpoint {
        return Some(Kind::GxValidation);
    }
    // Evidently: legacy reports list `{metric, result}`, 0.6+ snapshots `{metric_id, value}`; test suites `{name, status}`.
    let metric_entry =
        |m: &Value| (m.get("metric").is_some() && m.get("result").is_some()) || m.get("metric_id").is_some();
    let test_entry = |t: &Value| t.get("status").is_some() && (t.get("name").is_some() || t.get("id").is_some());
    let has_metrics = array("metrics").is_some_and(|ms| !ms.is_empty() && ms.iter().all(metric_entry));
    let has_tests = array("tests").is_some_and(|ts| !ts.is_empty() && ts.iter().all(test_entry));
    if has_metrics || has_tests {
        return Some(Kind::EvidentlyReport);
    }
    // MCP clients: Claude Desktop, Claude Code (`.mcp.json`), Cursor use `mcpServers`; VS Code's `mcp.json` uses `servers`.
    let mcp_name = matches!(file_name, "mcp.json" | ".mcp.json");
    if is_obj("mcpServers") || mcp_name && is_obj("servers") {
        return Some(Kind::McpConfig);
    }
    None
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
        let composite = r#"{"name":"setup","runs":{"using":"composite","steps":[]}}"#;
        assert_eq!(kind_of(".github/actions/setup/action.yml", composite), Kind::GitHubWorkflow);
        assert_eq!(kind_of("setup.yml", composite), Kind::Unknown);
    }

    #[test]
    fn detects_data_and_agent_tool_reports() {
        let cases = [
            (r#"{"success":false,"results":[],"statistics":{"evaluated_expectations":0}}"#, Kind::GxValidation),
            (
                r#"{"success":true,"run_results":{"id":{"validation_result":{}}},"checkpoint_config":{}}"#,
                Kind::GxValidation,
            ),
            (r#"{"metrics":[{"metric":"DatasetDriftMetric","result":{}}]}"#, Kind::EvidentlyReport),
            (r#"{"metrics":[{"metric_id":"DriftedColumnsCount()","value":{}}],"tests":[]}"#, Kind::EvidentlyReport),
            (r#"{"tests":[{"name":"Share of drifted columns","status":"FAIL"}]}"#, Kind::EvidentlyReport),
            (r#"{"metrics":[{"name":"accuracy","value":1}]}"#, Kind::Unknown),
            (r#"{"kind":"DataProfile","dataset":"d"}"#, Kind::DataProfile),
            (r#"{"kind":"EvaluationReport","model":"m"}"#, Kind::EvaluationReport),
            (r#"{"mcpServers":{"fs":{"command":"npx"}}}"#, Kind::McpConfig),
        ];
        for (json, kind) in cases {
            assert_eq!(kind_of("report.json", json), kind, "{json}");
        }
        assert_eq!(kind_of(".vscode/mcp.json", r#"{"servers":{"x":{"url":"https://x"}}}"#), Kind::McpConfig);
        assert_eq!(kind_of("config.json", r#"{"servers":{"x":{}}}"#), Kind::Unknown);
    }

    #[test]
    fn kinds_cover_their_children() {
        assert!(Kind::Kubernetes.covers(Kind::InferenceService));
        assert!(!Kind::InferenceService.covers(Kind::Kubernetes));
        assert_eq!("MLBom".parse::<Kind>(), Ok(Kind::MLBom));
        assert!(Kind::ALL.iter().all(|k| !k.description().is_empty()));
    }

    fn card_kind(path: &str, text: &str) -> Kind {
        let docs = crate::Document::parse(path, text, &Default::default()).expect("parses");
        docs[0].kind()
    }

    #[test]
    fn markdown_is_a_card_only_with_card_keys() {
        let cases = [
            ("README.md", "---\nlicense: mit\nlibrary_name: transformers\n---\n# m\n", Kind::ModelCard),
            ("README.md", "---\nlanguage: [en]\ntags: [bert]\n---\n# m\n", Kind::ModelCard),
            ("docs/guide.md", "---\ntitle: Install\ndescription: How to install\n---\n# Install\n", Kind::Unknown),
            ("docs/guide.md", "---\ntags: [howto]\n---\n# Install\n", Kind::Unknown),
            ("README.md", "---\ntitle: Demo\nemoji: 🚀\nsdk: gradio\nlicense: mit\n---\n# Demo\n", Kind::Unknown),
            (".github/ISSUE_TEMPLATE/bug.md", "---\nname: Bug\nabout: Report\nlicense: mit\n---\n", Kind::Unknown),
            (".github/agents/review.agent.md", "---\ndescription: reviews\ntools: [x]\n---\nDo it\n", Kind::Unknown),
            ("skills/x/SKILL.md", "---\nname: x\ndescription: y\n---\n", Kind::Unknown),
            ("README.md", "---\n{{ card_data }}\n---\n# {{ model_id }}\n", Kind::Unknown),
            ("README.md", "---\n{card_data}\n---\n# x\n", Kind::Unknown),
            ("modelcard.md", "---\nlicense: {license}  # e.g. mit\n---\n# x\n", Kind::Unknown),
            ("README.md", "---\npretty_name: Squad\n---\n# Squad\n", Kind::DatasetCard),
            ("README.md", "---\nlanguage: [en]\n---\n# Dataset Card for Squad\n", Kind::DatasetCard),
            ("README.md", "---\nlicenses: [mit]\n---\n# x\n", Kind::DatasetCard),
            ("README.md", "---\n[]\n---\n# broken\n", Kind::ModelCard),
            ("notes.md", "---\n[]\n---\n# not a card\n", Kind::Unknown),
            (
                "README.md",
                "---\nlicense: mit\n---\n# m\n```\n{{ bos_token }}{% for m in messages %}\n```\n",
                Kind::ModelCard,
            ),
        ];
        for (path, text, kind) in cases {
            assert_eq!(card_kind(path, text), kind, "{path}: {text}");
        }
        let forced = crate::input::LoadOptions { kind: Some(Kind::ModelCard), ..Default::default() };
        let docs = crate::Document::parse("docs/a.md", "---\ntitle: x\n---\n", &forced).expect("parses");
        assert_eq!(docs[0].kind(), Kind::ModelCard, "--kind still overrides");
    }
}
