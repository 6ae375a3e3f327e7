//! Attestations of a check: an in-toto Statement v1 in a DSSE envelope, and its verification.
//!
//! The subjects are the run's inputs with their SHA-256; the predicate (type [`PREDICATE_TYPE`], schema in
//! `docs/evidence.md`) records which policies ran with which settings, what was found and waived, and the
//! verdict. Verification checks the signature first and reads nothing of the payload before it holds.

use serde_json::{Map, Value as Json, json};

use super::dsse::{self, Envelope};
use super::keys::{SigningKey, VerifyingKey};
use crate::PolicySet;
use crate::report::Report;

/// The DSSE payload type of in-toto statements.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The in-toto Statement version written and accepted.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate type of a Vigil check (documented in docs/evidence.md).
pub const PREDICATE_TYPE: &str = "https://vigil.dev/attestation/check/v1";

/// What the run knows besides the report and the policies.
#[derive(Debug, Default)]
pub struct RunContext {
    /// Parameter overrides in force (configuration, profile, `--param`), in the order applied.
    pub params: Vec<(String, Json)>,
    /// The profile applied, if any.
    pub profile: Option<String>,
    /// The severity at or above which findings fail the run (`None`: never).
    pub fail_on: Option<crate::Severity>,
    /// `pass`, `fail` (findings at or above `fail_on`) or `error` (the run could not judge everything).
    pub verdict: &'static str,
    /// When the run happened.
    pub time: Option<jiff::Timestamp>,
    /// The signed policy bundles the policies came from (name, version, digest, signer).
    pub bundles: Vec<Json>,
    /// The audit log's head after this run's entry, if the run wrote one.
    pub audit: Option<Json>,
}

/// The in-toto statement of a run. Fails on an input without a digest (fail closed: a subject must be the
/// exact bytes that were checked).
pub fn statement(report: &Report, policies: &PolicySet, run: &RunContext) -> Result<Json, String> {
    let mut subjects: Vec<Json> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for input in &report.inputs {
        let Some(digest) = &input.sha256 else {
            return Err(format!("{}: no SHA-256 was taken of this input, so it cannot be attested", input.path));
        };
        let name = subject_name(&input.path);
        if seen.insert(name.clone()) {
            subjects.push(json!({"name": name, "digest": {"sha256": digest}}));
        }
    }
    let packs: Vec<Json> = policies
        .sources()
        .map(|(name, text)| json!({"id": name, "sha256": super::sha256_hex(text.as_bytes())}))
        .collect();
    let findings: Vec<Json> = report
        .findings
        .iter()
        .map(|f| {
            let waiver = f.waiver.as_ref().map(|m| {
                json!({"owner": m.waiver.owner, "approver": m.waiver.approver, "expires": m.waiver.expires,
                       "declared_at": m.waiver.declared_at, "expired": m.expired})
            });
            json!({
                "rule": f.rule.id, "severity": f.severity, "message": f.message,
                "location": {"file": subject_name(f.file()), "line": f.line_col().map(|p| p.0), "pointer": f.pointer()},
                "fingerprint": crate::report::baseline::fingerprint(f, &report.paths),
                "waived": f.waived(), "waiver": waiver,
            })
        })
        .collect();
    let audit_entry = crate::audit::entry(report, policies.digest(), run.time.unwrap_or_else(jiff::Timestamp::now));
    let params: Map<String, Json> = run.params.iter().cloned().collect();
    Ok(json!({
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "vigil": {"version": env!("CARGO_PKG_VERSION")},
            "time": audit_entry["time"],
            "now": policies.now().to_string(),
            "policies": {"sha256": policies.digest(), "packs": packs, "bundles": run.bundles},
            "parameters": params,
            "profile": run.profile,
            "fail_on": run.fail_on,
            "verdict": run.verdict,
            "summary": audit_entry["summary"],
            "findings": findings,
            "waivers": audit_entry["waivers"],
            "audit_log": run.audit,
        }
    }))
}

/// Subject names are paths as given, `/`-separated, without a leading `./`.
pub fn subject_name(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut name = path.as_str();
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    name.to_string()
}

/// Signs a statement into an envelope (pretty JSON text, newline-terminated).
pub fn sign(statement: &Json, key: &SigningKey) -> String {
    // Compact JSON: the payload's bytes are what is signed, whatever reformatting happens to the envelope.
    let body = serde_json::to_vec(statement).unwrap_or_default();
    let envelope = dsse::sign(PAYLOAD_TYPE, &body, key);
    let mut text = serde_json::to_string_pretty(&envelope).unwrap_or_default();
    text.push('\n');
    text
}

/// A verified attestation: the statement, and who signed it.
#[derive(Debug)]
pub struct Attestation {
    /// The whole statement.
    pub statement: Json,
    /// The signing key's id.
    pub keyid: String,
}

impl Attestation {
    /// `(name, sha256)` of every subject.
    pub fn subjects(&self) -> Vec<(String, String)> {
        let list = self.statement["subject"].as_array().map(Vec::as_slice).unwrap_or_default();
        list.iter()
            .map(|s| {
                let name = s["name"].as_str().unwrap_or_default().to_string();
                (name, s["digest"]["sha256"].as_str().unwrap_or_default().to_string())
            })
            .collect()
    }

    /// The predicate's policy set digest.
    pub fn policy_digest(&self) -> &str {
        self.statement["predicate"]["policies"]["sha256"].as_str().unwrap_or_default()
    }

    /// The verdict recorded.
    pub fn verdict(&self) -> &str {
        self.statement["predicate"]["verdict"].as_str().unwrap_or_default()
    }
}

/// Opens an attestation: the envelope must be signed by `key` over an in-toto Statement v1 of Vigil's
/// predicate type, with well-formed subjects. Any other statement is refused by name.
pub fn open(text: &[u8], key: &VerifyingKey) -> Result<Attestation, String> {
    let envelope: Envelope = dsse::parse(text).map_err(|e| e.0)?;
    let verified = dsse::verify(&envelope, PAYLOAD_TYPE, key).map_err(|e| format!("signature: {e}"))?;
    let statement: Json = serde_json::from_slice(&verified.body)
        .map_err(|e| format!("payload: signed, but not a JSON statement: {e}"))?;
    if statement["_type"] != STATEMENT_TYPE {
        return Err(format!("payload: `_type` is {}, expected `{STATEMENT_TYPE}`", statement["_type"]));
    }
    if statement["predicateType"] != PREDICATE_TYPE {
        return Err(format!(
            "payload: `predicateType` is {}, not a Vigil check (`{PREDICATE_TYPE}`)",
            statement["predicateType"]
        ));
    }
    let Some(subjects) = statement["subject"].as_array() else {
        return Err("payload: no `subject` list".into());
    };
    for (i, s) in subjects.iter().enumerate() {
        let digest = s["digest"]["sha256"].as_str().unwrap_or_default();
        if s["name"].as_str().is_none() || digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("payload: subject {i} has no name or no SHA-256 digest"));
        }
    }
    if !statement["predicate"].is_object() {
        return Err("payload: no `predicate` object".into());
    }
    Ok(Attestation { statement, keyid: verified.keyid })
}

/// Checks a file given on the command line against the subjects: by name first (a renamed copy of an
/// input still matches by digest). `Ok` names the subject matched.
pub fn check_subject(att: &Attestation, path: &str, digest: &str) -> Result<String, String> {
    let name = subject_name(path);
    let subjects = att.subjects();
    if let Some((_, attested)) = subjects.iter().find(|(n, _)| *n == name) {
        return if attested.eq_ignore_ascii_case(digest) {
            Ok(name)
        } else {
            Err(format!(
                "subject {name}: its SHA-256 is {digest}, the attestation records {attested}: the file changed"
            ))
        };
    }
    match subjects.iter().find(|(_, d)| d.eq_ignore_ascii_case(digest)) {
        Some((other, _)) => Ok(other.clone()),
        None => Err(format!("{path}: not a subject of the attestation (no subject has that name or SHA-256 {digest})")),
    }
}
