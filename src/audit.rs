//! The audit log: one JSON line per run, chained by SHA-256 so any later change is detectable.
//!
//! Each line records when the run happened, the Vigil version, the digest of the policy set, every input
//! with its digest, the findings and the waivers. Each line carries the SHA-256 of the previous line and of
//! itself. Lines are only ever appended — under an exclusive lock, in one write, then synced — so a crash
//! mid-write can at worst leave an incomplete last line, which `verify` names; earlier lines are never
//! touched.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde_json::{Value as Json, json};

use crate::hex::sha256;

use crate::report::Report;

/// The `prev` of the first line.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What one run contributes to the log (everything but the chain fields).
pub fn entry(report: &Report, policy_digest: &str, time: jiff::Timestamp) -> Json {
    let findings: Vec<Json> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule.id, "severity": f.severity, "file": f.file(), "line": f.line_col().map(|p| p.0),
                "pointer": f.pointer(), "message": f.message, "waived": f.waived(),
                "waiver": f.waiver.as_ref().map(|w| w.waiver.declared_at.clone()),
            })
        })
        .collect();
    let mut waivers: Vec<Json> = Vec::new();
    for f in &report.findings {
        if let Some(m) = &f.waiver {
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

/// Appends `entry` to the log at `path`, chained to its last line. Creates the file (and folder) if needed.
/// Never through a symbolic link (see `confine::open_for_write`): a link planted in the checkout must not
/// make the run append to a file elsewhere.
pub fn append(path: &Path, mut entry: Json) -> std::io::Result<()> {
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
    let Some(object) = entry.as_object_mut() else { return Err(std::io::Error::other("an audit entry is an object")) };
    object.insert("prev_sha256".into(), Json::String(prev));
    object.shift_remove("sha256");
    let body = serde_json::to_string(&entry).map_err(std::io::Error::other)?;
    let own = sha256(body.as_bytes());
    if let Some(object) = entry.as_object_mut() {
        object.insert("sha256".into(), Json::String(own));
    }
    let mut line = serde_json::to_string(&entry).map_err(std::io::Error::other)?;
    line.push('\n');
    // A crash left half a line: start a new one (verify reports the torn line) rather than extend it.
    if torn {
        line.insert(0, '\n');
    }
    file.write_all(line.as_bytes())?;
    file.sync_data()?;
    file.unlock()
}

/// Why a log does not verify: the first bad line (1-based) and what is wrong with it.
#[derive(Debug, PartialEq, Eq)]
pub struct Broken {
    /// Line number, from 1.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Checks every line's own digest and its link to the line before; returns how many lines are intact.
pub fn verify(text: &str) -> Result<usize, Broken> {
    let mut prev = GENESIS.to_string();
    let mut count = 0;
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
        prev = sha256(line.as_bytes());
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_detects_edits_removals_and_torn_writes() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit/log.jsonl");
        for i in 0..3 {
            append(&log, json!({"run": i, "findings": []})).unwrap();
        }
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(verify(&text), Ok(3));

        let edited = text.replacen("\"run\":1", "\"run\":7", 1);
        assert_eq!(verify(&edited).unwrap_err().line, 2);

        let lines: Vec<&str> = text.lines().collect();
        let removed = format!("{}\n{}\n", lines[0], lines[2]);
        let err = verify(&removed).unwrap_err();
        assert_eq!((err.line, err.reason.contains("does not chain")), (2, true));

        std::fs::write(&log, format!("{}{}", text, &lines[0][..20])).unwrap();
        assert_eq!(verify(&std::fs::read_to_string(&log).unwrap()).unwrap_err().line, 4);
        append(&log, json!({"run": 3})).unwrap();
        let after = std::fs::read_to_string(&log).unwrap();
        assert!(after.lines().count() == 5 && after.lines().nth(4).unwrap().contains("\"run\":3"));
        assert_eq!(verify(&after).unwrap_err().line, 4, "the torn line stays visible");
    }
}
