//! Strict JSON (RFC 8259) → [`Value`], at serde_json's own speed.
//!
//! serde_json's parser feeds a [`DeserializeSeed`] that builds Vigil's values directly: no intermediate tree,
//! no location bookkeeping. Spans are not recorded while parsing: the document re-scans its text for them
//! ([`super::json_spans`]) only when a finding first needs a location, or here when an error must name one.
//!
//! What the loader enforces on top of serde_json (which already refuses comments, trailing commas, lone
//! surrogates, control characters in strings and non-finite numbers):
//! - a duplicate key is an error (two readers of the same file could otherwise see different values);
//! - nesting is bounded by [`Limits::max_depth`], not by serde_json's fixed 128 levels; deep configured limits
//!   grow the stack on the heap instead of overflowing it;
//! - numbers read as they always have: a literal without `.`, `e` or `E` that fits in an `i64` is an integer,
//!   anything else a finite `f64` (serde_json reads `-0` as a float: it is put back to the integer 0).

use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;

use indexmap::map::RawEntryApiV1;
use indexmap::map::raw_entry_v1::RawEntryMut;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::json_spans;
use super::{Limits, LoadError};
use crate::source::{Source, Span};
use crate::value::{KeyHasher, Map, Value};

/// Parses one JSON document of a file. Spans are left to [`json_spans::scan`].
pub(crate) fn parse(src: &Source, limits: &Limits) -> Result<Value, LoadError> {
    let text = src.text();
    if text.trim_matches([' ', '\t', '\n', '\r']).is_empty() {
        return Err(LoadError::syntax(src, Span::new(0, 0), "invalid JSON: the file holds no value"));
    }
    let (result, failure) = read(text, limits.max_depth);
    result.map_err(|e| error(src, text, e, failure, limits))
}

/// Parses JSON text without a source file (`Value::from_json`): the same rules, default limits.
pub(crate) fn from_str(text: &str) -> Result<Value, serde_json::Error> {
    read(text, Limits::default().max_depth).0
}

/// Why the parse stopped, when it was one of the loader's own rules rather than a syntax error.
#[derive(Debug)]
enum Failure {
    /// The container that is node `node` (pre-order) is nested too deeply.
    Depth { node: usize },
    /// The member whose value is node `node` repeats a key of its object.
    Duplicate { node: usize, key: Arc<str> },
}

struct State {
    depth: usize,
    max_depth: usize,
    /// Nodes started so far, in pre-order: the index the span scan gives the same node.
    nodes: usize,
    failure: Option<Failure>,
    negative_zero: bool,
    /// Items of the arrays being read, innermost last: each array takes its own from the top when it closes,
    /// so its `Vec` is allocated once at its exact length.
    items: Vec<Value>,
    /// Members of the objects being read, likewise: each object's map is built once at its exact size.
    members: Vec<Member>,
    keys: KeyCache,
}

/// An object member read but not yet in its map, with its key's hash (computed once, for the duplicate check
/// and the map).
struct Member {
    hash: u64,
    key: Arc<str>,
    value: Value,
}

thread_local! {
    /// The item and member stacks of the last parse on this thread, kept for the next one.
    static SCRATCH: std::cell::Cell<(Vec<Value>, Vec<Member>)> = const { std::cell::Cell::new((Vec::new(), Vec::new())) };
}

/// Stacks longer than this are not kept between parses (a document with a huge array does not pin its size).
const SCRATCH_KEPT: usize = 4096;

/// Objects with more members than this are read straight into their map (its table finds duplicates); smaller
/// ones compare each new key's hash with the hashes of the members before it.
const LINEAR_MEMBERS: usize = 16;

/// Keys seen recently in this document, by hash: objects of one shape (the artifacts of a card, the items of
/// a list) share one `Arc` per key instead of allocating it again. Keys only, never string values: the
/// locator tells string values apart by their `Arc`.
struct KeyCache {
    slots: [Option<Arc<str>>; KEY_SLOTS],
}

const KEY_SLOTS: usize = 64;

impl KeyCache {
    fn key(&mut self, s: &str) -> (Arc<str>, u64) {
        let hash = KeyHasher.hash_one(s);
        let slot = &mut self.slots[hash as usize % KEY_SLOTS];
        if let Some(key) = slot
            && **key == *s
        {
            return (key.clone(), hash);
        }
        let key: Arc<str> = Arc::from(s);
        *slot = Some(key.clone());
        (key, hash)
    }
}

fn read(text: &str, max_depth: usize) -> (Result<Value, serde_json::Error>, Option<Failure>) {
    // (A parse in a thread-local destructor, after the scratch is gone, starts from empty stacks.)
    let (items, members) = SCRATCH.try_with(std::cell::Cell::take).unwrap_or_default();
    let mut state = State {
        depth: 0,
        max_depth,
        nodes: 0,
        failure: None,
        negative_zero: false,
        items,
        members,
        keys: KeyCache { slots: [const { None }; KEY_SLOTS] },
    };
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let result = Seed { state: &mut state, index: 0 }.deserialize(&mut de).and_then(|value| de.end().map(|()| value));
    let (mut items, mut members) = (std::mem::take(&mut state.items), std::mem::take(&mut state.members));
    if items.capacity() <= SCRATCH_KEPT && members.capacity() <= SCRATCH_KEPT {
        // Empty unless the parse failed half-way.
        items.clear();
        members.clear();
        let _ = SCRATCH.try_with(|scratch| scratch.set((items, members)));
    }
    let result = match result {
        Ok(mut value) if state.negative_zero => {
            integer_zeros(&mut value, text);
            Ok(value)
        }
        other => other,
    };
    (result, state.failure)
}

/// Turns a `-0` literal, which serde_json hands over as the float -0.0, back into the integer it always was
/// (`-0.0` or `-0e1` stay floats). Rare, so it costs a span scan only when the text holds a negative zero.
fn integer_zeros(root: &mut Value, text: &str) {
    let spans = json_spans::scan(text);
    let mut stack = vec![root];
    let mut node = 0;
    while let Some(value) = stack.pop() {
        let span = spans.get(node).map(|s| s.value).unwrap_or_default();
        node += 1;
        match value {
            Value::Float(x)
                if *x == 0.0
                    && x.is_sign_negative()
                    && text.get(span.range()).is_some_and(|lit| !lit.contains(['.', 'e', 'E'])) =>
            {
                *value = Value::Int(0);
            }
            // Freshly built, so never shared: `get_mut` always succeeds.
            Value::Array(items) => stack.extend(Arc::get_mut(items).into_iter().flat_map(|v| v.iter_mut().rev())),
            Value::Object(map) => stack.extend(Arc::get_mut(map).into_iter().flat_map(|m| m.values_mut().rev())),
            _ => {}
        }
    }
}

/// The error for `e`, located: the loader's own failures at the node's span (found by a span scan, as the
/// text up to the failure is valid JSON), serde_json's syntax errors at the byte its line and column name.
fn error(src: &Source, text: &str, e: serde_json::Error, failure: Option<Failure>, limits: &Limits) -> LoadError {
    match failure {
        Some(Failure::Depth { node }) => {
            let span = json_spans::scan(text).get(node).map(|s| s.value).unwrap_or_default();
            // An unclosed container has no end yet: point at its opening bracket.
            let span =
                if span.end <= span.start { Span::new(span.start as usize, span.start as usize + 1) } else { span };
            LoadError::syntax(src, span, format!("nesting deeper than {} levels", limits.max_depth))
        }
        Some(Failure::Duplicate { node, key }) => {
            let span = json_spans::scan(text).get(node).map(|s| s.key).unwrap_or_default();
            LoadError::syntax(src, span, format!("duplicate key `{key}`"))
        }
        None => {
            let message = e.to_string();
            let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m);
            let mut span = error_span(text, e.line(), e.column());
            let at = &text[span.start as usize..];
            // serde_json sees a comment as a misplaced value or key: say what it is (JSONC files are common).
            let message =
                if at.starts_with("//") || at.starts_with("/*") { "comments are not allowed" } else { message };
            if message == "trailing comma" {
                // serde_json stops at the bracket after the comma; the comma is what to remove.
                let before = text[..span.start as usize].trim_end_matches([' ', '\t', '\n', '\r']);
                if before.ends_with(',') {
                    span = Span::new(before.len() - 1, before.len());
                }
            }
            LoadError::syntax(src, span, format!("invalid JSON: {message}"))
        }
    }
}

/// serde_json counts a column as the bytes of the line up to and including the offending one (0 when the
/// line break itself is at fault): the span is that byte's character, or the end of the text.
fn error_span(text: &str, line: usize, column: usize) -> Span {
    let line_start =
        if line <= 1 { 0 } else { text.match_indices('\n').nth(line - 2).map_or(text.len(), |(i, _)| i + 1) };
    let at = (line_start + column).saturating_sub(1).min(text.len());
    let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    let width = text[at..].chars().next().map_or(0, char::len_utf8);
    Span::new(at, at + width)
}

/// Builds one value: `index` is the node's place in pre-order.
struct Seed<'s> {
    state: &'s mut State,
    index: usize,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.state.nodes += 1;
        deserializer.deserialize_any(self)
    }
}

impl Seed<'_> {
    /// The seed of the next node.
    fn child(&mut self) -> Seed<'_> {
        let index = self.state.nodes;
        Seed { state: self.state, index }
    }

    /// Enters a container, refusing one nested deeper than the limit.
    fn enter<E: de::Error>(&mut self) -> Result<(), E> {
        if self.state.depth >= self.state.max_depth {
            self.state.failure = Some(Failure::Depth { node: self.index });
            return Err(E::custom(format_args!("nesting deeper than {} levels", self.state.max_depth)));
        }
        self.state.depth += 1;
        Ok(())
    }
}

/// Runs `f` (the contents of a container at `depth`) with room on the stack, so that a deep configured limit
/// never overflows it. Checked every 16 levels: 16 levels take far less than the 256 KiB margin.
fn guarded<T>(depth: usize, f: impl FnOnce() -> T) -> T {
    if depth.is_multiple_of(16) { stacker::maybe_grow(256 << 10, 4 << 20, f) } else { f() }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        // Past i64, a whole number is a float, as `"…".parse::<i64>()` failing always made it.
        Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int))
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        if !x.is_finite() {
            return Err(E::custom("number out of range"));
        }
        if x == 0.0 && x.is_sign_negative() {
            self.state.negative_zero = true;
        }
        Ok(Value::Float(x))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(Arc::from(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        self.enter()?;
        let base = self.state.items.len();
        guarded(self.state.depth, || {
            while let Some(item) = seq.next_element_seed(self.child())? {
                self.state.items.push(item);
            }
            Ok::<_, A::Error>(())
        })?;
        self.state.depth -= 1;
        let items: Vec<Value> = self.state.items.drain(base..).collect();
        Ok(Value::Array(Arc::new(items)))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut access: A) -> Result<Value, A::Error> {
        self.enter()?;
        let base = self.state.members.len();
        let map = guarded(self.state.depth, || {
            while let Some((key, hash)) = access.next_key_seed(KeySeed { keys: &mut self.state.keys })? {
                let members = &self.state.members[base..];
                if members.len() == LINEAR_MEMBERS {
                    return self.read_large_map(access, Member { hash, key, value: Value::Null }, base);
                }
                if members.iter().any(|m| m.hash == hash && m.key == key) {
                    return Err(self.duplicate(key));
                }
                let value = access.next_value_seed(self.child())?;
                self.state.members.push(Member { hash, key, value });
            }
            let mut map = Map::with_capacity_and_hasher(self.state.members.len() - base, KeyHasher);
            for Member { hash, key, value } in self.state.members.drain(base..) {
                insert_new(&mut map, hash, key, value);
            }
            Ok(map)
        })?;
        self.state.depth -= 1;
        Ok(Value::Object(Arc::new(map)))
    }
}

impl Seed<'_> {
    /// The error for a repeated key, recording where it is.
    fn duplicate<E: de::Error>(&mut self, key: Arc<str>) -> E {
        let message = format!("duplicate key `{key}`");
        self.state.failure = Some(Failure::Duplicate { node: self.state.nodes, key });
        E::custom(message)
    }

    /// The rest of an object of more than [`LINEAR_MEMBERS`] members, whose member `next` (key read, value
    /// not yet) follows the ones from `base` on: straight into its map from now on.
    fn read_large_map<'de, A: MapAccess<'de>>(
        &mut self,
        mut access: A,
        next: Member,
        base: usize,
    ) -> Result<Map, A::Error> {
        let mut map = Map::with_capacity_and_hasher(2 * LINEAR_MEMBERS, KeyHasher);
        for Member { hash, key, value } in self.state.members.drain(base..) {
            insert_new(&mut map, hash, key, value);
        }
        let mut next = Some((next.key, next.hash));
        while let Some((key, hash)) = match next.take() {
            Some(member) => Some(member),
            None => access.next_key_seed(KeySeed { keys: &mut self.state.keys })?,
        } {
            match map.raw_entry_mut_v1().from_key_hashed_nocheck(hash, &*key) {
                RawEntryMut::Occupied(_) => return Err(self.duplicate(key)),
                RawEntryMut::Vacant(slot) => {
                    let value = access.next_value_seed(self.child())?;
                    slot.insert_hashed_nocheck(hash, key, value);
                }
            }
        }
        Ok(map)
    }
}

/// Adds a member whose key the map is known not to hold, with the key's hash.
fn insert_new(map: &mut Map, hash: u64, key: Arc<str>, value: Value) {
    if let RawEntryMut::Vacant(slot) = map.raw_entry_mut_v1().from_hash(hash, |_| false) {
        slot.insert_hashed_nocheck(hash, key, value);
    }
}

/// An object key, straight into the `Arc<str>` the map keeps (shared with earlier keys of the same text),
/// and its hash.
struct KeySeed<'k> {
    keys: &'k mut KeyCache,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = (Arc<str>, u64);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(Arc<str>, u64), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = (Arc<str>, u64);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E>(self, s: &str) -> Result<(Arc<str>, u64), E> {
        Ok(self.keys.key(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `line:column: message` of the error loading `text` with nesting limited to `max_depth`.
    fn error_at(text: &str, max_depth: usize) -> String {
        let src = Source::new("t.json", text);
        let limits = Limits { max_depth, ..Limits::default() };
        let e = parse(&src, &limits).expect_err(text).with_source(&src);
        let (line, col) = e.line_col().unwrap_or_default();
        format!("{line}:{col}: {}", e.message)
    }

    #[test]
    fn every_kind_of_error_points_at_its_byte() {
        let cases = [
            ("", "1:1: invalid JSON: the file holds no value"),
            ("{\"a\": 1,\n}", "1:8: invalid JSON: trailing comma"),
            ("[1,  ]", "1:3: invalid JSON: trailing comma"),
            ("[1 2]", "1:4: invalid JSON: expected `,` or `]`"),
            ("{\"a\": 1 \"b\": 2}", "1:9: invalid JSON: expected `,` or `}`"),
            ("{\"a\" 1}", "1:6: invalid JSON: expected `:`"),
            ("{1: 2}", "1:2: invalid JSON: key must be a string"),
            ("{\"a\": tru}", "1:10: invalid JSON: expected ident"),
            ("[\"\\x\"]", "1:4: invalid JSON: invalid escape"),
            ("[\"a\u{1}\"]", "1:4: invalid JSON: control character (\\u0000-\\u001F) found while parsing a string"),
            ("[\"\\ud800\"]", "1:9: invalid JSON: unexpected end of hex escape"),
            ("[1] x", "1:5: invalid JSON: trailing characters"),
            ("{\"a\":\n  [1", "2:4: invalid JSON: EOF while parsing a list"),
            ("[01]", "1:3: invalid JSON: invalid number"),
            ("[1e999]", "1:6: invalid JSON: number out of range"),
            ("[-]", "1:3: invalid JSON: invalid number"),
            ("// note\n{}", "1:1: invalid JSON: comments are not allowed"),
            ("{\n  /* c */ \"a\": 1}", "2:3: invalid JSON: comments are not allowed"),
            ("[1, // c\n 2]", "1:5: invalid JSON: comments are not allowed"),
            ("{'a': 1}", "1:2: invalid JSON: key must be a string"),
            ("[NaN]", "1:2: invalid JSON: expected value"),
            ("\u{feff}{}", "1:1: invalid JSON: expected value"),
            ("{\"é\": [1,]}", "1:9: invalid JSON: trailing comma"),
            ("{\"a\": 1,\n \"b\": {\"c\": 2, \"c\": 3}}", "2:16: duplicate key `c`"),
            ("{\"a\\u0062\": 1, \"ab\": 2}", "1:16: duplicate key `ab`"),
            ("[[1], [[[2]]]]", "1:9: nesting deeper than 3 levels"),
            ("[[[[", "1:4: nesting deeper than 3 levels"),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(text, expected)| error_at(text, 3) != *expected)
            .map(|(text, expected)| format!("{text:?}: got {:?}, expected {expected:?}", error_at(text, 3)))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn large_objects_keep_their_order_and_refuse_duplicates() {
        // Past LINEAR_MEMBERS members an object is read straight into its map: both ways agree.
        let members = |n: usize| (0..n).map(|i| format!("\"k{i}\": [{i}, {{\"v\": \"s{i}\"}}]")).collect::<Vec<_>>();
        for n in [0, 1, LINEAR_MEMBERS - 1, LINEAR_MEMBERS, LINEAR_MEMBERS + 1, 3 * LINEAR_MEMBERS] {
            let text = format!("{{{}}}", members(n).join(", "));
            let value = from_str(&text).expect("valid");
            let map = value.as_object().expect("object");
            assert_eq!(map.len(), n);
            for (i, (k, v)) in map.iter().enumerate() {
                assert_eq!(**k, format!("k{i}"));
                assert_eq!(v, &Value::from_json(&format!("[{i}, {{\"v\": \"s{i}\"}}]")).expect("valid"));
            }
            assert_eq!(
                Some(&value),
                serde_json::from_str::<serde_json::Value>(&text).ok().map(|v| to_value(&v)).as_ref()
            );
        }
        for (n, at) in [(3, 1), (LINEAR_MEMBERS + 4, 2), (LINEAR_MEMBERS + 4, LINEAR_MEMBERS + 1), (40, 39)] {
            let mut m = members(n);
            m.push(format!("\"k{at}\": 0"));
            let text = format!("{{\n{}}}", m.join(",\n"));
            assert_eq!(error_at(&text, 8), format!("{}:1: duplicate key `k{at}`", n + 2), "{n} members, k{at} twice");
        }
    }

    #[test]
    fn keys_are_shared_within_a_document_string_values_never() {
        let v = from_str(r#"[{"path": "a", "size": 1}, {"path": "a", "size": 2}]"#).expect("valid");
        let items = v.as_array().expect("array");
        let (a, b) = (items[0].as_object().expect("object"), items[1].as_object().expect("object"));
        let (ka, kb) = (a.get_index(0).expect("member").0, b.get_index(0).expect("member").0);
        assert!(Arc::ptr_eq(ka, kb), "one `path` key for both objects");
        // The locator tells string values apart by their Arc: equal strings stay separate.
        let (Some(Value::String(sa)), Some(Value::String(sb))) = (a.get("path"), b.get("path")) else { panic!() };
        assert!(!Arc::ptr_eq(sa, sb));
    }

    /// serde_json's value as Vigil's, by the loader's number rules (no `-0` here).
    fn to_value(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => {
                n.as_i64().map_or_else(|| Value::Float(n.as_f64().unwrap_or_default()), Value::Int)
            }
            serde_json::Value::String(s) => Value::from(s.as_str()),
            serde_json::Value::Array(items) => Value::Array(Arc::new(items.iter().map(to_value).collect())),
            serde_json::Value::Object(map) => {
                Value::Object(Arc::new(map.iter().map(|(k, v)| (Arc::from(k.as_str()), to_value(v))).collect()))
            }
        }
    }

    #[test]
    fn the_configured_depth_is_the_limit_not_serde_jsons() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let load =
            |text: &str, max_depth| parse(&Source::new("t.json", text), &Limits { max_depth, ..Limits::default() });
        // serde_json alone stops at 128 levels; the default limit is 128 and is met exactly.
        assert!(load(&nested(128), 128).is_ok());
        assert_eq!(error_at(&nested(129), 128), "1:129: nesting deeper than 128 levels");
        assert_eq!(error_at(&nested(100_000), 128), "1:129: nesting deeper than 128 levels");
        // A deep configured limit grows the stack rather than overflowing it.
        let deep = nested(20_000);
        let value = load(&deep, 100_000).expect("within the limit");
        // Dropping is recursive: unwind it level by level here, not in the test's small stack.
        let mut value = Some(value);
        while let Some(Value::Array(items)) = value.take() {
            value = Arc::try_unwrap(items).ok().and_then(|mut v| v.pop());
        }
    }

    #[test]
    fn numbers_read_as_before() {
        let v =
            from_str("[0, -0, -0.0, -0e3, 9223372036854775807, 9223372036854775808, -9223372036854775808, 1.5, 1e2]")
                .expect("valid");
        let got: Vec<String> = v.as_array().unwrap().iter().map(|x| format!("{x:?}")).collect();
        assert_eq!(
            got,
            [
                "Int(0)",
                "Int(0)",
                "Float(-0.0)",
                "Float(-0.0)",
                "Int(9223372036854775807)",
                "Float(9.223372036854776e18)",
                "Int(-9223372036854775808)",
                "Float(1.5)",
                "Float(100.0)"
            ]
        );
        // The last digit of a 17-digit decimal is honoured (serde_json's default float parsing is 1 ulp off).
        assert_eq!(
            from_str("2.2250738585072011e-308").ok(),
            Some(Value::Float("2.2250738585072011e-308".parse().unwrap_or_default()))
        );
        assert_eq!(from_str("0.30000000000000004").ok(), Some(Value::Float(0.1 + 0.2)));
    }
}
