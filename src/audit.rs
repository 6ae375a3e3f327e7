//! The audit log: one JSON line per run, chained by SHA-256 so any later change is detectable, and signed
//! checkpoints so that a change that recomputes the chain, or removes its end, is detectable too.
//!
//! Each line records when the run happened, the Vigil version, the digest of the policy set, every input
//! with its digest, the findings and the waivers. Each line carries the SHA-256 of the previous line and of
//! itself. Lines are only ever appended — under an exclusive lock, in one write, then synced — so a crash
//! mid-write can at worst leave an incomplete last line, which `verify` names; earlier lines are never
//! touched.
//!
//! An unkeyed chain proves order, not completeness: anyone can edit a line and recompute every later digest,
//! or delete the last lines. So a run with a signing key also appends a checkpoint line: a DSSE envelope
//! signing the digest of the entry before it and the number of entries so far, which commits to the whole
//! log up to there. Without the key no one can forge one. Removing lines back to an earlier checkpoint still
//! leaves a valid log: only an anchor kept elsewhere (the head digest each run prints, `--expect-head`,
//! `--expect-entries`) shows that. `docs/ci.md` says what each mode detects.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde_json::{Value as Json, json};

use crate::evidence::dsse;
use crate::evidence::keys::{SigningKey, VerifyingKey};
use crate::hex::sha256;
use crate::report::Report;

/// The `prev` of the first line.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What one run contributes to the log (everything but the chain fields).
pub fn entry(report: &Report, policy_digest: &str, time: jiff::Timestamp) -> Json {
    let findings: Vec<Json> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule.id, "severity": f.severity, "file": f.file(), "line": f.line_col().map(|p| p.0),
                "pointer": f.pointer(), "message": f.message, "waived": f.waived(),
                "waiver": f.waiver().map(|w| w.waiver.declared_at.clone()),
            })
        })
        .collect();
    let mut waivers: Vec<Json> = Vec::new();
    for f in &report.findings {
        if let Some(m) = f.waiver() {
            let w = &m.waiver;
            let record = json!({"rule": w.rule, "path": w.path, "owner": w.owner, "approver": w.approver,
                "expires": w.expires, "declared_at": w.declared_at, "expired": m.expired, "used": true});
            if !waivers.contains(&record) {
                waivers.push(record);
            }
        }
    }
    for w in &report.unused_waivers {
        waivers.push(json!({"rule": w.rule, "path": w.path, "owner": w.owner, "approver": w.approver,
            "expires": w.expires, "declared_at": w.declared_at, "used": false}));
    }
    json!({
        "time": time.to_string(),
        "vigil": env!("CARGO_PKG_VERSION"),
        "policies_sha256": policy_digest,
        "inputs": report.inputs,
        "summary": {"documents": report.documents(), "findings": report.findings.len(),
                    "waived": report.waived(), "errors": report.errors.len()},
        "findings": findings,
        "waivers": waivers,
    })
}

/// The payload type of a checkpoint's envelope.
pub const CHECKPOINT_TYPE: &str = "application/vnd.vigil.audit-checkpoint+json";

/// Where the log stands after a run: what to anchor elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Head {
    /// SHA-256 of the log's last line: `--expect-head` takes it.
    pub sha256: String,
    /// Run entries in the log (checkpoint lines not counted): `--expect-entries` takes it.
    pub entries: usize,
    /// Whether this run's entry is covered by a signed checkpoint.
    pub signed: bool,
}

/// Appends `entry` to the log at `path`, chained to its last line, then (with a key) a checkpoint signing
/// it. Creates the file (and folder) if needed. Never through a symbolic link (see
/// `confine::open_for_write`): a link planted in the checkout must not make the run append to a file
/// elsewhere.
pub fn append(path: &Path, entry: Json, key: Option<&SigningKey>) -> std::io::Result<Head> {
    let mut file = crate::confine::open_for_write(path, true)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    // One writer at a time: two runs appending together would both chain to the same line.
    file.lock()?;
    let mut text = String::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_string(&mut text)?;
    let torn = !text.is_empty() && !text.ends_with('\n');
    let prev = text.lines().rfind(|l| !l.trim().is_empty()).map_or(GENESIS.to_string(), |l| sha256(l.as_bytes()));
    // Entries so far: lines that are not checkpoints (a torn or foreign line counts; verify names it).
    let entries = 1 + text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with("{\"checkpoint\"")).count();
    let (mut out, mut head) = chain_line(entry, &prev)?;
    if let Some(key) = key {
        let payload = json!({"entries": entries, "head": head, "time": jiff::Timestamp::now().to_string()});
        let envelope = dsse::sign(CHECKPOINT_TYPE, payload.to_string().as_bytes(), key);
        let checkpoint = json!({"checkpoint": envelope});
        let (line, digest) = chain_line(checkpoint, &head)?;
        out.push_str(&line);
        head = digest;
    }
    // A crash left half a line: start a new one (verify reports the torn line) rather than extend it.
    if torn {
        out.insert(0, '\n');
    }
    file.write_all(out.as_bytes())?;
    file.sync_data()?;
    file.unlock()?;
    Ok(Head { sha256: head, entries, signed: key.is_some() })
}

/// One chained line (newline-terminated) and its digest (the next line's `prev_sha256`).
pub(crate) fn chain_line(mut entry: Json, prev: &str) -> std::io::Result<(String, String)> {
    let Some(object) = entry.as_object_mut() else { return Err(std::io::Error::other("an audit entry is an object")) };
    object.insert("prev_sha256".into(), Json::String(prev.to_string()));
    object.shift_remove("sha256");
    let body = serde_json::to_string(&entry).map_err(std::io::Error::other)?;
    let own = sha256(body.as_bytes());
    if let Some(object) = entry.as_object_mut() {
        object.insert("sha256".into(), Json::String(own));
    }
    let line = serde_json::to_string(&entry).map_err(std::io::Error::other)?;
    let digest = sha256(line.as_bytes());
    Ok((line + "\n", digest))
}

/// Why a log does not verify: the first bad line (1-based; 0 for the log as a whole) and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct Broken {
    /// Line number, from 1; 0 when no single line is at fault (a missing end, a missing anchor).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 { f.write_str(&self.reason) } else { write!(f, "line {}: {}", self.line, self.reason) }
    }
}

/// What `verify` must also check beyond the chain.
#[derive(Debug, Default)]
pub struct Expect<'a> {
    /// Every checkpoint must verify with this key, at least one must exist, and no entry may follow the
    /// last one.
    pub key: Option<&'a VerifyingKey>,
    /// A head recorded earlier: some line of the log must have this digest (everything up to it is then
    /// exactly as it was when the head was recorded).
    pub head: Option<&'a str>,
    /// Entries recorded earlier: with `head`, exactly this many entries up to it; alone, at least this many.
    pub entries: Option<usize>,
}

/// What a log that verifies holds.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    /// Run entries (checkpoints not counted).
    pub entries: usize,
    /// Checkpoint lines (signatures checked only with a key).
    pub checkpoints: usize,
    /// The digest of the last line (the genesis digest for an empty log).
    pub head: String,
}

/// Checks every line's own digest and its link to the line before, every checkpoint, and the expectations.
pub fn verify(text: &str, expect: &Expect<'_>) -> Result<Verified, Broken> {
    let mut prev = GENESIS.to_string();
    let (mut entries, mut checkpoints, mut signed_through) = (0, 0, 0);
    let mut anchor_found = false;
    let broken = |line: usize, reason: &str| Broken { line, reason: reason.to_string() };
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let n = i + 1;
        if !line.ends_with('\n') {
            return Err(broken(n, "incomplete line (a write was interrupted)"));
        }
        let line = line.trim_end_matches('\n');
        let Ok(Json::Object(mut entry)) = serde_json::from_str::<Json>(line) else {
            return Err(broken(n, "not a JSON object"));
        };
        let Some(Json::String(own)) = entry.shift_remove("sha256") else { return Err(broken(n, "no `sha256` field")) };
        let body = serde_json::to_string(&Json::Object(entry.clone())).map_err(|_| broken(n, "unreadable"))?;
        if sha256(body.as_bytes()) != own {
            return Err(broken(n, "its content does not match its sha256: the line was altered"));
        }
        if entry.get("prev_sha256").and_then(Json::as_str) != Some(prev.as_str()) {
            return Err(broken(
                n,
                "it does not chain to the line before: an earlier line was altered, removed or inserted",
            ));
        }
        if let Some(envelope) = entry.get("checkpoint") {
            checkpoint(envelope, &prev, entries, expect.key).map_err(|reason| broken(n, &reason))?;
            checkpoints += 1;
            signed_through = entries;
        } else {
            entries += 1;
        }
        prev = sha256(line.as_bytes());
        if expect.head.is_some_and(|h| h.eq_ignore_ascii_case(&prev)) && !anchor_found {
            anchor_found = true;
            if let Some(expected) = expect.entries.filter(|e| *e != entries) {
                return Err(broken(
                    n,
                    &format!(
                        "the anchored head is here, after {entries} entries, not {expected}: entries before it were removed or inserted and the chain recomputed"
                    ),
                ));
            }
        }
    }
    if expect.key.is_some() {
        if checkpoints == 0 {
            return Err(broken(0, "no signed checkpoint: the log is empty, was never signed, or was rewritten"));
        }
        if entries > signed_through {
            return Err(broken(
                0,
                &format!(
                    "entries {}–{entries} follow the last signed checkpoint: appended without the key, or the log was rewritten past it",
                    signed_through + 1
                ),
            ));
        }
    }
    if let Some(head) = expect.head.filter(|_| !anchor_found) {
        return Err(broken(
            0,
            &format!("the anchored head {head} is in no line of the log: lines up to it were removed or altered"),
        ));
    }
    if let Some(expected) = expect.entries.filter(|e| expect.head.is_none() && entries < *e) {
        return Err(broken(0, &format!("{entries} entries, fewer than the {expected} anchored: entries were removed")));
    }
    Ok(Verified { entries, checkpoints, head: prev })
}

/// A checkpoint must name the line before it and the entries so far; with a key, its signature must hold.
fn checkpoint(envelope: &Json, prev: &str, entries: usize, key: Option<&VerifyingKey>) -> Result<(), String> {
    let envelope: dsse::Envelope =
        serde_json::from_value(envelope.clone()).map_err(|_| "a checkpoint that is not a DSSE envelope".to_string())?;
    let body = match key {
        Some(key) => dsse::verify(&envelope, CHECKPOINT_TYPE, key).map_err(|e| format!("checkpoint: {e}"))?.body,
        None => dsse::decode_base64(&envelope.payload).ok_or("a checkpoint whose payload is not base64")?,
    };
    let payload: Json = serde_json::from_slice(&body).map_err(|_| "a checkpoint whose payload is not JSON")?;
    if payload["head"].as_str() != Some(prev) || payload["entries"].as_u64() != Some(entries as u64) {
        return Err(format!(
            "the checkpoint signs head {} after {} entries, but the line before is {prev} after {entries}",
            payload["head"], payload["entries"]
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_detects_edits_removals_and_torn_writes() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit/log.jsonl");
        for i in 0..3 {
            append(&log, json!({"run": i, "findings": []}), None).unwrap();
        }
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(verify(&text, &Expect::default()).map(|v| v.entries), Ok(3));

        let edited = text.replacen("\"run\":1", "\"run\":7", 1);
        assert_eq!(verify(&edited, &Expect::default()).unwrap_err().line, 2);

        let lines: Vec<&str> = text.lines().collect();
        let removed = format!("{}\n{}\n", lines[0], lines[2]);
        let err = verify(&removed, &Expect::default()).unwrap_err();
        assert_eq!((err.line, err.reason.contains("does not chain")), (2, true));

        std::fs::write(&log, format!("{}{}", text, &lines[0][..20])).unwrap();
        assert_eq!(verify(&std::fs::read_to_string(&log).unwrap(), &Expect::default()).unwrap_err().line, 4);
        append(&log, json!({"run": 3}), None).unwrap();
        let after = std::fs::read_to_string(&log).unwrap();
        assert!(after.lines().count() == 5 && after.lines().nth(4).unwrap().contains("\"run\":3"));
        assert_eq!(verify(&after, &Expect::default()).unwrap_err().line, 4, "the torn line stays visible");
    }
}
