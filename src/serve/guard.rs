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
use super::routes::{denies, error_text, record, rules, waiver_note};
use crate::input::{Document, Kind, LoadOptions};
use crate::report::Reported;
use crate::value::Value;

/// What replaces a redacted match.
const REDACTED: &str = "[REDACTED]";

pub(super) fn guard(state: &super::State, generation: &Generation, text: &str) -> Result<Decision, String> {
    // Parsed once, as the document the rules read (findings point at lines of what the caller sent); the
    // fields below are read from that document rather than from a second parse of the body.
    let options = LoadOptions::default().with_kind(Kind::InferenceExchange);
    let docs = Document::parse("exchange.json", text, &options).map_err(|e| not_an_exchange(text, &e))?;
    let exchange = match docs.as_slice() {
        [doc] => doc.data(),
        _ => return Err(NOT_AN_OBJECT.into()),
    };
    if exchange.as_object().is_none() {
        return Err(NOT_AN_OBJECT.into());
    }
    match exchange.get("kind") {
        None => {}
        Some(Value::String(k)) if &**k == "InferenceExchange" => {}
        Some(other) => return Err(format!("`kind` must be `InferenceExchange` or absent, found {}", other.to_json())),
    }
    let str_field = |k: &str| exchange.get(k).and_then(Value::as_str);
    for key in ["prompt", "response", "caller", "api_key", "model", "system_prompt", "system_prompt_id", "sink"] {
        if let Some(v) = exchange.get(key).filter(|v| !v.is_null() && v.as_str().is_none()) {
            // `response` may also be an object (OpenAI-style choices); the others are text.
            if key != "response" || v.as_object().is_none() {
                return Err(format!("`{key}` must be a string, found {}", kind_of(v)));
            }
        }
    }
    let tokens = tokens(exchange.get("tokens"))?;
    let prompt = str_field("prompt");
    for dimension in crate::functions::traffic::DIMENSIONS {
        if let Some(key) = str_field(dimension) {
            state.window.record(dimension, key, tokens, prompt);
        }
    }
    // An exchange is judged on its own: `documents(...)` sees no other document.
    let session = generation.session(&[]);
    let findings: Vec<Reported> = docs.iter().flat_map(|d| session.evaluate(d)).map(Reported::from).collect();
    // Waivers as `policy check` applies them, matched against the path `exchange.json`: a waived finding is
    // shown but neither blocks nor redacts.
    let findings = if generation.waivers.is_empty() || findings.is_empty() {
        findings
    } else {
        let inputs = vec![crate::report::InputRecord { path: "exchange.json".into(), sha256: None }];
        let mut report = crate::report::Report { findings, inputs, ..Default::default() };
        crate::pipeline::apply_waivers(&generation.policies, &mut report, &generation.waivers);
        report.findings
    };
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
            let mut shown = json!({
                "rule": f.rule.id, "title": f.rule.title, "severity": f.severity, "cause": f.cause.name(),
                "message": f.message, "pointer": f.pointer(), "controls": f.rule.controls,
                "blocking": denies(f, generation.deny_on),
            });
            if let Some(note) = waiver_note(f) {
                shown["waived"] = json!(f.waived());
                shown["waiver"] = json!(note);
            }
            shown
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

const NOT_AN_OBJECT: &str = "the body must be a JSON object: an inference exchange (see docs/serve.md)";

/// Why a body that did not load is no exchange: not JSON at all (serde_json's words), not an object, or
/// the loader's reason with its line and column.
fn not_an_exchange(text: &str, e: &crate::input::LoadError) -> String {
    match serde_json::from_str::<Json>(text) {
        Err(json) => format!("the body is not JSON: {json}"),
        Ok(v) if !v.is_object() => NOT_AN_OBJECT.into(),
        Ok(_) => error_text(e),
    }
}

/// `tokens: {prompt, completion}` (or a plain total), non-negative whole numbers.
fn tokens(value: Option<&Value>) -> Result<u64, String> {
    let count = |v: Option<&Value>, what: &str| -> Result<u64, String> {
        match v {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Int(n)) if *n >= 0 => Ok(n.unsigned_abs()),
            Some(n) => Err(format!("`{what}` must be a whole number of tokens, found {}", n.to_json())),
        }
    };
    match value {
        None | Some(Value::Null) => Ok(0),
        Some(t @ Value::Object(_)) => {
            Ok(count(t.get("prompt"), "tokens.prompt")?
                .saturating_add(count(t.get("completion"), "tokens.completion")?))
        }
        Some(other) => count(Some(other), "tokens"),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::Float(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
