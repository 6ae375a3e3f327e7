//! The JSON report: one object, documented in `docs/output.md`. Version 1 only ever gains fields.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Report;
use crate::ir::Severity;

#[derive(Serialize)]
struct Json<'a> {
    version: u32,
    tool: Tool,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_digest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<JsonShard>,
    summary: Summary,
    findings: Vec<JsonFinding<'a>>,
    errors: Vec<JsonError<'a>>,
    skipped: Vec<JsonSkipped>,
    unused_waivers: Vec<&'a crate::waiver::Waiver>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<&'a super::baseline::Diff>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audit_log: Option<&'a crate::audit::Head>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<JsonWarning<'a>>,
}

#[derive(Serialize)]
struct JsonWaiver<'a> {
    #[serde(flatten)]
    waiver: &'a crate::waiver::Waiver,
    expired: bool,
}

#[derive(Serialize)]
struct JsonShard {
    index: u64,
    count: u64,
}

/// What the JSON report records of the run besides the report: `policy report merge` refuses to combine
/// reports of different policy sets, and checks that every shard is there.
#[derive(Clone, Copy, Debug, Default)]
pub struct Run<'a> {
    /// The policy set's digest ([`crate::PolicySet::digest`]).
    pub policy_digest: Option<&'a str>,
    /// `(index, count)` of `policy check --shard`.
    pub shard: Option<(u64, u64)>,
    /// Warnings about the policies ([`crate::PolicySet::warnings`]: `vigil::unknown-path`), which a JSON
    /// run would otherwise lose: the human report prints them on standard error.
    pub warnings: &'a [crate::diagnostic::Diagnostic],
}

/// A policy warning: where in which policy file, and what (with the "did you mean", if any).
#[derive(Serialize)]
struct JsonWarning<'a> {
    code: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
    help: Option<&'a str>,
}

fn warning(d: &crate::diagnostic::Diagnostic) -> JsonWarning<'_> {
    let (line, column) = d.source.line_col(d.span.start);
    let (end_line, end_column) = d.source.line_col(d.span.end);
    JsonWarning {
        code: d.code.as_str(),
        file: d.source.name(),
        line,
        column,
        end_line,
        end_column,
        message: &d.message,
        help: d.help.as_deref(),
    }
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    documents: usize,
    findings: usize,
    errors: usize,
    skipped: usize,
    fail_on: Option<Severity>,
    failing: Option<usize>,
    waived: usize,
    by_severity: BTreeMap<&'static str, usize>,
    kinds: BTreeMap<&'static str, usize>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    title: &'a str,
    severity: Severity,
    cause: &'static str,
    message: &'a str,
    file: &'a str,
    document: usize,
    kind: &'static str,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    pointer: &'a str,
    controls: &'a [String],
    remediation: Option<&'a str>,
    waived: bool,
    waiver: Option<JsonWaiver<'a>>,
    fingerprint: String,
}

#[derive(Serialize)]
struct JsonError<'a> {
    file: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonSkipped {
    file: String,
    reason: &'static str,
}

/// The report as pretty JSON. `fail_on` is echoed in the summary with the count of findings at or above it.
pub fn render(report: &Report, fail_on: Option<Severity>) -> String {
    render_run(report, fail_on, Run::default())
}

/// [`render`], recording the policy set's digest and the shard.
pub fn render_run(report: &Report, fail_on: Option<Severity>, run: Run<'_>) -> String {
    let mut by_severity: BTreeMap<&'static str, usize> = Severity::ALL.iter().map(|s| (s.name(), 0)).collect();
    for f in &report.findings {
        *by_severity.entry(f.severity.name()).or_default() += 1;
    }
    let findings = report
        .findings
        .iter()
        .map(|f| {
            let span = f.span();
            let start = span.map(|s| f.source.line_col(s.start));
            let end = span.map(|s| f.source.line_col(s.end));
            JsonFinding {
                rule: &f.rule.id,
                title: &f.rule.title,
                severity: f.severity,
                cause: f.cause.name(),
                message: &f.message,
                file: f.file(),
                document: f.document,
                kind: f.kind.name(),
                line: start.map(|p| p.0),
                column: start.map(|p| p.1),
                end_line: end.map(|p| p.0),
                end_column: end.map(|p| p.1),
                pointer: f.pointer(),
                controls: &f.rule.controls,
                remediation: f.rule.remediation.as_deref(),
                waived: f.waived(),
                waiver: f.waiver.as_ref().map(|m| JsonWaiver { waiver: &m.waiver, expired: m.expired }),
                fingerprint: super::baseline::fingerprint(f, &report.paths),
            }
        })
        .collect();
    let errors = report
        .errors
        .iter()
        .map(|e| {
            let at = e.line_col();
            JsonError { file: &e.file, line: at.map(|p| p.0), column: at.map(|p| p.1), message: &e.message }
        })
        .collect();
    let skipped = report
        .skipped
        .iter()
        .map(|s| JsonSkipped { file: s.path.to_string_lossy().into_owned(), reason: s.reason })
        .collect();
    let json = Json {
        version: 1,
        tool: Tool { name: "vigil", version: env!("CARGO_PKG_VERSION") },
        policy_digest: run.policy_digest,
        shard: run.shard.map(|(index, count)| JsonShard { index, count }),
        summary: Summary {
            files: report.files,
            documents: report.documents(),
            findings: report.findings.len(),
            errors: report.errors.len(),
            skipped: report.skipped.len(),
            fail_on,
            failing: fail_on.map(|s| report.failing(s)),
            waived: report.waived(),
            by_severity,
            kinds: report.kinds.iter().map(|(k, n)| (k.name(), *n)).collect(),
        },
        findings,
        errors,
        skipped,
        unused_waivers: report.unused_waivers.iter().map(|w| &**w).collect(),
        baseline: report.baseline.as_ref(),
        audit_log: report.audit.as_ref(),
        warnings: run.warnings.iter().map(warning).collect(),
    };
    let mut text = serde_json::to_string_pretty(&json).unwrap_or_default();
    text.push('\n');
    text
}

#[derive(Serialize)]
struct PolicyError<'a> {
    kind: &'static str,
    code: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    message: &'a str,
    help: Option<&'a str>,
}

/// Policy problems as a JSON report with no findings (the run stopped before reading inputs).
pub fn render_policy_errors(diagnostics: &[crate::diagnostic::Diagnostic]) -> String {
    let errors: Vec<PolicyError<'_>> = diagnostics
        .iter()
        .map(|d| {
            let (line, column) = d.source.line_col(d.span.start);
            PolicyError {
                kind: "policy",
                code: d.code.as_str(),
                file: d.source.name(),
                line,
                column,
                message: &d.message,
                help: d.help.as_deref(),
            }
        })
        .collect();
    let value = serde_json::json!({
        "version": 1,
        "tool": { "name": "vigil", "version": env!("CARGO_PKG_VERSION") },
        "summary": { "files": 0, "documents": 0, "findings": 0, "errors": errors.len(), "skipped": 0 },
        "findings": [],
        "errors": errors,
        "skipped": [],
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
