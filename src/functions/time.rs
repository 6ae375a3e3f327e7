//! Date builtins. Dates are strings: `YYYY-MM-DD` dates or RFC 3339 timestamps. A timestamp without an
//! offset (`2024-05-01T12:00:00`, as MLflow writes `utc_time_created`) is read as UTC.
//!
//! Day arithmetic is in calendar days of UTC: a timestamp counts as its UTC date, so `days_between` of two
//! timestamps a minute apart across midnight is 1. Only `is_before`/`is_after` of two timestamps compare
//! instants. "Now" is the evaluation clock ([`CallContext::now`]), never the system clock.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::support::{quoted, text};
use super::{CallContext, Function, Ty};
use crate::value::Value;

/// A parsed date argument.
#[derive(Clone, Copy, Debug)]
enum When {
    Date(Date),
    Instant(Timestamp),
}

impl When {
    /// The UTC calendar date.
    fn date(self) -> Date {
        match self {
            When::Date(d) => d,
            When::Instant(t) => TimeZone::UTC.to_datetime(t).date(),
        }
    }
}

/// Whether `s` starts with `YYYY-MM-DD` (ASCII digits); keeps jiff's extended forms (`+002024-...`,
/// `20240501`, week dates) out.
fn date_shaped(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

fn parse(s: &str) -> Option<When> {
    if !date_shaped(s) {
        return None;
    }
    if s.len() == 10 {
        return s.parse::<Date>().ok().map(When::Date);
    }
    if !matches!(s.as_bytes()[10], b'T' | b't' | b' ') {
        return None;
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(When::Instant(t));
    }
    // No offset at all (not a bad one, nor a time zone annotation): UTC.
    if s[10..].contains(['Z', 'z', '+', '-', '[']) {
        return None;
    }
    let dt = s.parse::<DateTime>().ok()?;
    TimeZone::UTC.to_timestamp(dt).ok().map(When::Instant)
}

/// Argument `i` as a date, or the message saying it is not one.
fn when(name: &str, args: &[&Value], i: usize) -> Result<When, String> {
    let s = text(args, i);
    parse(s).ok_or_else(|| {
        format!("`{name}`: {} is not a date (expected `YYYY-MM-DD` or an RFC 3339 timestamp)", quoted(s))
    })
}

fn today(cx: &CallContext) -> Date {
    TimeZone::UTC.to_datetime(cx.now).date()
}

/// Whole calendar days from `a` to `b` (negative when `b` is earlier).
fn days(a: Date, b: Date) -> Value {
    Value::Int(a.duration_until(b).as_secs() / 86_400)
}

fn add_days(args: &[&Value]) -> Result<Value, String> {
    let start = when("add_days", args, 0)?;
    let n = args.get(1).and_then(|v| v.as_i64()).ok_or_else(|| {
        format!("`add_days`: `{}` is not a whole number of days", args.get(1).copied().cloned().unwrap_or_default())
    })?;
    let out_of_range = || {
        format!(
            "`add_days`: adding {n} days to {} leaves the supported range (years 0000 to 9999)",
            quoted(text(args, 0))
        )
    };
    let shift = SignedDuration::from_secs(n.checked_mul(86_400).ok_or_else(out_of_range)?);
    // Results stay within the years `parse` reads back (0000 to 9999).
    let readable = |d: Date| (0..=9999).contains(&d.year());
    match start {
        When::Date(d) => match d.checked_add(shift) {
            Ok(d) if readable(d) => Ok(Value::from(d.to_string())),
            _ => Err(out_of_range()),
        },
        When::Instant(t) => match t.checked_add(shift) {
            Ok(t) if readable(When::Instant(t).date()) => Ok(Value::from(t.to_string())),
            _ => Err(out_of_range()),
        },
    }
}

/// `a` compared with `b`: instants when both are timestamps, UTC dates otherwise.
fn order(name: &str, args: &[&Value]) -> Result<std::cmp::Ordering, String> {
    Ok(match (when(name, args, 0)?, when(name, args, 1)?) {
        (When::Instant(a), When::Instant(b)) => a.cmp(&b),
        (a, b) => a.date().cmp(&b.date()),
    })
}

pub(super) fn functions() -> Vec<Function> {
    use std::cmp::Ordering;
    let date = &[Ty::STRING];
    let two_dates = &[Ty::STRING, Ty::STRING];
    vec![
        Function::with_context("now", &[], Ty::STRING, |_, cx| Ok(Value::from(cx.now.to_string()))).doc(
            "`now()`: the evaluation time as an RFC 3339 timestamp in UTC (pinned by \
                `--now`).",
        ),
        Function::with_context("today", &[], Ty::STRING, |_, cx| Ok(Value::from(today(cx).to_string())))
            .doc("`today()`: the evaluation date in UTC, `YYYY-MM-DD`."),
        Function::new("parse_date", date, Ty::STRING, |a| {
            Ok(Value::from(when("parse_date", a, 0)?.date().to_string()))
        })
        .doc(
            "`parse_date(s)`: the date `YYYY-MM-DD` of a date or timestamp (its UTC date); \
                an error if `s` is neither.",
        ),
        Function::new("date_valid", date, Ty::BOOL, |a| Ok(Value::Bool(parse(text(a, 0)).is_some())))
            .doc("`date_valid(s)`: whether `s` is a `YYYY-MM-DD` date or an RFC 3339 timestamp."),
        Function::new("days_between", two_dates, Ty::NUMBER, |a| {
            Ok(days(when("days_between", a, 0)?.date(), when("days_between", a, 1)?.date()))
        })
        .doc(
            "`days_between(a, b)`: calendar days from `a` to `b` (UTC dates), negative when \
            `b` is earlier.",
        ),
        Function::with_context("days_since", date, Ty::NUMBER, |a, cx| {
            Ok(days(when("days_since", a, 0)?.date(), today(cx)))
        })
        .doc(
            "`days_since(date)`: calendar days from `date` to today (negative for a future \
                date).",
        ),
        Function::with_context("days_until", date, Ty::NUMBER, |a, cx| {
            Ok(days(today(cx), when("days_until", a, 0)?.date()))
        })
        .doc(
            "`days_until(date)`: calendar days from today to `date` (negative for a past \
                date).",
        ),
        Function::new("add_days", &[Ty::STRING, Ty::NUMBER], Ty::STRING, add_days).doc(
            "`add_days(date, n)`: `date` moved by `n` days; a date stays a date, a \
                timestamp comes back in UTC.",
        ),
        Function::new("is_before", two_dates, Ty::BOOL, |a| Ok(Value::Bool(order("is_before", a)? == Ordering::Less)))
            .doc(
                "`is_before(a, b)`: whether `a` is earlier than `b` (by instant for two \
                timestamps, else by UTC date).",
            ),
        Function::new("is_after", two_dates, Ty::BOOL, |a| Ok(Value::Bool(order("is_after", a)? == Ordering::Greater)))
            .doc(
                "`is_after(a, b)`: whether `a` is later than `b` (by instant for two \
                timestamps, else by UTC date).",
            ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::Registry;

    fn call(name: &str, args: &[Value]) -> Result<Value, String> {
        let registry = Registry::default();
        let f = registry.get(registry.lookup(name).expect(name));
        let refs: Vec<&Value> = args.iter().collect();
        let now: Timestamp = "2026-03-15T23:30:00Z".parse().unwrap();
        f.call(&refs, &CallContext { now })
    }

    fn s(x: &str) -> Value {
        Value::from(x)
    }

    #[test]
    fn clock() {
        assert_eq!(call("now", &[]), Ok(s("2026-03-15T23:30:00Z")));
        assert_eq!(call("today", &[]), Ok(s("2026-03-15")));
    }

    #[test]
    fn parsing() {
        let cases = [
            ("2026-03-01", Some("2026-03-01")),
            ("2024-02-29", Some("2024-02-29")),
            ("2026-03-01T10:00:00Z", Some("2026-03-01")),
            ("2026-03-01t10:00:00z", Some("2026-03-01")),
            ("2026-03-01 10:00:00Z", Some("2026-03-01")),
            ("2026-03-01T10:00:00.123456Z", Some("2026-03-01")),
            // The UTC date of a timestamp, not the local one.
            ("2026-03-01T23:00:00-05:00", Some("2026-03-02")),
            ("2026-03-01T01:00:00+02:00", Some("2026-02-28")),
            ("2026-03-01T10:00:00", Some("2026-03-01")),
            ("2026-13-01", None),
            ("2023-02-29", None),
            ("2026-04-31", None),
            ("2026-3-1", None),
            ("20260301", None),
            ("+002026-03-01", None),
            ("2026-W10-1", None),
            ("2026-03-01x", None),
            ("2026-03-01T25:00:00Z", None),
            ("2026-03-01Tjunk", None),
            ("2026-03-01T10:00:00[America/New_York]", None),
            ("2026-03-01T10:00:00-99:00", None),
            ("2026-03-01T10:00:00+05:00[Asia/Kolkata]", Some("2026-03-01")),
            ("2026-03-01 10:00", Some("2026-03-01")),
            (" 2026-03-01", None),
            ("", None),
            ("yesterday", None),
            ("２０２６-03-01", None),
            ("2026-03-01T10:00:00Z\u{0}", None),
        ];
        for (input, expected) in cases {
            let got = call("parse_date", &[s(input)]);
            match expected {
                Some(d) => assert_eq!(got, Ok(s(d)), "{input}"),
                None => {
                    let err = got.unwrap_err();
                    assert!(err.starts_with("`parse_date`: `"), "{err}");
                    assert!(err.contains("is not a date"), "{err}");
                }
            }
            assert_eq!(call("date_valid", &[s(input)]), Ok(Value::Bool(expected.is_some())), "{input}");
        }
        assert_eq!(
            call("parse_date", &[s("2026-13-01")]).unwrap_err(),
            "`parse_date`: `2026-13-01` is not a date (expected `YYYY-MM-DD` or an RFC 3339 timestamp)"
        );
    }

    #[test]
    fn day_counts() {
        let cases = [
            ("2026-01-01", "2026-01-31", 30),
            ("2026-01-31", "2026-01-01", -30),
            ("2024-02-28", "2024-03-01", 2),
            ("2025-01-01", "2026-01-01", 365),
            ("2026-01-01T23:59:00Z", "2026-01-02T00:01:00Z", 1),
            ("2026-01-01T00:00:00Z", "2026-01-01T23:59:59Z", 0),
            ("2026-01-01", "2026-01-10T12:00:00+00:00", 9),
            ("0000-01-01", "9999-12-31", 3_652_424),
        ];
        for (a, b, expected) in cases {
            assert_eq!(call("days_between", &[s(a), s(b)]), Ok(Value::Int(expected)), "{a} .. {b}");
        }
        assert!(call("days_between", &[s("2026-01-01"), s("soon")]).unwrap_err().starts_with("`days_between`: `soon`"));
        // The clock says 2026-03-15 (UTC).
        assert_eq!(call("days_since", &[s("2026-03-01")]), Ok(Value::Int(14)));
        assert_eq!(call("days_since", &[s("2026-03-20")]), Ok(Value::Int(-5)));
        assert_eq!(call("days_since", &[s("2026-03-15T00:00:01Z")]), Ok(Value::Int(0)));
        assert_eq!(call("days_until", &[s("2026-04-14")]), Ok(Value::Int(30)));
        assert_eq!(call("days_until", &[s("2026-03-16")]), Ok(Value::Int(1)));
        assert!(call("days_until", &[s("31/12/2026")]).unwrap_err().starts_with("`days_until`: `31/12/2026`"));
    }

    #[test]
    fn adding_days() {
        let cases = [
            (s("2024-02-28"), Value::Int(1), Ok("2024-02-29")),
            (s("2026-03-01"), Value::Int(-1), Ok("2026-02-28")),
            (s("2026-03-01"), Value::Int(0), Ok("2026-03-01")),
            (s("2026-03-01"), Value::Float(2.0), Ok("2026-03-03")),
            (s("2026-03-01T10:00:00+02:00"), Value::Int(1), Ok("2026-03-02T08:00:00Z")),
            (s("2026-03-01"), Value::Float(1.5), Err("`add_days`: `1.5` is not a whole number of days")),
            (s("2026-03-01"), Value::Int(i64::MAX), Err("`add_days`: adding 9223372036854775807 days")),
            (s("2026-03-01"), Value::Int(3_000_000), Err("leaves the supported range")),
            (s("9999-12-31"), Value::Int(1), Err("leaves the supported range")),
            (s("2026-03-01T00:00:00Z"), Value::Int(-3_000_000), Err("leaves the supported range")),
            (s("2026-03-01T00:00:00Z"), Value::Int(-5_000_000), Err("leaves the supported range")),
            (s("0000-01-01"), Value::Int(-1), Err("leaves the supported range")),
            (s("9999-12-31"), Value::Int(-1), Ok("9999-12-30")),
            (s("nope"), Value::Int(1), Err("`add_days`: `nope` is not a date")),
        ];
        for (date, n, expected) in cases {
            let got = call("add_days", &[date.clone(), n.clone()]);
            match expected {
                Ok(d) => assert_eq!(got, Ok(s(d)), "{date} + {n}"),
                Err(part) => assert!(got.as_ref().unwrap_err().contains(part), "{date} + {n}: {got:?}"),
            }
        }
    }

    #[test]
    fn ordering() {
        let cases = [
            ("2026-01-01", "2026-01-02", true, false),
            ("2026-01-02", "2026-01-01", false, true),
            ("2026-01-01", "2026-01-01", false, false),
            ("2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", true, false),
            ("2026-01-01T12:00:00+02:00", "2026-01-01T11:00:00Z", true, false),
            // A date against a timestamp compares UTC dates: same day is neither before nor after.
            ("2026-01-01", "2026-01-01T10:00:00Z", false, false),
            ("2025-12-31", "2026-01-01T00:00:00Z", true, false),
        ];
        for (a, b, before, after) in cases {
            assert_eq!(call("is_before", &[s(a), s(b)]), Ok(Value::Bool(before)), "{a} < {b}");
            assert_eq!(call("is_after", &[s(a), s(b)]), Ok(Value::Bool(after)), "{a} > {b}");
        }
        assert!(call("is_before", &[s("2026-01-01"), s("")]).unwrap_err().starts_with("`is_before`: ``"));
    }
}
