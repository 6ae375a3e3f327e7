//! What evaluation reports: a rule that failed on a document, where, and why.

use std::sync::Arc;

use crate::input::{Kind, Location};
use crate::ir::{RuleInfo, Severity};
use crate::source::Source;

/// Why a finding was raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Cause {
    /// The document breaks the rule.
    Violation,
    /// Data the rule needs is absent, so it cannot pass (missing data fails closed).
    MissingData,
    /// Data has the wrong type for the rule (a string where a list was expected, a null, ...).
    InvalidData,
    /// The rule could not be evaluated (a function failed, arithmetic overflowed, the step budget ran out).
    Error,
}

impl Cause {
    /// The name used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Cause::Violation => "violation",
            Cause::MissingData => "missing-data",
            Cause::InvalidData => "invalid-data",
            Cause::Error => "error",
        }
    }
}

/// One rule failing on one document.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Finding {
    /// The rule.
    pub rule: Arc<RuleInfo>,
    /// Its severity (the rule's, unless a profile changed it).
    pub severity: Severity,
    /// What is wrong, in words.
    pub message: String,
    /// Why the finding was raised.
    pub cause: Cause,
    /// The input file's text (the document itself is not kept, so reports stay small).
    pub source: Arc<Source>,
    /// Which document of the file (multi-document YAML), from 0.
    pub document: usize,
    /// The document's kind.
    pub kind: Kind,
    /// Where in the document's file, when known.
    pub location: Option<Location>,
    /// The fingerprint recorded for a finding read back from a JSON report (`policy report merge`): the
    /// value it hashes is not in the report, so it cannot be computed again.
    pub(crate) fingerprint: Option<String>,
}

impl Finding {
    /// The input file's name, as given.
    pub fn file(&self) -> &str {
        self.source.name()
    }

    /// The span to point at in the input file: the value when it fits on one line, else its key, else its
    /// first line. `None` when the input has no text (data given as a value, binary artifacts).
    pub fn span(&self) -> Option<crate::source::Span> {
        let location = self.location.as_ref()?;
        if self.source.text().is_empty() {
            return None;
        }
        Some(location.label_span(self.source.text()))
    }

    /// 1-based line and column in the input file.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        Some(self.source.line_col(self.span()?.start))
    }

    /// JSON pointer to the offending value (`""` is the whole document).
    pub fn pointer(&self) -> &str {
        self.location.as_ref().map_or("", |l| l.pointer.as_str())
    }
}
