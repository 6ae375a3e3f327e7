//! Pattern builtins: globs and regular expressions, compiled once per thread and cached.

use std::cell::RefCell;

use globset::{GlobBuilder, GlobMatcher};
use regex::{Regex, RegexBuilder};

use super::support::{PatternCache, quoted, text, with_cached};
use super::{Function, PatternKind, Ty};
use crate::pattern::{Fast, REGEX_SIZE_LIMIT};
use crate::value::Value;

/// Bound on what `regex_replace` builds: an empty match replaced by a long text at every position of a
/// long input would otherwise grow quadratically.
const REPLACE_LIMIT: usize = crate::value::MAX_BUILT_STRING;

/// A regex from data or parameters, with its direct check when its shape has one (see `crate::pattern`).
struct Compiled {
    regex: Regex,
    fast: Option<Fast>,
}

impl Compiled {
    fn is_match(&self, text: &str) -> bool {
        match &self.fast {
            Some(fast) => fast.is_match(text),
            None => self.regex.is_match(text),
        }
    }
}

thread_local! {
    static REGEXES: RefCell<PatternCache<Compiled>> = RefCell::new(PatternCache::default());
    static GLOBS: RefCell<PatternCache<GlobMatcher>> = RefCell::new(PatternCache::default());
}

/// The regex crate's message, without the echo of the pattern it prints above it.
fn regex_error(name: &str, pattern: &str, err: &regex::Error) -> String {
    let why = match err {
        regex::Error::CompiledTooBig(limit) => format!("it compiles to more than {limit} bytes"),
        other => {
            let text = other.to_string();
            let last = text.lines().last().unwrap_or_default();
            last.strip_prefix("error: ").unwrap_or(last).to_owned()
        }
    };
    format!("`{name}`: {} is not a valid regular expression: {why}", quoted(pattern))
}

/// Whether `text` matches `pattern`, compiling the pattern once per thread: the `matches` operator uses this
/// for patterns that come from data or parameters.
pub(crate) fn regex_is_match(pattern: &str, text: &str) -> Result<bool, String> {
    with_compiled("matches", pattern, |c| c.is_match(text))
}

/// Runs `apply` with the compiled regular expression `pattern`.
fn with_regex<R>(name: &str, pattern: &str, apply: impl FnOnce(&Regex) -> R) -> Result<R, String> {
    with_compiled(name, pattern, |c| apply(&c.regex))
}

/// Runs `apply` with `pattern` compiled: the regex (built even when a direct check exists, so errors and size
/// limits are the regex's) and its direct check.
fn with_compiled<R>(name: &str, pattern: &str, apply: impl FnOnce(&Compiled) -> R) -> Result<R, String> {
    let compile = |p: &str| {
        let regex = RegexBuilder::new(p)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| regex_error(name, p, &e))?;
        let fast = regex_syntax::Parser::new().parse(p).ok().and_then(|hir| Fast::compile(&hir));
        Ok(Compiled { regex, fast })
    };
    with_cached(&REGEXES, pattern, compile, apply)
}

/// `s` with every match of `re` replaced by `replacement` (with `$1`, `${name}`, `$$` expanded).
fn replace_all(re: &Regex, s: &str, replacement: &str) -> Result<Value, String> {
    let mut out = String::new();
    let mut last = 0;
    for caps in re.captures_iter(s) {
        let Some(whole) = caps.get(0) else { continue };
        out.push_str(&s[last..whole.start()]);
        caps.expand(replacement, &mut out);
        last = whole.end();
        if out.len() > REPLACE_LIMIT {
            return Err(format!("`regex_replace`: the result would be longer than {REPLACE_LIMIT} bytes"));
        }
    }
    out.push_str(&s[last..]);
    Ok(Value::from(out))
}

/// Runs `apply` with the compiled glob `pattern`: `*` and `?` stay within one `/`-separated segment,
/// `**` crosses segments, `[...]` is a class, `{a,b}` alternatives, `\` escapes.
fn with_glob<R>(pattern: &str, apply: impl FnOnce(&GlobMatcher) -> R) -> Result<R, String> {
    let compile = |p: &str| {
        GlobBuilder::new(p)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map(|g| g.compile_matcher())
            .map_err(|e| format!("`glob_match`: {} is not a valid glob: {}", quoted(p), e.kind()))
    };
    with_cached(&GLOBS, pattern, compile, apply)
}

/// Whether `pattern` is a valid pattern of `kind`, compiled as the function `name` would (size limits
/// included): the checker's test of literal patterns.
pub(crate) fn validate_pattern(kind: PatternKind, name: &str, pattern: &str) -> Result<(), String> {
    match kind {
        PatternKind::Regex => with_regex(name, pattern, |_| ()),
        PatternKind::Glob => with_glob(pattern, |_| ()),
    }
}

// Every pattern builtin takes the text first and the pattern second, like `s matches pattern`,
// `starts_with(s, prefix)` and `split(s, sep)`.
pub(super) fn functions() -> Vec<Function> {
    vec![
        Function::new("glob_match", &[Ty::STRING, Ty::STRING], Ty::BOOL, |a| {
            let s = text(a, 0);
            with_glob(text(a, 1), |g| Value::Bool(g.is_match(s)))
        })
        .pattern_at(1, PatternKind::Glob)
        .doc(
            "`glob_match(s, pattern)`: whether all of `s` matches the glob (`*` and `?` \
            stop at `/`, `**` crosses it, `[a-z]`, `{a,b}`).",
        ),
        Function::new("regex_match", &[Ty::STRING, Ty::STRING], Ty::BOOL, |a| {
            let s = text(a, 0);
            with_compiled("regex_match", text(a, 1), |c| Value::Bool(c.is_match(s)))
        })
        .pattern_at(1, PatternKind::Regex)
        .doc(
            "`regex_match(s, pattern)`: whether the regular expression matches somewhere in \
            `s` (anchor with `^...$`); the same as `s matches pattern`.",
        ),
        Function::new("regex_find", &[Ty::STRING, Ty::STRING], Ty::STRING.or(Ty::NULL), |a| {
            let s = text(a, 0);
            with_regex("regex_find", text(a, 1), |re| re.find(s).map(|m| Value::from(m.as_str())).unwrap_or_default())
        })
        .pattern_at(1, PatternKind::Regex)
        .doc("`regex_find(s, pattern)`: the first match in `s`, or null."),
        Function::new("regex_captures", &[Ty::STRING, Ty::STRING], Ty::ARRAY.or(Ty::NULL), |a| {
            let s = text(a, 0);
            with_regex("regex_captures", text(a, 1), |re| {
                re.captures(s)
                    .map(|caps| caps.iter().map(|g| g.map(|m| Value::from(m.as_str())).unwrap_or_default()).collect())
                    .unwrap_or_default()
            })
        })
        .pattern_at(1, PatternKind::Regex)
        .doc(
            "`regex_captures(s, pattern)`: the first match and its groups (`[whole, group1, \
            ...]`, null for a group that took no part), or null.",
        ),
        Function::new("regex_replace", &[Ty::STRING, Ty::STRING, Ty::STRING], Ty::STRING, |a| {
            let (s, replacement) = (text(a, 0), text(a, 2));
            with_regex("regex_replace", text(a, 1), |re| replace_all(re, s, replacement))?
        })
        .pattern_at(1, PatternKind::Regex)
        .doc(
            "`regex_replace(s, pattern, replacement)`: `s` with every match replaced; `$1` \
            or `${name}` insert groups, `$$` a dollar.",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::{CallContext, Registry};

    fn call(name: &str, args: &[Value]) -> Result<Value, String> {
        let registry = Registry::default();
        let f = registry.get(registry.lookup(name).expect(name));
        let refs: Vec<&Value> = args.iter().collect();
        f.call(&refs, &CallContext { now: jiff::Timestamp::UNIX_EPOCH })
    }

    fn s(x: &str) -> Value {
        Value::from(x)
    }

    #[test]
    fn globs() {
        let cases = [
            ("*.safetensors", "model.safetensors", true),
            ("*.safetensors", "weights/model.safetensors", false),
            ("**/*.safetensors", "weights/model.safetensors", true),
            ("**/*.safetensors", "model.safetensors", true),
            ("models/**", "models/a/b/c.bin", true),
            ("ghcr.io/acme/*", "ghcr.io/acme/img", true),
            ("ghcr.io/acme/*", "ghcr.io/acme/team/img", false),
            ("ghcr.io/acme/*", "ghcr.io/acme-evil/img", false),
            ("model-??.bin", "model-01.bin", true),
            ("model-??.bin", "model-1.bin", false),
            ("*.{pt,pth,bin}", "x.pth", true),
            ("*.{pt,pth,bin}", "x.onnx", false),
            ("[a-c]*", "bert", true),
            ("[!a-c]*", "bert", false),
            ("\\*literal", "*literal", true),
            ("\\*literal", "xliteral", false),
            ("", "", true),
            ("", "x", false),
            ("*", "", true),
            ("é*", "éte", true),
        ];
        for (pattern, input, expected) in cases {
            assert_eq!(call("glob_match", &[s(input), s(pattern)]), Ok(Value::Bool(expected)), "{pattern} ~ {input}");
        }
    }

    #[test]
    fn bad_globs_are_errors() {
        for pattern in ["[abc", "{a,b", "a}", "x\\", "[z-a]"] {
            let err = call("glob_match", &[s("x"), s(pattern)]).unwrap_err();
            assert!(err.starts_with("`glob_match`: `"), "{pattern}: {err}");
            assert!(err.contains(pattern), "{pattern}: {err}");
        }
    }

    #[test]
    fn regex_matching() {
        let cases = [
            ("^hf_[A-Za-z]{34}$", "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", true),
            ("hf_[A-Za-z]{34}", "token=hf_abcdefghijklmnopqrstuvwxyzABCDEFGH;", true),
            ("^[0-9a-f]{40}$", "8f3c5d0e9b7a6c4d2e1f0a9b8c7d6e5f4a3b2c1d", true),
            ("^[0-9a-f]{40}$", "v4", false),
            ("(?i)secret", "MY_SECRET", true),
            ("", "anything", true),
            ("^$", "", true),
        ];
        for (pattern, input, expected) in cases {
            assert_eq!(call("regex_match", &[s(input), s(pattern)]), Ok(Value::Bool(expected)), "{pattern} ~ {input}");
        }
    }

    #[test]
    fn regex_find_captures_replace() {
        assert_eq!(call("regex_find", &[s("v12.3"), s("[0-9]+")]), Ok(s("12")));
        assert_eq!(call("regex_find", &[s("none"), s("[0-9]+")]), Ok(Value::Null));
        assert_eq!(
            call("regex_captures", &[s("org/model"), s(r"^(\w+)/(\w+)(@(\w+))?$")]),
            Ok(Value::from(vec![s("org/model"), s("org"), s("model"), Value::Null, Value::Null]))
        );
        assert_eq!(call("regex_captures", &[s("b"), s("(a)")]), Ok(Value::Null));
        assert_eq!(call("regex_replace", &[s("a1b22"), s("[0-9]"), s("#")]), Ok(s("a#b##")));
        assert_eq!(call("regex_replace", &[s("a=1 b=2"), s(r"(?P<k>\w+)=(\w+)"), s("$2:${k}")]), Ok(s("1:a 2:b")));
        assert_eq!(call("regex_replace", &[s("y"), s("x"), s("$$")]), Ok(s("y")));
        assert_eq!(call("regex_replace", &[s("y"), s("y"), s("$$")]), Ok(s("$")));
        assert_eq!(call("regex_replace", &[s("ab"), s(""), s("-")]), Ok(s("-a-b-")));
        assert_eq!(call("regex_replace", &[s("y xy"), s("(x)?y"), s("[$1]")]), Ok(s("[] [x]")));
        assert_eq!(call("regex_replace", &[s("café é"), s("é"), s("e")]), Ok(s("cafe e")));
    }

    #[test]
    fn replacement_growth_is_bounded() {
        let input = "x".repeat(1 << 12);
        let replacement = "y".repeat(1 << 14);
        let err = call("regex_replace", &[s(&input), s(""), s(&replacement)]).unwrap_err();
        assert_eq!(err, "`regex_replace`: the result would be longer than 33554432 bytes");
    }

    #[test]
    fn bad_regexes_are_errors() {
        for (pattern, why) in [("(", "unclosed group"), ("[a", "unclosed character class"), ("a{2,1}", "invalid")] {
            let err = call("regex_match", &[s("x"), s(pattern)]).unwrap_err();
            assert!(
                err.starts_with(&format!("`regex_match`: `{pattern}` is not a valid regular expression: ")),
                "{err}"
            );
            assert!(err.contains(why), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
        let err = call("regex_replace", &[s("x"), s(")"), s("y")]).unwrap_err();
        assert!(err.starts_with("`regex_replace`:"), "{err}");
    }

    #[test]
    fn huge_regexes_are_refused() {
        // Large repetition of a Unicode class compiles far beyond the 1 MiB limit.
        let err = call("regex_match", &[s("x"), s(r"\w{1000}\w{1000}\w{1000}")]).unwrap_err();
        assert!(err.contains("compiles to more than"), "{err}");
        let err = call("regex_match", &[s("x"), s("a{4294967295}")]).unwrap_err();
        assert!(err.starts_with("`regex_match`:"), "{err}");
    }

    #[test]
    fn patterns_are_cached_per_thread() {
        for i in 0..200 {
            call("regex_match", &[s("x1"), s(&format!("^x{i}$"))]).unwrap();
            call("glob_match", &[s("x1"), s(&format!("x{i}*"))]).unwrap();
        }
        assert_eq!(REGEXES.with_borrow(|c| c.len()), 64);
        assert_eq!(GLOBS.with_borrow(|c| c.len()), 64);
    }
}
