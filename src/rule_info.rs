//! Rule metadata: what a rule is ([`RuleInfo`]) and how bad its findings are ([`Severity`]).
//!
//! Kept apart from the compiled program (`ir`) because it is public API: reports, writers and embedders
//! read it, while the program's representation is free to change.

use crate::input::Kind;

/// Severity of a rule's findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a run by default.
    Info,
    /// Minor.
    Low,
    /// Should be fixed.
    Medium,
    /// Must be fixed before release.
    High,
    /// Exploitable or non-compliant now.
    Critical,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 5] =
        [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Severity, String> {
        Severity::ALL
            .into_iter()
            .find(|v| v.name() == s)
            .ok_or_else(|| format!("unknown severity `{s}` (expected info, low, medium, high or critical)"))
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a rule is: its metadata, as written in the policy.
#[derive(Clone, Debug, serde::Serialize)]
#[non_exhaustive]
pub struct RuleInfo {
    /// The rule id, e.g. `MC-SC-001`.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// The `///` doc comment.
    pub description: String,
    /// Severity of its findings.
    pub severity: Severity,
    /// Document kinds it applies to.
    #[serde(serialize_with = "serialize_kinds")]
    pub kinds: Vec<Kind>,
    /// Framework controls it maps to (`OWASP-LLM03`, `EU-AI-Act-Art15`, ...).
    pub controls: Vec<String>,
    /// How to fix a finding.
    pub remediation: Option<String>,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// A link to more documentation.
    pub url: Option<String>,
    /// The package it belongs to.
    pub package: String,
    /// The policy file it is written in.
    pub file: String,
    /// Line of the `rule` keyword in that file.
    pub line: usize,
    /// The WASM plugins it calls, directly or through `fn`s: `alias (module path)`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<String>,
}

fn serialize_kinds<S: serde::Serializer>(kinds: &[Kind], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(kinds.iter().map(|k| k.name()))
}
