//! Python literals as `ast.literal_eval` reads them, for `.npy` headers.
//!
//! numpy parses a header with `ast.literal_eval`, so the inspector has to read
//! the same value numpy will, not what a well-formed header looks like:
//! string prefixes and escapes (`'\x4f'` is `'O'`), adjacent literals that
//! concatenate (`'|' 'O'`), parentheses that are not tuples (`('O')`), triple
//! quotes, comments, line continuations, unary signs, underscores in numbers,
//! and dicts where the *last* of duplicate keys wins. Anything outside that
//! is `None` (not understood), which callers treat as the worst case.

/// Literal values (only what dtype and shape analysis needs is kept exact).
#[derive(Debug, PartialEq, Clone)]
pub(in crate::artifact) enum Lit {
    Str(String),
    Bytes(Vec<u8>),
    Int(i64),
    /// Floats, complex numbers, integers beyond i64.
    OtherNumber,
    Bool(bool),
    None,
    Tuple(Vec<Lit>),
    List(Vec<Lit>),
    Set(Vec<Lit>),
    /// Keys in first-insertion order, values from the last duplicate.
    Dict(Vec<(Lit, Lit)>),
}

impl Lit {
    /// `repr`-like text for the document.
    pub(in crate::artifact) fn repr(&self) -> String {
        let seq = |items: &[Lit], open: &str, close: &str| {
            let inner: Vec<String> = items.iter().map(Lit::repr).collect();
            format!("{open}{}{close}", inner.join(", "))
        };
        match self {
            Lit::Str(s) => format!("'{s}'"),
            Lit::Bytes(b) => format!("b'{}'", String::from_utf8_lossy(b)),
            Lit::Int(i) => i.to_string(),
            Lit::OtherNumber => "<number>".into(),
            Lit::Bool(true) => "True".into(),
            Lit::Bool(false) => "False".into(),
            Lit::None => "None".into(),
            Lit::Tuple(items) => seq(items, "(", ")"),
            Lit::List(items) => seq(items, "[", "]"),
            Lit::Set(items) => seq(items, "{", "}"),
            Lit::Dict(items) => {
                let inner: Vec<String> = items.iter().map(|(k, v)| format!("{}: {}", k.repr(), v.repr())).collect();
                format!("{{{}}}", inner.join(", "))
            }
        }
    }
}

const MAX_DEPTH: usize = 64;

/// Parse a whole expression; `None` unless all of `text` is one literal.
pub(in crate::artifact) fn parse(text: &str) -> Option<Lit> {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    let v = p.value(0)?;
    p.ws(true);
    (p.i == p.s.len()).then_some(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Skip blanks, comments and line continuations (newlines too inside
    /// brackets, which is the only place a header has them but the end).
    fn ws(&mut self, newlines: bool) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\x0c') => self.i += 1,
                Some(b'\r' | b'\n') if newlines => self.i += 1,
                Some(b'#') => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.i += 1;
                    }
                }
                Some(b'\\') if matches!(self.s.get(self.i + 1), Some(b'\n' | b'\r')) => self.i += 2,
                _ => return,
            }
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws(true);
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<Lit> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws(true);
        match self.peek()? {
            b'(' => {
                self.i += 1;
                let (items, trailing_comma) = self.items(b')', depth)?;
                // `(x)` is x; `()` and `(x,)` are tuples.
                match (items.len(), trailing_comma) {
                    (1, false) => items.into_iter().next(),
                    _ => Some(Lit::Tuple(items)),
                }
            }
            b'[' => {
                self.i += 1;
                self.items(b']', depth).map(|(items, _)| Lit::List(items))
            }
            b'{' => self.dict_or_set(depth),
            b'-' | b'+' => {
                let neg = self.peek() == Some(b'-');
                self.i += 1;
                match self.value(depth + 1)? {
                    Lit::Int(v) if neg => Some(v.checked_neg().map_or(Lit::OtherNumber, Lit::Int)),
                    v @ (Lit::Int(_) | Lit::OtherNumber) => Some(v),
                    _ => None,
                }
            }
            c if c.is_ascii_digit() || c == b'.' => self.number(),
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'\'' || c == b'"' => self.word_or_string(),
            _ => None,
        }
    }

    /// Comma-separated values up to `close`; whether a comma ended the list.
    fn items(&mut self, close: u8, depth: usize) -> Option<(Vec<Lit>, bool)> {
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            if self.eat(close) {
                return Some((items, comma));
            }
            if !items.is_empty() && !comma {
                return None;
            }
            items.push(self.value(depth + 1)?);
            comma = self.eat(b',');
        }
    }

    fn dict_or_set(&mut self, depth: usize) -> Option<Lit> {
        self.i += 1;
        let mut pairs: Vec<(Lit, Lit)> = Vec::new();
        let mut set = Vec::new();
        loop {
            if self.eat(b'}') {
                return Some(if set.is_empty() { Lit::Dict(pairs) } else { Lit::Set(set) });
            }
            let k = self.value(depth + 1)?;
            if self.eat(b':') {
                if !set.is_empty() {
                    return None;
                }
                let v = self.value(depth + 1)?;
                // Python keeps the first key's position and the last value.
                match pairs.iter_mut().find(|(old, _)| *old == k) {
                    Some(slot) => slot.1 = v,
                    None => pairs.push((k, v)),
                }
            } else {
                if !pairs.is_empty() {
                    return None;
                }
                set.push(k);
            }
            if self.eat(b'}') {
                return Some(if set.is_empty() { Lit::Dict(pairs) } else { Lit::Set(set) });
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    fn number(&mut self) -> Option<Lit> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.')) {
            // An exponent sign belongs to the number (`1e-5`).
            let exp = matches!(self.peek(), Some(b'e' | b'E'))
                && !self.s[start..self.i].starts_with(b"0x")
                && !self.s[start..self.i].starts_with(b"0X");
            self.i += 1;
            if exp && matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
        }
        let raw = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        // Python 2 headers write `3L`; numpy's `_filter_header` drops the L.
        let text: String = raw.trim_end_matches(['L', 'l']).chars().filter(|c| *c != '_').collect();
        let lower = text.to_ascii_lowercase();
        let int = if let Some(h) = lower.strip_prefix("0x") {
            i64::from_str_radix(h, 16).ok()
        } else if let Some(o) = lower.strip_prefix("0o") {
            i64::from_str_radix(o, 8).ok()
        } else if let Some(b) = lower.strip_prefix("0b") {
            i64::from_str_radix(b, 2).ok()
        } else {
            lower.parse::<i64>().ok()
        };
        if let Some(v) = int {
            return Some(Lit::Int(v));
        }
        let digits = lower.strip_suffix('j').unwrap_or(&lower);
        let number = digits.parse::<f64>().is_ok() || digits.bytes().all(|c| c.is_ascii_digit());
        (number && !digits.is_empty()).then_some(Lit::OtherNumber)
    }

    /// A keyword, or one or more adjacent string literals (with prefixes).
    fn word_or_string(&mut self) -> Option<Lit> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
            self.i += 1;
        }
        let word = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        if !matches!(self.peek(), Some(b'\'' | b'"')) {
            return match word {
                "True" => Some(Lit::Bool(true)),
                "False" => Some(Lit::Bool(false)),
                "None" => Some(Lit::None),
                _ => None,
            };
        }
        self.i = start;
        let mut text: Option<String> = None;
        let mut bytes: Option<Vec<u8>> = None;
        // Adjacent literals concatenate; str and bytes do not mix.
        loop {
            self.ws(false);
            let here = self.i;
            while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                self.i += 1;
            }
            let prefix = std::str::from_utf8(&self.s[here..self.i]).ok()?.to_ascii_lowercase();
            if !matches!(self.peek(), Some(b'\'' | b'"')) {
                self.i = here;
                break;
            }
            let raw = prefix.contains('r');
            let is_bytes = prefix.contains('b');
            if !matches!(prefix.as_str(), "" | "r" | "u" | "b" | "br" | "rb") {
                return None;
            }
            let part = self.quoted(raw, is_bytes)?;
            match (is_bytes, &mut text, &mut bytes) {
                (false, t, None) => t.get_or_insert_with(String::new).push_str(&String::from_utf8_lossy(&part)),
                (true, None, b) => b.get_or_insert_with(Vec::new).extend_from_slice(&part),
                _ => return None,
            }
        }
        match (text, bytes) {
            (Some(t), None) => Some(Lit::Str(t)),
            (None, Some(b)) => Some(Lit::Bytes(b)),
            _ => None,
        }
    }

    /// The body of one quoted literal (the cursor is on the opening quote).
    fn quoted(&mut self, raw: bool, is_bytes: bool) -> Option<Vec<u8>> {
        let q = self.peek()?;
        let triple = self.s.get(self.i..self.i + 3) == Some(&[q, q, q][..]);
        self.i += if triple { 3 } else { 1 };
        let mut out = Vec::new();
        loop {
            let c = self.peek()?;
            if c == q && (!triple || self.s.get(self.i..self.i + 3) == Some(&[q, q, q][..])) {
                self.i += if triple { 3 } else { 1 };
                return Some(out);
            }
            if c == b'\n' && !triple {
                return None;
            }
            self.i += 1;
            if c != b'\\' {
                out.push(c);
                continue;
            }
            let e = self.peek()?;
            self.i += 1;
            if raw {
                out.extend_from_slice(&[b'\\', e]);
                continue;
            }
            self.escape(e, is_bytes, &mut out)?;
        }
    }

    fn escape(&mut self, e: u8, is_bytes: bool, out: &mut Vec<u8>) -> Option<()> {
        let simple = match e {
            b'\n' => return Some(()),
            b'\\' | b'\'' | b'"' => e,
            b'a' => 7,
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 11,
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.i += 1;
                        }
                        _ => break,
                    }
                }
                return push_code(v, is_bytes, out);
            }
            b'x' => return self.hex(2).and_then(|v| push_code(v, is_bytes, out)),
            b'u' if !is_bytes => return self.hex(4).and_then(|v| push_code(v, false, out)),
            b'U' if !is_bytes => return self.hex(8).and_then(|v| push_code(v, false, out)),
            // `\N{NAME}` needs the Unicode name table: not understood.
            b'N' if !is_bytes => return None,
            other => {
                // Unknown escapes are kept verbatim (with a warning in Python).
                out.extend_from_slice(&[b'\\', other]);
                return Some(());
            }
        };
        out.push(simple);
        Some(())
    }

    fn hex(&mut self, n: usize) -> Option<u32> {
        let digits = std::str::from_utf8(self.s.get(self.i..self.i + n)?).ok()?;
        let v = u32::from_str_radix(digits, 16).ok()?;
        self.i += n;
        Some(v)
    }
}

/// Append code point `v` (a byte in bytes literals) as UTF-8.
fn push_code(v: u32, is_bytes: bool, out: &mut Vec<u8>) -> Option<()> {
    if is_bytes {
        out.push(u8::try_from(v).ok()?);
    } else {
        let mut buf = [0u8; 4];
        out.extend_from_slice(char::from_u32(v)?.encode_utf8(&mut buf).as_bytes());
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<Lit> {
        Some(Lit::Str(v.into()))
    }

    #[test]
    fn strings_as_python_reads_them() {
        assert_eq!(parse(r"'\x4f'"), s("O"));
        assert_eq!(parse(r"'|' 'O'"), s("|O"));
        assert_eq!(parse(r#"'|' "O""#), s("|O"));
        assert_eq!(parse(r"('O')"), s("O"));
        assert_eq!(parse(r"u'\u004f'"), s("O"));
        assert_eq!(parse(r"'''O'''"), s("O"));
        assert_eq!(parse(r"'\117'"), s("O"));
        assert_eq!(parse(r"r'\x4f'"), s(r"\x4f"));
        assert_eq!(parse(r"b'O'"), Some(Lit::Bytes(b"O".to_vec())));
        assert_eq!(parse(r"'a' b'b'"), None);
        assert_eq!(parse(r"f'O'"), None);
        assert_eq!(parse("'O' # comment\n"), s("O"));
    }

    #[test]
    fn containers_numbers_and_duplicate_keys() {
        assert_eq!(parse("('O',)"), Some(Lit::Tuple(vec![Lit::Str("O".into())])));
        assert_eq!(parse("()"), Some(Lit::Tuple(vec![])));
        assert_eq!(
            parse("(1_0, -2, 0x10, 3L)"),
            Some(Lit::Tuple(vec![Lit::Int(10), Lit::Int(-2), Lit::Int(16), Lit::Int(3)]))
        );
        assert_eq!(parse("1.5e-3"), Some(Lit::OtherNumber));
        let d = parse("{'descr': '<f4', 'x': 1, 'descr': '|O'}");
        assert_eq!(
            d,
            Some(Lit::Dict(vec![
                (Lit::Str("descr".into()), Lit::Str("|O".into())),
                (Lit::Str("x".into()), Lit::Int(1))
            ]))
        );
        assert_eq!(parse("{1, 2}"), Some(Lit::Set(vec![Lit::Int(1), Lit::Int(2)])));
        assert_eq!(parse("[1 2]"), None);
        assert_eq!(parse(&format!("{}{}", "(".repeat(100), ")".repeat(100))), None);
        assert_eq!(parse("os.system('x')"), None);
    }
}
