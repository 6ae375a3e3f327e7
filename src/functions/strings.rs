//! String builtins.

use super::{Function, Ty};
use crate::value::Value;

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
        }),
        pair_fn("ends_with", "`ends_with(s, suffix)`: whether `s` ends with `suffix`.", Ty::BOOL, |s, p| {
            Value::Bool(s.ends_with(p))
        }),
        pair_fn("split", "`split(s, sep)`: the pieces of `s` between occurrences of `sep`.", Ty::ARRAY, |s, sep| {
            if sep.is_empty() {
                s.chars().map(|c| Value::from(c.to_string())).collect()
            } else {
                s.split(sep).map(Value::from).collect()
            }
        }),
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
            Ok(Value::from(text(a[0]).replace(text(a[1]), text(a[2]))))
        })
        .doc("`replace(s, from, to)`: `s` with every `from` replaced by `to`."),
        Function::new("join", &[Ty::ARRAY, Ty::STRING], Ty::STRING, |a| {
            let items = a[0].as_array().unwrap_or_default();
            let parts: Vec<String> = items.iter().map(|v| v.to_string()).collect();
            Ok(Value::from(parts.join(text(a[1]))))
        })
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
        Function::new("to_string", &[Ty::ANY], Ty::STRING, |a| Ok(Value::from(a[0].to_string())))
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
