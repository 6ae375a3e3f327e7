//! Direct checks for simple patterns, decided from the parsed regex (regex-syntax's HIR), so that
//! `sha256 matches /^[a-f0-9]{64}$/` costs a length test and one table lookup per byte, as hand-written code
//! would, instead of a regex search.
//!
//! Only shapes whose answer is forced without backtracking are taken; everything else stays with `regex`:
//! - anchored at the start (`^`, which is `\A` unless multi-line): a sequence of literals and single-character
//!   classes repeated an exact or bounded number of times, optionally ended by an alternation of literals,
//!   optionally anchored at the end (`$`, which is `\z`: Rust's `$` does not match before a final newline
//!   unless multi-line). A repetition with a range of counts must be followed by something that cannot start
//!   with one of its characters, so taking as many as possible is the only way to match.
//! - unanchored: a literal or an alternation of literals, optionally anchored at the end (substring search,
//!   suffix test).
//!
//! Flags are already applied in the HIR: case-insensitivity turns letters into classes (`(?i)k` is `[Kk\u{212A}]`),
//! `(?s)` widens `.`, and multi-line anchors are different looks (`StartLF`, `EndLF`), which are never taken.
//! The property test below checks the result against `regex` on generated patterns and texts.

use regex_syntax::hir::{Class, ClassUnicode, Hir, HirKind, Look};

/// Repetition counts above this are left to `regex` (a pathological `{100000}` gains nothing here).
const MAX_COUNT: u32 = 4096;

/// A set of characters: for ASCII-only sets a bit table and the byte ranges (few ranges are checked with
/// comparisons the compiler vectorises); sorted ranges otherwise.
#[derive(Debug, Clone)]
enum Set {
    Ascii(u128, Box<[(u8, u8)]>),
    Ranges(Box<[(char, char)]>),
}

impl Set {
    fn of(class: &ClassUnicode) -> Set {
        if class.is_ascii() {
            let mut bits = 0u128;
            for r in class.ranges() {
                for c in r.start() as u32..=r.end() as u32 {
                    bits |= 1 << c;
                }
            }
            Set::Ascii(bits, class.ranges().iter().map(|r| (r.start() as u8, r.end() as u8)).collect())
        } else {
            Set::Ranges(class.ranges().iter().map(|r| (r.start(), r.end())).collect())
        }
    }

    fn single(c: char) -> Set {
        match u8::try_from(c) {
            Ok(b) if b.is_ascii() => Set::Ascii(1 << b, Box::new([(b, b)])),
            _ => Set::Ranges(Box::new([(c, c)])),
        }
    }

    fn contains(&self, c: char) -> bool {
        match self {
            Set::Ascii(bits, _) => (c as u32) < 128 && bits & (1 << c as u32) != 0,
            Set::Ranges(ranges) => ranges
                .binary_search_by(|&(lo, hi)| {
                    if hi < c {
                        std::cmp::Ordering::Less
                    } else if lo > c {
                        std::cmp::Ordering::Greater
                    } else {
                        std::cmp::Ordering::Equal
                    }
                })
                .is_ok(),
        }
    }

    fn intersects(&self, other: &Set) -> bool {
        match (self, other) {
            (Set::Ascii(a, _), Set::Ascii(b, _)) => a & b != 0,
            (Set::Ranges(r), s) | (s, Set::Ranges(r)) => {
                // Ranges can be large (`\w`); a character of an ASCII set is checked one by one, two range
                // lists pairwise (they are short in the patterns this takes).
                match s {
                    Set::Ascii(bits, _) => (0..128u8).any(|b| bits & (1 << b) != 0 && self_contains(r, b as char)),
                    Set::Ranges(q) => r.iter().any(|&(a, b)| q.iter().any(|&(c, d)| a <= d && c <= b)),
                }
            }
        }
    }
}

fn self_contains(ranges: &[(char, char)], c: char) -> bool {
    ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
}

/// One step of the sequence.
#[derive(Debug, Clone)]
enum Piece {
    Literal(Box<str>),
    Repeat {
        set: Set,
        min: u32,
        max: Option<u32>,
    },
    /// Only ever the last piece.
    Either(Box<[Box<str>]>),
}

impl Piece {
    /// Whether this piece can begin with a character of `set` (it always consumes at least one character).
    fn may_start_in(&self, set: &Set) -> bool {
        let first = |s: &str| s.chars().next().is_some_and(|c| set.contains(c));
        match self {
            Piece::Literal(l) => first(l),
            Piece::Repeat { set: own, .. } => own.intersects(set),
            Piece::Either(ls) => ls.iter().any(|l| l.is_empty() || first(l)),
        }
    }

    /// Whether the piece always consumes at least one character.
    fn consumes(&self) -> bool {
        match self {
            Piece::Literal(_) => true,
            Piece::Repeat { min, .. } => *min > 0,
            Piece::Either(ls) => ls.iter().all(|l| !l.is_empty()),
        }
    }
}

/// A pattern compiled to direct checks.
#[derive(Debug, Clone)]
pub(crate) struct Fast {
    start: bool,
    end: bool,
    pieces: Box<[Piece]>,
    /// The only length a match can have, in bytes, when that is fixed (`^[a-f0-9]{64}$`: 64): any other
    /// length fails before a byte is read.
    len: Option<usize>,
}

/// Flattens captures and concatenations into `out`; `false` on anything this module does not take.
fn flatten<'h>(hir: &'h Hir, out: &mut Vec<&'h Hir>) -> bool {
    match hir.kind() {
        HirKind::Capture(c) => flatten(&c.sub, out),
        HirKind::Concat(items) => items.iter().all(|h| flatten(h, out)),
        HirKind::Empty => true,
        _ => {
            out.push(hir);
            true
        }
    }
}

fn literal(hir: &Hir) -> Option<Box<str>> {
    match hir.kind() {
        HirKind::Literal(l) => std::str::from_utf8(&l.0).ok().map(Into::into),
        HirKind::Empty => Some("".into()),
        HirKind::Capture(c) => literal(&c.sub),
        _ => None,
    }
}

fn single_set(hir: &Hir) -> Option<Set> {
    match hir.kind() {
        HirKind::Class(Class::Unicode(c)) => Some(Set::of(c)),
        HirKind::Literal(_) => {
            let l = literal(hir)?;
            let mut chars = l.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Some(Set::single(c)),
                _ => None,
            }
        }
        HirKind::Capture(c) => single_set(&c.sub),
        _ => None,
    }
}

fn piece(hir: &Hir) -> Option<Piece> {
    match hir.kind() {
        HirKind::Literal(_) => literal(hir).map(Piece::Literal),
        HirKind::Class(_) => single_set(hir).map(|set| Piece::Repeat { set, min: 1, max: Some(1) }),
        HirKind::Repetition(r) => {
            if r.min > MAX_COUNT || r.max.is_some_and(|m| m > MAX_COUNT) {
                return None;
            }
            single_set(&r.sub).map(|set| Piece::Repeat { set, min: r.min, max: r.max })
        }
        HirKind::Alternation(alts) => alts.iter().map(literal).collect::<Option<_>>().map(Piece::Either),
        _ => None,
    }
}

impl Fast {
    /// The direct check for `hir`, if its shape is one this module takes.
    pub(crate) fn compile(hir: &Hir) -> Option<Fast> {
        let mut items = Vec::new();
        if !flatten(hir, &mut items) {
            return None;
        }
        let start = matches!(items.first().map(|h| h.kind()), Some(HirKind::Look(Look::Start)));
        if start {
            items.remove(0);
        }
        let end = matches!(items.last().map(|h| h.kind()), Some(HirKind::Look(Look::End)));
        if end {
            items.pop();
        }
        let pieces: Vec<Piece> = items.into_iter().map(piece).collect::<Option<_>>()?;
        for (k, p) in pieces.iter().enumerate() {
            let next = pieces.get(k + 1);
            match p {
                Piece::Either(_) if next.is_some() => return None,
                // Taking as many as possible is forced only if what follows cannot start inside the class.
                Piece::Repeat { set, min, max } if max != &Some(*min) => {
                    if let Some(next) = next
                        && (!next.consumes() || next.may_start_in(set))
                    {
                        return None;
                    }
                }
                _ => {}
            }
        }
        if !start {
            // Unanchored: only a literal or literals (searching for a sequence would need a real matcher).
            match pieces.as_slice() {
                [] | [Piece::Literal(_)] | [Piece::Either(_)] => {}
                _ => return None,
            }
        }
        let len = if start && end {
            pieces.iter().try_fold(0usize, |n, p| match p {
                Piece::Literal(l) => Some(n + l.len()),
                Piece::Repeat { set: Set::Ascii(..), min, max } if *max == Some(*min) => Some(n + *min as usize),
                _ => None,
            })
        } else {
            None
        };
        Some(Fast { start, end, pieces: pieces.into(), len })
    }

    /// Whether `text` matches, exactly as `regex::Regex::is_match` would.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        if !self.start {
            return match (&*self.pieces, self.end) {
                ([], _) => true,
                ([Piece::Literal(l)], false) => text.contains(&**l),
                ([Piece::Literal(l)], true) => text.ends_with(&**l),
                ([Piece::Either(ls)], false) => ls.iter().any(|l| text.contains(&**l)),
                ([Piece::Either(ls)], true) => ls.iter().any(|l| text.ends_with(&**l)),
                _ => unreachable!("compile only keeps these unanchored shapes"),
            };
        }
        if self.len.is_some_and(|n| n != text.len()) {
            return false;
        }
        let mut rest = text;
        for p in &self.pieces {
            match p {
                Piece::Literal(l) => match rest.strip_prefix(&**l) {
                    Some(r) => rest = r,
                    None => return false,
                },
                // An exact count of an ASCII class: the next `n` bytes, all in the class (a byte of a multi-byte
                // character never is), checked without early exits so the loop vectorises.
                Piece::Repeat { set: Set::Ascii(_, ranges), min, max } if *max == Some(*min) => {
                    let n = *min as usize;
                    match rest.as_bytes().get(..n) {
                        Some(bytes) if all_in(ranges, bytes) => rest = &rest[n..],
                        _ => return false,
                    }
                }
                Piece::Repeat { set, min, max } => {
                    let max = max.unwrap_or(u32::MAX);
                    let (taken, r) = take(set, rest, max);
                    if taken < *min {
                        return false;
                    }
                    rest = r;
                }
                Piece::Either(ls) => {
                    return ls.iter().any(|l| if self.end { *rest == **l } else { rest.starts_with(&**l) });
                }
            }
        }
        !self.end || rest.is_empty()
    }
}

/// Takes up to `max` leading characters of `text` in `set`: how many, and the rest.
fn take<'t>(set: &Set, text: &'t str, max: u32) -> (u32, &'t str) {
    match set {
        // An ASCII class: bytes are characters, and any byte of a multi-byte character is outside the class.
        Set::Ascii(bits, _) => {
            let limit = text.len().min(max as usize);
            let n = text.as_bytes()[..limit].iter().take_while(|&&b| b < 128 && bits & (1 << b) != 0).count();
            (n as u32, &text[n..])
        }
        Set::Ranges(_) => {
            let mut taken = 0;
            let mut at = 0;
            for c in text.chars() {
                if taken == max || !set.contains(c) {
                    break;
                }
                taken += 1;
                at += c.len_utf8();
            }
            (taken, &text[at..])
        }
    }
}

/// Whether every byte is in one of `ranges` (ASCII). One to three ranges (`[a-f0-9]` is two) are checked
/// 16 bytes at a time with plain comparisons and no early exit, which compiles to vector instructions.
fn all_in(ranges: &[(u8, u8)], bytes: &[u8]) -> bool {
    #[inline(always)]
    fn chunked(bytes: &[u8], ok: impl Fn(u8) -> bool) -> bool {
        let mut chunks = bytes.chunks_exact(16);
        for chunk in &mut chunks {
            if !chunk.iter().fold(true, |all, &b| all & ok(b)) {
                return false;
            }
        }
        chunks.remainder().iter().all(|&b| ok(b))
    }
    let within = |b: u8, (lo, hi): (u8, u8)| b.wrapping_sub(lo) <= hi - lo;
    match *ranges {
        [r] => chunked(bytes, |b| within(b, r)),
        [r, s] => chunked(bytes, |b| within(b, r) | within(b, s)),
        [r, s, t] => chunked(bytes, |b| within(b, r) | within(b, s) | within(b, t)),
        _ => bytes.iter().all(|&b| b < 128 && ranges.iter().any(|&r| within(b, r))),
    }
}

#[cfg(test)]
#[path = "fast_tests.rs"]
mod tests;
