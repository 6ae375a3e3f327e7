//! Vigil plugin: finds secrets and personal data in a string.
//!
//! `find(text)` returns one object per match: `{"type": "...", "start": n, "length": n, "preview": "..."}`,
//! offsets in characters, the preview redacted (first four and last two characters). Detectors are
//! hand-written scanners over bytes (no regex crate: this builds with the Debian rustc 1.63 alone) and
//! each requires the token's exact shape and a boundary on both sides, which keeps hashes, UUIDs and
//! ordinary words out. Build: `./build.sh` (docs/plugins.md). Pure: no imports, no state between calls.

use std::fmt::Write;

// The manifest the host reads before running anything (docs/plugins.md, "Manifest").
#[link_section = "vigil.manifest"]
pub static MANIFEST: [u8; include_bytes!("../manifest.json").len()] = *include_bytes!("../manifest.json");

/// Memory for the arguments; `find` takes it back.
#[no_mangle]
pub extern "C" fn vigil_alloc(len: i32) -> i32 {
    let mut buffer = Vec::<u8>::with_capacity(len.max(0) as usize);
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    ptr as i32
}

/// Frees a result once the host has read it.
#[no_mangle]
pub extern "C" fn vigil_free(ptr: i32, len: i32) {
    // SAFETY: `ptr`/`len` are a boxed slice `result` handed out, returned exactly once by the host.
    unsafe { drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr as *mut u8, len as usize))) }
}

/// `find(text: string) -> array`.
#[no_mangle]
pub extern "C" fn find(ptr: i32, len: i32) -> i64 {
    // SAFETY: the host wrote `len` bytes at `ptr`, which `vigil_alloc(len)` allocated with that capacity.
    let input = unsafe { Vec::from_raw_parts(ptr as *mut u8, len as usize, len as usize) };
    let out = match first_string(&input) {
        Some(text) => format!("{{\"ok\":{}}}", to_json(&scan(&text), &text)),
        None => "{\"error\":\"find takes one string\"}".to_string(),
    };
    result(out)
}

fn result(text: String) -> i64 {
    let boxed = text.into_bytes().into_boxed_slice();
    let len = boxed.len() as i64;
    let ptr = Box::into_raw(boxed) as *mut u8 as i64;
    (ptr << 32) | len
}

/// One match: detector name and byte range.
#[derive(Debug, PartialEq)]
pub struct Hit {
    pub kind: &'static str,
    pub start: usize,
    pub end: usize,
}

/// Every secret or personal datum in `text`, in order, without overlaps.
pub fn scan(text: &str) -> Vec<Hit> {
    let b = text.as_bytes();
    let mut hits = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match detect(b, i) {
            Some((kind, end)) => {
                hits.push(Hit { kind, start: i, end });
                i = end;
            }
            None => i += 1,
        }
    }
    hits
}

fn word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn token(c: u8) -> bool {
    word(c) || c == b'-'
}

/// Whether `i` starts a token (no word character just before).
fn boundary_before(b: &[u8], i: usize) -> bool {
    i == 0 || !word(b[i - 1])
}

/// Length of the run at `i` of bytes satisfying `f`.
fn run(b: &[u8], i: usize, f: impl Fn(u8) -> bool) -> usize {
    b[i..].iter().take_while(|c| f(**c)).count()
}

/// The detector matching at `i`, and where its match ends.
fn detect(b: &[u8], i: usize) -> Option<(&'static str, usize)> {
    let rest = &b[i..];
    let starts = |p: &str| rest.starts_with(p.as_bytes());
    if starts("-----BEGIN ") {
        return pem(b, i).map(|end| ("private-key", end));
    }
    if !boundary_before(b, i) {
        return None;
    }
    // Prefix, allowed characters, minimum and maximum length of the body after the prefix.
    type Shape = (&'static str, &'static str, fn(u8) -> bool, usize, usize);
    const SHAPES: [Shape; 14] = [
        ("huggingface-token", "hf_", |c| c.is_ascii_alphanumeric(), 30, 40),
        ("aws-access-key", "AKIA", |c| c.is_ascii_uppercase() || c.is_ascii_digit(), 16, 16),
        ("aws-access-key", "ASIA", |c| c.is_ascii_uppercase() || c.is_ascii_digit(), 16, 16),
        ("github-token", "ghp_", |c| c.is_ascii_alphanumeric(), 36, 36),
        ("github-token", "gho_", |c| c.is_ascii_alphanumeric(), 36, 36),
        ("github-token", "ghu_", |c| c.is_ascii_alphanumeric(), 36, 36),
        ("github-token", "ghs_", |c| c.is_ascii_alphanumeric(), 36, 36),
        ("github-token", "ghr_", |c| c.is_ascii_alphanumeric(), 36, 36),
        ("github-token", "github_pat_", word, 70, 100),
        ("openai-key", "sk-proj-", token, 40, 200),
        ("openai-key", "sk-svcacct-", token, 40, 200),
        ("openai-key", "sk-admin-", token, 40, 200),
        ("openai-key", "sk-", |c| c.is_ascii_alphanumeric(), 32, 64),
        ("slack-token", "xox", token, 12, 120),
    ];
    for (kind, prefix, allowed, min, max) in SHAPES {
        if !starts(prefix) {
            continue;
        }
        let body = i + prefix.len();
        if kind == "slack-token" && !(b.len() > body + 1 && b"bpoasr".contains(&b[body]) && b[body + 1] == b'-') {
            continue;
        }
        let n = run(b, body, allowed);
        let end = body + n;
        let bounded = end == b.len() || !token(b[end]);
        if n >= min && n <= max && bounded && mixed(&b[body..end]) {
            return Some((kind, end));
        }
    }
    if starts("eyJ") {
        if let Some(end) = jwt(b, i) {
            return Some(("jwt", end));
        }
    }
    if b[i].is_ascii_digit() {
        if let Some(end) = card(b, i) {
            return Some(("payment-card", end));
        }
    }
    if b[i].is_ascii_alphanumeric() {
        if let Some(end) = email(b, i) {
            return Some(("email", end));
        }
    }
    None
}

/// Random tokens mix at least two of digits, upper and lower case; words and `sk-this-is-not-a-key` do not.
fn mixed(body: &[u8]) -> bool {
    let has = |f: fn(&u8) -> bool| usize::from(body.iter().any(f));
    has(u8::is_ascii_digit) + has(u8::is_ascii_uppercase) + has(u8::is_ascii_lowercase) >= 2
}

/// `-----BEGIN [RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP ]PRIVATE KEY[ BLOCK]-----` … `-----END …-----`.
fn pem(b: &[u8], i: usize) -> Option<usize> {
    let rest = std::str::from_utf8(&b[i + 11..]).ok()?;
    let label_end = rest.find("-----")?;
    let label = &rest[..label_end];
    let kinds = ["", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "PGP "];
    let is_key = kinds.iter().any(|k| label == format!("{k}PRIVATE KEY") || label == format!("{k}PRIVATE KEY BLOCK"));
    if !is_key {
        return None;
    }
    let after = i + 11 + label_end + 5;
    let end_marker = format!("-----END {label}-----");
    let end = rest[label_end + 5..].find(&end_marker).map_or(after, |e| after + e + end_marker.len());
    Some(end)
}

/// `header.payload.signature`, base64url, header and payload JSON objects (`eyJ` is `{"`).
fn jwt(b: &[u8], i: usize) -> Option<usize> {
    let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    let header = run(b, i, b64);
    let p = i + header;
    if header < 10 || b.get(p) != Some(&b'.') || !b[p + 1..].starts_with(b"eyJ") {
        return None;
    }
    let payload = run(b, p + 1, b64);
    let s = p + 1 + payload;
    if payload < 10 || b.get(s) != Some(&b'.') {
        return None;
    }
    let signature = run(b, s + 1, b64);
    (signature >= 16).then(|| s + 1 + signature)
}

/// 13 to 19 digits, bare or in groups of four (Amex: 4-6-5) separated by one space or dash, with a known
/// issuer prefix and a valid Luhn check digit, not inside a longer run of digits or letters.
fn card(b: &[u8], i: usize) -> Option<usize> {
    let mut digits = Vec::new();
    let mut groups = Vec::new();
    let mut j = i;
    let mut separator = None;
    loop {
        let n = run(b, j, |c| c.is_ascii_digit());
        groups.push(n);
        digits.extend(b[j..j + n].iter().map(|c| c - b'0'));
        j += n;
        match b.get(j) {
            Some(&c) if (c == b' ' || c == b'-') && b.get(j + 1).map_or(false, u8::is_ascii_digit) => {
                if separator.map_or(false, |s| s != c) || groups.len() >= 5 {
                    break;
                }
                separator = Some(c);
                j += 1;
            }
            _ => break,
        }
    }
    if j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'.') {
        return None;
    }
    let grouped = groups.len() == 1
        || groups[..groups.len() - 1].iter().all(|g| *g == 4) && (1..=4).contains(groups.last().unwrap_or(&0))
        || groups == [4, 6, 5]
        || groups == [4, 6, 4];
    if !(13..=19).contains(&digits.len()) || !grouped || !issuer(&digits) || !luhn(&digits) {
        return None;
    }
    Some(j)
}

fn issuer(d: &[u8]) -> bool {
    let n = |k: usize| d.iter().take(k).fold(0u32, |a, x| a * 10 + u32::from(*x));
    d[0] == 4
        || (51..=55).contains(&n(2))
        || (2221..=2720).contains(&n(4))
        || matches!(n(2), 34 | 37 | 36 | 38 | 35 | 65)
        || n(4) == 6011
        || (300..=305).contains(&n(3))
}

fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(k, x)| {
            let x = u32::from(*x);
            if k % 2 == 1 { if x * 2 > 9 { x * 2 - 9 } else { x * 2 } } else { x }
        })
        .sum();
    sum % 10 == 0
}

/// `local@domain.tld`, leaving out scp-style `git@host:path`, placeholder domains and no-reply addresses.
fn email(b: &[u8], i: usize) -> Option<usize> {
    let local = run(b, i, |c| c.is_ascii_alphanumeric() || b"._%+-".contains(&c));
    let at = i + local;
    if local == 0 || b.get(at) != Some(&b'@') {
        return None;
    }
    let domain = run(b, at + 1, |c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.');
    let mut end = at + 1 + domain;
    while end > at + 1 && (b[end - 1] == b'.' || b[end - 1] == b'-') {
        end -= 1;
    }
    let host = std::str::from_utf8(&b[at + 1..end]).ok()?.to_ascii_lowercase();
    let tld = host.rsplit('.').next().unwrap_or("");
    let labels_ok = host.split('.').count() >= 2 && host.split('.').all(|l| !l.is_empty());
    let user = std::str::from_utf8(&b[i..at]).ok()?.to_ascii_lowercase();
    let placeholder = ["example.com", "example.org", "example.net", "localhost"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        || matches!(tld, "test" | "invalid" | "example" | "local");
    let robot = user.contains("noreply") || user.contains("no-reply") || host.contains("noreply");
    let scp = b.get(end) == Some(&b':');
    if !labels_ok || tld.len() < 2 || !tld.bytes().all(|c| c.is_ascii_alphabetic()) || placeholder || robot || scp {
        return None;
    }
    Some(end)
}

/// The first element of a JSON array, if it is a string: `["text"]` → `text`.
pub fn first_string(json: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(json).ok()?.trim_start().strip_prefix('[')?.trim_start().strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = s.chars();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let mut unit = || u32::from_str_radix(&chars.by_ref().take(4).collect::<String>(), 16).ok();
                    let high = unit()?;
                    let code = if (0xd800..0xdc00).contains(&high) && chars.as_str().starts_with("\\u") {
                        chars.next();
                        chars.next();
                        let low = u32::from_str_radix(&chars.by_ref().take(4).collect::<String>(), 16).ok()?;
                        0x10000 + ((high - 0xd800) << 10) + (low.wrapping_sub(0xdc00) & 0x3ff)
                    } else {
                        high
                    };
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
}

/// The hits as a JSON array; offsets in characters, previews redacted.
fn to_json(hits: &[Hit], text: &str) -> String {
    let mut out = String::from("[");
    for (n, hit) in hits.iter().enumerate() {
        let matched = &text[hit.start..hit.end];
        let chars: Vec<char> = matched.chars().collect();
        let preview: String = if chars.len() <= 8 {
            "…".to_string()
        } else {
            chars[..4].iter().chain(['…'].iter()).chain(chars[chars.len() - 2..].iter()).collect()
        };
        let start = text[..hit.start].chars().count();
        let _ = write!(
            out,
            "{}{{\"type\":\"{}\",\"start\":{},\"length\":{},\"preview\":\"{}\"}}",
            if n == 0 { "" } else { "," },
            hit.kind,
            start,
            chars.len(),
            escape(&preview)
        );
    }
    out.push(']');
    out
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}
