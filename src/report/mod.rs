//! Reports: what a run found, and every way of showing it. The only module that formats output.

pub mod baseline;
pub mod catalog;
pub mod github;
pub mod html;
#[cfg(feature = "render")]
pub mod human;
pub mod json;
pub mod junit;
pub mod paths;
pub mod read;
pub mod sarif;
pub mod yaml;

use std::collections::BTreeMap;

use crate::eval::Finding;
use crate::input::{Document, Kind, LoadError, Skipped};
use crate::ir::Severity;

/// Everything a run produced: findings, input errors and what was read.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Report {
    /// Findings, in input order.
    pub findings: Vec<Finding>,
    /// Inputs that could not be loaded.
    pub errors: Vec<LoadError>,
    /// Files passed over while walking folders.
    pub skipped: Vec<Skipped>,
    /// Documents evaluated, by kind.
    pub kinds: BTreeMap<Kind, usize>,
    /// Files read.
    pub files: usize,
    /// Every input file read, with its SHA-256 (for the audit log and digest-pinned waivers).
    pub inputs: Vec<InputRecord>,
    /// Waivers that matched no finding.
    pub unused_waivers: Vec<std::sync::Arc<crate::waiver::Waiver>>,
    /// The repository root and working directory: SARIF, JUnit and fingerprints name files from the root.
    pub paths: paths::Paths,
    /// What `--baseline` left out and found fixed, when one was given.
    pub baseline: Option<baseline::Diff>,
    /// The audit log's head after this run's entry, when the run appended one.
    pub audit: Option<crate::audit::Head>,
}

/// An input file and the SHA-256 of its bytes.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InputRecord {
    /// The path, as given.
    pub path: String,
    /// Lowercase hex SHA-256 (`null` when hashing of model files is switched off).
    pub sha256: Option<String>,
}

impl Report {
    /// Counts a document as evaluated.
    pub fn count_document(&mut self, doc: &Document) {
        *self.kinds.entry(doc.kind()).or_default() += 1;
    }

    /// Documents evaluated.
    pub fn documents(&self) -> usize {
        self.kinds.values().sum()
    }

    /// Findings at or above `threshold` that no current waiver covers.
    pub fn failing(&self, threshold: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity >= threshold && !f.waived()).count()
    }

    /// The exit code the findings and input errors earn (docs/output.md): 2 when an input could not be read,
    /// 1 when an unwaived finding is at or above `fail_on` or a rule could not be evaluated (cause `error`:
    /// not knowing is not clean, whatever its severity), else 0. `fail_on: None` is `--fail-on never`.
    /// Callers add their own reasons for 2, such as a run that checked no document.
    pub fn exit_code(&self, fail_on: Option<Severity>) -> u8 {
        let unevaluated = || self.findings.iter().any(|f| f.cause == crate::eval::Cause::Error && !f.waived());
        if !self.errors.is_empty() {
            2
        } else if fail_on.is_some_and(|s| self.failing(s) > 0) || (fail_on.is_some() && unevaluated()) {
            1
        } else {
            0
        }
    }

    /// Findings a current waiver covers.
    pub fn waived(&self) -> usize {
        self.findings.iter().filter(|f| f.waived()).count()
    }
}
