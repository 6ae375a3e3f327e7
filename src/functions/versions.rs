//! Version builtins: strict semantic versions (the `semver` crate, cargo's rules) and a loose comparison
//! for the dotted versions of PyPI packages and container tags.

use std::cmp::Ordering;

use semver::{Version, VersionReq};

use super::support::{quoted, text};
use super::{Function, Ty};
use crate::value::Value;

/// `s` without a leading `v` or `V` before a digit (`v1.2.3`).
fn strip_v(s: &str) -> &str {
    match s.strip_prefix(['v', 'V']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => s,
    }
}

fn semver(name: &str, s: &str) -> Result<Version, String> {
    Version::parse(strip_v(s)).map_err(|e| {
        format!("`{name}`: {} is not a semantic version (`MAJOR.MINOR.PATCH`, e.g. `1.2.3`): {e}", quoted(s))
    })
}

/// One alternative of a requirement in the crate's syntax: npm-style space-separated comparators
/// (`>=1.2 <2`) joined with commas, `v` prefixes dropped.
fn normalize(alternative: &str) -> String {
    const OPS: &[char] = &['<', '>', '=', '~', '^'];
    let mut comparators: Vec<String> = Vec::new();
    let mut pending_op = String::new();
    let pieces: Vec<&str> = if alternative.contains(',') {
        alternative.split(',').collect()
    } else {
        alternative.split_whitespace().collect()
    };
    for piece in pieces {
        let piece = piece.trim();
        let rest = piece.trim_start_matches(OPS);
        let op = &piece[..piece.len() - rest.len()];
        let rest = rest.trim_start();
        if rest.is_empty() && !op.is_empty() {
            pending_op.push_str(op);
            continue;
        }
        comparators.push(format!("{pending_op}{op}{}", strip_v(rest)));
        pending_op.clear();
    }
    if !pending_op.is_empty() {
        comparators.push(pending_op);
    }
    comparators.join(", ")
}

/// A requirement: alternatives separated by `||`, each a list of comparators.
fn requirement(s: &str) -> Result<Vec<VersionReq>, String> {
    s.split("||")
        .map(|alternative| match normalize(alternative) {
            empty if empty.is_empty() => Err("it has an empty alternative".to_owned()),
            req => VersionReq::parse(&req).map_err(|e| e.to_string()),
        })
        .collect::<Result<_, _>>()
        .map_err(|e| format!("`semver_satisfies`: {} is not a version requirement: {e}", quoted(s)))
}

fn part(name: &str, args: &[&Value], get: fn(&Version) -> u64) -> Result<Value, String> {
    let s = text(args, 0);
    let n = get(&semver(name, s)?);
    i64::try_from(n).map(Value::Int).map_err(|_| format!("`{name}`: the number in {} is too large", quoted(s)))
}

fn ordering_value(o: Ordering) -> Value {
    Value::Int(match o {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    })
}

/// A piece of a loose version: a run of digits (leading zeros dropped) or of letters (lowercased).
#[derive(Debug, PartialEq, Eq)]
enum Piece {
    Num(String),
    Word(String),
}

impl Piece {
    fn cmp(&self, other: &Piece) -> Ordering {
        match (self, other) {
            (Piece::Num(a), Piece::Num(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            // As in semver pre-releases: numbers before words.
            (Piece::Num(_), Piece::Word(_)) => Ordering::Less,
            (Piece::Word(_), Piece::Num(_)) => Ordering::Greater,
            (Piece::Word(a), Piece::Word(b)) => word_rank(a).cmp(&word_rank(b)).then_with(|| a.cmp(b)),
        }
    }
}

/// Where a word sorts (PEP 440): `dev` < `a`/`alpha` < `b`/`beta` < `rc`/`c`/`pre` < other words, all
/// before the release; post-release words after it.
fn word_rank(word: &str) -> u8 {
    match word {
        "dev" => 0,
        "a" | "alpha" => 1,
        "b" | "beta" => 2,
        "c" | "rc" | "pre" | "preview" => 3,
        "post" | "rev" | "r" | "p" | "pl" | "patch" => 5,
        _ => 4,
    }
}

/// A loose version: release numbers, the rest (pre/post-release words and numbers), and a `+local` part.
struct Loose {
    release: Vec<Piece>,
    rest: Vec<Piece>,
    local: Option<Vec<Piece>>,
}

fn pieces(s: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        let mut run = String::new();
        if c.is_ascii_digit() {
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                run.push(d);
            }
            let trimmed = run.trim_start_matches('0');
            out.push(Piece::Num(trimmed.to_owned()));
        } else if c.is_ascii_alphabetic() {
            while let Some(l) = chars.next_if(char::is_ascii_alphabetic) {
                run.push(l.to_ascii_lowercase());
            }
            out.push(Piece::Word(run));
        } else {
            chars.next();
        }
    }
    out
}

fn loose(s: &str) -> Result<Loose, String> {
    let v = strip_v(s);
    let ok = v.starts_with(|c: char| c.is_ascii_digit())
        && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'));
    if !ok {
        return Err(format!("`version_compare`: {} is not a version", quoted(s)));
    }
    let (main, local) = match v.split_once('+') {
        Some((main, local)) => (main, Some(pieces(local))),
        None => (v, None),
    };
    let mut all = pieces(main);
    let split = all.iter().position(|p| matches!(p, Piece::Word(_))).unwrap_or(all.len());
    let rest = all.split_off(split);
    Ok(Loose { release: all, rest, local })
}

/// Piece by piece; a prefix sorts first.
fn cmp_pieces(a: &[Piece], b: &[Piece]) -> Ordering {
    a.iter().zip(b).map(|(x, y)| x.cmp(y)).find(|o| o.is_ne()).unwrap_or_else(|| a.len().cmp(&b.len()))
}

fn cmp_loose(a: &Loose, b: &Loose) -> Ordering {
    let zero = Piece::Num(String::new());
    let width = a.release.len().max(b.release.len());
    let release = (0..width)
        .map(|i| a.release.get(i).unwrap_or(&zero).cmp(b.release.get(i).unwrap_or(&zero)))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal);
    // No suffix is the release itself: after pre-releases, before post-releases.
    let suffix_rank = |rest: &[Piece]| match rest.first() {
        None => 1,
        Some(Piece::Word(w)) if word_rank(w) == 5 => 2,
        Some(_) => 0,
    };
    let rest = suffix_rank(&a.rest).cmp(&suffix_rank(&b.rest)).then_with(|| cmp_pieces(&a.rest, &b.rest));
    let local = match (&a.local, &b.local) {
        (Some(x), Some(y)) => cmp_pieces(x, y),
        (x, y) => x.is_some().cmp(&y.is_some()),
    };
    release.then(rest).then(local)
}

pub(super) fn functions() -> Vec<Function> {
    vec![
        Function::new("semver_valid", &[Ty::STRING], Ty::BOOL, |a| {
            Ok(Value::Bool(Version::parse(strip_v(text(a, 0))).is_ok()))
        })
        .doc(
            "`semver_valid(v)`: whether `v` is a semantic version \
                `MAJOR.MINOR.PATCH[-pre][+build]` (a leading `v` allowed).",
        ),
        Function::new("semver_compare", &[Ty::STRING, Ty::STRING], Ty::NUMBER, |a| {
            let (x, y) = (semver("semver_compare", text(a, 0))?, semver("semver_compare", text(a, 1))?);
            Ok(ordering_value(x.cmp_precedence(&y)))
        })
        .doc(
            "`semver_compare(a, b)`: -1, 0 or 1 as `a` is below, equal to or above `b` \
            (build metadata ignored).",
        ),
        Function::new("semver_satisfies", &[Ty::STRING, Ty::STRING], Ty::BOOL, |a| {
            let v = semver("semver_satisfies", text(a, 0))?;
            Ok(Value::Bool(requirement(text(a, 1))?.iter().any(|r| r.matches(&v))))
        })
        .doc(
            "`semver_satisfies(v, req)`: whether `v` meets `req`, e.g. `>=1.2, <2`, `>=1.2 \
            <2` or `^1 || ^2` (cargo rules: bare `1.2` means `^1.2`; a pre-release only \
            matches a requirement naming that release's pre-releases).",
        ),
        Function::new("semver_major", &[Ty::STRING], Ty::NUMBER, |a| part("semver_major", a, |v| v.major))
            .doc("`semver_major(v)`: the major version number."),
        Function::new("semver_minor", &[Ty::STRING], Ty::NUMBER, |a| part("semver_minor", a, |v| v.minor))
            .doc("`semver_minor(v)`: the minor version number."),
        Function::new("semver_patch", &[Ty::STRING], Ty::NUMBER, |a| part("semver_patch", a, |v| v.patch))
            .doc("`semver_patch(v)`: the patch version number."),
        Function::new("version_compare", &[Ty::STRING, Ty::STRING], Ty::NUMBER, |a| {
            Ok(ordering_value(cmp_loose(&loose(text(a, 0))?, &loose(text(a, 1))?)))
        })
        .doc(
            "`version_compare(a, b)`: -1, 0 or 1 comparing loose dotted versions \
            numerically (`1.10` > `1.9`, `2.0rc1` < `2.0` < `2.0.post1`, `1.0` = `1.0.0`).",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::{CallContext, Registry};

    fn call(name: &str, args: &[&str]) -> Result<Value, String> {
        let registry = Registry::default();
        let f = registry.get(registry.lookup(name).expect(name));
        let values: Vec<Value> = args.iter().map(|s| Value::from(*s)).collect();
        let refs: Vec<&Value> = values.iter().collect();
        f.call(&refs, &CallContext { now: jiff::Timestamp::UNIX_EPOCH })
    }

    #[test]
    fn validity_and_parts() {
        let cases = [
            ("1.2.3", Some((1, 2, 3))),
            ("v1.2.3", Some((1, 2, 3))),
            ("V0.0.1-rc.1+build.5", Some((0, 0, 1))),
            ("10.20.30", Some((10, 20, 30))),
            ("1.2", None),
            ("1", None),
            ("01.2.3", None),
            ("1.2.3.4", None),
            ("v", None),
            ("vv1.2.3", None),
            (" 1.2.3", None),
            ("1.2.3 ", None),
            ("", None),
            ("latest", None),
            ("１.2.3", None),
            ("18446744073709551616.0.0", None),
        ];
        for (input, expected) in cases {
            assert_eq!(call("semver_valid", &[input]), Ok(Value::Bool(expected.is_some())), "{input}");
            match expected {
                Some((major, minor, patch)) => {
                    assert_eq!(call("semver_major", &[input]), Ok(Value::Int(major)), "{input}");
                    assert_eq!(call("semver_minor", &[input]), Ok(Value::Int(minor)), "{input}");
                    assert_eq!(call("semver_patch", &[input]), Ok(Value::Int(patch)), "{input}");
                }
                None => {
                    let err = call("semver_major", &[input]).unwrap_err();
                    assert!(err.starts_with("`semver_major`: `"), "{err}");
                    assert!(err.contains("is not a semantic version"), "{err}");
                }
            }
        }
        let err = call("semver_major", &["18446744073709551615.0.0"]).unwrap_err();
        assert_eq!(err, "`semver_major`: the number in `18446744073709551615.0.0` is too large");
    }

    #[test]
    fn comparing() {
        let cases = [
            ("1.2.3", "1.2.3", 0),
            ("1.2.3", "v1.2.3", 0),
            ("1.2.3", "1.10.0", -1),
            ("2.0.0", "1.99.99", 1),
            ("1.0.0-alpha", "1.0.0", -1),
            ("1.0.0-alpha", "1.0.0-alpha.1", -1),
            ("1.0.0-rc.1", "1.0.0-beta.11", 1),
            ("1.0.0+a", "1.0.0+b", 0),
        ];
        for (a, b, expected) in cases {
            assert_eq!(call("semver_compare", &[a, b]), Ok(Value::Int(expected)), "{a} vs {b}");
        }
        assert!(call("semver_compare", &["1.2.3", "1.2"]).unwrap_err().starts_with("`semver_compare`: `1.2` is not"));
    }

    #[test]
    fn requirements() {
        let cases = [
            ("1.5.0", ">=1.2, <2", true),
            ("2.0.0", ">=1.2, <2", false),
            ("1.5.0", ">=1.2 <2", true),
            ("1.5.0", ">= 1.2 < 2", true),
            ("1.1.9", ">=1.2 <2", false),
            ("v1.5.0", ">=v1.2", true),
            ("1.5.0", "^1.2", true),
            ("1.5.0", "1.2", true),
            ("1.2.9", "~1.2", true),
            ("1.3.0", "~1.2", false),
            ("1.2.3", "=1.2.3", true),
            ("1.2.4", "=1.2.3", false),
            ("3.1.0", "^1 || ^3", true),
            ("2.1.0", "^1 || ^3", false),
            ("1.9.0", "*", true),
            ("1.3.0-beta", ">=1.2", false),
            ("1.3.0-beta", ">=1.3.0-alpha", true),
        ];
        for (v, req, expected) in cases {
            assert_eq!(call("semver_satisfies", &[v, req]), Ok(Value::Bool(expected)), "{v} in {req}");
        }
        for bad in ["", ">=", "1.2 - 2.0", ">=1.2 ||", "<<1", "latest", ">=1.2, foo", &"1,".repeat(100)] {
            let err = call("semver_satisfies", &["1.2.3", bad]).unwrap_err();
            assert!(err.starts_with("`semver_satisfies`: `"), "{bad}: {err}");
            assert!(err.contains("is not a version requirement"), "{bad}: {err}");
        }
        assert!(call("semver_satisfies", &["1.2", ">=1"]).unwrap_err().contains("`1.2` is not a semantic version"));
    }

    #[test]
    fn loose_versions() {
        let cases = [
            ("1.10", "1.9", 1),
            ("1.9", "1.10", -1),
            ("1.0", "1.0.0", 0),
            ("v1.2", "1.2", 0),
            ("1.02", "1.2", 0),
            ("2.0.0rc1", "2.0.0", -1),
            ("2.0.0rc1", "2.0.0rc2", -1),
            ("2.0.0rc2", "2.0.0rc10", -1),
            ("2.0.0a1", "2.0.0b1", -1),
            ("2.0.0.dev1", "2.0.0a1", -1),
            ("2.0.0-beta", "2.0.0-rc.1", -1),
            ("1.0.post1", "1.0", 1),
            ("1.0.post1", "1.0.1", -1),
            ("1.0.0", "1.0.post1", -1),
            ("1.0rc1", "0.9", 1),
            ("2.1.0+cu118", "2.1.0", 1),
            ("2.1.0+cu118", "2.1.0+cu121", -1),
            ("2.1.0+cu121", "2.2.0", -1),
            ("3.12-slim", "3.12", -1),
            ("3.12.1-slim", "3.12-slim", 1),
            ("20240101", "20231231", 1),
            ("99999999999999999999999999.1", "99999999999999999999999999.0", 1),
            ("1_2", "1.2", 0),
        ];
        for (a, b, expected) in cases {
            assert_eq!(call("version_compare", &[a, b]), Ok(Value::Int(expected)), "{a} vs {b}");
            assert_eq!(call("version_compare", &[b, a]), Ok(Value::Int(-expected)), "{b} vs {a}");
        }
        for bad in ["", "latest", "v", "vv1", " 1.0", "1.0 ", "1.0/2", "１.0", "1!2.0", "-1"] {
            let err = call("version_compare", &[bad, "1.0"]).unwrap_err();
            assert!(err.starts_with("`version_compare`: `"), "{bad}: {err}");
            assert!(err.ends_with("is not a version"), "{bad}: {err}");
        }
    }
}
