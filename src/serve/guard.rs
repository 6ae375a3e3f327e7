//! `POST /v1/guard`: one inference exchange → `allow`, `block` or `redact`.
//!
//! The body is an `InferenceExchange` (docs/serve.md): `prompt`, `system_prompt_id`, `system_prompt`,
//! `context` (retrieved passages), `response`, `sink`, `tool_calls`, `model`, `caller`, `api_key`,
//! `tokens`. It is recorded in the traffic window first (so `traffic(...)` counts it), then evaluated as an
//! `InferenceExchange` document by the runtime rules (policies/runtime/) and any others for that kind.
//!
//! Findings at or above the deny threshold block, except those of rules tagged `redact` (secrets and
//! personal data in a response): when only those fire, the decision is `redact` and the response comes
//! back with every match of the `runtime.redact_patterns` parameter replaced. A redaction that cannot be
//! made (no patterns loaded, a response that is not text) blocks instead, and so does a rule that could not
//! be evaluated.

use serde_json::{Value as Json, json};

use super::Generation;
use super::http::Decision;
use super::routes::{denies, error_text, record, rules};
use crate::input::{Document, Kind, LoadOptions};
use crate::report::Reported;

/// What replaces a redacted match.
const REDACTED: &str = "[REDACTED]";

pub(super) fn guard(state: &super::State, generation: &Generation, text: &str) -> Result<Decision, String> {
    let exchange: Json = serde_json::from_str(text).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Some(fields) = exchange.as_object() else {
        return Err("the body must be a JSON object: an inference exchange (see docs/serve.md)".into());
    };
    match fields.get("kind") {
        None => {}
        Some(Json::String(k)) if k == "InferenceExchange" => {}
        Some(other) => return Err(format!("`kind` must be `InferenceExchange` or absent, found {other}")),
    }
    let str_field = |k: &str| fields.get(k).and_then(Json::as_str);
    for key in ["prompt", "response", "caller", "api_key", "model", "system_prompt", "system_prompt_id", "sink"] {
        if let Some(v) = fields.get(key).filter(|v| !v.is_null() && !v.is_string()) {
            // `response` may also be an object (OpenAI-style choices); the others are text.
            if key != "response" || !v.is_object() {
                return Err(format!("`{key}` must be a string, found {}", kind_of(v)));
            }
        }
    }
    let tokens = tokens(fields.get("tokens"))?;
    let prompt = str_field("prompt");
    for dimension in crate::functions::traffic::DIMENSIONS {
        if let Some(key) = str_field(dimension) {
            state.window.record(dimension, key, tokens, prompt);
        }
    }
    // Parsed from the body itself, so findings point at lines of what the caller sent.
    let options = LoadOptions { kind: Some(Kind::InferenceExchange), ..LoadOptions::default() };
    let docs = Document::parse("exchange.json", text, &options).map_err(|e| error_text(&e))?;
    let session = generation.policies.session(&[]);
    let findings: Vec<Reported> = docs.iter().flat_map(|d| session.evaluate(d)).map(Reported::from).collect();
    let (mut block, mut redact) = (false, false);
    for f in findings.iter().filter(|f| denies(f, generation.deny_on)) {
        if f.rule.tags.iter().any(|t| t == "redact") && f.cause != crate::eval::Cause::Error {
            redact = true;
        } else {
            block = true;
        }
    }
    let mut redacted = None;
    if redact && !block {
        redacted = str_field("response").and_then(|r| redact_text(r, &generation.redact));
        // Fail closed: a redaction the server cannot make is a block.
        block = redacted.is_none();
    }
    let decision = if block {
        "block"
    } else if redacted.is_some() {
        "redact"
    } else {
        "allow"
    };
    let shown: Vec<Json> = findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule.id, "title": f.rule.title, "severity": f.severity, "cause": f.cause.name(),
                "message": f.message, "pointer": f.pointer(), "controls": f.rule.controls,
                "blocking": denies(f, generation.deny_on),
            })
        })
        .collect();
    let mut body = json!({"decision": decision, "findings": shown, "policies_sha256": generation.policies.digest()});
    if let Some(r) = &redacted {
        body["redacted"] = json!(r);
    }
    let mut log = record(&findings, decision);
    for key in ["caller", "api_key", "model", "system_prompt_id"] {
        if let Some(v) = str_field(key) {
            log[key] = json!(v);
        }
    }
    Ok(Decision { body: body.to_string(), outcome: decision, rules: rules(&findings), record: log })
}

/// The response with every match of the patterns replaced; `None` when there is nothing to apply.
fn redact_text(response: &str, patterns: &[regex::Regex]) -> Option<String> {
    if patterns.is_empty() {
        return None;
    }
    let mut out = response.to_string();
    for p in patterns {
        out = p.replace_all(&out, REDACTED).into_owned();
    }
    Some(out)
}

/// `tokens: {prompt, completion}` (or a plain total), non-negative whole numbers.
fn tokens(value: Option<&Json>) -> Result<u64, String> {
    let count = |v: Option<&Json>, what: &str| -> Result<u64, String> {
        match v {
            None | Some(Json::Null) => Ok(0),
            Some(n) => n.as_u64().ok_or_else(|| format!("`{what}` must be a whole number of tokens, found {n}")),
        }
    };
    match value {
        None | Some(Json::Null) => Ok(0),
        Some(Json::Object(t)) => {
            Ok(count(t.get("prompt"), "tokens.prompt")?
                .saturating_add(count(t.get("completion"), "tokens.completion")?))
        }
        Some(other) => count(Some(other), "tokens"),
    }
}

fn kind_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}
