//! `/readyz`, `/v1/check` and `/v1/admission`.
//!
//! A check answers exactly what `policy check --format json` writes (the same writer). An admission
//! review's object is parsed as the document it is, so its kind is detected from its own `apiVersion` and
//! `kind` (a KServe InferenceService, a SeldonDeployment, a Deployment ...) and the same rules apply as to
//! the manifest file.

use hyper::StatusCode;
use serde_json::{Value as Json, json};

use super::Generation;
use super::http::{Answer, Decision};
use crate::eval::{Cause, Finding};
use crate::input::{Document, Kind, LoadOptions};
use crate::report::Reported;
use crate::rule_info::Severity;

/// Kubernetes shows at most this many characters of one warning, and this many in all.
const WARNING_CHARS: usize = 256;
const WARNINGS_TOTAL: usize = 4096;

pub(super) fn ready(state: &super::State) -> Answer {
    let generation = state.current();
    let reload_error = state.reload_error.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let log_broken = state.log.as_ref().is_some_and(|l| l.is_broken());
    let body = json!({
        "ready": !log_broken,
        "policies_sha256": generation.policies.digest(),
        "rules": generation.policies.rules().count(),
        // A failed reload keeps the previous set serving: still ready, but the reason is shown.
        "reload_error": reload_error,
        "decision_log": state.log.as_ref().map(|l| if l.is_broken() { "broken" } else { "ok" }),
    });
    let status = if log_broken { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    Answer::json(status, body.to_string())
}

/// `POST /v1/check[?kind=KIND][&name=FILE]`: the body is one file's text, JSON or YAML (several YAML
/// documents allowed). `name` gives the file name findings carry (and its extension the format); `kind`
/// forces the kind instead of detecting it.
pub(super) fn check(generation: &Generation, text: &str, content_type: &str, query: &str) -> Result<Decision, String> {
    let mut options = LoadOptions::default();
    let mut name = None;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*key {
            "kind" => options.kind = Some(value.parse::<Kind>()?),
            "name" => name = Some(value.into_owned()),
            other => return Err(format!("unknown query parameter `{other}` (expected kind, name)")),
        }
    }
    let name = name.unwrap_or_else(|| {
        let yaml = content_type.contains("yaml");
        if yaml {
            "request.yaml"
        } else if content_type.contains("json") {
            "request.json"
        } else {
            "request"
        }
        .into()
    });
    let docs = Document::parse(&name, text, &options).map_err(|e| error_text(&e))?;
    let report = generation.policies.evaluate(&docs);
    let failing = generation.deny_on.map_or(0, |s| report.failing(s));
    let unknown = report.findings.iter().filter(|f| f.cause == Cause::Error).count();
    let outcome = if failing > 0 || unknown > 0 { "fail" } else { "pass" };
    let body = crate::report::to_string(|out| crate::report::json::render(&report, generation.deny_on, out));
    Ok(Decision { record: record(&report.findings, outcome), rules: rules(&report.findings), outcome, body })
}

/// `POST /v1/admission`: an `admission.k8s.io/v1` AdmissionReview → the same review with its `response`.
pub(super) fn admission(generation: &Generation, text: &str) -> Result<Decision, String> {
    let review: Json = serde_json::from_str(text).map_err(|e| format!("the body is not JSON: {e}"))?;
    let api = review.get("apiVersion").and_then(Json::as_str).unwrap_or("");
    if api != "admission.k8s.io/v1" || review.get("kind").and_then(Json::as_str) != Some("AdmissionReview") {
        return Err(format!(
            "expected an AdmissionReview of apiVersion admission.k8s.io/v1, found apiVersion `{api}` (see docs/serve.md)"
        ));
    }
    let request = review.get("request").ok_or("the AdmissionReview has no `request`")?;
    let uid = request.get("uid").and_then(Json::as_str).ok_or("the AdmissionReview request has no `uid`")?;
    let dry_run = request.get("dryRun").and_then(Json::as_bool).unwrap_or(false);
    let operation = request.get("operation").and_then(Json::as_str).unwrap_or("");
    let object = request.get("object").filter(|o| o.is_object());
    let mut findings = Vec::new();
    let mut shown = String::new();
    if let Some(object) = object {
        // The object becomes the document `policy check` would read from its manifest file; its path names
        // what it is, so messages and the decision log say which object was refused.
        let text = serde_json::to_string_pretty(object).map_err(|e| e.to_string())?;
        let meta = |k: &str| object.get("metadata").and_then(|m| m.get(k)).and_then(Json::as_str);
        let kind = object.get("kind").and_then(Json::as_str).unwrap_or("object");
        let ns = meta("namespace").or(request.get("namespace").and_then(Json::as_str)).unwrap_or("_");
        let name = meta("name").or(meta("generateName")).or(request.get("name").and_then(Json::as_str)).unwrap_or("_");
        shown = format!("{kind} {ns}/{name}");
        let file = format!("admission/{}/{}/{}.json", safe(ns), safe(kind), safe(name));
        let docs = Document::parse(&file, &text, &LoadOptions::default()).map_err(|e| error_text(&e))?;
        findings = generation.policies.evaluate(&docs).findings;
    }
    // DELETE and CONNECT carry no object to judge: allowed, with nothing to say.
    let (deny, warn): (Vec<&Reported>, Vec<&Reported>) =
        findings.iter().filter(|f| !f.waived()).partition(|f| denies(f, generation.deny_on));
    let allowed = deny.is_empty();
    let mut response = json!({"uid": uid, "allowed": allowed});
    if !allowed {
        let reasons: Vec<String> = deny.iter().map(|f| line(f)).collect();
        let message = format!("Vigil denied {shown}: {}", reasons.join("; "));
        response["status"] = json!({"code": 403, "reason": "Forbidden", "message": message});
    }
    let mut warnings = Vec::new();
    let mut total = 0;
    for f in &warn {
        let w: String = line(f).chars().take(WARNING_CHARS).collect();
        total += w.len();
        if total > WARNINGS_TOTAL {
            warnings.push(format!("... and {} more findings (see the decision log)", warn.len() - warnings.len()));
            break;
        }
        warnings.push(w);
    }
    if !warnings.is_empty() {
        response["warnings"] = json!(warnings);
    }
    let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response});
    let outcome = if allowed { "allow" } else { "deny" };
    let mut log = record(&findings, outcome);
    log["uid"] = uid.into();
    log["object"] = shown.into();
    log["operation"] = operation.into();
    // A dry run is answered the same; its record says so, so it is never read as a real admission.
    log["dry_run"] = dry_run.into();
    Ok(Decision { body: body.to_string(), outcome, rules: rules(&findings), record: log })
}

/// Whether a finding denies: at or above the threshold, or a rule that could not be evaluated (not
/// knowing is not clean).
pub(super) fn denies(f: &Finding, deny_on: Option<Severity>) -> bool {
    f.cause == Cause::Error || deny_on.is_some_and(|s| f.severity >= s)
}

/// `[RULE] message (at /pointer)`.
fn line(f: &Finding) -> String {
    let at = if f.pointer().is_empty() { String::new() } else { format!(" (at {})", f.pointer()) };
    format!("[{}] {}{at}", f.rule.id, f.message)
}

/// A path segment from a name the request chose: no separators, no dot-dot.
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
        .collect::<String>()
        .replace("..", "__")
}

pub(super) fn rules(findings: &[Reported]) -> Vec<String> {
    let mut ids: Vec<String> = findings.iter().map(|f| f.rule.id.clone()).collect();
    ids.dedup();
    ids
}

/// The decision-log record of findings: rule, severity, pointer and message, no input text.
pub(super) fn record(findings: &[Reported], outcome: &str) -> Json {
    let findings: Vec<Json> = findings
        .iter()
        .map(|f| json!({"rule": f.rule.id, "severity": f.severity, "cause": f.cause.name(), "pointer": f.pointer(), "message": f.message, "waived": f.waived()}))
        .collect();
    json!({"decision": outcome, "findings": findings})
}

/// A load error as one line with its position.
pub(super) fn error_text(e: &crate::input::LoadError) -> String {
    match e.line_col() {
        Some((line, col)) => format!("{e} (line {line}, column {col})"),
        None => e.to_string(),
    }
}
