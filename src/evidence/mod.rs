//! Evidence that travels: signed attestations of a check, signed policy bundles, and the keys and DSSE
//! envelopes both are built on (`docs/evidence.md`).

pub mod attest;
pub mod bundle;
pub mod dsse;
pub mod keys;

use sha2::{Digest, Sha256};

use crate::hex::encode as hex;

/// Lowercase hex SHA-256 of `bytes` (the crate's one digest encoding, `crate::hex`).
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::hex::sha256(bytes)
}

/// Lowercase hex SHA-256 of a file's bytes, read in chunks (model files can be large).
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<String> {
    let mut file = crate::confine::open_regular(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut file, &mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex(&hasher.finalize()))
}
