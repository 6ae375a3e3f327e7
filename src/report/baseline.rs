//! Baselines: adopt Vigil on a repository with known findings, and fail only on new ones.
//!
//! `policy check --write-baseline FILE` records every current finding by a fingerprint; `--baseline FILE`
//! then drops the findings it records from the report (they no longer count towards the exit code) and
//! lists the recorded ones that are gone ("fixed"). The format is documented in `docs/output.md` and
//! versioned: a file of another version is refused, never half-read.
//!
//! A fingerprint must survive edits elsewhere in the file, so it is not made of line numbers. It hashes the
//! rule, the file relative to the repository root (so runs from any folder agree), the JSON pointer of the
//! offending value and the value's own text when it is a scalar: changing the value makes the finding new,
//! moving it does not. Absent data has no value to hash, and neither does a container (an object, a list, a
//! whole document), whose every edit would otherwise count as a new finding. Identical findings can occur more than once (two identical
//! containers in a multi-document file), so a baseline is a multiset: each recorded occurrence absorbs one.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Report;
use super::paths::Paths;
use crate::eval::{Cause, Finding};
use crate::ir::Severity;

/// Version of the baseline file format.
pub const VERSION: u32 = 1;

/// Scalars longer than this (in bytes of source text) are not part of the fingerprint.
const MAX_VALUE_BYTES: usize = 1024;

/// A finding's fingerprint: lowercase hex SHA-256 of its rule, root-relative file, pointer and value.
pub fn fingerprint(f: &Finding, paths: &Paths) -> String {
    if let Some(recorded) = &f.fingerprint {
        return recorded.clone();
    }
    let file = paths.shown(f.file());
    let value = match (&f.location, f.cause) {
        (_, Cause::MissingData) | (None, _) => String::new(),
        (Some(location), _) => {
            let text = f.source.text().get(location.span.range()).unwrap_or("").trim();
            // Only a scalar is "the value". A container's text changes with every edit inside it, and an
            // absent member is located at its parent (often the whole document).
            let container = text.contains('\n') || text.starts_with(['{', '[']) || text.len() > MAX_VALUE_BYTES;
            if container { String::new() } else { crate::hex::sha256(text.as_bytes()) }
        }
    };
    let mut hasher = Sha256::new();
    for part in [f.rule.id.as_str(), &file, f.pointer(), &value] {
        hasher.update(part.as_bytes());
        // A separator no part can contain keeps ("ab", "c") and ("a", "bc") apart.
        hasher.update([0u8]);
    }
    crate::hex::encode(&hasher.finalize())
}

/// The baseline file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// The Vigil version that wrote it (informative).
    #[serde(default)]
    pub tool: String,
    /// The recorded findings, sorted by file, rule and pointer so the file diffs well.
    pub findings: Vec<Entry>,
}

/// One recorded finding. Only `fingerprint` is matched; the rest says what it was, for people.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// See [`fingerprint`].
    pub fingerprint: String,
    /// The rule id.
    pub rule: String,
    /// The file, relative to the repository root.
    pub file: String,
    /// JSON pointer to the offending value.
    #[serde(default)]
    pub pointer: String,
    /// Its severity when recorded.
    pub severity: Severity,
    /// Its message when recorded.
    #[serde(default)]
    pub message: String,
}

impl Baseline {
    /// Every finding of `report`, waived ones included (a waiver can expire; the baseline should not care).
    pub fn of(report: &Report) -> Baseline {
        let mut findings: Vec<Entry> = report
            .findings
            .iter()
            .map(|f| Entry {
                fingerprint: fingerprint(f, &report.paths),
                rule: f.rule.id.clone(),
                file: report.paths.shown(f.file()),
                pointer: f.pointer().to_string(),
                severity: f.severity,
                message: f.message.clone(),
            })
            .collect();
        findings.sort_by(|a, b| {
            (&a.file, &a.rule, &a.pointer, &a.fingerprint).cmp(&(&b.file, &b.rule, &b.pointer, &b.fingerprint))
        });
        Baseline { version: VERSION, tool: format!("vigil {}", env!("CARGO_PKG_VERSION")), findings }
    }

    /// Writes the file's text: pretty JSON ending in a newline.
    pub fn render(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        out.write_all(b"\n")
    }

    /// Reads a baseline file's text; `name` is for messages.
    pub fn parse(name: &str, text: &str) -> Result<Baseline, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("{name}: not a Vigil baseline (invalid JSON: {e})"))?;
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => {
                return Err(format!(
                    "{name}: baseline format version {v} is not supported (this Vigil reads version {VERSION}); \
                     write a new one with --write-baseline"
                ));
            }
            None => return Err(format!("{name}: not a Vigil baseline (no `version`)")),
        }
        serde_json::from_value(value).map_err(|e| format!("{name}: not a valid Vigil baseline: {e}"))
    }
}

/// What a baseline did to a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Diff {
    /// The baseline file, as given.
    pub file: String,
    /// Findings the baseline records, left out of the report.
    pub unchanged: usize,
    /// Recorded findings that did not occur, in files that were checked.
    pub fixed: Vec<Entry>,
}

/// Removes the findings `baseline` records from `report` and records the difference in `report.baseline`.
/// Recorded findings of files this run did not check are neither kept nor fixed: a pre-commit run over two
/// changed files says nothing about the others.
pub fn apply(report: &mut Report, baseline: &Baseline, file: &str) {
    let mut left: HashMap<&str, usize> = HashMap::new();
    for entry in &baseline.findings {
        *left.entry(entry.fingerprint.as_str()).or_default() += 1;
    }
    let mut unchanged = 0;
    let findings = std::mem::take(&mut report.findings);
    for finding in findings {
        let print = fingerprint(&finding, &report.paths);
        match left.get_mut(print.as_str()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                unchanged += 1;
            }
            _ => report.findings.push(finding),
        }
    }
    let checked: std::collections::HashSet<String> =
        report.inputs.iter().map(|i| report.paths.shown(&i.path)).collect();
    let mut fixed = Vec::new();
    for entry in &baseline.findings {
        if let Some(n) = left.get_mut(entry.fingerprint.as_str())
            && *n > 0
            && checked.contains(&entry.file)
        {
            *n -= 1;
            fixed.push(entry.clone());
        }
    }
    report.baseline = Some(Diff { file: file.to_string(), unchanged, fixed });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Document, Engine};

    /// The fingerprints of a policy's findings on one input named `models/card.yaml`.
    fn prints(text: &str) -> Vec<String> {
        let policy = "package t\nrule \"T-1\" {\n  title = \"t\"\n  severity = low\n  applies_to = ModelCard\n  \
                      require input.license == \"mit\"\n  require exists(input.owner)\n  \
                      for t in input.tags ?? [] { require t != \"bad\" }\n}\n";
        let policies = Engine::default().compile([("t.policy", policy)]).expect("valid policy");
        let docs = Document::from_str("models/card.yaml", text).expect("valid input");
        let report = policies.evaluate(&docs);
        report.findings.iter().map(|f| fingerprint(f, &Paths::default())).collect()
    }

    #[test]
    fn fingerprints_follow_values_not_lines() {
        let base = prints("kind: ModelCard\nlicense: gpl-3.0\ntags: [bad, ok]\n");
        assert_eq!(base.len(), 3, "owner (absent), license, tag");
        // Lines move, keys are reordered, the list changes style: the same three.
        let moved = prints("# card\n\nkind: ModelCard\ntags:\n  - bad\n  - ok\nlicense: gpl-3.0\n");
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        assert_eq!(sorted(moved), sorted(base.clone()));
        // A changed value is a new finding; the others keep theirs.
        let changed = prints("kind: ModelCard\nlicense: gpl-2.0\ntags: [bad, ok]\n");
        // Findings in rule order: the owner (absent, located at the whole document), the license, the tag.
        assert_eq!((changed[0] == base[0], changed[1] == base[1], changed[2] == base[2]), (true, false, true));
    }

    #[test]
    fn other_versions_and_other_files_are_refused() {
        assert!(Baseline::parse("b.json", "{\"version\": 2, \"findings\": []}").unwrap_err().contains("version 2"));
        assert!(Baseline::parse("b.json", "[]").unwrap_err().contains("no `version`"));
        assert!(Baseline::parse("b.json", "{\"version\": 1, \"findings\": [{}]}").is_err());
        let empty = Baseline::parse("b.json", "{\"version\": 1, \"findings\": []}").unwrap();
        assert!(empty.findings.is_empty());
    }
}
