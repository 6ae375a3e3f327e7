//! The data model policies see: JSON-like values, cheap to clone and to share across threads.
//!
//! Strings, arrays and objects sit behind `Arc`, so cloning a value is a reference-count bump and a loaded
//! document can be read by several evaluations at once. Objects keep their keys in source order.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use indexmap::IndexMap;

/// An object: keys in insertion (source) order.
pub type Map = IndexMap<Arc<str>, Value, KeyHasher>;

/// The hasher of object keys: seeded at random once per process, so that the hash of a key a policy reads
/// can be computed when the policy is compiled and reused for every document (hostile inputs still cannot
/// predict it across runs).
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyHasher;

static KEY_STATE: std::sync::LazyLock<foldhash::fast::SeedableRandomState> =
    std::sync::LazyLock::new(foldhash::fast::SeedableRandomState::random);

impl std::hash::BuildHasher for KeyHasher {
    type Hasher = foldhash::fast::FoldHasher<'static>;

    fn build_hasher(&self) -> Self::Hasher {
        KEY_STATE.build_hasher()
    }
}

/// The hash an object uses for `key`.
pub fn key_hash(key: &str) -> u64 {
    KeyHasher.hash_one(key)
}

/// The longest string a policy may build (`+`, `join`, `replace`, `to_string`, messages, ...): as long as the
/// largest text input, so a policy that doubles a string in a loop gets an error, not the machine's memory.
pub const MAX_BUILT_STRING: usize = 32 << 20;

/// Bytes of a string that cost one evaluation step when scanned or built.
pub(crate) const BYTES_PER_STEP: usize = 16;

/// A JSON-like value.
///
/// ```
/// use vigil::Value;
/// let v = Value::from_json(r#"{"license": "mit", "tags": ["a", "b"]}"#).unwrap();
/// assert_eq!(v.get("license"), Some(&Value::from("mit")));
/// assert_eq!(v.get("tags").and_then(|t| t.as_array()).map(|a| a.len()), Some(2));
/// ```
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// `null`, or an empty YAML value.
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A whole number that fits in 64 bits.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// UTF-8 text.
    String(Arc<str>),
    /// An ordered list.
    Array(Arc<Vec<Value>>),
    /// Keys to values, in source order.
    Object(Arc<Map>),
}

/// The type of a value, as policies and messages name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueType {
    /// `null`
    Null,
    /// `true` / `false`
    Boolean,
    /// integers and floats
    Number,
    /// text
    String,
    /// lists
    Array,
    /// maps
    Object,
}

impl ValueType {
    /// The lowercase name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Null => "null",
            ValueType::Boolean => "boolean",
            ValueType::Number => "number",
            ValueType::String => "string",
            ValueType::Array => "array",
            ValueType::Object => "object",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Value {
    /// Parses JSON text (no source positions; use [`crate::Document`] for located inputs), by the loader's
    /// rules: strict RFC 8259, no duplicate keys, nesting within the default [`crate::Limits`].
    pub fn from_json(text: &str) -> Result<Value, serde_json::Error> {
        crate::input::json_from_str(text)
    }

    /// The value's type.
    pub fn type_of(&self) -> ValueType {
        match self {
            Value::Null => ValueType::Null,
            Value::Bool(_) => ValueType::Boolean,
            Value::Int(_) | Value::Float(_) => ValueType::Number,
            Value::String(_) => ValueType::String,
            Value::Array(_) => ValueType::Array,
            Value::Object(_) => ValueType::Object,
        }
    }

    /// A new empty object.
    pub fn object() -> Value {
        Value::Object(Arc::new(Map::default()))
    }

    /// Builds an object from key/value pairs.
    pub fn object_from<K: Into<Arc<str>>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(Arc::new(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect()))
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(map) => map.get(key),
            _ => None,
        }
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as a float, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The number as an integer, if it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            _ => None,
        }
    }

    /// The elements of an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The members of an object.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this is a NaN float.
    pub(crate) fn is_nan(&self) -> bool {
        matches!(self, Value::Float(x) if x.is_nan())
    }

    /// Compact JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// [`Display`](fmt::Display) text (strings bare, anything else JSON), or `None` when it would be longer
    /// than `max` bytes. Stops writing at `max`: a value built from shared parts can be far larger written
    /// out than held in memory.
    pub(crate) fn to_string_within(&self, max: usize) -> Option<String> {
        if let Value::String(s) = self {
            return (s.len() <= max).then(|| s.to_string());
        }
        struct Capped(Vec<u8>, usize);
        impl std::io::Write for Capped {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.0.len() + buf.len() > self.1 {
                    return Err(std::io::ErrorKind::OutOfMemory.into());
                }
                self.0.extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut out = Capped(Vec::new(), max);
        serde_json::to_writer(&mut out, self).ok()?;
        String::from_utf8(out.0).ok()
    }

    /// The evaluation steps a shallow look at this value costs: one per element or member, one per
    /// [`BYTES_PER_STEP`] bytes of a string.
    pub(crate) fn weight(&self) -> u64 {
        match self {
            Value::Array(items) => items.len() as u64,
            Value::Object(map) => map.len() as u64,
            Value::String(s) => (s.len() / BYTES_PER_STEP) as u64,
            _ => 0,
        }
    }

    /// The steps a walk over the whole value costs (one per node, plus string bytes as in
    /// [`Value::weight`]); counting stops, and the walk with it, once the count passes `limit`.
    pub(crate) fn size_within(&self, limit: u64) -> u64 {
        let mut count = 0;
        self.add_size(&mut count, limit);
        count
    }

    fn add_size(&self, count: &mut u64, limit: u64) {
        *count += 1;
        match self {
            Value::String(s) => *count += (s.len() / BYTES_PER_STEP) as u64,
            Value::Array(items) => {
                for item in items.iter() {
                    if *count > limit {
                        return;
                    }
                    item.add_size(count, limit);
                }
            }
            Value::Object(map) => {
                for (key, value) in map.iter() {
                    if *count > limit {
                        return;
                    }
                    *count += (key.len() / BYTES_PER_STEP) as u64;
                    value.add_size(count, limit);
                }
            }
            _ => {}
        }
    }

    /// Total order used by sorting builtins: null < booleans < numbers < strings < arrays < objects.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        use Value::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            // Exact, like equality; NaN after every other number.
            (Int(_) | Float(_), Int(_) | Float(_)) => match compare_numbers(self, other) {
                Some(order) => order,
                None => self.is_nan().cmp(&other.is_nan()),
            },
            (String(a), String(b)) => a.cmp(b),
            (Array(a), Array(b)) => {
                for (x, y) in a.iter().zip(b.iter()) {
                    let c = x.total_cmp(y);
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Object(a), Object(b)) => {
                let mut ak: Vec<_> = a.iter().collect();
                let mut bk: Vec<_> = b.iter().collect();
                ak.sort_by(|x, y| x.0.cmp(y.0));
                bk.sort_by(|x, y| x.0.cmp(y.0));
                for ((k1, v1), (k2, v2)) in ak.iter().zip(bk.iter()) {
                    let c = k1.cmp(k2).then_with(|| v1.total_cmp(v2));
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                ak.len().cmp(&bk.len())
            }
            _ => self.type_of().cmp(&other.type_of()),
        }
    }
}

impl PartialEq for Value {
    /// Structural equality; `1 == 1.0`; object key order does not matter. Numbers are equal when they are the
    /// same number exactly (`2^53 + 1` is not `2^53` as a float), `-0.0 == 0.0`, and NaN equals NaN, so that
    /// equality is an equivalence and agrees with [`Hash`]: a hash lookup answers like a linear search.
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Int(a), Float(b)) | (Float(b), Int(a)) => compare_int_float(*a, *b) == Some(Ordering::Equal),
            (Float(a), Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (String(a), String(b)) => a == b,
            (Array(a), Array(b)) => Arc::ptr_eq(a, b) || a == b,
            (Object(a), Object(b)) => {
                Arc::ptr_eq(a, b) || (a.len() == b.len() && a.iter().all(|(k, v)| b.get(k) == Some(v)))
            }
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Value::Null => 0u8.hash(state),
            Value::Bool(b) => b.hash(state),
            // Equal numbers hash alike whether stored as integer or float: a whole float in the range of
            // `i64` (-0.0 included) hashes as that integer, every NaN alike, any other float by its bits.
            Value::Int(i) => i.hash(state),
            Value::Float(x) => match float_as_int(*x) {
                Some(i) => i.hash(state),
                None if x.is_nan() => f64::NAN.to_bits().hash(state),
                None => x.to_bits().hash(state),
            },
            Value::String(s) => s.hash(state),
            Value::Array(items) => items.iter().for_each(|v| v.hash(state)),
            // Order-independent, like equality.
            Value::Object(map) => {
                let mut sum = 0u64;
                for (k, v) in map.iter() {
                    let mut h = foldhash::fast::FixedState::default().build_hasher();
                    k.hash(&mut h);
                    v.hash(&mut h);
                    sum = sum.wrapping_add(h.finish());
                }
                sum.hash(state);
            }
        }
    }
}

use std::hash::BuildHasher;

/// 2^63 as a float: the first float above every `i64`.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// The integer equal to `x`, if `x` is a whole number in the range of `i64`.
fn float_as_int(x: f64) -> Option<i64> {
    // The cast is exact: a whole float below 2^63 in magnitude is an `i64`.
    (x.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&x)).then_some(x as i64)
}

/// Orders an integer and a float exactly, without rounding the integer to a float (`2^53 + 1 > 2^53`).
/// `None` when `x` is NaN.
fn compare_int_float(i: i64, x: f64) -> Option<Ordering> {
    if x.is_nan() {
        return None;
    }
    if x >= TWO_POW_63 {
        return Some(Ordering::Less);
    }
    if x < -TWO_POW_63 {
        return Some(Ordering::Greater);
    }
    let whole = x.trunc();
    Some(i.cmp(&(whole as i64)).then_with(|| 0.0.partial_cmp(&(x - whole)).unwrap_or(Ordering::Equal)))
}

/// Orders two numbers exactly; `None` if either is not a number or is NaN.
pub(crate) fn compare_numbers(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Float(y)) => compare_int_float(*x, *y),
        (Value::Float(x), Value::Int(y)) => compare_int_float(*y, *x).map(Ordering::reverse),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        _ => None,
    }
}

impl fmt::Display for Value {
    /// Strings print bare (for messages); everything else prints as compact JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => f.write_str(s),
            other => f.write_str(&other.to_json()),
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(x) if x.is_finite() => s.serialize_f64(*x),
            // JSON has no NaN or infinity; say what it was rather than emit `null`.
            Value::Float(x) => s.serialize_str(&x.to_string()),
            Value::String(t) => s.serialize_str(t),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(map) => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for (k, v) in map.iter() {
                    m.serialize_entry(&**k, v)?;
                }
                m.end()
            }
        }
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::String(s.into()),
            serde_json::Value::Array(items) => Value::Array(Arc::new(items.into_iter().map(Value::from).collect())),
            serde_json::Value::Object(map) => {
                Value::Object(Arc::new(map.into_iter().map(|(k, v)| (Arc::from(k), Value::from(v))).collect()))
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s.into())
    }
}

impl From<Arc<str>> for Value {
    fn from(s: Arc<str>) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Float(x)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(items))
    }
}

impl FromIterator<Value> for Value {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Value {
        Value::Array(Arc::new(iter.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_across_representations() {
        assert_eq!(Value::Int(2), Value::Float(2.0));
        assert_ne!(Value::Int(2), Value::Float(2.5));
        let h = |v: &Value| foldhash::fast::FixedState::default().hash_one(v);
        assert_eq!(h(&Value::Int(2)), h(&Value::Float(2.0)));
    }

    fn hash(v: &Value) -> u64 {
        foldhash::fast::FixedState::default().hash_one(v)
    }

    /// Numbers near the places where integers and floats part ways: 2^53, 2^63, zero, NaN.
    fn number() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let edges = prop_oneof![
            Just(0i64),
            Just(1i64 << 53),
            Just(i64::MAX),
            Just(i64::MIN),
            Just(-(1i64 << 53)),
            Just(1i64 << 62)
        ];
        let near = (edges, -3i64..=3).prop_map(|(e, d)| e.saturating_add(d));
        let int = prop_oneof![near.clone(), any::<i64>()].prop_map(Value::Int);
        let float = prop_oneof![
            near.prop_map(|i| i as f64),
            any::<f64>(),
            Just(-0.0),
            Just(f64::NAN),
            Just(9_223_372_036_854_775_808.0),
            Just(f64::INFINITY),
            (-1e6f64..1e6).prop_map(f64::trunc),
        ]
        .prop_map(Value::Float);
        prop_oneof![int, float]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        /// Equal values hash alike, so a hash-set `in` answers like the linear one.
        #[test]
        fn equal_numbers_hash_alike(a in number(), b in number()) {
            if a == b {
                proptest::prop_assert_eq!(hash(&a), hash(&b), "{:?} == {:?}", a, b);
            }
            let set: std::collections::HashSet<Value> = [a.clone()].into_iter().collect();
            proptest::prop_assert_eq!(set.contains(&b), [a.clone()].contains(&b), "{:?} in [{:?}]", b, a);
        }

        /// Equality is an equivalence (reflexive, symmetric, transitive) and matches the total order.
        #[test]
        fn equality_is_an_equivalence(a in number(), b in number(), c in number()) {
            proptest::prop_assert!(a == a.clone());
            proptest::prop_assert_eq!(a == b, b == a);
            if a == b && b == c {
                proptest::prop_assert!(a == c, "{:?} == {:?} == {:?}", a, b, c);
            }
            proptest::prop_assert_eq!(a == b, a.total_cmp(&b) == Ordering::Equal, "{:?} vs {:?}", a, b);
            proptest::prop_assert_eq!(a.total_cmp(&b), b.total_cmp(&a).reverse());
        }
    }

    #[test]
    fn large_whole_numbers_are_exact() {
        let two53 = 1i64 << 53;
        assert_ne!(Value::Int(two53 + 1), Value::Float(two53 as f64));
        assert_eq!(Value::Int(two53), Value::Float(two53 as f64));
        assert_eq!(hash(&Value::Int(two53)), hash(&Value::Float(two53 as f64)));
        assert_eq!(hash(&Value::Int(1 << 60)), hash(&Value::Float((1i64 << 60) as f64)));
        assert_ne!(Value::Int(i64::MAX), Value::Float(9_223_372_036_854_775_808.0));
        assert_eq!(Value::Float(-0.0), Value::Int(0));
        assert_eq!(hash(&Value::Float(-0.0)), hash(&Value::Float(0.0)));
        assert_eq!(Value::Float(f64::NAN), Value::Float(f64::NAN));
        assert_eq!(compare_numbers(&Value::Int(two53 + 1), &Value::Float(two53 as f64)), Some(Ordering::Greater));
        assert_eq!(compare_numbers(&Value::Int(-3), &Value::Float(-2.5)), Some(Ordering::Less));
        assert_eq!(compare_numbers(&Value::Float(f64::NAN), &Value::Int(1)), None);
    }

    #[test]
    fn walks_over_values_built_from_shared_parts_stop_early() {
        // 2^60 leaves in memory as 60 small arrays: every walk must stop long before the end.
        let mut v = Value::from("leaf");
        for _ in 0..60 {
            v = Value::from(vec![v.clone(), v]);
        }
        assert_eq!(v.to_string_within(1000), None);
        assert!(v.size_within(1000) <= 1002, "{}", v.size_within(1000));
        assert_eq!(Value::from(vec![Value::from("ab")]).to_string_within(6).as_deref(), Some(r#"["ab"]"#));
        assert_eq!(Value::from(vec![Value::from("ab")]).to_string_within(5), None);
        assert_eq!(Value::from("x".repeat(64)).weight(), 4);
    }

    #[test]
    fn objects_compare_without_key_order() {
        let a = Value::from_json(r#"{"a":1,"b":[true,null]}"#).unwrap();
        let b = Value::from_json(r#"{"b":[true,null],"a":1}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_json(), r#"{"a":1,"b":[true,null]}"#);
    }

    #[test]
    fn total_order_ranks_types_then_contents() {
        let mut vs = vec![Value::from("b"), Value::Int(3), Value::Null, Value::from("a"), Value::Float(1.5)];
        vs.sort_by(Value::total_cmp);
        assert_eq!(vs, vec![Value::Null, Value::Float(1.5), Value::Int(3), Value::from("a"), Value::from("b")]);
    }

    #[test]
    fn display_is_bare_for_strings_and_json_otherwise() {
        assert_eq!(Value::from("x y").to_string(), "x y");
        assert_eq!(Value::from(vec![Value::from("x")]).to_string(), r#"["x"]"#);
        assert_eq!(Value::Float(0.5).to_string(), "0.5");
    }
}
