//! Evidence that travels: signed attestations of a check, signed policy bundles, and the keys and DSSE
//! envelopes both are built on (`docs/evidence.md`).

pub mod attest;
pub mod bundle;
pub mod dsse;
pub mod keys;

use crate::hex::encode as hex;

/// Lowercase hex SHA-256 of `bytes` (the crate's one digest encoding, `crate::hex`).
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::hex::sha256(bytes)
}

/// Lowercase hex SHA-256 of a file's bytes, read in chunks (model files can be large).
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<String> {
    crate::hex::sha256_reader(&mut crate::confine::open_regular(path)?)
}
