//! `policy verify-attestation FILE --key PUB [--subject PATH…] [--policy-digest D]`, and writing the
//! attestation at the end of `policy check --attest`.
//!
//! Exit codes: 0 verified; 1 the attestation does not verify (signature, statement, a subject or the policy
//! digest: each failure is named); 2 a file or key cannot be read.

use std::path::{Path, PathBuf};

use clap::Args;
use vigil::unstable::evidence::attest;
use vigil::unstable::evidence::keys::{SigningKey, VerifyingKey};

use super::Outcome;
use super::output::{eprint, print};

/// The evidence options of `policy check`.
#[derive(Args)]
pub struct EvidenceArgs {
    /// Write a signed attestation of this run (in-toto Statement v1 in a DSSE envelope, docs/evidence.md);
    /// needs `--sign-key`.
    #[arg(long, value_name = "FILE", requires = "sign_key", conflicts_with_all = ["no_hash", "hash_cache"])]
    pub attest: Option<PathBuf>,
    /// Private key (PEM, Ed25519 or ECDSA P-256) that signs `--attest` and the audit log's checkpoints.
    #[arg(long, value_name = "KEY")]
    pub sign_key: Option<PathBuf>,
    /// Load the policies of a signed bundle (`policy bundle build`; repeatable). It loads only if its
    /// signature and every file verify with `--bundle-key`.
    #[arg(long = "bundle", value_name = "FILE")]
    pub bundles: Vec<PathBuf>,
    /// Public key (PEM) the bundles must be signed with.
    #[arg(long, value_name = "PUB")]
    pub bundle_key: Option<PathBuf>,
}

impl EvidenceArgs {
    /// Reads the signing key, if one is given, before any input is read: a bad key, or a key with nothing
    /// to sign (no `--attest`, no audit log), is exit 2.
    pub fn signing_key(&self, audit_log: bool) -> Result<Option<SigningKey>, Outcome> {
        if self.sign_key.is_some() && self.attest.is_none() && !audit_log {
            return Err(error("`--sign-key` signs `--attest` and the audit log's checkpoints; neither is set"));
        }
        let read = |path: &PathBuf| SigningKey::from_file(path).map_err(|e| error(&format!("signing key {e}")));
        self.sign_key.as_ref().map(read).transpose()
    }
}

#[derive(Args)]
#[command(
    after_help = "Exit codes: 0 verified; 1 does not verify (each failure is named); 2 a file or key cannot be read.

Example:
  policy check --attest vigil.att.json --sign-key ci-key.pem models/
  policy verify-attestation vigil.att.json --key ci-key.pub --subject models/model.safetensors"
)]
pub struct VerifyArgs {
    /// The attestation (a DSSE envelope holding an in-toto statement).
    file: PathBuf,
    /// The signer's public key (PEM: Ed25519 or ECDSA P-256).
    #[arg(long, value_name = "PUB")]
    key: PathBuf,
    /// A file that must be a subject of the attestation, byte for byte (repeatable).
    #[arg(long = "subject", value_name = "PATH")]
    subjects: Vec<PathBuf>,
    /// The SHA-256 of the policy set that must have produced it (`policies.sha256` of the predicate).
    #[arg(long, value_name = "DIGEST")]
    policy_digest: Option<String>,
    /// Also fail unless the recorded verdict is `pass`.
    #[arg(long)]
    require_pass: bool,
}

pub fn verify(args: VerifyArgs) -> Outcome {
    let key = match VerifyingKey::from_file(&args.key) {
        Ok(k) => k,
        Err(e) => return error(&format!("key {e}")),
    };
    let text = match read_limited(&args.file) {
        Ok(t) => t,
        Err(e) => return error(&e),
    };
    let name = args.file.display();
    let att = match attest::open(&text, &key) {
        Ok(a) => a,
        Err(e) => {
            eprint(&format!("✖ {name}: {e}\n"));
            return Outcome::Findings;
        }
    };
    let mut failures = Vec::new();
    let mut matched = Vec::new();
    for path in &args.subjects {
        let digest = match vigil::unstable::evidence::sha256_file(path) {
            Ok(d) => d,
            Err(e) => return error(&format!("{}: {e}", path.display())),
        };
        match attest::check_subject(&att, &path.to_string_lossy(), &digest) {
            Ok(subject) => matched.push(subject),
            Err(e) => failures.push(e),
        }
    }
    if let Some(expected) = &args.policy_digest {
        let expected = expected.strip_prefix("sha256:").unwrap_or(expected);
        if !att.policy_digest().eq_ignore_ascii_case(expected) {
            failures.push(format!(
                "policy digest: the attestation records policy set {}, expected {expected}",
                att.policy_digest()
            ));
        }
    }
    if args.require_pass && att.verdict() != "pass" {
        failures.push(format!("verdict: the check's verdict was `{}`, not `pass`", att.verdict()));
    }
    if !failures.is_empty() {
        for f in &failures {
            eprint(&format!("✖ {name}: {f}\n"));
        }
        return Outcome::Findings;
    }
    let subjects = att.subjects().len();
    print(&format!(
        "✔ {name}: signed by {} key {}; {subjects} subject{}; policy set {}; verdict {}\n",
        key.algorithm(),
        att.keyid,
        if subjects == 1 { "" } else { "s" },
        att.policy_digest(),
        att.verdict()
    ));
    for subject in matched {
        print(&format!("  ✔ {subject}: matches\n"));
    }
    Outcome::Pass
}

fn error(message: &str) -> Outcome {
    eprint(&format!("error: {message}\n"));
    Outcome::Error
}

fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let file = vigil::unstable::confine::open_regular(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    let limit = vigil::unstable::evidence::dsse::MAX_ENVELOPE as u64 + 1;
    std::io::Read::read_to_end(&mut std::io::Read::take(file, limit), &mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(bytes)
}

/// With `--attest`, writes the signed attestation of a finished run: `run` completed with the verdict of
/// `outcome`, the time and the audit log's head. `Err(Outcome::Error)` when it cannot be written.
pub fn finish(
    args: &EvidenceArgs,
    key: &Option<SigningKey>,
    outcome: Outcome,
    report: &vigil::Report,
    policies: &vigil::PolicySet,
    mut run: attest::RunContext,
) -> Result<(), Outcome> {
    let (Some(file), Some(key)) = (&args.attest, key) else { return Ok(()) };
    run.verdict = match outcome {
        Outcome::Pass => "pass",
        Outcome::Findings => "fail",
        Outcome::Error => "error",
    };
    run.time = Some(jiff::Timestamp::now());
    run.audit = report.audit.as_ref().and_then(|h| serde_json::to_value(h).ok());
    write(file, key, report, policies, &run)
}

/// `NAME=VALUE` overrides as the compiler reads them: the value as JSON when it parses, else the text.
pub fn params(specs: &[String]) -> Vec<(String, serde_json::Value)> {
    let parse = |(name, value): (&str, &str)| {
        let value = serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::from(value));
        (name.trim().to_string(), value)
    };
    specs.iter().filter_map(|p| p.split_once('=')).map(parse).collect()
}

/// Writes the signed attestation (exit 2 when it cannot). Never through a symbolic link.
fn write(
    file: &Path,
    key: &SigningKey,
    report: &vigil::Report,
    policies: &vigil::PolicySet,
    run: &attest::RunContext,
) -> Result<(), Outcome> {
    let statement = attest::statement(report, policies, run).map_err(|e| error(&format!("cannot attest: {e}")))?;
    let text = attest::sign(&statement, key);
    let written = vigil::unstable::confine::open_for_write(file, false).and_then(|mut f| {
        std::io::Write::write_all(&mut f, text.as_bytes())?;
        f.sync_data()
    });
    written.map_err(|e| error(&format!("cannot write the attestation {}: {e}", file.display())))
}
