//! NumPy `.npy` headers (and, through zip.rs, the `.npy` members of `.npz`).
//!
//! Layout: `\x93NUMPY`, major, minor, header length (u16 LE for v1, u32 LE for
//! v2/v3), then a Python dict literal `{'descr': ..., 'fortran_order': ...,
//! 'shape': (...)}`. numpy reads the literal with `ast.literal_eval` and the
//! dtype with `descr_to_dtype`; the inspector reads both the same way
//! ([`crate::artifact::formats::pylit`], [`is_object`]) and never evaluates anything. An object
//! dtype means the payload is a pickle (`numpy.load(allow_pickle=True)`
//! unpickles it), so it is scanned, and so is the payload of any header or
//! dtype that is not understood: not knowing is not clean.

use crate::artifact::document::NumpyArray;
use crate::artifact::formats::pylit::{self, Lit};
use crate::artifact::inspect::Ctx;
use crate::artifact::pickle::{self, ScanOptions};
use crate::artifact::reader::ByteReader;

/// numpy refuses headers over 10,000 bytes unless `allow_pickle=True`, which
/// lifts the limit; longer ones are stepped over (and the payload scanned).
const MAX_HEADER: u64 = 16 << 20;
/// Sub-array and structured dtypes nest; real ones are shallow.
const MAX_DTYPE_DEPTH: usize = 32;

/// Parse the header at the reader's position; scan the pickle payload of object arrays.
pub(in crate::artifact) fn inspect(ctx: &mut Ctx<'_>, r: &mut ByteReader<'_>, entry: Option<&str>) {
    let label = entry.unwrap_or("npy");
    let mut arr = match parse_header(r) {
        Ok(a) => a,
        Err(Header::Unreadable(e)) => {
            ctx.error(format!("{label}: invalid .npy header: {e}"));
            return;
        }
        Err(Header::NotUnderstood(e, version)) => {
            // numpy may read it differently; assume the worst (an object array).
            ctx.warn(format!("{label}: .npy header not understood ({e}); payload scanned as a pickle"));
            NumpyArray { version, dtype: "?".into(), object: true, ..NumpyArray::default() }
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

enum Header {
    /// Not a `.npy` numpy would open at all (magic, version, truncation).
    Unreadable(String),
    /// The header was stepped over but not understood (with the version).
    NotUnderstood(String, String),
}

fn parse_header(r: &mut ByteReader<'_>) -> Result<NumpyArray, Header> {
    let bad = |e: &str| Header::Unreadable(e.to_string());
    let io = |e: std::io::Error| Header::Unreadable(e.to_string());
    let magic: [u8; 8] = r.array().map_err(io)?.ok_or_else(|| bad("truncated magic"))?;
    if &magic[..6] != b"\x93NUMPY" {
        return Err(bad("bad magic"));
    }
    let (major, minor) = (magic[6], magic[7]);
    let len = match major {
        1 => u64::from(u16::from_le_bytes(r.array().map_err(io)?.ok_or_else(|| bad("truncated length"))?)),
        2 | 3 => u64::from(u32::from_le_bytes(r.array().map_err(io)?.ok_or_else(|| bad("truncated length"))?)),
        v => return Err(Header::Unreadable(format!("unsupported version {v}.{minor}"))),
    };
    let version = format!("{major}.{minor}");
    let vague = |e: String| Header::NotUnderstood(e, version.clone());
    if len > MAX_HEADER {
        if r.skip(len).map_err(io)? < len {
            return Err(bad("truncated header"));
        }
        return Err(vague(format!("header of {len} bytes exceeds {MAX_HEADER}")));
    }
    let n = usize::try_from(len).map_err(|_| bad("header length"))?;
    let mut raw = Vec::with_capacity(n);
    if r.read_into(n, &mut raw).map_err(io)? < n {
        return Err(bad("truncated header"));
    }
    // v1/v2 headers are Latin-1, v3 is UTF-8.
    let text: String = if major == 3 {
        String::from_utf8(raw).map_err(|_| vague("header is not UTF-8".into()))?
    } else {
        raw.iter().map(|&b| char::from(b)).collect()
    };
    let Some(Lit::Dict(items)) = pylit::parse(&text) else {
        return Err(vague("header is not a dict literal".into()));
    };
    let get = |k: &str| items.iter().find(|(key, _)| matches!(key, Lit::Str(s) if s == k)).map(|(_, v)| v);
    let descr = get("descr").ok_or_else(|| vague("no 'descr'".into()))?;
    let fortran_order = matches!(get("fortran_order"), Some(Lit::Bool(true)));
    let shape = match get("shape") {
        Some(Lit::Tuple(dims)) => dims
            .iter()
            .map(|d| match d {
                Lit::Int(v) => u64::try_from(*v).map_err(|_| vague("negative dimension".into())),
                _ => Err(vague("non-integer dimension".into())),
            })
            .collect::<Result<Vec<u64>, Header>>()?,
        _ => return Err(vague("no 'shape' tuple".into())),
    };
    Ok(NumpyArray {
        entry: None,
        version,
        dtype: match descr {
            Lit::Str(s) => s.clone(),
            other => other.repr(),
        },
        shape,
        fortran_order,
        object: is_object(descr, 0),
    })
}

/// Whether numpy's `descr_to_dtype(descr)` can hold Python objects (or might:
/// anything not understood counts as an object dtype).
pub(in crate::artifact) fn is_object(descr: &Lit, depth: usize) -> bool {
    if depth > MAX_DTYPE_DEPTH {
        return true;
    }
    match descr {
        Lit::Str(s) => dtype_string_is_object(s, depth),
        // (base, shape): a sub-array of `base`.
        Lit::Tuple(parts) => match parts.as_slice() {
            [base, _] => is_object(base, depth + 1),
            _ => true,
        },
        // Structured: [(name, descr), (name, descr, shape), ...].
        Lit::List(fields) => fields.iter().any(|f| match f {
            Lit::Tuple(parts) | Lit::List(parts) => match parts.as_slice() {
                [name, d] | [name, d, _] => !field_name_ok(name) || is_object(d, depth + 1),
                _ => true,
            },
            _ => true,
        }),
        _ => true,
    }
}

/// A field name is a string or a `(title, name)` pair.
fn field_name_ok(name: &Lit) -> bool {
    match name {
        Lit::Str(_) => true,
        Lit::Tuple(parts) => matches!(parts.as_slice(), [_, Lit::Str(_)]),
        _ => false,
    }
}

/// `numpy.dtype(s)` for a string: a comma-separated list of fields, each an
/// optional sub-array shape `(2,3)` and a type, is an object dtype if any
/// field is `O`/`object` or not recognised.
fn dtype_string_is_object(s: &str, depth: usize) -> bool {
    let s = s.trim();
    if s.is_empty() || depth > MAX_DTYPE_DEPTH {
        return true;
    }
    if s.contains(',') && !s.starts_with('(') {
        return s.split(',').any(|f| dtype_string_is_object(f, depth + 1));
    }
    if let Some(rest) = s.strip_prefix('(') {
        let Some(close) = rest.find(')') else { return true };
        let dims = &rest[..close];
        if !dims.split(',').all(|d| d.trim().is_empty() || d.trim().bytes().all(|c| c.is_ascii_digit())) {
            return true;
        }
        return dtype_string_is_object(&rest[close + 1..], depth + 1);
    }
    !known_plain_type(s)
}

/// Type strings numpy maps to a dtype without Python objects.
fn known_plain_type(s: &str) -> bool {
    const NAMES: &[&str] = &[
        "bool",
        "bool_",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "float128",
        "complex64",
        "complex128",
        "complex256",
        "int",
        "float",
        "complex",
        "str",
        "str_",
        "unicode",
        "bytes",
        "bytes_",
        "void",
        "half",
        "single",
        "double",
        "longdouble",
        "byte",
        "ubyte",
        "short",
        "ushort",
        "intc",
        "uintc",
        "intp",
        "uintp",
        "longlong",
        "ulonglong",
        "csingle",
        "cdouble",
        "clongdouble",
        "datetime64",
        "timedelta64",
    ];
    let body = s.strip_prefix(['<', '>', '|', '=']).unwrap_or(s);
    // Datetime units: `M8[ns]`, `datetime64[s]`.
    let body = match body.split_once('[') {
        Some((b, unit)) if unit.ends_with(']') && unit[..unit.len() - 1].bytes().all(|c| c.is_ascii_alphanumeric()) => {
            b
        }
        Some(_) => return false,
        None => body,
    };
    if NAMES.contains(&body) {
        return true;
    }
    let mut chars = body.chars();
    let Some(code) = chars.next() else { return false };
    let size = chars.as_str();
    if !size.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    match code {
        // Flexible types take any size (or none).
        'S' | 'a' | 'U' | 'V' => true,
        'b' | 'i' | 'u' | 'f' | 'c' | 'M' | 'm' if !size.is_empty() => true,
        '?' | 'b' | 'B' | 'h' | 'H' | 'i' | 'I' | 'l' | 'L' | 'q' | 'Q' | 'p' | 'P' | 'e' | 'f' | 'd' | 'g' | 'F'
        | 'D' | 'G' | 'M' | 'm' => size.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    use crate::artifact::tests::containers::npy;

    fn parse(bytes: &[u8]) -> Result<NumpyArray, String> {
        let mut cur = Cursor::new(bytes);
        let mut r = ByteReader::seekable(&mut cur).map_err(|e| e.to_string())?;
        parse_header(&mut r).map_err(|e| match e {
            Header::Unreadable(e) | Header::NotUnderstood(e, _) => e,
        })
    }

    fn header(descr: &str) -> String {
        format!("{{'descr': {descr}, 'fortran_order': False, 'shape': (1,), }}")
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

    /// Every spelling numpy's `descr_to_dtype` accepts for an object dtype,
    /// and the plain dtypes real files use (which must stay plain).
    #[test]
    fn object_dtypes_as_numpy_reads_them() {
        for descr in [
            "'|O'",
            "'O'",
            "'object'",
            "'O8'",
            "'(1,)O'",
            "'(2, 3)|O'",
            "('O', (2,))",
            "('<f4', 'not a shape', 'extra')",
            "'<f4,O'",
            r"'\x4f'",
            r"'|' 'O'",
            "('|O')",
            "[('a', '<i4'), ('b', '|O')]",
            "[('a', '<i4'), ('b', [('c', 'O')])]",
            "[(('title', 'a'), 'O')]",
            "[('a', 'O', (2,))]",
            "[('a', '<f4', (2,)), 'junk']",
            "b'<f4'",
            "{'names': ['a'], 'formats': ['O']}",
            "'T'",
            "'<f4[weird'",
            "7",
        ] {
            let a = parse(&npy(&header(descr), b"")).expect(descr);
            assert!(a.object, "{descr} is an object dtype (or not understood)");
        }
        for descr in [
            "'<f4'",
            "'|u1'",
            "'<i8'",
            "'|b1'",
            "'<U10'",
            "'|S5'",
            "'<c16'",
            "'<M8[ns]'",
            "'|V8'",
            "'float32'",
            "'(2,3)<f8'",
            "('<f4', (2,))",
            "[('a', '<i4'), ('b', '<f8', (3,))]",
            "'<f4,<i8'",
            "'?'",
        ] {
            let a = parse(&npy(&header(descr), b"")).expect(descr);
            assert!(!a.object, "{descr} is plain");
        }
        // The last of duplicate keys is the one numpy uses.
        let dup = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'descr': '|O'}";
        assert!(parse(&npy(dup, b"")).map(|a| a.object).unwrap_or(false));
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
