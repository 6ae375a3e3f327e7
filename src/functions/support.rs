//! Small helpers shared by the builtin modules: quoting inputs in messages, numbers from `f64`, and a
//! per-thread cache of compiled patterns.

use std::cell::RefCell;
use std::collections::HashMap;
use std::thread::LocalKey;

use crate::value::Value;

/// The string argument `i` (the signature guarantees its type; anything else reads as empty).
pub(super) fn text<'a>(args: &[&'a Value], i: usize) -> &'a str {
    args.get(i).and_then(|v| v.as_str()).unwrap_or_default()
}

/// `s` in backticks for an error message: control characters escaped, long input shortened.
pub(super) fn quoted(s: &str) -> String {
    const MAX: usize = 60;
    let mut out = String::from("`");
    for (i, c) in s.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('`');
    out
}

/// An integer when `x` is a whole number that floats represent exactly, a float otherwise.
pub(super) fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 { Value::Int(x as i64) } else { Value::Float(x) }
}

/// How many compiled patterns each thread keeps.
const CACHE_CAPACITY: usize = 64;

/// Compiled patterns by source text, least recently used evicted first. Patterns often come from data
/// (an allowlist applied to every element), so compiling each once per thread matters.
pub(super) struct PatternCache<T> {
    entries: HashMap<String, (T, u64), foldhash::fast::RandomState>,
    clock: u64,
}

impl<T> Default for PatternCache<T> {
    fn default() -> Self {
        PatternCache { entries: HashMap::default(), clock: 0 }
    }
}

impl<T> PatternCache<T> {
    /// Runs `apply` on the compiled form of `pattern`, compiling (and caching) it first if needed.
    fn with<R>(
        &mut self,
        pattern: &str,
        compile: impl FnOnce(&str) -> Result<T, String>,
        apply: impl FnOnce(&T) -> R,
    ) -> Result<R, String> {
        self.clock += 1;
        let now = self.clock;
        if let Some((compiled, used)) = self.entries.get_mut(pattern) {
            *used = now;
            return Ok(apply(compiled));
        }
        let compiled = compile(pattern)?;
        if self.entries.len() >= CACHE_CAPACITY {
            let oldest = self.entries.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        let result = apply(&compiled);
        self.entries.insert(pattern.to_owned(), (compiled, now));
        Ok(result)
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// [`PatternCache::with`] on a thread-local cache.
pub(super) fn with_cached<T: 'static, R>(
    cache: &'static LocalKey<RefCell<PatternCache<T>>>,
    pattern: &str,
    compile: impl FnOnce(&str) -> Result<T, String>,
    apply: impl FnOnce(&T) -> R,
) -> Result<R, String> {
    cache.with_borrow_mut(|c| c.with(pattern, compile, apply))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_and_shortens() {
        assert_eq!(quoted("a\nb"), "`a\\nb`");
        assert_eq!(quoted(""), "``");
        let long = "x".repeat(100);
        assert_eq!(quoted(&long).chars().count(), 60 + 3);
        assert!(quoted(&long).ends_with("…`"));
    }

    #[test]
    fn numbers_are_integers_when_exact() {
        assert_eq!(number(2.0), Value::Int(2));
        assert!(matches!(number(2.0), Value::Int(_)));
        assert!(matches!(number(0.5), Value::Float(_)));
        assert!(matches!(number(1e300), Value::Float(_)));
        assert!(matches!(number(-0.0), Value::Int(0)));
    }

    #[test]
    fn cache_evicts_least_recently_used() {
        let mut cache = PatternCache::<usize>::default();
        let compile = |p: &str| Ok::<_, String>(p.len());
        for i in 0..CACHE_CAPACITY {
            cache.with(&format!("p{i}"), compile, |_| ()).unwrap();
        }
        // Touch the oldest so the second-oldest goes instead.
        cache.with("p0", |_| Err("recompiled".to_string()), |_| ()).unwrap();
        cache.with("new", compile, |_| ()).unwrap();
        assert_eq!(cache.len(), CACHE_CAPACITY);
        assert!(cache.with("p0", |_| Err("recompiled".to_string()), |_| ()).is_ok());
        assert!(cache.with("p1", |_| Err("recompiled".to_string()), |_| ()).is_err());
        // Failed compilations are not cached.
        assert!(cache.with("bad", |_| Err("no".to_string()), |_| ()).is_err());
        assert_eq!(cache.len(), CACHE_CAPACITY);
    }
}
