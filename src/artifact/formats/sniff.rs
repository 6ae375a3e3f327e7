//! Format detection from leading bytes, never from the file name.
//!
//! Protocol 0/1 pickles have no magic number, so they are recognised by
//! decoding their first opcodes: every opcode must exist in protocol 0/1 and
//! every argument must be well formed (GLOBAL names must look like Python
//! identifiers, INT lines must be integers, STRING must be quoted). Text and
//! binary files fail within a few bytes; `not_a_pickle.bin` (`cmod\n\xf8\n`)
//! fails on its non-UTF-8 global name.

use crate::artifact::document::ArtifactFormat;
use crate::artifact::pickle::opcodes::{self, Arg};
use crate::artifact::pickle::pystr;

/// Magic integer pickled first by legacy (pre-1.6, non-zip) `torch.save`,
/// as the payload of `LONG1` (10 little-endian bytes of 0x1950A86A20F9469CFC6C).
const TORCH_MAGIC_LONG1: [u8; 12] = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/// Largest safetensors header the format allows.
pub(in crate::artifact) const SAFETENSORS_MAX_HEADER: u64 = 100_000_000;

/// Cheap check on the first bytes (at least 16 unless the file is shorter):
/// is this a model artifact we inspect, and which format? `None` = unknown.
pub fn sniff(head: &[u8]) -> Option<ArtifactFormat> {
    if let Some(len) = head.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok())
        && u64::from_le_bytes(len) <= SAFETENSORS_MAX_HEADER
        && head.get(8) == Some(&b'{')
    {
        return Some(ArtifactFormat::Safetensors);
    }
    if head.starts_with(b"GGUF") {
        return Some(ArtifactFormat::Gguf);
    }
    if head.starts_with(b"\x93NUMPY") {
        return Some(ArtifactFormat::Numpy);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(ArtifactFormat::Zip);
    }
    if head.starts_with(b"\x89HDF\r\n\x1a\n") {
        return Some(ArtifactFormat::Hdf5);
    }
    if head.starts_with(b"7z\xbc\xaf\x27\x1c") {
        return Some(ArtifactFormat::SevenZip);
    }
    if is_legacy_torch(head) {
        return Some(ArtifactFormat::PytorchLegacy);
    }
    if is_pickle(head) {
        return Some(ArtifactFormat::Pickle);
    }
    if is_compressed_joblib(head) {
        return Some(ArtifactFormat::JoblibCompressed);
    }
    if is_onnx(head) {
        return Some(ArtifactFormat::Onnx);
    }
    None
}

/// PROTO n, an optional FRAME, then LONG1 of the torch magic number.
fn is_legacy_torch(head: &[u8]) -> bool {
    let Some(rest) = head.strip_prefix(&[0x80][..]).and_then(|r| r.get(1..)) else {
        return false;
    };
    let rest = match rest.first() {
        Some(0x95) => rest.get(9..).unwrap_or(&[]),
        _ => rest,
    };
    rest.starts_with(&TORCH_MAGIC_LONG1)
}

/// Any pickle: PROTO 0–5 followed by a real opcode, or a plausible protocol 0/1 start.
pub(in crate::artifact) fn is_pickle(head: &[u8]) -> bool {
    match head {
        [0x80, p, rest @ ..] if *p <= 5 => rest.first().is_none_or(|b| opcodes::info(*b).is_some()),
        [0x80] => true,
        _ => looks_like_proto01(head),
    }
}

fn looks_like_proto01(head: &[u8]) -> bool {
    let mut i = 0usize;
    let mut ops = 0usize;
    while i < head.len() {
        let b = head[i];
        let Some(info) = opcodes::info(b).filter(|inf| inf.proto <= 1) else {
            return false;
        };
        i += 1;
        ops += 1;
        let rest = head.get(i..).unwrap_or(&[]);
        match info.arg {
            Arg::None if b == b'.' => return ops >= 2,
            Arg::None => {}
            Arg::Fixed(n) => i = i.saturating_add(n),
            Arg::Counted { len_bytes, .. } => {
                let Some(len) = rest.get(..len_bytes) else {
                    return true;
                };
                let mut le = [0u8; 8];
                le[..len_bytes].copy_from_slice(len);
                let len = usize::try_from(u64::from_le_bytes(le)).unwrap_or(usize::MAX);
                i = i.saturating_add(len_bytes).saturating_add(len);
            }
            Arg::Line | Arg::QuotedLine | Arg::UnicodeLine => {
                let (line, complete) = split_line(rest);
                if !line_ok(b, line, complete) {
                    return false;
                }
                if !complete {
                    return true;
                }
                i += line.len() + 1;
            }
            Arg::LinePair => {
                let (module, complete) = split_line(rest);
                if !identifier_ok(module, complete) {
                    return false;
                }
                if !complete {
                    return true;
                }
                let after = rest.get(module.len() + 1..).unwrap_or(&[]);
                let (name, complete) = split_line(after);
                if !identifier_ok(name, complete) {
                    return false;
                }
                if !complete {
                    return true;
                }
                i += module.len() + name.len() + 2;
            }
        }
    }
    ops > 0
}

fn split_line(rest: &[u8]) -> (&[u8], bool) {
    match rest.iter().position(|&c| c == b'\n') {
        Some(n) => (&rest[..n], true),
        None => (rest, false),
    }
}

/// Validate a line argument; a line cut by the end of `head` only has to be a
/// plausible prefix.
fn line_ok(op: u8, line: &[u8], complete: bool) -> bool {
    match op {
        b'I' | b'L' => {
            if complete {
                pystr::parse_int_line(line, op == b'L').is_some()
            } else {
                line.iter().all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'_'))
            }
        }
        b'g' | b'p' => !line.is_empty() && line.iter().all(u8::is_ascii_digit) || (!complete && line.is_empty()),
        b'F' => pystr::plausible_float(line) || (!complete && line.is_empty()),
        b'S' => {
            if complete {
                pystr::is_quoted(line)
            } else {
                line.first().is_none_or(|q| *q == b'\'' || *q == b'"')
            }
        }
        b'P' => line.iter().all(|c| c.is_ascii_graphic() || *c == b' '),
        _ => true,
    }
}

/// A complete dotted Python identifier (`os.path`, `Bdb.run`).
pub(in crate::artifact) fn is_dotted_identifier(s: &str) -> bool {
    s.split('.').all(|part| identifier_ok(part.as_bytes(), true) && !part.contains('.'))
}

/// GLOBAL/INST names: UTF-8 dotted Python identifiers.
fn identifier_ok(s: &[u8], complete: bool) -> bool {
    let Ok(text) = std::str::from_utf8(s) else {
        return false;
    };
    if complete && text.is_empty() {
        return false;
    }
    let starts_ok = text.chars().next().is_none_or(|c| c.is_alphabetic() || c == '_');
    starts_ok && text.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
}

/// joblib's compressed containers: its own `ZF` zfile, zlib, gzip, bz2, xz, lz4.
fn is_compressed_joblib(head: &[u8]) -> bool {
    let zlib = match head {
        [0x78, flg, ..] => matches!(flg, 0x01 | 0x5e | 0x9c | 0xda),
        _ => false,
    };
    zlib || head.starts_with(b"ZF")
        || head.starts_with(b"\x1f\x8b\x08")
        || (head.starts_with(b"BZh") && head.get(3).is_some_and(|d| (b'1'..=b'9').contains(d)))
        || head.starts_with(b"\xfd7zXZ\x00")
        || head.starts_with(b"\x04\x22\x4d\x18")
}

/// ONNX ModelProto: field 1 (ir_version, varint) first, then another known
/// top-level field. Cheap and specific enough without a protobuf dependency.
fn is_onnx(head: &[u8]) -> bool {
    match head {
        [0x08, ver, tag, ..] => {
            (1..=0x3f).contains(ver) && matches!(tag, 0x12 | 0x1a | 0x22 | 0x28 | 0x32 | 0x3a | 0x42 | 0x72)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_formats() {
        assert_eq!(sniff(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":1}      "), Some(ArtifactFormat::Safetensors));
        assert_eq!(sniff(b"GGUF\x03\x00\x00\x00"), Some(ArtifactFormat::Gguf));
        assert_eq!(sniff(b"\x93NUMPY\x01\x00v\x00{'descr'"), Some(ArtifactFormat::Numpy));
        assert_eq!(sniff(b"PK\x03\x04\x14\x00\x00\x00"), Some(ArtifactFormat::Zip));
        assert_eq!(sniff(b"7z\xbc\xaf\x27\x1c\x00\x04"), Some(ArtifactFormat::SevenZip));
        assert_eq!(sniff(b"\x1f\x8b\x08\x00\x00\x00"), Some(ArtifactFormat::JoblibCompressed));
        assert_eq!(sniff(b"x\x9c\x01\x02"), Some(ArtifactFormat::JoblibCompressed));
        assert_eq!(sniff(b"\x08\x07\x12\x07pytorch"), Some(ArtifactFormat::Onnx));
        let mut legacy = vec![0x80, 0x02];
        legacy.extend_from_slice(&TORCH_MAGIC_LONG1);
        assert_eq!(sniff(&legacy), Some(ArtifactFormat::PytorchLegacy));
    }

    #[test]
    fn pickle_protocols() {
        assert_eq!(sniff(b"\x80\x04\x95\x10\x00\x00\x00"), Some(ArtifactFormat::Pickle));
        assert_eq!(sniff(b"(lp0\nVa\np1\naVb\n"), Some(ArtifactFormat::Pickle));
        assert_eq!(sniff(b"c__builtin__\neval\np0\n"), Some(ArtifactFormat::Pickle));
        assert_eq!(sniff(b"cposix\nsystem\np0\n(Vls"), Some(ArtifactFormat::Pickle));
        assert_eq!(sniff(b"ctorch._utils\n_rebuild_ten"), Some(ArtifactFormat::Pickle));
        assert_eq!(sniff(b"(S'raise Runt"), Some(ArtifactFormat::Pickle));
        assert_eq!(sniff(b"]q\x00(X\x01\x00\x00\x00aq"), Some(ArtifactFormat::Pickle));
    }

    #[test]
    fn not_pickles() {
        assert_eq!(sniff(b"cmod\n\xf8\n"), None);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(sniff(b"# Title\n\nSome text"), None);
        assert_eq!(sniff(b"Introduction to x"), None);
        assert_eq!(sniff(b"(c) 2024 Example Inc."), None);
        assert_eq!(sniff(b"\x80\x09abc"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"{\"json\": true}"), None);
    }
}
