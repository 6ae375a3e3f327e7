//! Kubernetes resource quantities (`80Gi`, `500m`) and durations (`1h30m`, `250ms`) as plain numbers.
//!
//! Both parsers are hand-written and strict: ASCII only, no spaces, every character accounted for, and a
//! result that would not be a finite number is an error rather than infinity.

use super::support::{number, quoted};
use super::{Function, Ty};
use crate::value::Value;

/// The length of the decimal number at the start of `s`: optional sign, digits, optional `.` and
/// digits, at least one digit in all. Zero when there is none.
fn decimal_prefix(s: &str, signed: bool) -> usize {
    let b = s.as_bytes();
    let mut i = usize::from(signed && matches!(b.first(), Some(b'+' | b'-')));
    let start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - start;
    if b.get(i) == Some(&b'.') {
        let dot = i;
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits += i - dot - 1;
    }
    if digits == 0 { 0 } else { i }
}

/// Powers of ten and of two a quantity suffix stands for.
fn suffix_scale(suffix: &str) -> Option<(i32, i32)> {
    Some(match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        // A decimal exponent: `e3`, `E-2`, `e+6`.
        _ => {
            let exponent = suffix.strip_prefix(['e', 'E'])?;
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (exponent.parse::<i32>().ok()?, 0)
        }
    })
}

enum Problem {
    Invalid,
    TooLarge,
}

/// A quantity in base units (bytes, cores): `<number><suffix>` as Kubernetes writes them.
fn parse_quantity(s: &str) -> Result<f64, Problem> {
    let end = decimal_prefix(s, true);
    if end == 0 {
        return Err(Problem::Invalid);
    }
    let (digits, suffix) = s.split_at(end);
    let (exp10, exp2) = suffix_scale(suffix).ok_or(Problem::Invalid)?;
    // One rounding: let the float parser apply the power of ten; powers of two are exact.
    let scaled: f64 = format!("{digits}e{exp10}").parse().map_err(|_| Problem::Invalid)?;
    let value = scaled * f64::powi(2.0, exp2);
    if value.is_finite() { Ok(value) } else { Err(Problem::TooLarge) }
}

/// `amount` of `unit` in seconds. Fractions of a second divide, so `100us` is exactly the float `0.0001`.
fn in_seconds(amount: f64, unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => amount / 1e9,
        "us" | "\u{b5}s" | "\u{3bc}s" => amount / 1e6,
        "ms" => amount / 1e3,
        "s" => amount,
        "m" => amount * 60.0,
        "h" => amount * 3_600.0,
        "d" => amount * 86_400.0,
        "w" => amount * 604_800.0,
        _ => return None,
    })
}

/// A duration in seconds: a plain number of seconds, or an optionally signed sequence of
/// `<number><unit>` terms (`1h30m`, `1.5h`, `250ms`) as Go's `time.ParseDuration` reads them, plus `d`, `w`.
fn parse_duration(s: &str) -> Result<f64, Problem> {
    if !s.is_empty() && decimal_prefix(s, true) == s.len() {
        let seconds: f64 = s.parse().map_err(|_| Problem::Invalid)?;
        return if seconds.is_finite() { Ok(seconds) } else { Err(Problem::TooLarge) };
    }
    let (sign, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (-1.0, &s[1..]),
        Some(b'+') => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    if rest.is_empty() {
        return Err(Problem::Invalid);
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let end = decimal_prefix(rest, false);
        if end == 0 {
            return Err(Problem::Invalid);
        }
        let amount: f64 = rest[..end].parse().map_err(|_| Problem::Invalid)?;
        let after = &rest[end..];
        let unit_len = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        total += in_seconds(amount, &after[..unit_len]).ok_or(Problem::Invalid)?;
        if !total.is_finite() {
            return Err(Problem::TooLarge);
        }
        rest = &after[unit_len..];
    }
    Ok(sign * total)
}

/// A number argument passes through when finite; a string goes through `parse`.
fn convert(
    name: &str,
    what: &str,
    v: Option<&Value>,
    parse: fn(&str) -> Result<f64, Problem>,
) -> Result<Value, String> {
    let v = v.unwrap_or(&Value::Null);
    match v {
        Value::Int(_) => Ok(v.clone()),
        Value::Float(x) if x.is_finite() => Ok(v.clone()),
        Value::Float(x) => Err(format!("`{name}`: `{x}` is not a finite number")),
        _ => {
            let s = v.as_str().unwrap_or_default();
            parse(s).map(number).map_err(|problem| match problem {
                Problem::Invalid => format!("`{name}`: {} is not {what}", quoted(s)),
                Problem::TooLarge => format!("`{name}`: {} is too large", quoted(s)),
            })
        }
    }
}

pub(super) fn functions() -> Vec<Function> {
    let input = &[Ty::STRING.or(Ty::NUMBER)];
    vec![
        Function::new("quantity", input, Ty::NUMBER, |a| {
            convert(
                "quantity",
                "a Kubernetes quantity (e.g. `80Gi`, `500m`, `1.5`, `2e3`)",
                a.first().copied(),
                parse_quantity,
            )
        })
        .doc(
            "`quantity(q)`: a Kubernetes resource quantity in bytes or cores (`80Gi`, \
            `100M`, `500m` = 0.5); numbers pass through.",
        ),
        Function::new("duration", input, Ty::NUMBER, |a| {
            convert("duration", "a duration (e.g. `30s`, `1h30m`, `250ms`, `2d`)", a.first().copied(), parse_duration)
        })
        .doc(
            "`duration(d)`: a duration in seconds (`250ms`, `1h30m`, `1.5h`, `2d`, `1w`); \
            plain numbers are seconds.",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::{CallContext, Registry};

    fn call(name: &str, arg: Value) -> Result<Value, String> {
        let registry = Registry::default();
        let f = registry.get(registry.lookup(name).expect(name));
        f.call(&[&arg], &CallContext { now: jiff::Timestamp::UNIX_EPOCH })
    }

    /// `Ok(number)` compared by value, or `Err(part of the message)`.
    fn check(name: &str, input: &str, expected: Result<f64, &str>) {
        let got = call(name, Value::from(input));
        match expected {
            Ok(x) => assert_eq!(got, Ok(number(x)), "{name}({input:?})"),
            Err(part) => {
                let err = got.expect_err(input);
                assert!(err.starts_with(&format!("`{name}`: ")), "{input:?}: {err}");
                assert!(err.contains(part), "{input:?}: {err}");
            }
        }
    }

    #[test]
    fn quantities() {
        let gib = 1024.0 * 1024.0 * 1024.0;
        let cases: &[(&str, Result<f64, &str>)] = &[
            ("80Gi", Ok(80.0 * gib)),
            ("1.5Gi", Ok(1.5 * gib)),
            ("1Ki", Ok(1024.0)),
            ("1Ei", Ok(2f64.powi(60))),
            ("500m", Ok(0.5)),
            ("100m", Ok(0.1)),
            ("1.5", Ok(1.5)),
            ("4", Ok(4.0)),
            ("2e3", Ok(2000.0)),
            ("2E3", Ok(2000.0)),
            ("1e-3", Ok(0.001)),
            ("12e+2", Ok(1200.0)),
            ("100M", Ok(1e8)),
            ("1k", Ok(1000.0)),
            ("1E", Ok(1e18)),
            ("250n", Ok(250e-9)),
            ("10u", Ok(1e-5)),
            (".5", Ok(0.5)),
            ("5.", Ok(5.0)),
            ("+1", Ok(1.0)),
            ("-1Gi", Ok(-gib)),
            ("0", Ok(0.0)),
            ("0.1", Ok(0.1)),
            ("1e400", Err("`1e400` is too large")),
            ("1e2147483647", Err("too large")),
            ("1e99999999999999999999", Err("is not a Kubernetes quantity")),
            ("1e-99999", Ok(0.0)),
            (&"9".repeat(400), Err("too large")),
            ("", Err("`` is not a Kubernetes quantity")),
            ("Gi", Err("is not a Kubernetes quantity")),
            ("80GB", Err("`80GB` is not a Kubernetes quantity")),
            ("80gi", Err("is not")),
            ("1K", Err("is not")),
            ("1.5.5", Err("is not")),
            (".", Err("is not")),
            ("-", Err("is not")),
            ("+-1", Err("is not")),
            (" 1", Err("is not")),
            ("1 ", Err("is not")),
            ("1 Gi", Err("is not")),
            ("1e", Err("is not")),
            ("1e+", Err("is not")),
            ("1e1.5", Err("is not")),
            ("1Gie3", Err("is not")),
            ("inf", Err("is not")),
            ("NaN", Err("is not")),
            ("0x10", Err("is not")),
            ("１Gi", Err("is not")),
            ("1Gi\u{0}", Err("`1Gi\\u{0}` is not")),
            ("1٫5", Err("is not")),
        ];
        for (input, expected) in cases {
            check("quantity", input, *expected);
        }
        assert_eq!(call("quantity", Value::from("80Gi")), Ok(Value::Int(85_899_345_920)));
        assert_eq!(call("quantity", Value::Int(8)), Ok(Value::Int(8)));
        assert_eq!(call("quantity", Value::Float(0.25)), Ok(Value::Float(0.25)));
        assert!(call("quantity", Value::Float(f64::INFINITY)).unwrap_err().contains("not a finite number"));
        assert!(call("quantity", Value::Float(f64::NAN)).is_err());
    }

    #[test]
    fn durations() {
        let cases: &[(&str, Result<f64, &str>)] = &[
            ("250ms", Ok(0.25)),
            ("30s", Ok(30.0)),
            ("5m", Ok(300.0)),
            ("1h30m", Ok(5400.0)),
            ("1m30s", Ok(90.0)),
            ("2h45m30.5s", Ok(9930.5)),
            ("1.5h", Ok(5400.0)),
            ("2d", Ok(172_800.0)),
            ("1w", Ok(604_800.0)),
            ("1d12h", Ok(129_600.0)),
            ("100us", Ok(1e-4)),
            ("100µs", Ok(1e-4)),
            ("100μs", Ok(1e-4)),
            ("1500ns", Ok(1.5e-6)),
            (".5s", Ok(0.5)),
            ("-1h", Ok(-3600.0)),
            ("+90s", Ok(90.0)),
            ("0s", Ok(0.0)),
            ("30", Ok(30.0)),
            ("1.5", Ok(1.5)),
            ("-2", Ok(-2.0)),
            ("0", Ok(0.0)),
            ("", Err("`` is not a duration")),
            ("-", Err("is not a duration")),
            ("h", Err("is not a duration")),
            ("1", Ok(1.0)),
            ("1x", Err("`1x` is not a duration")),
            ("1H", Err("is not")),
            ("1 h", Err("is not")),
            (" 1h", Err("is not")),
            ("1h ", Err("is not")),
            ("1h30", Err("is not")),
            ("1hh", Err("is not")),
            ("1.2.3s", Err("is not")),
            ("1e3s", Err("is not")),
            ("--1s", Err("is not")),
            ("1h-30m", Err("is not")),
            ("P1D", Err("is not")),
            ("1м", Err("is not")),
            ("１s", Err("is not")),
            ("inf", Err("is not")),
            (&format!("{}h", "9".repeat(400)), Err("too large")),
            (&"9".repeat(400), Err("too large")),
        ];
        for (input, expected) in cases {
            check("duration", input, *expected);
        }
        assert_eq!(call("duration", Value::from("1h30m")), Ok(Value::Int(5400)));
        assert_eq!(call("duration", Value::Int(90)), Ok(Value::Int(90)));
        let long = "1s".repeat(10_000);
        assert_eq!(call("duration", Value::from(long)), Ok(Value::Int(10_000)));
    }
}
