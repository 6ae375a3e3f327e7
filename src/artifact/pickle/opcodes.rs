//! The pickle opcode table: every opcode of protocols 0–5 with the shape of its
//! argument, transcribed from CPython's `pickletools.opcodes`.
//!
//! The scanner must know the exact length of every argument, including opcodes
//! it does not care about, or it loses sync with the stream and misreads data
//! bytes as opcodes. Keeping the table separate lets the sniffer (protocol 0/1
//! heuristics) and the scanner share one source of truth.

/// How an opcode's argument is laid out in the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::artifact) enum Arg {
    /// No argument bytes.
    None,
    /// Fixed number of raw bytes (u8/u16/i32/u32/u64/f64 little or big endian).
    Fixed(usize),
    /// One newline-terminated line (INT, LONG, FLOAT, GET, PUT, PERSID).
    Line,
    /// A newline-terminated Python string literal with quotes (STRING).
    QuotedLine,
    /// A newline-terminated raw-unicode-escape string (UNICODE).
    UnicodeLine,
    /// Two newline-terminated UTF-8 lines: module then name (GLOBAL, INST).
    LinePair,
    /// Length-prefixed payload; the length field is this many bytes (1, 4 or 8).
    Counted { len_bytes: usize, signed: bool },
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub(in crate::artifact) struct OpInfo {
    pub name: &'static str,
    pub arg: Arg,
    /// Lowest protocol that emits this opcode. Protocol 0/1 sniffing only accepts
    /// opcodes with `proto <= 1` so random binary data is not mistaken for a pickle.
    pub proto: u8,
}

const fn op(name: &'static str, arg: Arg, proto: u8) -> Option<OpInfo> {
    Some(OpInfo { name, arg, proto })
}

const C1: Arg = Arg::Counted { len_bytes: 1, signed: false };
const C4U: Arg = Arg::Counted { len_bytes: 4, signed: false };
const C4S: Arg = Arg::Counted { len_bytes: 4, signed: true };
const C8: Arg = Arg::Counted { len_bytes: 8, signed: false };

/// Table indexed by opcode byte; `None` marks bytes that are not opcodes.
static TABLE: [Option<OpInfo>; 256] = build_table();

const fn build_table() -> [Option<OpInfo>; 256] {
    let mut t: [Option<OpInfo>; 256] = [None; 256];
    // Integers.
    t[b'I' as usize] = op("INT", Arg::Line, 0);
    t[b'J' as usize] = op("BININT", Arg::Fixed(4), 1);
    t[b'K' as usize] = op("BININT1", Arg::Fixed(1), 1);
    t[b'M' as usize] = op("BININT2", Arg::Fixed(2), 1);
    t[b'L' as usize] = op("LONG", Arg::Line, 0);
    t[0x8a] = op("LONG1", C1, 2);
    t[0x8b] = op("LONG4", C4S, 2);
    // Byte strings and text.
    t[b'S' as usize] = op("STRING", Arg::QuotedLine, 0);
    t[b'T' as usize] = op("BINSTRING", C4S, 1);
    t[b'U' as usize] = op("SHORT_BINSTRING", C1, 1);
    t[b'B' as usize] = op("BINBYTES", C4U, 3);
    t[b'C' as usize] = op("SHORT_BINBYTES", C1, 3);
    t[0x8e] = op("BINBYTES8", C8, 4);
    t[0x96] = op("BYTEARRAY8", C8, 5);
    t[0x97] = op("NEXT_BUFFER", Arg::None, 5);
    t[0x98] = op("READONLY_BUFFER", Arg::None, 5);
    t[b'V' as usize] = op("UNICODE", Arg::UnicodeLine, 0);
    t[0x8c] = op("SHORT_BINUNICODE", C1, 4);
    t[b'X' as usize] = op("BINUNICODE", C4U, 1);
    t[0x8d] = op("BINUNICODE8", C8, 4);
    // Constants and floats.
    t[b'N' as usize] = op("NONE", Arg::None, 0);
    t[0x88] = op("NEWTRUE", Arg::None, 2);
    t[0x89] = op("NEWFALSE", Arg::None, 2);
    t[b'F' as usize] = op("FLOAT", Arg::Line, 0);
    t[b'G' as usize] = op("BINFLOAT", Arg::Fixed(8), 1);
    // Containers.
    t[b']' as usize] = op("EMPTY_LIST", Arg::None, 1);
    t[b'a' as usize] = op("APPEND", Arg::None, 0);
    t[b'e' as usize] = op("APPENDS", Arg::None, 1);
    t[b'l' as usize] = op("LIST", Arg::None, 0);
    t[b')' as usize] = op("EMPTY_TUPLE", Arg::None, 1);
    t[b't' as usize] = op("TUPLE", Arg::None, 0);
    t[0x85] = op("TUPLE1", Arg::None, 2);
    t[0x86] = op("TUPLE2", Arg::None, 2);
    t[0x87] = op("TUPLE3", Arg::None, 2);
    t[b'}' as usize] = op("EMPTY_DICT", Arg::None, 1);
    t[b'd' as usize] = op("DICT", Arg::None, 0);
    t[b's' as usize] = op("SETITEM", Arg::None, 0);
    t[b'u' as usize] = op("SETITEMS", Arg::None, 1);
    t[0x8f] = op("EMPTY_SET", Arg::None, 4);
    t[0x90] = op("ADDITEMS", Arg::None, 4);
    t[0x91] = op("FROZENSET", Arg::None, 4);
    // Stack manipulation.
    t[b'0' as usize] = op("POP", Arg::None, 0);
    t[b'2' as usize] = op("DUP", Arg::None, 0);
    t[b'(' as usize] = op("MARK", Arg::None, 0);
    t[b'1' as usize] = op("POP_MARK", Arg::None, 1);
    // Memo.
    t[b'g' as usize] = op("GET", Arg::Line, 0);
    t[b'h' as usize] = op("BINGET", Arg::Fixed(1), 1);
    t[b'j' as usize] = op("LONG_BINGET", Arg::Fixed(4), 1);
    t[b'p' as usize] = op("PUT", Arg::Line, 0);
    t[b'q' as usize] = op("BINPUT", Arg::Fixed(1), 1);
    t[b'r' as usize] = op("LONG_BINPUT", Arg::Fixed(4), 1);
    t[0x94] = op("MEMOIZE", Arg::None, 4);
    // Extension registry.
    t[0x82] = op("EXT1", Arg::Fixed(1), 2);
    t[0x83] = op("EXT2", Arg::Fixed(2), 2);
    t[0x84] = op("EXT4", Arg::Fixed(4), 2);
    // Object construction: the opcodes that make a pickle able to run code.
    t[b'c' as usize] = op("GLOBAL", Arg::LinePair, 0);
    t[0x93] = op("STACK_GLOBAL", Arg::None, 4);
    t[b'R' as usize] = op("REDUCE", Arg::None, 0);
    t[b'b' as usize] = op("BUILD", Arg::None, 0);
    t[b'i' as usize] = op("INST", Arg::LinePair, 0);
    t[b'o' as usize] = op("OBJ", Arg::None, 1);
    t[0x81] = op("NEWOBJ", Arg::None, 2);
    t[0x92] = op("NEWOBJ_EX", Arg::None, 4);
    // Framing and protocol.
    t[0x80] = op("PROTO", Arg::Fixed(1), 2);
    t[b'.' as usize] = op("STOP", Arg::None, 0);
    t[0x95] = op("FRAME", Arg::Fixed(8), 4);
    // Persistent ids (torch storages).
    t[b'P' as usize] = op("PERSID", Arg::Line, 0);
    t[b'Q' as usize] = op("BINPERSID", Arg::None, 1);
    t
}

/// Look up an opcode byte.
pub(in crate::artifact) fn info(byte: u8) -> Option<&'static OpInfo> {
    TABLE[usize::from(byte)].as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_all_68_opcodes() {
        let count = (0u8..=255).filter(|b| info(*b).is_some()).count();
        assert_eq!(count, 68);
    }

    #[test]
    fn protocol_five_opcodes_present() {
        assert_eq!(info(0x96).map(|i| i.name), Some("BYTEARRAY8"));
        assert_eq!(info(0x97).map(|i| i.name), Some("NEXT_BUFFER"));
        assert_eq!(info(0x98).map(|i| i.name), Some("READONLY_BUFFER"));
    }

    #[test]
    fn junk_bytes_are_not_opcodes() {
        for b in [0x00u8, b'\n', b'\t', b'#', 0xff, 0x99] {
            assert!(info(b).is_none(), "{b:#x}");
        }
    }
}
