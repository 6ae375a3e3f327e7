//! The workload's ten rules (R1–R10) hand-written in Rust over `serde_json::Value`: the "practical floor" that
//! a policy engine is measured against.
//!
//! It reproduces `modelcard.rego` record for record, not just rule for rule, so the harness can compare it with
//! regorus message by message. The Rego details that matter, and how each is mirrored:
//! - `object.get(x, key, default)` yields the default only when the key is absent (a present `null` stays
//!   `null`), and is a type error when `x` is not an object. OPA evaluates a builtin error as "undefined": an
//!   assignment from it fails the rule body, while `not <expr>` over it succeeds. [`object_get`] returns `None`
//!   for the error, and each rule treats that the way its Rego body does.
//! - `not regex.match(p, s)` is true for a non-string `s` (error → undefined → `not` holds).
//! - `some i, a in xs` iterates arrays (index) and objects (key); anything else yields no iteration. A
//!   per-item message that reads a member of a non-object item fails, so such items produce no record.
//! - R8 needs `contains_pii == true` exactly (a string `"true"` is not true).
//! - R9's `m.value <= 0.05` uses Rego's total order across types: null < booleans < numbers < strings < ...
//! - R10's oversight check is `not input.human_oversight.required == true`: absent counts as a violation.
//!
//! Regexes are compiled once in [`Baseline::new`]; nothing else is allocated unless a record is produced.

use std::borrow::Cow;

use regex::Regex;
use serde_json::Value;

const ALLOWED_LICENSES: [&str; 5] = ["apache-2.0", "mit", "bsd-3-clause", "cc-by-4.0", "llama3.1"];
const ALLOWED_ORGS: [&str; 5] = ["meta-llama", "mistralai", "google", "microsoft", "our-org"];

/// One violation record, as `modelcard.rego` builds it: `{"rule": ..., "message": ...}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Violation {
    /// `R1` … `R10`.
    pub rule: &'static str,
    /// The Rego `sprintf` message, byte for byte.
    pub message: String,
}

/// The compiled rules: two regexes.
pub struct Baseline {
    hex64: Regex,
    hex40: Regex,
}

impl Default for Baseline {
    fn default() -> Self {
        Baseline::new()
    }
}

/// `object.get(x, key, default)`: `None` when `x` is not an object (a Rego type error).
fn object_get<'a>(x: &'a Value, key: &str, default: &'a Value) -> Option<&'a Value> {
    x.as_object().map(|o| o.get(key).unwrap_or(default))
}

/// `x.key` in a rule body: undefined (here `None`) when `x` is not an object or lacks the key.
fn member<'a>(x: &'a Value, key: &str) -> Option<&'a Value> {
    x.as_object().and_then(|o| o.get(key))
}

/// `sprintf("%v", x)`: strings bare, everything else as JSON.
fn show(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

/// `some i, x in coll`: arrays give their index, objects their key; scalars give nothing.
fn items(coll: Option<&Value>) -> Box<dyn Iterator<Item = (String, &Value)> + '_> {
    match coll {
        Some(Value::Array(xs)) => Box::new(xs.iter().enumerate().map(|(i, x)| (i.to_string(), x))),
        Some(Value::Object(o)) => Box::new(o.iter().map(|(k, x)| (k.clone(), x))),
        _ => Box::new(std::iter::empty()),
    }
}

/// `x in coll` for a string `x`: membership among the elements of an array or the values of an object.
/// Anything else is undefined, which `not ... in` turns into "not contained".
fn contains(coll: &Value, x: &str) -> bool {
    match coll {
        Value::Array(xs) => xs.iter().any(|v| v.as_str() == Some(x)),
        Value::Object(o) => o.values().any(|v| v.as_str() == Some(x)),
        _ => false,
    }
}

/// `v <= limit` under Rego's total order: null and booleans sort before every number, strings and
/// collections after.
fn at_most(v: &Value, limit: f64) -> bool {
    match v {
        Value::Null | Value::Bool(_) => true,
        Value::Number(n) => n.as_f64().is_some_and(|x| x <= limit),
        _ => false,
    }
}

impl Baseline {
    /// Compiles the two patterns the rules use.
    pub fn new() -> Baseline {
        Baseline {
            hex64: Regex::new("^[a-f0-9]{64}$").expect("valid pattern"),
            hex40: Regex::new("^[a-f0-9]{40}$").expect("valid pattern"),
        }
    }

    /// `not regex.match(re, v)`: true unless `v` is a string that matches.
    fn no_match(re: &Regex, v: Option<&Value>) -> bool {
        !matches!(v, Some(Value::String(s)) if re.is_match(s))
    }

    /// Every violation record of `doc`, in rule order (the order within a rule follows the items).
    pub fn evaluate(&self, doc: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        let null = Value::Null;
        let empty_str = Value::String(String::new());
        let empty_obj = Value::Object(serde_json::Map::new());
        let empty_arr = Value::Array(Vec::new());
        let mut push = |rule: &'static str, message: String| out.push(Violation { rule, message });

        // R1: any license that is not one of the allowed strings, including a missing one.
        if let Some(lic) = object_get(doc, "license", &null)
            && !lic.as_str().is_some_and(|l| ALLOWED_LICENSES.contains(&l))
        {
            push("R1", format!("license {} is not allowed", show(lic)));
        }

        let artifacts = member(doc, "artifacts");
        for (i, a) in items(artifacts) {
            // R2: `fmt := object.get(a, "format", null)` fails for a non-object item.
            if let (Some(fmt), Some(path)) = (object_get(a, "format", &null), object_get(a, "path", &null))
                && fmt.as_str() != Some("safetensors")
            {
                push("R2", format!("artifact {i} ({}): format {} is not safetensors", show(path), show(fmt)));
            }
        }
        for (i, a) in items(artifacts) {
            // R3: the message reads `a.path`, so a non-object item yields no record.
            if let Some(path) = object_get(a, "path", &null)
                && Baseline::no_match(&self.hex64, object_get(a, "sha256", &empty_str))
            {
                push("R3", format!("artifact {i} ({}): sha256 is not 64 lowercase hex chars", show(path)));
            }
        }

        // R4: a non-object base_model makes `object.get` fail, and `not` of a failure holds.
        let base = object_get(doc, "base_model", &empty_obj);
        let revision = base.and_then(|b| object_get(b, "revision", &empty_str));
        if Baseline::no_match(&self.hex40, revision) {
            push("R4", "base_model.revision is not 40 lowercase hex chars".to_string());
        }

        // R5: `split` of a non-string fails the assignment, so only string names are checked.
        if let Some(Value::String(name)) = base.and_then(|b| object_get(b, "name", &empty_str)) {
            let org = name.split('/').next().unwrap_or("");
            if !ALLOWED_ORGS.contains(&org) {
                push("R5", format!("base_model org {org} is not approved"));
            }
        }

        let datasets = member(doc, "datasets");
        for (i, d) in items(datasets) {
            // R6: `startswith` of a non-string source is undefined, hence "not approved".
            if let (Some(src), Some(name)) = (object_get(d, "source", &empty_str), object_get(d, "name", &null)) {
                let approved =
                    src.as_str().is_some_and(|s| s.starts_with("s3://approved-") || s.starts_with("hf://datasets/"));
                if !approved {
                    push(
                        "R6",
                        format!("dataset {i} ({}): source {} is not an approved location", show(name), show(src)),
                    );
                }
            }
        }
        for (i, d) in items(datasets) {
            // R7: a missing sha256 defaults to "" and fails the pattern.
            if let Some(name) = object_get(d, "name", &null)
                && Baseline::no_match(&self.hex64, object_get(d, "sha256", &empty_str))
            {
                push("R7", format!("dataset {i} ({}): sha256 missing or not 64 lowercase hex chars", show(name)));
            }
        }
        for (i, d) in items(datasets) {
            // R8: exactly `true`; a present `null` processing list contains nothing.
            if member(d, "contains_pii") == Some(&Value::Bool(true))
                && let (Some(processing), Some(name)) =
                    (object_get(d, "processing", &empty_arr), object_get(d, "name", &null))
                && !contains(processing, "pii_redaction")
            {
                push("R8", format!("dataset {i} ({}): contains PII but has no pii_redaction step", show(name)));
            }
        }

        // R9: both checks read `input.evaluation.metrics` as a plain reference (undefined when absent).
        let metrics = member(doc, "evaluation").and_then(|e| member(e, "metrics"));
        let named = |m: &Value, n: &str| member(m, "name").and_then(Value::as_str) == Some(n);
        if !items(metrics).any(|(_, m)| named(m, "accuracy")) {
            push("R9", "evaluation has no accuracy metric".to_string());
        }
        let high_risk = member(doc, "risk_level").and_then(Value::as_str) == Some("high");
        let bias_ok =
            items(metrics).any(|(_, m)| named(m, "bias_gap") && member(m, "value").is_some_and(|v| at_most(v, 0.05)));
        if high_risk && !bias_ok {
            push("R9", "high-risk model needs a bias_gap metric <= 0.05".to_string());
        }

        // R10: `not nonempty_string(object.get(...))`: a failing `object.get` also counts as a violation.
        let nonempty = |key| object_get(doc, key, &null).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
        if !nonempty("intended_use") {
            push("R10", "intended_use must be a non-empty string".to_string());
        }
        if !nonempty("limitations") {
            push("R10", "limitations must be a non-empty string".to_string());
        }
        let oversight = member(doc, "human_oversight").and_then(|h| member(h, "required"));
        if high_risk && oversight != Some(&Value::Bool(true)) {
            push("R10", "high-risk model requires human_oversight.required == true".to_string());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(doc: Value) -> Vec<&'static str> {
        Baseline::new().evaluate(&doc).into_iter().map(|v| v.rule).collect()
    }

    fn good() -> Value {
        json!({
            "kind": "ModelCard", "license": "mit",
            "base_model": {"name": "google/gemma-2-9b", "revision": "a".repeat(40)},
            "artifacts": [{"path": "m.safetensors", "format": "safetensors", "sha256": "b".repeat(64)}],
            "datasets": [{"name": "d", "source": "hf://datasets/x", "sha256": "c".repeat(64),
                          "contains_pii": true, "processing": ["pii_redaction"]}],
            "evaluation": {"metrics": [{"name": "accuracy", "value": 0.9}, {"name": "bias_gap", "value": 0.01}]},
            "intended_use": "x", "limitations": "y", "risk_level": "high", "human_oversight": {"required": true}
        })
    }

    #[test]
    fn a_compliant_card_has_no_violations() {
        assert!(rules(good()).is_empty());
    }

    #[test]
    fn rego_corner_cases() {
        let mut d = good();
        d["license"] = Value::Null; // present null: object.get keeps it, and null is not allowed
        d["datasets"][0]["processing"] = Value::Null; // `in null` is undefined: not redacted
        d["datasets"][0].as_object_mut().map(|o| o.remove("sha256"));
        d["evaluation"]["metrics"][1]["value"] = Value::Null; // null <= 0.05 in Rego's order
        d["human_oversight"] = json!({});
        assert_eq!(rules(d), ["R1", "R7", "R8", "R10"]);

        let mut d = good();
        d["base_model"] = json!("google/x"); // not an object: R4 fires (not of an error), R5 does not
        d["artifacts"] = json!([42, {"path": "p", "sha256": 7}]); // 42 yields nothing; the second item fails R2, R3
        assert_eq!(rules(d), ["R2", "R3", "R4"]);
    }

    #[test]
    fn messages_follow_the_rego_sprintf() {
        let mut d = good();
        d["artifacts"][0]["format"] = json!("pickle");
        let v = Baseline::new().evaluate(&d);
        assert_eq!(v[0].message, "artifact 0 (m.safetensors): format pickle is not safetensors");
    }
}
