//! Decoding of the text arguments of protocol-0 opcodes exactly as CPython's
//! unpickler does, so an attacker cannot spell `os` as `'o\x73'` (STRING) or
//! `o\u0073` (UNICODE) and slip past a scanner that compares raw bytes.

/// Decode a `STRING` argument: a quoted Python 2 `repr` with backslash escapes
/// (`codecs.escape_decode`). Returns `None` when the quotes are missing or
/// mismatched, which makes the real unpickler raise too.
#[cfg(test)]
pub(in crate::artifact) fn decode_quoted(line: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    decode_quoted_into(line, &mut out).then_some(out)
}

/// Whether a `STRING` argument is quoted the way [`decode_quoted_into`] accepts.
pub(in crate::artifact) fn is_quoted(line: &[u8]) -> bool {
    match line {
        [first, .., last] => first == last && (*first == b'\'' || *first == b'"'),
        _ => false,
    }
}

/// [`decode_quoted`] into a reused buffer (cleared first); false when the
/// quotes are missing or mismatched.
pub(in crate::artifact) fn decode_quoted_into(line: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let Some((&first, rest)) = line.split_first() else {
        return false;
    };
    let Some((&last, body)) = rest.split_last() else {
        return false;
    };
    if first != last || !(first == b'\'' || first == b'"') {
        return false;
    }
    escape_decode(body, out);
    true
}

/// `codecs.escape_decode`: `\\ \' \" \a \b \f \n \r \t \v \ooo \xhh` and
/// backslash-newline; any other escape is kept literally. Appends to `out`.
fn escape_decode(s: &[u8], out: &mut Vec<u8>) {
    out.reserve(s.len());
    let mut i = 0usize;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' || i + 1 >= s.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let e = s[i + 1];
        i += 2;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                let mut n = 1;
                while n < 3 && i < s.len() && (b'0'..=b'7').contains(&s[i]) {
                    v = v * 8 + u32::from(s[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => match s.get(i..i + 2).and_then(hex_pair) {
                Some(v) => {
                    out.push(v);
                    i += 2;
                }
                None => {
                    out.extend_from_slice(b"\\x");
                }
            },
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
}

fn hex_pair(p: &[u8]) -> Option<u8> {
    let h = char::from(*p.first()?).to_digit(16)?;
    let l = char::from(*p.get(1)?).to_digit(16)?;
    u8::try_from(h * 16 + l).ok()
}

/// `raw-unicode-escape` decoding used by the `UNICODE` opcode: bytes are
/// Latin-1 except `\uXXXX` and `\UXXXXXXXX`.
#[cfg(test)]
pub(in crate::artifact) fn decode_raw_unicode_escape(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    raw_unicode_escape_into(s, &mut out);
    out
}

/// [`decode_raw_unicode_escape`], appending to `out`.
pub(in crate::artifact) fn raw_unicode_escape_into(s: &[u8], out: &mut String) {
    let mut i = 0usize;
    while i < s.len() {
        let c = s[i];
        if c == b'\\' {
            let width = match s.get(i + 1) {
                Some(b'u') => 4,
                Some(b'U') => 8,
                _ => 0,
            };
            if width > 0 {
                let digits = s.get(i + 2..i + 2 + width);
                let ch = digits
                    .and_then(|d| std::str::from_utf8(d).ok())
                    .and_then(|d| u32::from_str_radix(d, 16).ok())
                    .and_then(char::from_u32);
                if let Some(ch) = ch {
                    out.push(ch);
                    i += 2 + width;
                    continue;
                }
            }
        }
        out.push(char::from(c));
        i += 1;
    }
}

/// Latin-1 decoding for BINSTRING payloads (Python 2 `str` globals),
/// appending to `out` (ASCII is copied as is).
pub(in crate::artifact) fn latin1_into(s: &[u8], out: &mut String) {
    if s.is_ascii()
        && let Ok(ascii) = std::str::from_utf8(s)
    {
        out.push_str(ascii);
        return;
    }
    out.extend(s.iter().map(|&b| char::from(b)));
}

/// Parsed value of an `INT`/`LONG` line.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::artifact) enum PyInt {
    Int(i64),
    Bool(bool),
    /// Valid but outside i64.
    Big,
}

/// Parse the argument of INT (`I01` is True, `I00` False) or LONG (`123L`)
/// roughly like Python's `int()`: surrounding whitespace, a sign, digits and
/// single underscores between digits.
pub(in crate::artifact) fn parse_int_line(line: &[u8], long: bool) -> Option<PyInt> {
    if !long {
        if line == b"01" {
            return Some(PyInt::Bool(true));
        }
        if line == b"00" {
            return Some(PyInt::Bool(false));
        }
    }
    let text = std::str::from_utf8(line).ok()?.trim();
    let text = if long { text.strip_suffix('L').unwrap_or(text) } else { text };
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, text.get(1..)?),
        b'+' => (false, text.get(1..)?),
        _ => (false, text),
    };
    let bytes = digits.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.first().is_some_and(u8::is_ascii_digit)
        && bytes.last().is_some_and(u8::is_ascii_digit)
        && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'_')
        && !digits.contains("__");
    if !valid {
        return None;
    }
    // The digits without underscores, as a non-negative i64 (like parsing
    // them with `str::parse::<i64>`), or Big when they do not fit.
    let mut v = 0i64;
    for d in bytes.iter().filter(|b| **b != b'_') {
        match v.checked_mul(10).and_then(|x| x.checked_add(i64::from(d - b'0'))) {
            Some(next) => v = next,
            None => return Some(PyInt::Big),
        }
    }
    Some(PyInt::Int(if neg { v.checked_neg()? } else { v }))
}

/// Little-endian two's-complement integer of LONG1/LONG4, if it fits i64.
pub(in crate::artifact) fn le_signed(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() {
        return Some(0);
    }
    if bytes.len() > 8 {
        return None;
    }
    let negative = bytes.last().is_some_and(|b| b & 0x80 != 0);
    let mut buf = if negative { [0xffu8; 8] } else { [0u8; 8] };
    buf[..bytes.len()].copy_from_slice(bytes);
    Some(i64::from_le_bytes(buf))
}

/// Plausible FLOAT argument (`float()` accepts more, but this is enough to
/// reject binary noise during protocol-0 sniffing).
pub(in crate::artifact) fn plausible_float(line: &[u8]) -> bool {
    !line.is_empty() && line.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_' | b' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings() {
        assert_eq!(decode_quoted(b"'o\\x73'").as_deref(), Some(&b"os"[..]));
        assert_eq!(decode_quoted(b"\"a\\nb\"").as_deref(), Some(&b"a\nb"[..]));
        assert_eq!(decode_quoted(b"'\\163ys'").as_deref(), Some(&b"sys"[..]));
        assert_eq!(decode_quoted(b"'abc"), None);
        assert_eq!(decode_quoted(b"'"), None);
    }

    #[test]
    fn raw_unicode() {
        assert_eq!(decode_raw_unicode_escape(b"o\\u0073"), "os");
        assert_eq!(decode_raw_unicode_escape(b"a\\zb"), "a\\zb");
        assert_eq!(decode_raw_unicode_escape(b"\\u00"), "\\u00");
        assert_eq!(decode_raw_unicode_escape(&[0xe9]), "é");
    }

    #[test]
    fn ints() {
        assert_eq!(parse_int_line(b"01", false), Some(PyInt::Bool(true)));
        assert_eq!(parse_int_line(b"-12", false), Some(PyInt::Int(-12)));
        assert_eq!(parse_int_line(b"12L", true), Some(PyInt::Int(12)));
        assert_eq!(parse_int_line(b"1_000", false), Some(PyInt::Int(1000)));
        assert_eq!(parse_int_line(b"99999999999999999999999", false), Some(PyInt::Big));
        assert_eq!(parse_int_line(b"mod", false), None);
        assert_eq!(parse_int_line(b"", false), None);
        assert_eq!(le_signed(&[0xff]), Some(-1));
        assert_eq!(le_signed(&[0x00, 0x01]), Some(256));
        assert_eq!(le_signed(&[1; 9]), None);
    }
}
