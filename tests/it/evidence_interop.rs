//! Interoperability: an independent DSSE / in-toto implementation (Python `securesystemslib` and
//! `in-toto-attestation`, from PyPI) verifies the attestations Vigil writes, and Vigil verifies one that
//! implementation signed. The packages are installed into a virtual environment under the target folder;
//! without Python or the package registry the test says so and skips.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding};

/// Verifies a Vigil envelope (`verify ENVELOPE PUB`) or signs a statement as Vigil's predicate type
/// (`sign PRIVATE SUBJECT POLICY_DIGEST OUT`). The key id is computed independently: SHA-256 of the DER
/// SubjectPublicKeyInfo, as docs/evidence.md defines it.
const SCRIPT: &str = r#"
import hashlib, json, sys
from cryptography.hazmat.primitives import serialization
from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey

def keyid(public):
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()

if sys.argv[1] == "verify":
    envelope = Envelope.from_dict(json.load(open(sys.argv[2])))
    public = serialization.load_pem_public_key(open(sys.argv[3], "rb").read())
    key = SSlibKey.from_crypto(public, keyid=keyid(public))
    envelope.verify([key], 1)  # raises VerificationError
    assert envelope.payload_type == "application/vnd.in-toto+json", envelope.payload_type
    statement = Statement.copy_from_pb(json_format.Parse(envelope.payload, statement_pb2.Statement()))
    statement.validate()
    print("verified", statement.pb.predicate_type, len(statement.pb.subject))
else:
    _, _, private_path, subject, policy_digest, out = sys.argv
    private = serialization.load_pem_private_key(open(private_path, "rb").read(), password=None)
    signer = CryptoSigner(private, SSlibKey.from_crypto(private.public_key(), keyid=keyid(private.public_key())))
    digest = hashlib.sha256(open(subject, "rb").read()).hexdigest()
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": subject, "digest": {"sha256": digest}}],
        "predicateType": "https://vigil.dev/attestation/check/v1",
        "predicate": {"policies": {"sha256": policy_digest}, "verdict": "pass"},
    }
    envelope = Envelope(json.dumps(statement).encode(), "application/vnd.in-toto+json", {})
    envelope.sign(signer)
    json.dump(envelope.to_dict(), open(out, "w"))
"#;

/// A Python with the packages, or why there is none.
fn python() -> Result<PathBuf, String> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("evidence-venv");
    let python = venv.join("bin/python");
    let ready = |py: &Path| {
        Command::new(py)
            .args(["-c", "import securesystemslib.dsse, cryptography, in_toto_attestation.v1.statement"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ready(&python) {
        return Ok(python);
    }
    let created = Command::new("python3").args(["-m", "venv"]).arg(&venv).output();
    if !created.is_ok_and(|o| o.status.success()) {
        return Err("python3 -m venv failed (no Python 3 with venv)".into());
    }
    let pip = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "--timeout", "30"])
        .args(["securesystemslib[crypto]>=1,<2", "in-toto-attestation>=0.9,<1"])
        .output()
        .map_err(|e| format!("pip: {e}"))?;
    if !pip.status.success() {
        return Err(format!("pip could not install the packages: {}", String::from_utf8_lossy(&pip.stderr)));
    }
    if ready(&python) { Ok(python) } else { Err("the packages installed but do not import".into()) }
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn python_securesystemslib_and_vigil_verify_each_others_envelopes() {
    let python = match python() {
        Ok(p) => p,
        Err(why) => {
            println!("skipped: no independent DSSE implementation: {why}");
            return;
        }
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    std::fs::write(p.join("interop.py"), SCRIPT).expect("script");
    std::fs::write(p.join("card.yaml"), "kind: ModelCard\nlicense: mit\n").expect("card");
    let ed = ed25519_dalek::SigningKey::from_bytes(&[21; 32]);
    let ec = p256::ecdsa::SigningKey::from_slice(&[22; 32]).expect("scalar");
    let keys = [
        (
            "ed",
            ed.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string(),
            ed.verifying_key().to_public_key_pem(LineEnding::LF),
        ),
        (
            "ec",
            ec.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string(),
            ec.verifying_key().to_public_key_pem(LineEnding::LF),
        ),
    ];
    for (name, private, public) in keys {
        let (private_file, public_file) = (format!("{name}.pem"), format!("{name}.pub"));
        std::fs::write(p.join(&private_file), private).expect("key");
        std::fs::write(p.join(&public_file), public.expect("pem")).expect("pub");
        let policy = || {
            let mut c = Command::new(env!("CARGO_BIN_EXE_policy"));
            c.current_dir(p);
            c
        };
        // Vigil signs, Python verifies.
        let out = run(policy().args(["check", "--attest", "att.json", "--sign-key", &private_file, "card.yaml"]));
        assert!(out.status.code().is_some_and(|c| c < 2), "{}", text(&out));
        let out = run(Command::new(&python).current_dir(p).args(["interop.py", "verify", "att.json", &public_file]));
        assert!(out.status.success(), "{name}: securesystemslib rejects Vigil's envelope: {}", text(&out));
        assert!(text(&out).contains("verified https://vigil.dev/attestation/check/v1 1"), "{}", text(&out));
        // ... and rejects it once the payload is altered.
        let att = std::fs::read_to_string(p.join("att.json")).expect("att");
        let envelope: serde_json::Value = serde_json::from_str(&att).expect("json");
        let payload = envelope["payload"].as_str().expect("payload");
        let altered = att.replacen(payload, &format!("{}{}", &payload[..payload.len() - 8], "AAAAAAA="), 1);
        std::fs::write(p.join("altered.json"), altered).expect("write");
        let out =
            run(Command::new(&python).current_dir(p).args(["interop.py", "verify", "altered.json", &public_file]));
        assert!(!out.status.success(), "{name}: an altered payload must not verify in Python either");

        // Python signs, Vigil verifies: the subject and the policy digest are checked.
        let digest = "ab".repeat(32);
        let out = run(Command::new(&python).current_dir(p).args([
            "interop.py",
            "sign",
            &private_file,
            "card.yaml",
            &digest,
            "py.json",
        ]));
        assert!(out.status.success(), "{}", text(&out));
        let verify = |extra: &[&str]| {
            let mut args = vec!["verify-attestation", "py.json", "--key", &public_file, "--subject", "card.yaml"];
            args.extend(extra);
            run(policy().args(args))
        };
        let out = verify(&["--policy-digest", &digest, "--require-pass"]);
        assert_eq!(out.status.code(), Some(0), "{name}: Vigil rejects securesystemslib's envelope: {}", text(&out));
        assert_eq!(verify(&["--policy-digest", &"cd".repeat(32)]).status.code(), Some(1));
    }
}
