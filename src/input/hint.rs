//! What a file that does not parse would have been.
//!
//! `policy check .` on a real repository meets files in YAML, JSON or Markdown clothing that are not data:
//! `tsconfig.json` and `.vscode/settings.json` with comments, Helm templates (`{{ .Values.x }}`), MkDocs
//! configurations with `!!python/name:` tags, binary files with a text extension. Failing the whole run on
//! them teaches users to exclude folders blindly. But a file that rules *would* read and that does not parse
//! must still fail closed: a broken workflow or deployment is not a clean one.
//!
//! So, for a file found by walking a folder whose parse failed, this module guesses its kind from what is
//! left: its name and place (`.github/workflows/*.yml`, `dvc.yaml`, `MLproject`, `README.md`), and lines of
//! its raw text (`apiVersion:` with `kind:`, `bomFormat`, `pipelineInfo`, `on:` with `jobs:`). A guessed kind
//! goes back to the caller, which fails closed when a loaded rule reads that kind. Without a kind, a few
//! well-known shapes get their own reason (template, JSON with comments, Python tags, binary); the rest is
//! "nothing marks it as a kind the rules read". Every such file is listed as skipped, with the reason.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::kind::{DATASET_KEYS, MODEL_KEYS, by_file_name};
use super::{Format, Kind, LoadError};

/// Reasons a file that does not parse is passed over (`skipped[].reason`).
pub mod reason {
    /// `{{ }}` or `{% %}` markup: a Helm, Jinja or Go template.
    pub const TEMPLATE: &str = "does not parse: a template ({{ }}); check the rendered output instead";
    /// `//` or `/* */` comments in a `.json` file.
    pub const JSONC: &str =
        "does not parse: JSON with comments (such as tsconfig.json or editor settings), not an input of any rule";
    /// `!!python/...` tags.
    pub const PYTHON_TAGS: &str =
        "does not parse: YAML with Python object tags (such as an MkDocs configuration), not an input of any rule";
    /// Bytes that are not UTF-8 text.
    pub const BINARY: &str = "not text: binary content of no known model format";
    /// A kind was guessed, and no loaded rule reads it.
    pub const UNREAD_KIND: &str = "does not parse, and no loaded rule reads files of its kind";
    /// Nothing suggests a kind.
    pub const UNKNOWN: &str = "does not parse, and nothing marks it as a kind the rules read";
}

/// The verdict on a file that failed to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guess {
    /// It looks like a document of this kind.
    Kind(Kind),
    /// Nothing suggests a kind; the reason says what it seems to be.
    Unknown(&'static str),
}

/// Guesses what `path` would have been, given the error loading it. `None` when the error is not about the
/// file's content (unreadable, too large, not a regular file): those always stay errors.
pub fn guess(path: &Path, error: &LoadError) -> Option<Guess> {
    let binary = error.span.is_none() && error.message.starts_with("not valid UTF-8");
    let text = match error.source_text() {
        Some(source) if error.span.is_some() => source.text(),
        _ if binary => "",
        _ => return None,
    };
    if let Some(kind) = by_name(path, text) {
        return Some(Guess::Kind(kind));
    }
    if binary {
        return Some(Guess::Unknown(reason::BINARY));
    }
    // Go and Jinja statements (`{{ .Values.x }}`, `{{- include ... }}`, `{% if %}`) make a template whatever
    // resource it renders to. Other `{{ }}` may be data: Argo workflows write `{{inputs.parameters.x}}`, so a
    // kind the text names comes first.
    if GO_TEMPLATE.is_match(text) {
        return Some(Guess::Unknown(reason::TEMPLATE));
    }
    if let Some(kind) = by_content(text) {
        return Some(Guess::Kind(kind));
    }
    if TEMPLATE.is_match(text) {
        return Some(Guess::Unknown(reason::TEMPLATE));
    }
    if text.contains("!!python/") {
        return Some(Guess::Unknown(reason::PYTHON_TAGS));
    }
    if Format::from_path(path) == Some(Format::Json) && COMMENT.is_match(text) {
        return Some(Guess::Unknown(reason::JSONC));
    }
    Some(Guess::Unknown(reason::UNKNOWN))
}

/// A Go template action (Helm) or a Jinja statement.
static GO_TEMPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{\{-?\s*(?:\.|\$|(?:include|template|if|else|end|range|with|define|toYaml|tpl|printf)\b)|\{%")
        .expect("valid regex")
});
/// `{{` (but not a workflow expression's `${{`) or `{%`.
static TEMPLATE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?:^|[^$])\{\{|\{%").expect("valid regex"));
/// A comment at the start of a line or after `{`, `[` or `,` (not `//` inside a string such as a URL).
static COMMENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?m)(?:^|[{\[,])\s*(?://|/\*)").expect("valid regex"));
/// A key at the start of a line (YAML) or after `{` or `,` (JSON), optionally quoted.
fn key(name: &str) -> Regex {
    Regex::new(&format!(r#"(?m)(?:^\s{{0,2}}|[{{,]\s*)["']?{name}["']?\s*:"#)).expect("valid regex")
}
static API_VERSION: LazyLock<Regex> = LazyLock::new(|| key("apiVersion"));
static KIND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)(?:^\s{0,2}|[{,]\s*)["']?kind["']?\s*:\s*["']?([A-Za-z]+)"#).expect("valid regex")
});
static ON: LazyLock<Regex> = LazyLock::new(|| key("(on|\"on\"|true)"));
static JOBS: LazyLock<Regex> = LazyLock::new(|| key("jobs"));
/// A key of a model or dataset card's front matter (the keys `kind::detect_card` reads, plus the `language` and
/// `tags` every README card has).
static CARD_KEY: LazyLock<Regex> = LazyLock::new(|| {
    let keys: Vec<&str> = MODEL_KEYS.iter().chain(&DATASET_KEYS).chain(&["language", "tags"]).copied().collect();
    key(&format!("({})", keys.join("|")))
});
/// A key only dataset cards use.
static DATASET_KEY: LazyLock<Regex> = LazyLock::new(|| key(&format!("({})", DATASET_KEYS.join("|"))));

/// Kinds a file's name and place give away, whatever its content.
fn by_name(path: &Path, text: &str) -> Option<Kind> {
    let name = path.file_name()?.to_str()?;
    if let Some(kind) = by_file_name(name) {
        return Some(kind);
    }
    let components: Vec<&str> = path.components().filter_map(|c| c.as_os_str().to_str()).collect();
    let under_workflows = components.windows(2).any(|w| w == [".github", "workflows"]);
    if under_workflows && matches!(Format::from_path(path), Some(Format::Yaml)) {
        return Some(Kind::GitHubWorkflow);
    }
    if Format::from_path(path) == Some(Format::Markdown) {
        // Markdown fails to parse only in its front matter. A README's front matter is a Hugging Face card
        // (model or dataset); elsewhere, card keys in it say the same.
        let front = front_matter(text);
        let readme = name.eq_ignore_ascii_case("README.md");
        if readme || CARD_KEY.is_match(front) {
            let dataset = DATASET_KEY.is_match(front) || front.contains("Dataset Card for");
            return Some(if dataset { Kind::DatasetCard } else { Kind::ModelCard });
        }
    }
    None
}

/// The YAML between the opening `---` and the closing one (all of the text when it is not closed).
fn front_matter(text: &str) -> &str {
    let body = text.trim_start_matches('\u{feff}').trim_start();
    let body = body.strip_prefix("---").unwrap_or(body);
    body.find("\n---").map_or(body, |end| &body[..end])
}

/// Kinds a few lines of raw text give away, as `kind::detect` would have from the parsed data.
fn by_content(text: &str) -> Option<Kind> {
    if text.contains("bomFormat") && text.contains("CycloneDX") {
        return Some(Kind::MLBom);
    }
    if text.contains("spdxVersion") || text.contains("spdx.org/rdf") {
        return Some(Kind::SpdxAi);
    }
    if text.contains("pipelineInfo") {
        return Some(Kind::KubeflowPipeline);
    }
    if text.contains("ProductionVariants") {
        return Some(Kind::SageMakerEndpoint);
    }
    if ON.is_match(text) && JOBS.is_match(text) {
        return Some(Kind::GitHubWorkflow);
    }
    let kind = KIND.captures(text).and_then(|c| c.get(1)).map(|m| m.as_str());
    if API_VERSION.is_match(text) && kind.is_some() {
        return Some(if text.contains("serving.kserve.io") {
            Kind::InferenceService
        } else if text.contains("seldon.io") {
            Kind::Seldon
        } else if text.contains("argoproj.io") {
            Kind::ArgoWorkflow
        } else {
            Kind::Kubernetes
        });
    }
    kind.and_then(|k| k.parse::<Kind>().ok()).filter(|k| *k != Kind::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Document, LoadOptions};

    fn guess_for(name: &str, text: &str) -> Option<Guess> {
        let error = Document::parse(name, text, &LoadOptions::default()).expect_err("must not parse");
        guess(Path::new(name), &error)
    }

    #[test]
    fn files_that_no_rule_reads_get_a_reason() {
        let cases: &[(&str, &str, Guess)] = &[
            ("tsconfig.json", "{\n  // c\n  \"a\": 1,\n}\n", Guess::Unknown(reason::JSONC)),
            (".vscode/settings.json", "{\n  /* c */ \"a\": 1\n}\n", Guess::Unknown(reason::JSONC)),
            ("mkdocs.yml", "site_name: x\nf: !!python/name:a.b\n", Guess::Unknown(reason::PYTHON_TAGS)),
            ("docs/page.md", "---\ntitle: [x\n---\n# Page\n", Guess::Unknown(reason::UNKNOWN)),
            ("notes.yaml", "a: [1\n", Guess::Unknown(reason::UNKNOWN)),
            ("site/page.yaml", "title: {{ page.title }\n", Guess::Unknown(reason::TEMPLATE)),
            (
                "chart/templates/deploy.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    {{- include \"l\" . | nindent 4 }}\n",
                Guess::Unknown(reason::TEMPLATE),
            ),
        ];
        for (name, text, want) in cases {
            assert_eq!(guess_for(name, text).as_ref(), Some(want), "{name}");
        }
    }

    #[test]
    fn files_rules_read_are_recognised_without_parsing() {
        let cases: &[(&str, &str, Kind)] = &[
            (".github/workflows/ci.yml", "on: push\njobs: [\n", Kind::GitHubWorkflow),
            ("ci/release.yaml", "on:\n  push:\njobs:\n  a: {b\n", Kind::GitHubWorkflow),
            ("dvc.yaml", "stages: [\n", Kind::DvcPipeline),
            ("MLproject", "name: [\n", Kind::MLproject),
            (
                "deploy/isvc.yaml",
                "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nspec: {a\n",
                Kind::InferenceService,
            ),
            ("k8s/pod.json", "{\"apiVersion\": \"v1\", \"kind\": \"Pod\",}", Kind::Kubernetes),
            ("bom.json", "{\"bomFormat\": \"CycloneDX\",}", Kind::MLBom),
            ("README.md", "---\nlicense: [mit\n---\n# Model\n", Kind::ModelCard),
            ("cards/model.md", "---\nlibrary_name: x\nlicense: [mit\n---\n", Kind::ModelCard),
            ("data/README.md", "---\npretty_name: x\ntask_categories: [a\n---\n", Kind::DatasetCard),
            (
                "argo/train.yaml",
                "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  args: [\"{{inputs.parameters.x}}\"\n",
                Kind::ArgoWorkflow,
            ),
        ];
        for (name, text, want) in cases {
            assert_eq!(guess_for(name, text), Some(Guess::Kind(*want)), "{name}");
        }
    }

    #[test]
    fn errors_about_the_file_itself_are_not_guessed_about() {
        let error = LoadError::file("big.yaml", "over the 10 byte input limit");
        assert_eq!(guess(Path::new("big.yaml"), &error), None);
        let binary = LoadError::file("logo.json", "not valid UTF-8 text (invalid byte at offset 0)");
        assert_eq!(guess(Path::new("logo.json"), &binary), Some(Guess::Unknown(reason::BINARY)));
        let dvc = LoadError::file("dvc.lock", "not valid UTF-8 text (invalid byte at offset 0)");
        assert_eq!(guess(Path::new("dvc.lock"), &dvc), Some(Guess::Kind(Kind::DvcLock)));
    }
}
