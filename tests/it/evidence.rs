//! Signed attestations of a check and the signed audit log, through the real binary: round trips with
//! Ed25519 and ECDSA P-256 keys, every tamper case, wrong and malformed keys. Keys are made here from fixed
//! seeds (deterministic, no randomness needed).

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{policy, text, write};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding};
use serde_json::Value as Json;

const POLICY: &str = r#"package t
param allowed = ["mit"]
rule "T-LIC" {
  title = "license allowed"
  severity = high
  applies_to = ModelCard
  require input.license in allowed else "license `{input.license}` is not allowed"
}
rule "T-NAME" {
  title = "model named"
  severity = low
  applies_to = ModelCard
  require exists(input.model_name) else "no model_name"
}
"#;

/// A project with a policy, two model cards and a waiver; keys `ed.pem`/`ed.pub`, `ec.pem`/`ec.pub`
/// (PKCS#8), `sec1.pem` (SEC1 P-256) and `other.pub`, a key that signed nothing.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    write(p, "t.policy", POLICY);
    write(p, "models/a.yaml", "kind: ModelCard\nlicense: gpl-3.0\n");
    write(p, "models/b.yaml", "kind: ModelCard\nlicense: mit\nmodel_name: b\n");
    write(
        p,
        "waivers.yaml",
        "- rule: T-NAME\n  path: models/a.yaml\n  reason: legacy\n  owner: ml-platform\n  approver: security\n  expires: '2030-01-01'\n",
    );
    let ed = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    write(p, "ed.pem", ed.to_pkcs8_pem(LineEnding::LF).expect("pem").as_bytes());
    write(p, "ed.pub", ed.verifying_key().to_public_key_pem(LineEnding::LF).expect("pem"));
    let ec = p256::ecdsa::SigningKey::from_slice(&[9; 32]).expect("scalar");
    write(p, "ec.pem", ec.to_pkcs8_pem(LineEnding::LF).expect("pem").as_bytes());
    write(p, "ec.pub", ec.verifying_key().to_public_key_pem(LineEnding::LF).expect("pem"));
    let sec1 = p256::SecretKey::from_slice(&[11; 32]).expect("scalar");
    write(p, "sec1.pem", sec1.to_sec1_pem(LineEnding::LF).expect("pem").as_bytes());
    let other = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
    write(p, "other.pub", other.verifying_key().to_public_key_pem(LineEnding::LF).expect("pem"));
    dir
}

const CHECK: &[&str] = &[
    "check",
    "--no-builtin",
    "--policy",
    "t.policy",
    "--waivers",
    "waivers.yaml",
    "--now",
    "2026-06-01",
    "--param",
    "allowed=[\"mit\",\"apache-2.0\"]",
    "models",
];

fn attest(p: &Path, key: &str) -> Output {
    let mut args = CHECK.to_vec();
    args.extend(["--attest", "att.json", "--sign-key", key]);
    policy(&args, p)
}

fn statement(p: &Path) -> Json {
    let envelope: Json = serde_json::from_slice(&std::fs::read(p.join("att.json")).expect("att")).expect("json");
    let payload = STANDARD.decode(envelope["payload"].as_str().expect("payload")).expect("base64");
    serde_json::from_slice(&payload).expect("statement")
}

#[test]
fn an_attestation_records_the_run_and_verifies_with_either_key_type() {
    for (private, public) in [("ed.pem", "ed.pub"), ("ec.pem", "ec.pub")] {
        let dir = project();
        let p = dir.path();
        let out = attest(p, private);
        assert_eq!(out.status.code(), Some(1), "findings fail the run: {}", text(&out.stderr));
        let s = statement(p);
        assert_eq!(s["_type"], "https://in-toto.io/Statement/v1");
        assert_eq!(s["predicateType"], "https://vigil.dev/attestation/check/v1");
        let a = vigil::unstable::evidence::sha256_hex(&std::fs::read(p.join("models/a.yaml")).expect("a"));
        assert_eq!(s["subject"][0], serde_json::json!({"name": "models/a.yaml", "digest": {"sha256": a}}));
        assert_eq!(s["subject"].as_array().map(Vec::len), Some(2));
        let pred = &s["predicate"];
        assert_eq!(pred["verdict"], "fail");
        assert_eq!(pred["now"], "2026-06-01T00:00:00Z");
        assert_eq!(pred["parameters"]["allowed"], serde_json::json!(["mit", "apache-2.0"]));
        assert_eq!(pred["policies"]["packs"][0]["id"], "t.policy");
        assert_eq!(pred["policies"]["packs"][0]["sha256"], vigil::unstable::evidence::sha256_hex(POLICY.as_bytes()));
        let findings = pred["findings"].as_array().expect("findings");
        let rules: Vec<(&str, bool)> =
            findings.iter().map(|f| (f["rule"].as_str().unwrap_or(""), f["waived"] == true)).collect();
        assert_eq!(rules, [("T-NAME", true), ("T-LIC", false)]);
        assert_eq!(findings[0]["waiver"]["approver"], "security");
        assert_eq!(findings[0]["location"]["file"], "models/a.yaml");
        assert_eq!(pred["waivers"][0]["owner"], "ml-platform");

        let digest = pred["policies"]["sha256"].as_str().expect("digest").to_string();
        let ok = policy(
            &[
                "verify-attestation",
                "att.json",
                "--key",
                public,
                "--subject",
                "models/a.yaml",
                "--subject",
                "./models/b.yaml",
                "--policy-digest",
                &digest,
            ],
            p,
        );
        assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
        assert!(text(&ok.stdout).contains("2 subjects") && text(&ok.stdout).contains("verdict fail"));
        // The verdict was `fail`: a gate that requires a pass says so.
        let gate = policy(&["verify-attestation", "att.json", "--key", public, "--require-pass"], p);
        assert_eq!(gate.status.code(), Some(1));
        assert!(text(&gate.stderr).contains("verdict: the check's verdict was `fail`"));
    }
}

/// Each tamper case: what is changed, and the words the failure must name.
#[test]
fn every_tampered_part_is_caught_and_named() {
    let dir = project();
    let p = dir.path();
    assert_eq!(attest(p, "ec.pem").status.code(), Some(1));
    let original = std::fs::read_to_string(p.join("att.json")).expect("att");
    let envelope: Json = serde_json::from_str(&original).expect("json");
    let edit_payload = |edit: &dyn Fn(&mut Json)| {
        let mut s = statement(p);
        edit(&mut s);
        let mut e = envelope.clone();
        e["payload"] = Json::from(STANDARD.encode(serde_json::to_vec(&s).expect("json")));
        e.to_string()
    };
    let edit_envelope = |edit: &dyn Fn(&mut Json)| {
        let mut e = envelope.clone();
        edit(&mut e);
        e.to_string()
    };
    let flip_sig = |e: &mut Json| {
        let mut sig = STANDARD.decode(e["signatures"][0]["sig"].as_str().expect("sig")).expect("b64");
        let last = sig.len() - 2;
        sig[last] ^= 1;
        e["signatures"][0]["sig"] = Json::from(STANDARD.encode(sig));
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "predicate field",
            edit_payload(&|s| s["predicate"]["verdict"] = "pass".into()),
            "signature: no signature verifies",
        ),
        (
            "subject digest in the payload",
            edit_payload(&|s| s["subject"][0]["digest"]["sha256"] = "0".repeat(64).into()),
            "signature: no signature verifies",
        ),
        (
            "a subject removed",
            edit_payload(&|s| {
                s["subject"].as_array_mut().expect("list").remove(1);
            }),
            "signature: no signature verifies",
        ),
        ("signature", edit_envelope(&flip_sig), "signature: no signature verifies"),
        (
            "payload type",
            edit_envelope(&|e| e["payloadType"] = "application/json".into()),
            "signature: no signature verifies",
        ),
        ("signatures removed", edit_envelope(&|e| e["signatures"] = serde_json::json!([])), "unsigned"),
        ("payload not base64", edit_envelope(&|e| e["payload"] = "%%%".into()), "not base64"),
        ("not an envelope", "{\"hello\": 1}".into(), "not a DSSE envelope"),
        ("truncated file", original[..original.len() / 2].to_string(), "not a DSSE envelope"),
    ];
    for (what, content, expected) in cases {
        write(p, "tampered.json", &content);
        let out = policy(&["verify-attestation", "tampered.json", "--key", "ec.pub"], p);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(expected), "{what}: expected `{expected}` in {}", text(&out.stderr));
    }

    // The wrong key: a different key of the same type, and a key of the other type.
    for key in ["other.pub", "ed.pub"] {
        let out = policy(&["verify-attestation", "att.json", "--key", key], p);
        assert_eq!(out.status.code(), Some(1), "{key}");
        assert!(text(&out.stderr).contains("another key signed it"), "{}", text(&out.stderr));
    }
    // The artifacts: a changed subject names both digests; a file that was not checked is no subject.
    write(p, "models/a.yaml", "kind: ModelCard\nlicense: mit\n");
    write(p, "extra.yaml", "x: 1\n");
    let out = policy(
        &[
            "verify-attestation",
            "att.json",
            "--key",
            "ec.pub",
            "--subject",
            "models/a.yaml",
            "--subject",
            "extra.yaml",
            "--subject",
            "models/b.yaml",
            "--policy-digest",
            &"ab".repeat(32),
        ],
        p,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("subject models/a.yaml: its SHA-256 is") && err.contains("the file changed"), "{err}");
    assert!(err.contains("extra.yaml: not a subject of the attestation"), "{err}");
    assert!(err.contains("policy digest: the attestation records policy set"), "{err}");
    assert!(!err.contains("models/b.yaml"), "an intact subject is not reported: {err}");
    // A renamed copy of a subject still matches, by digest.
    std::fs::copy(p.join("models/b.yaml"), p.join("copy.yaml")).expect("copy");
    let out = policy(&["verify-attestation", "att.json", "--key", "ec.pub", "--subject", "copy.yaml"], p);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("models/b.yaml: matches"));
}

#[test]
fn bad_keys_and_files_are_errors_that_never_show_the_key() {
    let dir = project();
    let p = dir.path();
    let secret = std::fs::read_to_string(p.join("ed.pem")).expect("key");
    let body = secret.lines().nth(1).expect("base64 line").to_string();
    write(
        p,
        "garbage.pem",
        "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n",
    );
    write(p, "encrypted.pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
    write(p, "notakey.pem", "hello\n");
    let signing: [(&str, &str); 5] = [
        ("garbage.pem", "neither Ed25519 nor ECDSA P-256 (or malformed)"),
        ("encrypted.pem", "an encrypted private key"),
        ("ed.pub", "a public key: signing needs the private key"),
        ("notakey.pem", "not a PEM key"),
        ("missing.pem", "missing.pem: "),
    ];
    for (key, expected) in signing {
        let out = attest(p, key);
        assert_eq!(out.status.code(), Some(2), "{key}");
        assert!(text(&out.stderr).contains(expected), "{key}: {}", text(&out.stderr));
        assert!(!p.join("att.json").exists(), "no attestation with a bad key");
    }
    // A SEC1 P-256 key signs too.
    assert_eq!(attest(p, "sec1.pem").status.code(), Some(1));
    let verifying: [(&str, &str); 3] = [
        ("ed.pem", "a private key: verification takes the public key"),
        ("garbage.pem", "a private key"),
        ("notakey.pem", "not a PEM key"),
    ];
    for (key, expected) in verifying {
        let out = policy(&["verify-attestation", "att.json", "--key", key], p);
        assert_eq!(out.status.code(), Some(2), "{key}");
        assert!(text(&out.stderr).contains(expected), "{key}: {}", text(&out.stderr));
        assert!(!text(&out.stderr).contains(&body), "the private key is never printed");
    }
    let missing = policy(&["verify-attestation", "nothing.json", "--key", "ec.pub"], p);
    assert_eq!(missing.status.code(), Some(2));
    // An attestation needs a key and real digests.
    let mut args = CHECK.to_vec();
    args.extend(["--attest", "att2.json"]);
    assert_eq!(policy(&args, p).status.code(), Some(2));
    args.extend(["--sign-key", "ed.pem", "--no-hash"]);
    assert_eq!(policy(&args, p).status.code(), Some(2));
    // A key with nothing to sign is a usage error.
    let mut args = CHECK.to_vec();
    args.extend(["--sign-key", "ed.pem"]);
    let out = policy(&args, p);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("neither is set"));
}

/// The predicate's JSON Schema in docs/evidence.md holds for real attestations (with and without an audit
/// log, passing and failing), so the documentation stays true.
#[test]
fn attestations_match_the_documented_schema() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/evidence.md")).expect("doc");
    let block = doc.split("validates real attestations against this block").nth(1).expect("schema section");
    let schema = block.split("```json\n").nth(1).and_then(|b| b.split("```").next()).expect("schema block");
    let schema: Json = serde_json::from_str(schema).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let dir = project();
    let p = dir.path();
    let runs: [&[&str]; 2] = [&[], &["--audit-log", "log.jsonl", "--profile", "x", "--config", "vigil.toml"]];
    write(p, "vigil.toml", "[profiles.x]\nfail_on = \"never\"\n");
    for extra in runs {
        let mut args = CHECK.to_vec();
        args.extend(["--attest", "att.json", "--sign-key", "ed.pem"]);
        args.extend(extra);
        let out = policy(&args, p);
        assert!(out.status.code().is_some_and(|c| c < 2), "{}", text(&out.stderr));
        let predicate = &statement(p)["predicate"];
        let errors: Vec<String> =
            validator.iter_errors(predicate).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{extra:?}: {errors:#?}");
    }
    let predicate = &statement(p)["predicate"];
    assert_eq!((predicate["profile"].as_str(), predicate["verdict"].as_str()), (Some("x"), Some("pass")));
    assert_eq!(predicate["fail_on"], Json::Null);
    assert_eq!(predicate["audit_log"]["entries"], 1);
}

/// Replaces the `n`th UTCTime (tag 0x17, 13 bytes) of a DER certificate: the certificate's own signature
/// is not checked (it is trusted as given, like a public key), so this makes an expired or future one.
fn patch_time(der: &mut [u8], n: usize, time: &[u8; 13]) {
    let at = der.windows(2).enumerate().filter(|(_, w)| w == &[0x17, 0x0d]).nth(n).expect("a UTCTime").0;
    der[at + 2..at + 15].copy_from_slice(time);
}

/// A certificate is a key with a validity period: it verifies while valid, and an expired or not yet valid
/// one verifies nothing (attestations, bundles and audit checkpoints alike).
#[test]
fn certificates_verify_only_while_valid() {
    let dir = project();
    let p = dir.path();
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-key",
            "ec.pem",
            "-subj",
            "/CN=vigil-test",
            "-days",
            "30",
            "-outform",
            "DER",
            "-out",
            "ec.der",
        ])
        .current_dir(p)
        .output();
    if !made.is_ok_and(|o| o.status.success()) {
        println!("skipped: the openssl command cannot make a test certificate");
        return;
    }
    let der = std::fs::read(p.join("ec.der")).expect("der");
    let pem = |der: &[u8]| {
        let body = STANDARD.encode(der);
        let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("ascii")).collect();
        format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
    };
    write(p, "valid.crt", pem(&der));
    let mut expired = der.clone();
    patch_time(&mut expired, 0, b"190101000000Z");
    patch_time(&mut expired, 1, b"200101000000Z");
    write(p, "expired.crt", pem(&expired));
    let mut future = der.clone();
    patch_time(&mut future, 0, b"491231000000Z");
    write(p, "future.crt", pem(&future));
    write(p, "broken.crt", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");

    assert_eq!(attest(p, "ec.pem").status.code(), Some(1));
    let verify = |key: &str| policy(&["verify-attestation", "att.json", "--key", key], p);
    assert_eq!(verify("valid.crt").status.code(), Some(0), "{}", text(&verify("valid.crt").stderr));
    let out = verify("expired.crt");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the key's certificate expired on 2020-01-01T00:00:00Z"),
        "{}",
        text(&out.stderr)
    );
    let out = verify("future.crt");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not valid before 2049-12-31"), "{}", text(&out.stderr));
    let out = verify("broken.crt");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("a malformed X.509 certificate"), "{}", text(&out.stderr));
    // The audit log's checkpoints: an expired certificate verifies none.
    let mut args = CHECK.to_vec();
    args.extend(["--audit-log", "log.jsonl", "--sign-key", "ec.pem"]);
    policy(&args, p);
    let audit = |key: &str| policy(&["audit", "verify", "log.jsonl", "--key", key], p).status.code();
    assert_eq!((audit("valid.crt"), audit("expired.crt")), (Some(0), Some(1)));
}
