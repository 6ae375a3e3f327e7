//! The explanation tree: what `policy explain` prints and serializes.

use serde::Serialize;

use crate::value::Value;

use super::preview::preview;

/// The verdict of a rule on a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The document is of a kind the rule does not apply to.
    NotApplicable,
    /// A `when` guard was false: the rule's checks did not run.
    Skipped,
    /// Every check held.
    Passed,
    /// A check failed.
    Failed,
    /// A check could not be evaluated (missing or invalid data, an error), and none failed outright.
    Unknown,
}

/// Why a rule came out as it did on one document.
#[derive(Debug, Serialize)]
pub struct Explanation {
    /// The rule id.
    pub rule: String,
    /// The input file.
    pub file: String,
    /// The document's index in the file.
    pub document: usize,
    /// The document's kind.
    pub kind: String,
    /// How the rule came out.
    pub verdict: Verdict,
    /// One line saying why.
    pub summary: String,
    /// The statements, as they ran.
    pub steps: Vec<Step>,
    /// The findings `policy check` reports for this rule and document.
    pub findings: Vec<FindingBrief>,
}

/// A finding, short.
#[derive(Debug, Serialize)]
pub struct FindingBrief {
    /// Its message.
    pub message: String,
    /// `violation`, `missing-data`, `invalid-data` or `error`.
    pub cause: String,
    /// Line in the input file.
    pub line: Option<usize>,
    /// JSON pointer in the document.
    pub pointer: Option<String>,
}

/// One statement (or loop element) and what it did.
#[derive(Debug, Serialize)]
pub struct Step {
    /// `when`, `let`, `require`, `forbid`, `for`, `item`.
    pub statement: &'static str,
    /// The source text.
    pub text: String,
    /// Line in the policy file.
    pub line: usize,
    /// `holds`, `fails`, `guard-false`, `error`, `bound`, `iterated`.
    pub outcome: &'static str,
    /// What went wrong, for `error` (the missing data, the wrong type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Where in the input (a failing check's `at`, a loop element).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Place>,
    /// The condition or value, with its sub-expressions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Node>,
    /// A loop's elements (those that failed first), or the statements inside one element.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Step>,
    /// Elements of a loop that passed and are not shown.
    #[serde(skip_serializing_if = "is_zero")]
    pub passed_items: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A place in the input file.
#[derive(Debug, Serialize)]
pub struct Place {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// JSON pointer in the document.
    pub pointer: String,
}

/// A sub-expression and its value.
#[derive(Debug, Serialize)]
pub struct Node {
    /// The source text.
    pub text: String,
    /// The value, as shortened JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Why there is no value (missing data, a wrong type, an error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// For `all`/`any`/`none`: the element that decided it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// Its sub-expressions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

impl Node {
    pub(super) fn leaf(text: &str, value: &Value) -> Node {
        Node {
            text: text.to_string(),
            value: Some(preview(value)),
            problem: None,
            decided_by: None,
            children: Vec::new(),
        }
    }
}
