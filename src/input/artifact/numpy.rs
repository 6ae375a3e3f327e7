//! NumPy `.npy` headers (and, through zip.rs, the `.npy` members of `.npz`).
//!
//! Layout: `\x93NUMPY`, major, minor, header length (u16 LE for v1, u32 LE for
//! v2/v3), then a Python dict literal `{'descr': ..., 'fortran_order': ...,
//! 'shape': (...)}`. An object dtype means the payload is a pickle
//! (`numpy.load(allow_pickle=True)` unpickles it), so it is scanned. The
//! literal is parsed by a small bounded parser, never evaluated.

use super::document::NumpyArray;
use super::inspect::Ctx;
use super::pickle::{self, ScanOptions};
use super::reader::ByteReader;

/// numpy itself refuses headers over 10,000 bytes unless told otherwise;
/// allow more, but stay bounded.
const MAX_HEADER: u64 = 1 << 20;
const MAX_DEPTH: usize = 32;

/// Parse the header at the reader's position; scan the pickle payload of object arrays.
pub(super) fn inspect(ctx: &mut Ctx<'_>, r: &mut ByteReader<'_>, entry: Option<&str>) {
    let label = entry.unwrap_or("npy");
    let mut arr = match parse_header(r) {
        Ok(a) => a,
        Err(e) => {
            ctx.error(format!("{label}: invalid .npy header: {e}"));
            return;
        }
    };
    arr.entry = entry.map(str::to_string);
    let object = arr.object;
    ctx.art.numpy.push(arr);
    if object {
        let opts = ScanOptions { entry: entry.map(str::to_string), ..ScanOptions::default() };
        let rep = pickle::scan(r, &ctx.opts.limits, opts);
        ctx.art.pickles.push(rep);
    }
}

fn parse_header(r: &mut ByteReader<'_>) -> Result<NumpyArray, String> {
    let io = |e: std::io::Error| e.to_string();
    let magic: [u8; 8] = r.array().map_err(io)?.ok_or("truncated magic")?;
    if &magic[..6] != b"\x93NUMPY" {
        return Err("bad magic".into());
    }
    let (major, minor) = (magic[6], magic[7]);
    let len = match major {
        1 => u64::from(u16::from_le_bytes(r.array().map_err(io)?.ok_or("truncated length")?)),
        2 | 3 => u64::from(u32::from_le_bytes(r.array().map_err(io)?.ok_or("truncated length")?)),
        v => return Err(format!("unsupported version {v}.{minor}")),
    };
    if len > MAX_HEADER {
        return Err(format!("header of {len} bytes exceeds {MAX_HEADER}"));
    }
    let n = usize::try_from(len).map_err(|_| "header length")?;
    let mut raw = Vec::with_capacity(n);
    if r.read_into(n, &mut raw).map_err(io)? < n {
        return Err("truncated header".into());
    }
    // v1/v2 headers are Latin-1, v3 is UTF-8.
    let text: String = if major == 3 {
        String::from_utf8(raw).map_err(|_| "header is not UTF-8")?
    } else {
        raw.iter().map(|&b| char::from(b)).collect()
    };
    let Lit::Dict(items) = Parser::new(&text).value(0).ok_or("header is not a dict literal")? else {
        return Err("header is not a dict literal".into());
    };
    let get = |k: &str| items.iter().find(|(key, _)| matches!(key, Lit::Str(s) if s == k)).map(|(_, v)| v);
    let descr = get("descr").ok_or("no 'descr'")?;
    let fortran_order = matches!(get("fortran_order"), Some(Lit::Bool(true)));
    let shape = match get("shape") {
        Some(Lit::Seq(dims)) => dims
            .iter()
            .map(|d| match d {
                Lit::Int(v) => u64::try_from(*v).map_err(|_| "negative dimension".to_string()),
                _ => Err("non-integer dimension".to_string()),
            })
            .collect::<Result<Vec<u64>, String>>()?,
        _ => return Err("no 'shape' tuple".into()),
    };
    Ok(NumpyArray {
        entry: None,
        version: format!("{major}.{minor}"),
        dtype: match descr {
            Lit::Str(s) => s.clone(),
            other => other.repr(),
        },
        shape,
        fortran_order,
        object: has_object(descr),
    })
}

/// Any field of the descr has type code `O`.
fn has_object(descr: &Lit) -> bool {
    match descr {
        Lit::Str(s) => s.trim_start_matches(['<', '>', '|', '=']).starts_with('O'),
        // Structured: [('name', descr[, shape]), ...]; the type is the 2nd item.
        Lit::Seq(fields) => fields.iter().any(|f| match f {
            Lit::Seq(parts) => parts.get(1).is_some_and(has_object),
            _ => false,
        }),
        _ => false,
    }
}

/// The subset of Python literals numpy writes.
#[derive(Debug, PartialEq)]
enum Lit {
    Str(String),
    Int(i64),
    Bool(bool),
    None,
    Seq(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

impl Lit {
    fn repr(&self) -> String {
        match self {
            Lit::Str(s) => format!("'{s}'"),
            Lit::Int(i) => i.to_string(),
            Lit::Bool(true) => "True".into(),
            Lit::Bool(false) => "False".into(),
            Lit::None => "None".into(),
            Lit::Seq(items) => {
                let inner: Vec<String> = items.iter().map(Lit::repr).collect();
                format!("[{}]", inner.join(", "))
            }
            Lit::Dict(items) => {
                let inner: Vec<String> = items.iter().map(|(k, v)| format!("{}: {}", k.repr(), v.repr())).collect();
                format!("{{{}}}", inner.join(", "))
            }
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Parser { s: s.as_bytes(), i: 0 }
    }

    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
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
        self.ws();
        match *self.s.get(self.i)? {
            q @ (b'\'' | b'"') => {
                let start = self.i + 1;
                let len = self.s.get(start..)?.iter().position(|&c| c == q)?;
                self.i = start + len + 1;
                Some(Lit::Str(String::from_utf8_lossy(&self.s[start..start + len]).into_owned()))
            }
            b'(' => self.seq(b')', depth).map(Lit::Seq),
            b'[' => self.seq(b']', depth).map(Lit::Seq),
            b'{' => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.eat(b'}') {
                        return Some(Lit::Dict(items));
                    }
                    let k = self.value(depth + 1)?;
                    if !self.eat(b':') {
                        return None;
                    }
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    if self.eat(b'}') {
                        return Some(Lit::Dict(items));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            _ => {
                let start = self.i;
                while self.s.get(self.i).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_')) {
                    self.i += 1;
                }
                let word = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                match word {
                    "True" => Some(Lit::Bool(true)),
                    "False" => Some(Lit::Bool(false)),
                    "None" => Some(Lit::None),
                    // `3L` appears in headers written by Python 2.
                    w => w.trim_end_matches('L').parse().ok().map(Lit::Int),
                }
            }
        }
    }

    fn seq(&mut self, close: u8, depth: usize) -> Option<Vec<Lit>> {
        self.i += 1;
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.value(depth + 1)?);
            if self.eat(close) {
                return Some(items);
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    use super::super::tests::containers::npy;

    fn parse(bytes: &[u8]) -> Result<NumpyArray, String> {
        let mut cur = Cursor::new(bytes);
        let mut r = ByteReader::seekable(&mut cur).map_err(|e| e.to_string())?;
        parse_header(&mut r)
    }

    #[test]
    fn plain_header() {
        let a = parse(&npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", &[0; 48]));
        let a = a.expect("valid header");
        assert_eq!(a.dtype, "<f4");
        assert_eq!(a.shape, vec![3, 4]);
        assert!(!a.object && !a.fortran_order);
        let scalar = parse(&npy("{'descr': '|b1', 'fortran_order': True, 'shape': (), }", &[1]));
        assert_eq!(scalar.map(|a| (a.shape.len(), a.fortran_order)), Ok((0, true)));
    }

    #[test]
    fn object_and_structured() {
        let a = parse(&npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", b""));
        assert_eq!(a.map(|a| a.object), Ok(true));
        let s = parse(&npy("{'descr': [('a', '<i4'), ('b', '|O')], 'fortran_order': False, 'shape': (1,), }", b""));
        let s = s.expect("structured");
        assert!(s.object);
        assert_eq!(s.dtype, "[['a', '<i4'], ['b', '|O']]");
    }

    #[test]
    fn version_2_and_3_headers() {
        for (major, header) in [
            (2u8, "{'descr': '<i2', 'fortran_order': False, 'shape': (5,), }"),
            (3, "{'descr': [('é', '<f8')], 'fortran_order': False, 'shape': (1,), }"),
        ] {
            let mut v = vec![0x93, b'N', b'U', b'M', b'P', b'Y', major, 0];
            v.extend_from_slice(&u32::try_from(header.len()).unwrap_or(0).to_le_bytes());
            v.extend_from_slice(header.as_bytes());
            let a = parse(&v).expect("valid header");
            assert_eq!(a.version, format!("{major}.0"));
            assert!(!a.object);
        }
    }

    #[test]
    fn bad_headers() {
        assert!(parse(b"\x93NUMPY\x09\x00").is_err());
        assert!(parse(b"\x93NUMPY\x01\x00\xff\xff{").is_err());
        assert!(parse(&npy("{'descr': '<f4', 'shape': (-1,), }", b"")).is_err());
        assert!(parse(&npy("not a dict", b"")).is_err());
        assert!(parse(&npy(&format!("{}{}", "[".repeat(100), "]".repeat(100)), b"")).is_err());
    }
}
