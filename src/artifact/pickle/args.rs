//! Decoding of opcode arguments: every opcode's argument length comes from
//! the table in opcodes.rs, so even opcodes the scanner ignores are stepped
//! over exactly and the stream never desynchronises.

use crate::artifact::pickle::opcodes::{Arg, OpInfo};
use crate::artifact::reader::{ByteReader, Line};

/// Decoded argument of one opcode.
/// Byte arguments borrow the caller's scratch buffer, so the hot path (one
/// opcode after another) does not allocate.
pub(in crate::artifact) enum ArgVal<'s> {
    None,
    Fixed(Fixed),
    Line(&'s [u8]),
    /// Text line that was too long to keep.
    LongLine,
    /// Module and name lines of GLOBAL / INST.
    Pair(&'s str, &'s str),
    /// Counted payload; `None` when skipped rather than kept.
    Payload(Option<&'s [u8]>),
}

/// A fixed-size argument (at most 8 bytes), held by value.
#[derive(Clone, Copy)]
pub(in crate::artifact) struct Fixed {
    bytes: [u8; 8],
    len: usize,
}

impl Fixed {
    pub(in crate::artifact) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

/// Read the argument of opcode `b` (already consumed, at offset `off`).
/// Text the scanner may need is kept up to `max` bytes, byte strings up to
/// `max_bytes` (0 unless a nested pickle may hide in them); longer payloads
/// are skipped without being buffered.
#[inline(always)]
pub(in crate::artifact) fn read_arg<'s>(
    r: &mut ByteReader<'_>,
    b: u8,
    info: &OpInfo,
    off: u64,
    (max, max_bytes): (usize, usize),
    scratch: &'s mut Vec<u8>,
) -> Result<ArgVal<'s>, String> {
    scratch.clear();
    let io = |e: std::io::Error| format!("read error at offset {off}: {e}");
    let trunc = |need: u64| format!("truncated at offset {off}: {} needs {need} more bytes", info.name);
    match info.arg {
        Arg::None => Ok(ArgVal::None),
        // Every fixed argument in the opcode table is 1 to 8 bytes.
        Arg::Fixed(n) => match r.fixed(n).map_err(io)? {
            Some(bytes) => Ok(ArgVal::Fixed(Fixed { bytes, len: n.min(8) })),
            None => Err(trunc(n as u64)),
        },
        Arg::Line | Arg::QuotedLine | Arg::UnicodeLine => match r.line(max, scratch).map_err(io)? {
            Line::Complete => Ok(ArgVal::Line(scratch)),
            Line::Eof => Err(format!("truncated at offset {off}: {} line has no newline", info.name)),
            Line::TooLong if info.arg != Arg::Line => {
                if r.skip_line().map_err(io)? {
                    Ok(ArgVal::LongLine)
                } else {
                    Err(format!("truncated at offset {off}: {} line has no newline", info.name))
                }
            }
            Line::TooLong => Err(format!("invalid {} at offset {off}: argument longer than {max} bytes", info.name)),
        },
        Arg::LinePair => {
            // Both lines go into the scratch buffer, one after the other; each
            // is bounded by `max` on its own.
            let mut split = 0usize;
            for part in 0..2 {
                // `line` bounds what the buffer holds in total: allow `max` more.
                let limit = scratch.len().saturating_add(max);
                match r.line(limit, scratch).map_err(io)? {
                    Line::Complete => {}
                    Line::Eof => {
                        return Err(format!("truncated at offset {off}: {} needs module and name lines", info.name));
                    }
                    Line::TooLong => {
                        return Err(format!("invalid {} at offset {off}: name longer than {max} bytes", info.name));
                    }
                }
                if part == 0 {
                    split = scratch.len();
                }
            }
            let both: &'s [u8] = scratch;
            let (m, n) = both.split_at(split.min(both.len()));
            match (std::str::from_utf8(m), std::str::from_utf8(n)) {
                (Ok(m), Ok(n)) => Ok(ArgVal::Pair(m, n)),
                _ => Err(format!(
                    "invalid {} at offset {off}: module/name is not UTF-8 (the unpickler would fail here)",
                    info.name
                )),
            }
        }
        Arg::Counted { len_bytes, signed } => {
            if r.read_into(len_bytes, scratch).map_err(io)? < len_bytes {
                return Err(trunc(len_bytes as u64));
            }
            let mut le = [0u8; 8];
            le[..len_bytes].copy_from_slice(&scratch[..len_bytes]);
            scratch.clear();
            let mut len = u64::from_le_bytes(le);
            if signed && len_bytes == 4 {
                let v = i32::from_le_bytes([le[0], le[1], le[2], le[3]]);
                len = u64::try_from(v)
                    .map_err(|_| format!("invalid {} at offset {off}: negative length {v}", info.name))?;
            }
            let keep = match b {
                0x8a | 0x8b => len <= 8,
                b'T' | b'U' | b'X' | 0x8c | 0x8d => usize::try_from(len).is_ok_and(|l| l <= max),
                b'B' | b'C' | 0x8e => usize::try_from(len).is_ok_and(|l| l <= max_bytes),
                _ => false,
            };
            if keep {
                // `keep` guarantees len <= max_string, max_bytes or 8, so it fits usize.
                let n = usize::try_from(len).map_err(|_| trunc(len))?;
                let got = r.read_into(n, scratch).map_err(io)?;
                if got < n {
                    return Err(format!(
                        "truncated at offset {off}: {} needs {len} bytes, only {got} remain",
                        info.name
                    ));
                }
                Ok(ArgVal::Payload(Some(scratch)))
            } else {
                let got = r.skip(len).map_err(io)?;
                if got < len {
                    return Err(format!(
                        "truncated at offset {off}: {} needs {len} bytes, only {got} remain",
                        info.name
                    ));
                }
                Ok(ArgVal::Payload(None))
            }
        }
    }
}

pub(in crate::artifact) fn fixed4(v: &[u8]) -> [u8; 4] {
    let mut a = [0u8; 4];
    let n = v.len().min(4);
    a[..n].copy_from_slice(&v[..n]);
    a
}

pub(in crate::artifact) fn memo_key(arg: &ArgVal) -> Option<u64> {
    match arg {
        ArgVal::Line(l) => std::str::from_utf8(l).ok()?.trim().parse().ok(),
        ArgVal::Fixed(v) if v.len == 1 => Some(u64::from(v.bytes[0])),
        ArgVal::Fixed(v) => Some(u64::from(u32::from_le_bytes(fixed4(v.as_slice())))),
        _ => None,
    }
}
