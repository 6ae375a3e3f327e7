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
#[cfg(feature = "render")]
mod snippet;
pub mod yaml;

use std::collections::BTreeMap;

use crate::eval::Finding;
use crate::input::{Document, Kind, LoadError, Skipped};
use crate::ir::Severity;
use crate::waiver::WaiverMatch;

/// Everything a run produced: findings, input errors and what was read.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Report {
    /// Findings, in input order, each with the waiver that covers it ([`crate::waiver::apply`] sets them).
    pub findings: Vec<Reported>,
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

/// A finding as a report holds it: what the evaluator found, and beside it the waiver that covers it. The
/// evaluator knows nothing of waivers; they are the tool layer's exceptions, applied to a finished report.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Reported {
    /// What the evaluator found.
    pub finding: Finding,
    /// The waiver that covers it, if any (an expired one does not waive it).
    pub(crate) waiver: Option<WaiverMatch>,
}

impl Reported {
    /// The waiver covering the finding, current or expired; `None` when none does.
    pub fn waiver(&self) -> Option<&WaiverMatch> {
        self.waiver.as_ref()
    }

    /// Whether a current (unexpired) waiver covers the finding: it is reported but does not fail the run.
    pub fn waived(&self) -> bool {
        self.waiver.as_ref().is_some_and(|w| !w.expired)
    }
}

impl From<Finding> for Reported {
    /// A finding no waiver covers (yet).
    fn from(finding: Finding) -> Self {
        Reported { finding, waiver: None }
    }
}

impl std::ops::Deref for Reported {
    type Target = Finding;

    fn deref(&self) -> &Finding {
        &self.finding
    }
}

/// The text a report writer writes, for callers that need it whole (HTTP bodies, the Python package,
/// tests): `report::to_string(|out| json::render(&report, None, out))`. The writers themselves write to
/// any `io::Write`, so `policy check` streams large reports instead of building them in memory.
pub fn to_string(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut bytes = Vec::new();
    // Writing into a `Vec` cannot fail, and writers only ever write UTF-8.
    let _ = write(&mut bytes);
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
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
        self.findings.iter().filter(|f| f.finding.severity >= threshold && !f.waived()).count()
    }

    /// The exit code the findings and input errors earn (docs/output.md): 2 when an input could not be read,
    /// 1 when an unwaived finding is at or above `fail_on` or a rule could not be evaluated (cause `error`:
    /// not knowing is not clean, whatever its severity), else 0. `fail_on: None` is `--fail-on never`.
    /// Callers add their own reasons for 2, such as a run that checked no document.
    pub fn exit_code(&self, fail_on: Option<Severity>) -> u8 {
        let unevaluated = || self.findings.iter().any(|f| f.finding.cause == crate::eval::Cause::Error && !f.waived());
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
