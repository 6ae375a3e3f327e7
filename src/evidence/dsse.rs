//! DSSE (Dead Simple Signing Envelope) v1: the JSON envelope and its pre-authentication encoding.
//!
//! A signature covers `PAE(payloadType, payload)`, never the envelope's JSON, so re-serialising the
//! envelope cannot break or forge it, and the payload type is authenticated along with the body (an
//! attestation cannot be passed off as a bundle manifest). Built from the specification
//! (secure-systems-lab/dsse, protocol.md and envelope.md, v1.0.0).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde::{Deserialize, Serialize};

use super::keys::{SigningKey, VerifyingKey};

/// An envelope holding a larger payload than this is not read (an attestation of 10,000 inputs and
/// findings stays well below it).
pub const MAX_ENVELOPE: usize = 64 * 1024 * 1024;

/// The JSON envelope. Unknown fields are ignored, as the specification requires.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope {
    /// Base64 of the serialized body.
    pub payload: String,
    /// What the payload is, e.g. `application/vnd.in-toto+json`.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// One or more signatures of `PAE(payloadType, payload)`.
    pub signatures: Vec<Signature>,
}

/// One signature.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Signature {
    /// Unauthenticated hint naming the key (Vigil: SHA-256 of the public key's DER); may be absent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// Base64 of the signature bytes.
    pub sig: String,
}

/// The pre-authentication encoding: `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in
/// ASCII decimal without leading zeros.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + body.len() + 32);
    out.extend_from_slice(format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// Base64 as the specification allows it: standard or URL-safe alphabet, with or without padding.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let padded = |t: &str| {
        let mut s = t.to_string();
        while !s.len().is_multiple_of(4) {
            s.push('=');
        }
        s
    };
    let engine = if text.contains(['-', '_']) { URL_SAFE } else { STANDARD };
    engine.decode(padded(text)).ok()
}

/// Signs `body` as `payload_type` with one key.
pub fn sign(payload_type: &str, body: &[u8], key: &SigningKey) -> Envelope {
    let signature = key.sign(&pae(payload_type, body));
    Envelope {
        payload: STANDARD.encode(body),
        payload_type: payload_type.to_string(),
        signatures: vec![Signature { keyid: key.verifying_key().id(), sig: STANDARD.encode(signature) }],
    }
}

/// What a verified envelope holds.
#[derive(Debug)]
pub struct Verified {
    /// The authenticated payload bytes.
    pub body: Vec<u8>,
    /// The key id of the key that verified.
    pub keyid: String,
}

/// Why an envelope does not verify; the message names the part that failed.
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses an envelope from JSON text.
pub fn parse(text: &[u8]) -> Result<Envelope, Invalid> {
    if text.len() > MAX_ENVELOPE {
        return Err(Invalid(format!("larger than {MAX_ENVELOPE} bytes: not read")));
    }
    serde_json::from_slice(text)
        .map_err(|e| Invalid(format!("not a DSSE envelope (JSON with `payload`, `payloadType` and `signatures`): {e}")))
}

/// Checks that `key` signed the envelope as `expected_type`. Every signature is tried (key ids are hints
/// and may be absent or wrong); one valid signature by `key` is enough.
pub fn verify(envelope: &Envelope, expected_type: &str, key: &VerifyingKey) -> Result<Verified, Invalid> {
    key.usable_at(jiff::Timestamp::now()).map_err(Invalid)?;
    let body = decode_base64(&envelope.payload).ok_or_else(|| Invalid("the payload is not base64".into()))?;
    if envelope.signatures.is_empty() {
        return Err(Invalid("the envelope is unsigned (no signatures)".into()));
    }
    let message = pae(&envelope.payload_type, &body);
    let valid = envelope.signatures.iter().any(|s| decode_base64(&s.sig).is_some_and(|sig| key.verify(&message, &sig)));
    if !valid {
        let ids: Vec<&str> = envelope.signatures.iter().map(|s| s.keyid.as_str()).filter(|k| !k.is_empty()).collect();
        let by = if ids.is_empty() { String::new() } else { format!(" (signed by key id {})", ids.join(", ")) };
        return Err(Invalid(format!(
            "no signature verifies with the {} key {}{by}: the payload was altered, the signature damaged, or \
             another key signed it",
            key.algorithm(),
            key.id()
        )));
    }
    // Checked after the signature so a forged envelope learns nothing; a valid signature over another
    // type of payload is still not this kind of document.
    if envelope.payload_type != expected_type {
        return Err(Invalid(format!("payload type `{}`, expected `{expected_type}`", envelope.payload_type)));
    }
    Ok(Verified { body, keyid: key.id() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the DSSE specification (protocol.md, "Test Vectors"): ECDSA P-256, RFC 6979
    /// deterministic, raw `r || s`. Signing deterministically reproduces the published signature.
    #[test]
    fn the_specification_test_vector() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        let d = decode_hex("d73ec437fd6346e3619c5ebfdfff0f6916804955ad32ac9ac492b0ede1f6ffb7");
        let secret = p256::ecdsa::SigningKey::from_slice(&d).unwrap();
        let envelope = r#"{"payload": "aGVsbG8gd29ybGQ=",
          "payloadType": "http://example.com/HelloWorld",
          "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}"#;
        let envelope = parse(envelope.as_bytes()).unwrap();
        let key = SigningKey::P256(Box::new(secret.clone())).verifying_key();
        let verified = verify(&envelope, "http://example.com/HelloWorld", &key).unwrap();
        assert_eq!(verified.body, b"hello world");
        use p256::ecdsa::signature::Signer;
        let ours: p256::ecdsa::Signature = secret.sign(&pae("http://example.com/HelloWorld", b"hello world"));
        assert_eq!(STANDARD.encode(ours.to_bytes()), envelope.signatures[0].sig);
        // The same envelope claiming another type fails, and so does one byte more of payload.
        let err = verify(&envelope, "application/vnd.in-toto+json", &key).unwrap_err();
        assert!(err.0.contains("payload type"), "{err}");
        let mut altered = envelope.clone();
        altered.payload = STANDARD.encode(b"hello world!");
        assert!(verify(&altered, "http://example.com/HelloWorld", &key).is_err());
    }

    #[test]
    fn both_base64_alphabets_with_or_without_padding() {
        for text in ["+/8=", "+/8", "-_8=", "-_8"] {
            assert_eq!(decode_base64(text), Some(vec![0xfb, 0xff]), "{text}");
        }
        assert_eq!(decode_base64("!!"), None);
    }

    fn decode_hex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }
}
