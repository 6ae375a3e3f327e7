//! Reading a JSON report (`policy check --format json`) back into a [`Report`], so that `policy report merge`
//! can combine the reports of shards and render the result with the same writers as `policy check`.
//!
//! A JSON report holds positions (line and column), not the input text. The text is taken from the file
//! itself when it can be read where the merge runs and agrees with the report (every position fits and every
//! finding's fingerprint comes out the same), so the human and HTML reports show the offending lines;
//! otherwise it is stood in for by blank lines, which keep every position. A finding keeps the fingerprint it
//! was written with either way, since the value it hashes is not in the report.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use super::baseline::{Diff, Entry};
use super::paths::Paths;
use super::{Report, Reported};
use crate::eval::{Cause, Finding};
use crate::input::{Kind, LoadError, Location, Skipped};
use crate::ir::{RuleInfo, Severity};
use crate::source::{Source, Span};
use crate::waiver::{Waiver, WaiverMatch};

/// A JSON report read back, with what it says of its run besides the report.
#[derive(Debug)]
pub struct Read {
    /// The report.
    pub report: Report,
    /// The digest of the policy set it was checked with (absent in reports of a run stopped by a policy
    /// error, and in reports of Vigil before 0.1 recorded it).
    pub policy_digest: Option<String>,
    /// `(index, count)` of `--shard`, if the run was a shard.
    pub shard: Option<(u64, u64)>,
    /// The `--fail-on` it was checked with: `Some(None)` for `never`, `None` when the report does not say.
    pub fail_on: Option<Option<Severity>>,
    /// The Vigil version that wrote it.
    pub tool_version: String,
}

#[derive(Deserialize)]
struct In {
    version: u32,
    tool: InTool,
    #[serde(default)]
    policy_digest: Option<String>,
    #[serde(default)]
    shard: Option<InShard>,
    summary: InSummary,
    findings: Vec<InFinding>,
    errors: Vec<InError>,
    skipped: Vec<InSkipped>,
    #[serde(default)]
    unused_waivers: Vec<InWaiver>,
    #[serde(default)]
    baseline: Option<InDiff>,
    #[serde(default)]
    audit_log: Option<InHead>,
}

#[derive(Deserialize)]
struct InTool {
    version: String,
}

#[derive(Deserialize)]
struct InShard {
    index: u64,
    count: u64,
}

#[derive(Deserialize)]
struct InSummary {
    #[serde(default)]
    files: usize,
    /// Absent (policy-error reports), `null` (`never`) or a severity: kept as JSON to tell them apart.
    #[serde(default)]
    fail_on: Option<serde_json::Value>,
    #[serde(default)]
    kinds: BTreeMap<String, usize>,
}

#[derive(Deserialize)]
struct InFinding {
    rule: String,
    title: String,
    severity: Severity,
    cause: String,
    message: String,
    file: String,
    document: usize,
    kind: String,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    pointer: String,
    controls: Vec<String>,
    remediation: Option<String>,
    waiver: Option<InWaiverMatch>,
    fingerprint: String,
}

#[derive(Deserialize, Clone, PartialEq)]
struct InWaiver {
    rule: String,
    path: String,
    pointer: Option<String>,
    digest: Option<String>,
    reason: String,
    owner: String,
    approver: String,
    expires: String,
    declared_at: String,
}

#[derive(Deserialize)]
struct InWaiverMatch {
    #[serde(flatten)]
    waiver: InWaiver,
    expired: bool,
}

#[derive(Deserialize)]
struct InError {
    file: String,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
    /// `policy` for a report of a run stopped by a policy error, with its code.
    #[serde(default)]
    code: Option<String>,
}

#[derive(Deserialize)]
struct InSkipped {
    file: String,
    reason: String,
}

#[derive(Deserialize)]
struct InDiff {
    file: String,
    unchanged: usize,
    fixed: Vec<Entry>,
}

#[derive(Deserialize)]
struct InHead {
    sha256: String,
    entries: usize,
    signed: bool,
}

/// Reads a JSON report. `paths` is where the merge runs (fingerprints of files read back are checked with
/// it); `name` names the report in errors.
pub fn read(text: &str, paths: &Paths) -> Result<Read, String> {
    let input: In = serde_json::from_str(text).map_err(|e| format!("not a Vigil JSON report: {e}"))?;
    if input.version != 1 {
        return Err(format!("JSON report version {} is not supported (this Vigil reads version 1)", input.version));
    }
    let fail_on = match input.summary.fail_on {
        None => None,
        Some(serde_json::Value::Null) => Some(None),
        Some(v) => Some(Some(Severity::deserialize(v).map_err(|e| format!("summary.fail_on: {e}"))?)),
    };
    let mut report = Report { files: input.summary.files, ..Report::default() };
    for (name, n) in input.summary.kinds {
        *report.kinds.entry(name.parse::<Kind>()?).or_default() += n;
    }
    let texts = Texts::new(&input.findings, &input.errors, paths);
    let mut rules: HashMap<String, Arc<RuleInfo>> = HashMap::new();
    for f in input.findings {
        let rule = rules.entry(f.rule.clone()).or_insert_with(|| Arc::new(rule_of(&f))).clone();
        let finding = texts.finding(f, rule)?;
        report.findings.push(finding);
    }
    for e in input.errors {
        report.errors.push(texts.error(e));
    }
    report.skipped =
        input.skipped.into_iter().map(|s| Skipped { path: s.file.into(), reason: intern(s.reason) }).collect();
    report.unused_waivers = input.unused_waivers.into_iter().map(|w| Arc::new(waiver(w))).collect();
    report.baseline = input.baseline.map(|b| Diff { file: b.file, unchanged: b.unchanged, fixed: b.fixed });
    report.audit =
        input.audit_log.map(|h| crate::audit::Head { sha256: h.sha256, entries: h.entries, signed: h.signed });
    Ok(Read {
        report,
        policy_digest: input.policy_digest,
        shard: input.shard.map(|s| (s.index, s.count)),
        fail_on,
        tool_version: input.tool.version,
    })
}

/// The rule as far as a report tells: what reports show of it.
fn rule_of(f: &InFinding) -> RuleInfo {
    RuleInfo {
        id: f.rule.clone(),
        title: f.title.clone(),
        description: String::new(),
        severity: f.severity,
        kinds: f.kind.parse::<Kind>().into_iter().collect(),
        controls: f.controls.clone(),
        remediation: f.remediation.clone(),
        tags: Vec::new(),
        url: None,
        package: String::new(),
        file: String::new(),
        line: 0,
        plugins: Vec::new(),
    }
}

fn waiver(w: InWaiver) -> Waiver {
    Waiver {
        rule: w.rule,
        path: w.path,
        pointer: w.pointer,
        digest: w.digest,
        reason: w.reason,
        owner: w.owner,
        approver: w.approver,
        expires: w.expires,
        declared_at: w.declared_at,
        glob: None,
        expires_on: None,
    }
}

fn cause(name: &str) -> Result<Cause, String> {
    [Cause::Violation, Cause::MissingData, Cause::InvalidData, Cause::Error]
        .into_iter()
        .find(|c| c.name() == name)
        .ok_or_else(|| format!("unknown finding cause `{name}`"))
}

/// Skip reasons are `&'static str` constants; a report names them by text. Each distinct text is kept once.
fn intern(reason: String) -> &'static str {
    static SEEN: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = seen.iter().find(|s| **s == reason) {
        return known;
    }
    let leaked: &'static str = Box::leak(reason.into_boxed_str());
    seen.push(leaked);
    leaked
}

/// The text each file's positions point into: the file itself when it agrees with the report, else blanks.
struct Texts {
    sources: HashMap<String, Arc<Source>>,
}

impl Texts {
    fn new(findings: &[InFinding], errors: &[InError], paths: &Paths) -> Texts {
        // Per file, the (line, column) positions its findings and errors need.
        let mut needs: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
        for f in findings {
            if let (Some(l), Some(c)) = (f.line, f.column) {
                let at = needs.entry(&f.file).or_default();
                at.push((l, c));
                at.push((f.end_line.unwrap_or(l), f.end_column.unwrap_or(c)));
            }
        }
        for e in errors {
            if let (Some(l), Some(c)) = (e.line, e.column) {
                needs.entry(&e.file).or_default().push((l, c));
            }
        }
        let mut sources = HashMap::new();
        for (file, positions) in needs {
            let real = real_text(file, paths, &positions, findings);
            let source = real.unwrap_or_else(|| Source::new(file, blanks(&positions)));
            sources.insert(file.to_string(), source);
        }
        Texts { sources }
    }

    fn finding(&self, f: InFinding, rule: Arc<RuleInfo>) -> Result<Reported, String> {
        let positioned = self.sources.get(&f.file).filter(|_| f.line.is_some() && f.column.is_some());
        let (source, location) = match positioned {
            Some(source) => {
                let span = span_of(source, &f);
                let location = Location { span, key_span: Some(span), pointer: f.pointer.clone() };
                (source.clone(), Some(location))
            }
            // A finding on a file without text (a model file) keeps its pointer; one on nothing, none.
            None if !f.pointer.is_empty() => {
                let location = Location { span: Span::new(0, 0), key_span: None, pointer: f.pointer.clone() };
                (Source::new(f.file.as_str(), ""), Some(location))
            }
            None => (Source::new(f.file.as_str(), ""), None),
        };
        let finding = Finding {
            rule,
            severity: f.severity,
            message: f.message,
            cause: cause(&f.cause)?,
            source,
            document: f.document,
            kind: f.kind.parse::<Kind>()?,
            location,
            fingerprint: Some(f.fingerprint),
        };
        let waiver = f.waiver.map(|m| WaiverMatch { waiver: Arc::new(waiver(m.waiver)), expired: m.expired });
        Ok(Reported { finding, waiver })
    }

    fn error(&self, e: InError) -> LoadError {
        let message = match &e.code {
            Some(code) => format!("policy error {code}: {}", e.message),
            None => e.message,
        };
        match (self.sources.get(&e.file), e.line, e.column) {
            (Some(source), Some(line), Some(column)) => {
                let at = source.offset_of(line, column.saturating_sub(1));
                LoadError::syntax(source, Span::new(at, at), message).with_source(source)
            }
            _ => LoadError::file(&e.file, message),
        }
    }
}

fn span_of(source: &Source, f: &InFinding) -> Span {
    let (line, column) = (f.line.unwrap_or(1), f.column.unwrap_or(1));
    let start = source.offset_of(line, column.saturating_sub(1));
    let end = source.offset_of(f.end_line.unwrap_or(line), f.end_column.unwrap_or(column).saturating_sub(1));
    Span::new(start, end.max(start))
}

/// Lines of spaces long enough for every position.
fn blanks(positions: &[(usize, usize)]) -> String {
    let lines = positions.iter().map(|p| p.0).max().unwrap_or(1);
    let mut widths = vec![0usize; lines];
    for &(l, c) in positions {
        let w = &mut widths[l.max(1) - 1];
        *w = (*w).max(c);
    }
    widths.iter().map(|w| " ".repeat(*w)).collect::<Vec<_>>().join("\n")
}

/// The file as it is now, if every position lies in it and its findings' fingerprints come out as recorded.
fn real_text(file: &str, paths: &Paths, positions: &[(usize, usize)], findings: &[InFinding]) -> Option<Arc<Source>> {
    const LIMIT: u64 = 64 << 20;
    let opened = crate::confine::open_regular(std::path::Path::new(file)).ok()?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(opened, LIMIT), &mut text).ok()?;
    let source = Source::new(file, text);
    let fits = positions.iter().all(|&(l, c)| {
        let at = source.offset_of(l, c.saturating_sub(1));
        at <= source.text().len() && source.line_col(at as u32) == (l, c)
    });
    if !fits {
        return None;
    }
    let rule = Arc::new(RuleInfo { ..rule_of(findings.iter().find(|f| f.file == file)?) });
    let agrees = findings.iter().filter(|f| f.file == file && f.line.is_some()).all(|f| {
        let span = span_of(&source, f);
        let probe = Finding {
            rule: Arc::new(RuleInfo { id: f.rule.clone(), ..(*rule).clone() }),
            severity: f.severity,
            message: String::new(),
            cause: cause(&f.cause).unwrap_or(Cause::Violation),
            source: source.clone(),
            document: f.document,
            kind: Kind::ModelCard,
            location: Some(Location { span, key_span: Some(span), pointer: f.pointer.clone() }),
            fingerprint: None,
        };
        // The value hashed was the label's text, or nothing (a container, or data that is missing).
        let as_container = Finding { cause: Cause::MissingData, ..probe.clone() };
        [probe, as_container].iter().any(|p| super::baseline::fingerprint(p, paths) == f.fingerprint)
    });
    agrees.then_some(source)
}
