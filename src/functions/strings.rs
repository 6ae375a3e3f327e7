//! String builtins.

use super::{Fast, Function, Ty};
use crate::value::{MAX_BUILT_STRING, Value};

/// Bound on the pieces `split` makes: each is a value of its own, so splitting a long input into
/// characters would otherwise take some fifty times the input's size in memory.
const MAX_PIECES: usize = 1 << 21;

/// The error of a builtin whose result would pass the size cap of built strings.
pub(super) fn too_long(name: &str) -> String {
    format!("`{name}` would build a string longer than {MAX_BUILT_STRING} bytes (the limit of built strings)")
}

/// How many pieces `split(s, sep)` makes, or its error when that is over the limit.
pub(crate) fn split_pieces(s: &str, sep: &str) -> Result<usize, String> {
    let pieces = match sep.as_bytes() {
        [] => s.chars().count(),
        // One ASCII byte never occurs inside another character: a byte count, without a substring searcher.
        &[b] if b.is_ascii() => s.bytes().filter(|&x| x == b).count() + 1,
        _ => s.matches(sep).count() + 1,
    };
    if pieces > MAX_PIECES {
        return Err(format!("`split` would make {pieces} pieces, over the limit of {MAX_PIECES}"));
    }
    Ok(pieces)
}

/// Piece `k` of `split(s, sep)` (from 0), without building the others.
pub(crate) fn split_piece<'s>(s: &'s str, sep: &str, k: usize) -> Option<std::borrow::Cow<'s, str>> {
    match sep.as_bytes() {
        [] => s.chars().nth(k).map(|c| std::borrow::Cow::Owned(c.to_string())),
        &[b] if b.is_ascii() => s.split(char::from(b)).nth(k).map(std::borrow::Cow::Borrowed),
        _ => s.split(sep).nth(k).map(std::borrow::Cow::Borrowed),
    }
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn string_fn(name: &str, doc: &str, f: fn(&str) -> Value) -> Function {
    Function::new(name, &[Ty::STRING], Ty::ANY, move |a| Ok(f(text(a[0])))).doc(doc)
}

fn pair_fn(name: &str, doc: &str, returns: Ty, f: fn(&str, &str) -> Value) -> Function {
    Function::new(name, &[Ty::STRING, Ty::STRING], returns, move |a| Ok(f(text(a[0]), text(a[1])))).doc(doc)
}

pub(super) fn functions() -> Vec<Function> {
    vec![
        string_fn("lower", "`lower(s)`: `s` in lowercase.", |s| Value::from(s.to_lowercase())),
        string_fn("upper", "`upper(s)`: `s` in uppercase.", |s| Value::from(s.to_uppercase())),
        string_fn("trim", "`trim(s)`: `s` without leading and trailing whitespace.", |s| Value::from(s.trim())),
        pair_fn("starts_with", "`starts_with(s, prefix)`: whether `s` begins with `prefix`.", Ty::BOOL, |s, p| {
            Value::Bool(s.starts_with(p))
        })
        .fast(Fast::StartsWith),
        pair_fn("ends_with", "`ends_with(s, suffix)`: whether `s` ends with `suffix`.", Ty::BOOL, |s, p| {
            Value::Bool(s.ends_with(p))
        })
        .fast(Fast::EndsWith),
        Function::new("split", &[Ty::STRING, Ty::STRING], Ty::ARRAY, |a| {
            let (s, sep) = (text(a[0]), text(a[1]));
            let pieces = split_pieces(s, sep)?;
            Ok(if sep.is_empty() {
                let mut out = Vec::with_capacity(pieces);
                out.extend(s.chars().map(|c| Value::from(c.to_string())));
                Value::from(out)
            } else {
                let mut out = Vec::with_capacity(pieces);
                out.extend(s.split(sep).map(Value::from));
                Value::from(out)
            })
        })
        .fast(Fast::Split)
        .doc("`split(s, sep)`: the pieces of `s` between occurrences of `sep`."),
        pair_fn(
            "trim_prefix",
            "`trim_prefix(s, prefix)`: `s` without `prefix` at its start, if there.",
            Ty::STRING,
            |s, p| Value::from(s.strip_prefix(p).unwrap_or(s)),
        ),
        pair_fn(
            "trim_suffix",
            "`trim_suffix(s, suffix)`: `s` without `suffix` at its end, if there.",
            Ty::STRING,
            |s, p| Value::from(s.strip_suffix(p).unwrap_or(s)),
        ),
        Function::new("replace", &[Ty::STRING, Ty::STRING, Ty::STRING], Ty::STRING, |a| {
            let (s, from, to) = (text(a[0]), text(a[1]), text(a[2]));
            // Measured before building: a long `to` at every position of a long `s` is quadratic.
            let hits = if from.is_empty() { s.chars().count() + 1 } else { s.matches(from).count() };
            let bytes = (s.len() - hits * from.len()).saturating_add(hits.saturating_mul(to.len()));
            if bytes > MAX_BUILT_STRING {
                return Err(too_long("replace"));
            }
            Ok(Value::from(s.replace(from, to)))
        })
        .doc("`replace(s, from, to)`: `s` with every `from` replaced by `to`."),
        Function::new("join", &[Ty::ARRAY, Ty::STRING], Ty::STRING, |a| {
            let (items, sep) = (a[0].as_array().unwrap_or_default(), text(a[1]));
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                let room = MAX_BUILT_STRING.saturating_sub(out.len());
                let part = item.to_string_within(room).ok_or_else(|| too_long("join"))?;
                out.push_str(&part);
            }
            Ok(Value::from(out))
        })
        .deep()
        .doc("`join(xs, sep)`: the elements of `xs` as text, separated by `sep`."),
        Function::new("substring", &[Ty::STRING, Ty::NUMBER, Ty::NUMBER], Ty::STRING, |a| {
            let s = text(a[0]);
            let start = a[1].as_i64().ok_or("`substring` needs whole-number positions")?.max(0) as usize;
            let len = match a.get(2) {
                Some(n) => n.as_i64().ok_or("`substring` needs a whole-number length")?.max(0) as usize,
                None => usize::MAX,
            };
            Ok(Value::from(s.chars().skip(start).take(len).collect::<String>()))
        })
        .optional(1)
        .doc("`substring(s, start, [length])`: characters of `s` from `start` (0-based)."),
        Function::new("to_string", &[Ty::ANY], Ty::STRING, |a| {
            a[0].to_string_within(MAX_BUILT_STRING).map(Value::from).ok_or_else(|| too_long("to_string"))
        })
        .deep()
        .doc("`to_string(x)`: strings as they are, anything else as JSON."),
        Function::new("to_number", &[Ty::STRING.or(Ty::NUMBER).or(Ty::BOOL)], Ty::NUMBER, |a| match a[0] {
            Value::String(s) => {
                let t = s.trim();
                t.parse::<i64>()
                    .map(Value::Int)
                    .or_else(|_| t.parse::<f64>().map(Value::Float))
                    .map_err(|_| format!("`{s}` is not a number"))
            }
            Value::Bool(b) => Ok(Value::Int(*b as i64)),
            other => Ok(other.clone()),
        })
        .doc("`to_number(x)`: a number from a numeric string (or a boolean as 0/1)."),
        Function::new("sha256", &[Ty::STRING], Ty::STRING, |a| {
            Ok(Value::from(crate::hex::sha256(text(a[0]).as_bytes())))
        })
        .doc("`sha256(s)`: the SHA-256 of the UTF-8 bytes of `s`, in lowercase hex."),
    ]
}

#[cfg(test)]
mod tests {
    use super::{split_piece, split_pieces};

    /// The piece and count the inline `split(s, sep)[k]` uses agree with splitting the whole string.
    #[test]
    fn one_piece_agrees_with_the_whole_split() {
        let texts = ["meta-llama/Llama-3", "/", "", "a//b/", "no-separator", "é/ü/ß", "a::b::c", "x€y€", "ab"];
        let seps = ["/", "::", "", "€", "b", "é"];
        for text in texts {
            for sep in seps {
                let all: Vec<String> = if sep.is_empty() {
                    text.chars().map(|c| c.to_string()).collect()
                } else {
                    text.split(sep).map(str::to_string).collect()
                };
                assert_eq!(split_pieces(text, sep), Ok(all.len()), "{text:?} by {sep:?}");
                for k in 0..all.len() + 2 {
                    assert_eq!(
                        split_piece(text, sep, k).as_deref(),
                        all.get(k).map(|s| s.as_str()),
                        "{text:?} {sep:?} {k}"
                    );
                }
            }
        }
    }
}
