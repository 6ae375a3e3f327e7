//! The anchored audit log through the real binary: signed checkpoints, `--key`, `--expect-head` and
//! `--expect-entries`, and exactly which tampering each mode detects (docs/ci.md says the same).

use std::path::Path;
use std::process::Output;

use crate::support::{policy, text};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Three signed runs over one model card; returns the folder and the head each run printed.
fn signed_log() -> (tempfile::TempDir, Vec<(String, usize)>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    std::fs::write(p.join("card.yaml"), "kind: ModelCard\nlicense: mit\n").expect("card");
    let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    std::fs::write(p.join("k.pem"), key.to_pkcs8_pem(LineEnding::LF).expect("pem").as_bytes()).expect("key");
    std::fs::write(p.join("k.pub"), key.verifying_key().to_public_key_pem(LineEnding::LF).expect("pem")).expect("pub");
    let other = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
    std::fs::write(p.join("other.pub"), other.verifying_key().to_public_key_pem(LineEnding::LF).expect("pem"))
        .expect("pub");
    let mut heads = Vec::new();
    for _ in 0..3 {
        let out = policy(
            &[
                "check",
                "--format",
                "json",
                "--allow-empty",
                "--audit-log",
                "log.jsonl",
                "--sign-key",
                "k.pem",
                "card.yaml",
            ],
            p,
        );
        let err = text(&out.stderr);
        let printed = err.split("head sha256:").nth(1).and_then(|r| r.split_whitespace().next()).expect("head printed");
        let report: Json = serde_json::from_slice(&out.stdout).expect("json report");
        assert_eq!(report["audit_log"]["sha256"], printed, "the JSON report carries the printed head");
        assert_eq!(report["audit_log"]["signed"], true);
        heads.push((printed.to_string(), report["audit_log"]["entries"].as_u64().expect("entries") as usize));
    }
    (dir, heads)
}

fn verify(p: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["audit", "verify", "log.jsonl"];
    args.extend(extra);
    policy(&args, p)
}

/// Rewrites the log as a forger without the key would: every digest recomputed and every checkpoint's
/// payload updated to the new heads (its old signature kept, as no other can be made).
fn recompute(lines: &[Json]) -> String {
    let mut prev = "0".repeat(64);
    let mut entries = 0;
    let mut out = String::new();
    for line in lines {
        let mut line = line.clone();
        let object = line.as_object_mut().expect("object");
        if let Some(envelope) = object.get_mut("checkpoint") {
            let mut payload: Json = serde_json::from_slice(
                &STANDARD.decode(envelope["payload"].as_str().expect("payload")).expect("base64"),
            )
            .expect("json");
            payload["head"] = prev.clone().into();
            payload["entries"] = entries.into();
            envelope["payload"] = STANDARD.encode(payload.to_string()).into();
        } else {
            entries += 1;
        }
        object.insert("prev_sha256".into(), prev.clone().into());
        object.shift_remove("sha256");
        let own = hex(serde_json::to_string(&line).expect("json").as_bytes());
        line.as_object_mut().expect("object").insert("sha256".into(), own.into());
        let serialized = serde_json::to_string(&line).expect("json");
        prev = hex(serialized.as_bytes());
        out.push_str(&serialized);
        out.push('\n');
    }
    out
}

#[test]
fn each_mode_detects_what_docs_ci_says() {
    let (dir, heads) = signed_log();
    let p = dir.path();
    let log = p.join("log.jsonl");
    let original = std::fs::read_to_string(&log).expect("log");
    assert_eq!(original.lines().count(), 6, "an entry and a checkpoint per run");
    assert_eq!(heads.iter().map(|h| h.1).collect::<Vec<_>>(), [1, 2, 3]);
    let (last, n) = &heads[2];

    let ok = verify(p, &["--key", "k.pub", "--expect-head", last, "--expect-entries", "3"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("3 entries, chain intact, 3 checkpoint(s) signed by key"));
    assert!(text(&ok.stdout).contains(&format!("head sha256:{last}")));
    // An older anchor is still in a log that grew since.
    let (first, _) = &heads[0];
    assert_eq!(verify(p, &["--key", "k.pub", "--expect-head", first, "--expect-entries", "1"]).status.code(), Some(0));

    let lines: Vec<Json> = original.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    let keep = |n: usize| original.lines().take(n).map(|l| format!("{l}\n")).collect::<String>();
    let mut edited = lines.clone();
    edited[2]["summary"]["findings"] = 0.into();
    let without_first_checkpoint: String =
        original.lines().enumerate().filter(|(i, _)| *i != 1).map(|(_, l)| format!("{l}\n")).collect();
    // (tampered log, passes the chain alone, passes with --key, what the fully anchored check says: it
    // always fails)
    let cases: Vec<(&str, String, bool, bool, &str)> = vec![
        ("last run removed", keep(4), true, true, "is in no line of the log"),
        ("emptied", String::new(), true, false, "no signed checkpoint"),
        ("middle line edited, chain recomputed", recompute(&edited), true, false, "checkpoint: no signature verifies"),
        (
            "middle line edited",
            original.replacen("\"findings\":", "\"findingz\":", 1),
            false,
            false,
            "the line was altered",
        ),
        ("a checkpoint removed", without_first_checkpoint, false, false, "log.jsonl:2: it does not chain"),
    ];
    for (what, content, chain, keyed, expected) in cases {
        std::fs::write(&log, &content).expect("write");
        let code = |args: &[&str]| verify(p, args).status.code();
        assert_eq!(code(&[]) == Some(0), chain, "{what}: chain only");
        assert_eq!(code(&["--key", "k.pub"]) == Some(0), keyed, "{what}: --key");
        let full = verify(p, &["--key", "k.pub", "--expect-head", last, "--expect-entries", &n.to_string()]);
        assert_eq!(full.status.code(), Some(1), "{what}");
        assert!(text(&full.stderr).contains(expected), "{what}: expected `{expected}` in {}", text(&full.stderr));
    }

    // Entries cut back to an earlier checkpoint: --expect-entries alone sees it too.
    std::fs::write(&log, keep(4)).expect("write");
    let out = verify(p, &["--key", "k.pub", "--expect-entries", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("2 entries, fewer than the 3 anchored"), "{}", text(&out.stderr));
    // The anchored head with the wrong count: entries before it were removed or inserted.
    std::fs::write(&log, &original).expect("write");
    let out = verify(p, &["--expect-head", last, "--expect-entries", "4"]);
    assert!(text(&out.stderr).contains("after 3 entries, not 4"), "{}", text(&out.stderr));
    // Another key; a run appended without the key.
    let out = verify(p, &["--key", "other.pub"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("log.jsonl:2: checkpoint: no signature verifies"), "{}", text(&out.stderr));
    let run = policy(&["check", "--allow-empty", "--audit-log", "log.jsonl", "card.yaml"], p);
    assert!(text(&run.stderr).contains("(4 entries)"), "{}", text(&run.stderr));
    let out = verify(p, &["--key", "k.pub"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("entries 4–4 follow the last signed checkpoint"), "{}", text(&out.stderr));
    assert_eq!(verify(p, &[]).status.code(), Some(0), "the chain alone is intact");
    // A key that cannot be read is exit 2.
    assert_eq!(verify(p, &["--key", "k.pem"]).status.code(), Some(2));
}
