//! Reports: what a run found, and every way of showing it. The only module that formats output.

pub mod catalog;
#[cfg(feature = "cli")]
pub mod human;
pub mod json;
pub mod yaml;

use std::collections::BTreeMap;

use crate::eval::Finding;
use crate::input::{Document, Kind, LoadError, Skipped};
use crate::ir::Severity;

/// Everything a run produced: findings, input errors and what was read.
#[derive(Debug, Default)]
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

    /// Findings at or above `threshold`.
    pub fn failing(&self, threshold: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity >= threshold).count()
    }
}
