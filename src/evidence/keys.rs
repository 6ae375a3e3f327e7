//! Signing and verification keys: Ed25519 and ECDSA P-256 (SHA-256), read from PEM files.
//!
//! Private keys are PKCS#8 (`-----BEGIN PRIVATE KEY-----`, what `openssl genpkey` writes) or, for P-256,
//! SEC1 (`-----BEGIN EC PRIVATE KEY-----`); public keys are SubjectPublicKeyInfo (`-----BEGIN PUBLIC
//! KEY-----`) or X.509 certificates (`-----BEGIN CERTIFICATE-----`), whose validity period is then enforced:
//! an expired certificate verifies nothing. A key's id is the SHA-256 of its public key's DER encoding (SubjectPublicKeyInfo), in hex:
//! it names the signer in envelopes and listings, and is only a hint (the signature is what counts).
//!
//! Key material is never printed: no type here implements `Debug` over secret bytes, and errors name the
//! file and what is wrong with it, never its contents.

use std::path::Path;

use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use sha2::{Digest, Sha256};

/// PEM key files are small; anything larger is not a key.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// A key that signs envelopes.
pub enum SigningKey {
    /// Ed25519 (RFC 8032).
    Ed25519(Box<ed25519_dalek::SigningKey>),
    /// ECDSA over NIST P-256 with SHA-256; signatures are DER-encoded, as most DSSE tools write them.
    P256(Box<p256::ecdsa::SigningKey>),
}

/// A key that verifies envelopes, with the validity period of the certificate it came from, if any.
#[derive(Clone)]
pub struct VerifyingKey {
    public: Public,
    valid: Option<(jiff::Timestamp, jiff::Timestamp)>,
}

#[derive(Clone)]
enum Public {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only the public half: a debug print of a signer must never reveal the secret.
        write!(f, "SigningKey({} {})", self.algorithm(), self.verifying_key().id())
    }
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifyingKey({} {})", self.algorithm(), self.id())
    }
}

/// Reads a key file with a size limit, never through a FIFO or device (`confine::open_regular`).
fn read_pem(path: &Path) -> Result<String, String> {
    let name = path.display();
    let file = crate::confine::open_regular(path).map_err(|e| format!("{name}: {e}"))?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_KEY_FILE + 1), &mut text)
        .map_err(|_| format!("{name}: not a PEM key file (not text)"))?;
    if text.len() as u64 > MAX_KEY_FILE {
        return Err(format!("{name}: larger than {MAX_KEY_FILE} bytes: not a PEM key file"));
    }
    Ok(text)
}

/// The label of the first PEM block (`PRIVATE KEY`, `PUBLIC KEY` ...), if the text holds one.
fn pem_label(text: &str) -> Option<&str> {
    let start = text.find("-----BEGIN ")? + "-----BEGIN ".len();
    let len = text[start..].find("-----")?;
    Some(&text[start..start + len])
}

impl SigningKey {
    /// Reads a private key from a PEM file.
    pub fn from_file(path: &Path) -> Result<SigningKey, String> {
        let text = read_pem(path)?;
        SigningKey::from_pem(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses a PEM private key: PKCS#8 Ed25519 or P-256, or SEC1 P-256.
    pub fn from_pem(text: &str) -> Result<SigningKey, String> {
        match pem_label(text) {
            Some("PRIVATE KEY") => {
                if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_pem(text) {
                    return Ok(SigningKey::Ed25519(Box::new(key)));
                }
                p256::ecdsa::SigningKey::from_pkcs8_pem(text)
                    .map(|k| SigningKey::P256(Box::new(k)))
                    .map_err(|_| "a PKCS#8 private key, but neither Ed25519 nor ECDSA P-256 (or malformed)".into())
            }
            Some("EC PRIVATE KEY") => p256::SecretKey::from_sec1_pem(text)
                .map(|k| SigningKey::P256(Box::new(k.into())))
                .map_err(|_| "an EC private key, but not on the P-256 curve (or malformed)".into()),
            Some("ENCRYPTED PRIVATE KEY") => Err("an encrypted private key: Vigil reads unencrypted PEM keys \
                 (keep the key in your CI's secret store and write it to a file readable only by the job)"
                .into()),
            Some("PUBLIC KEY") => Err("a public key: signing needs the private key".into()),
            Some(other) => Err(format!("a PEM `{other}` block, not a private key")),
            None => Err("not a PEM key (no `-----BEGIN ...-----` line)".into()),
        }
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        match self {
            SigningKey::Ed25519(k) => VerifyingKey { public: Public::Ed25519(k.verifying_key()), valid: None },
            SigningKey::P256(k) => VerifyingKey { public: Public::P256(*k.verifying_key()), valid: None },
        }
    }

    /// `ed25519` or `ecdsa-p256-sha256`.
    pub fn algorithm(&self) -> &'static str {
        self.verifying_key().algorithm()
    }

    /// Signs `message`: 64 raw bytes for Ed25519, a DER-encoded ECDSA signature for P-256.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            SigningKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            SigningKey::P256(k) => {
                let signature: p256::ecdsa::Signature = k.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
        }
    }
}

impl VerifyingKey {
    /// Reads a public key from a PEM file.
    pub fn from_file(path: &Path) -> Result<VerifyingKey, String> {
        let text = read_pem(path)?;
        VerifyingKey::from_pem(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses a PEM public key (SubjectPublicKeyInfo) or certificate, Ed25519 or P-256.
    pub fn from_pem(text: &str) -> Result<VerifyingKey, String> {
        match pem_label(text) {
            Some("PUBLIC KEY") => {
                let (_, der) = ed25519_dalek::pkcs8::spki::der::pem::decode_vec(text.trim().as_bytes())
                    .map_err(|_| "a public key, but malformed PEM".to_string())?;
                Ok(VerifyingKey { public: Public::from_spki(&der)?, valid: None })
            }
            Some("CERTIFICATE") => {
                use x509_cert::der::{DecodePem, Encode};
                let cert = x509_cert::Certificate::from_pem(text.trim())
                    .map_err(|_| "a malformed X.509 certificate".to_string())?;
                let tbs = cert.tbs_certificate();
                let spki = tbs.subject_public_key_info().to_der().map_err(|_| "a malformed certificate key")?;
                let time = |t: x509_cert::time::Time| {
                    jiff::Timestamp::from_second(t.to_unix_duration().as_secs().try_into().unwrap_or(i64::MAX))
                        .unwrap_or(jiff::Timestamp::MAX)
                };
                let validity = tbs.validity();
                let valid = Some((time(validity.not_before), time(validity.not_after)));
                Ok(VerifyingKey { public: Public::from_spki(&spki)?, valid })
            }
            // Verifying with the private key would work, but it means the secret was copied to wherever
            // verification happens: ask for the public half instead.
            Some(label) if label.contains("PRIVATE KEY") => Err("a private key: verification takes the public key \
                 (`openssl pkey -in KEY -pubout -out KEY.pub`)"
                .into()),
            Some(other) => Err(format!("a PEM `{other}` block, not a public key")),
            None => Err("not a PEM key (no `-----BEGIN ...-----` line)".into()),
        }
    }

    /// `ed25519` or `ecdsa-p256-sha256`.
    pub fn algorithm(&self) -> &'static str {
        match self.public {
            Public::Ed25519(_) => "ed25519",
            Public::P256(_) => "ecdsa-p256-sha256",
        }
    }

    /// Fails when the key came from a certificate that is not valid at `at` (expired, or not yet valid).
    /// The certificate is trusted as given, like a public key: its issuer and signature are not checked.
    pub fn usable_at(&self, at: jiff::Timestamp) -> Result<(), String> {
        match self.valid {
            Some((_, until)) if at > until => Err(format!("the key's certificate expired on {until}")),
            Some((from, _)) if at < from => Err(format!("the key's certificate is not valid before {from}")),
            _ => Ok(()),
        }
    }

    /// The key id: lowercase hex SHA-256 of the DER SubjectPublicKeyInfo.
    pub fn id(&self) -> String {
        let der = match &self.public {
            Public::Ed25519(k) => k.to_public_key_der(),
            Public::P256(k) => k.to_public_key_der(),
        };
        // Encoding a valid public key cannot fail; an empty id would only weaken a hint, never a check.
        der.map(|d| super::hex(&Sha256::digest(d.as_bytes()))).unwrap_or_default()
    }

    /// The public key in PEM (SubjectPublicKeyInfo).
    pub fn to_pem(&self) -> String {
        let pem = match &self.public {
            Public::Ed25519(k) => k.to_public_key_pem(Default::default()),
            Public::P256(k) => k.to_public_key_pem(Default::default()),
        };
        pem.unwrap_or_default()
    }

    /// Whether `signature` is this key's signature of `message`. ECDSA signatures are accepted DER-encoded
    /// or as the fixed 64-byte `r || s` (the DSSE test vectors use the latter).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.public {
            Public::Ed25519(k) => ed25519_dalek::Signature::from_slice(signature)
                // Strict: rejects the malleable and small-order forms plain verification lets through.
                .is_ok_and(|s| k.verify_strict(message, &s).is_ok()),
            Public::P256(k) => {
                let parsed = if signature.len() == 64 {
                    p256::ecdsa::Signature::from_slice(signature)
                } else {
                    p256::ecdsa::Signature::from_der(signature)
                };
                parsed.is_ok_and(|s| k.verify(message, &s).is_ok())
            }
        }
    }
}

impl Public {
    /// An Ed25519 or P-256 key from DER SubjectPublicKeyInfo.
    fn from_spki(der: &[u8]) -> Result<Public, String> {
        if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return Ok(Public::Ed25519(key));
        }
        p256::ecdsa::VerifyingKey::from_public_key_der(der)
            .map(Public::P256)
            .map_err(|_| "a public key, but neither Ed25519 nor ECDSA P-256 (or malformed)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_read_and_wrong_blocks_named() {
        assert_eq!(pem_label("x\n-----BEGIN PUBLIC KEY-----\nAA\n"), Some("PUBLIC KEY"));
        assert!(SigningKey::from_pem("hello").unwrap_err().contains("not a PEM key"));
        let cert = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
        assert!(VerifyingKey::from_pem(cert).unwrap_err().contains("a malformed X.509 certificate"));
        let rsa = "-----BEGIN RSA PUBLIC KEY-----\nAA==\n-----END RSA PUBLIC KEY-----\n";
        assert!(VerifyingKey::from_pem(rsa).unwrap_err().contains("`RSA PUBLIC KEY`"));
        let garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(SigningKey::from_pem(garbage).unwrap_err().contains("malformed"));
        assert!(VerifyingKey::from_pem(garbage).unwrap_err().contains("a private key"));
    }
}
