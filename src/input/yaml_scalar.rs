//! YAML scalars and tags: the YAML 1.2 core schema (`on`/`yes` stay strings, `0x1F` is 31, `~` is null),
//! and the tags Vigil accepts. Vigil reads plain data: a core tag may only confirm a scalar's type or make it a
//! string, local tags (`!Ref`, `!Sub`) annotate data that is read as if untagged, and any other `!!` tag
//! (`!!python/object`, `!!set`, ...) is refused rather than constructed.
//!
//! Resolution allocates nothing: most scalars are names and words, told apart from numbers by their first
//! byte, and the parser's string is copied once, into the `Value`.

use libyaml_safer::ScalarStyle;

use super::LoadError;
use crate::source::{Source, Span};
use crate::value::Value;

const CORE_TAG: &str = "tag:yaml.org,2002:";

/// A `!!seq` on a sequence or `!!map` on a mapping is fine; any other core tag on a collection is refused.
pub(super) fn check_container_tag(
    src: &Source,
    tag: Option<&str>,
    expected: &str,
    span: Span,
) -> Result<(), LoadError> {
    match tag.and_then(|t| t.strip_prefix(CORE_TAG)) {
        Some(suffix) if suffix != expected => Err(unsafe_tag(src, suffix, span)),
        _ => Ok(()),
    }
}

fn unsafe_tag(src: &Source, suffix: &str, span: Span) -> LoadError {
    let message =
        format!("unsupported YAML tag `!!{suffix}`: Vigil reads plain data and never constructs tagged objects");
    LoadError::syntax(src, span, message)
}

/// The value of a scalar event: `text` as the parser decoded it, its style and tag. Inlined into the
/// builder's loop: most scalars are untagged, and a plain one that cannot be a core value (its first byte
/// says so) becomes a string without a call.
#[inline]
pub(super) fn scalar(
    src: &Source,
    text: String,
    style: ScalarStyle,
    tag: Option<&str>,
    span: Span,
) -> Result<Value, LoadError> {
    match tag {
        None if matches!(style, ScalarStyle::Plain) => Ok(resolve_plain_owned(text)),
        None => Ok(text_value(text)),
        Some(tag) => tagged(src, text, style, tag, span),
    }
}

/// [`scalar`] of a tagged scalar.
fn tagged(src: &Source, text: String, style: ScalarStyle, tag: &str, span: Span) -> Result<Value, LoadError> {
    if let Some(suffix) = tag.strip_prefix(CORE_TAG) {
        let resolved = resolve_plain(&text);
        return match (suffix, resolved) {
            ("str" | "binary" | "timestamp", _) => Ok(text_value(text)),
            ("null", Value::Null) => Ok(Value::Null),
            ("bool", v @ Value::Bool(_)) | ("int", v @ Value::Int(_)) | ("float", v @ Value::Float(_)) => Ok(v),
            ("float", Value::Int(i)) => Ok(Value::Float(i as f64)),
            ("null" | "bool" | "int" | "float", _) => {
                Err(LoadError::syntax(src, span, format!("`{text}` is not a valid !!{suffix}")))
            }
            _ => Err(unsafe_tag(src, suffix, span)),
        };
    }
    // Local tags (`!Ref`, `!Sub`, ...) annotate plain data: the value is read as if untagged. The
    // non-specific tag `!` makes a plain scalar a string.
    Ok(match style {
        ScalarStyle::Plain if tag != "!" => resolve_plain_owned(text),
        _ => text_value(text),
    })
}

#[inline]
fn text_value(text: String) -> Value {
    Value::String(text.into())
}

/// [`resolve_plain`] of a scalar the parser handed over.
#[inline]
pub(super) fn resolve_plain_owned(text: String) -> Value {
    if text.as_bytes().first().is_some_and(|&b| !may_be_core(b)) {
        return text_value(text);
    }
    resolve_core(&text).unwrap_or_else(|| Value::String(text.into()))
}

/// Whether a plain scalar starting with `first` can be a null, boolean or number of the core schema.
#[inline]
fn may_be_core(first: u8) -> bool {
    first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.' | b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F')
}

/// YAML 1.2 core schema resolution of an untagged plain scalar.
pub(crate) fn resolve_plain(text: &str) -> Value {
    resolve_core(text).unwrap_or_else(|| Value::String(text.into()))
}

/// The null, boolean or number a plain scalar stands for; `None` for a string. Allocates nothing, so a
/// string is copied once, into its `Value`.
fn resolve_core(text: &str) -> Option<Value> {
    let Some(&first) = text.as_bytes().first() else { return Some(Value::Null) };
    // Most scalars are names and words: their first byte tells they are strings.
    if !may_be_core(first) {
        return None;
    }
    match text {
        "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(Value::Float(f64::INFINITY)),
        "-.inf" | "-.Inf" | "-.INF" => return Some(Value::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Some(Value::Float(f64::NAN)),
        _ => {}
    }
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Some(Value::Int(i));
        }
    } else if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Some(Value::Int(i));
        }
    } else if is_core_int(text) {
        return match text.parse::<i64>() {
            Ok(i) => Some(Value::Int(i)),
            Err(_) => text.parse::<f64>().ok().map(Value::Float),
        };
    } else if is_core_float(text)
        && let Ok(x) = text.parse::<f64>()
    {
        return Some(Value::Float(x));
    }
    None
}

fn is_core_int(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn is_core_float(text: &str) -> bool {
    let s = text.strip_prefix(['-', '+']).unwrap_or(text).as_bytes();
    let mut i = 0;
    let int_digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if s.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == s.len()
}
