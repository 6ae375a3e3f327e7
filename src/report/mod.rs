//! Reports: what a run found, and every way of showing it. The only module that formats output.

#[cfg(feature = "cli")]
pub mod human;
pub mod json;

use std::collections::BTreeMap;

use crate::eval::Finding;
use crate::input::{Document, Kind, LoadError, Location, Skipped};
use crate::ir::Severity;
use crate::source::{Source, Span};

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

/// The span to underline for a location: the value if it fits on one line, else its key, else its first line.
pub(crate) fn location_span(source: &Source, location: &Location) -> Span {
    let text = source.text();
    let span = location.span;
    let value = text.get(span.range()).unwrap_or("");
    if !value.is_empty() && !value.contains('\n') {
        return span;
    }
    if let Some(key) = location.key_span.filter(|k| !k.is_empty()) {
        return key;
    }
    let line = value.split('\n').next().unwrap_or("").trim_end();
    Span::new(span.start as usize, span.start as usize + line.len())
}
