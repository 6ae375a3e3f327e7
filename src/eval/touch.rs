//! Reading ahead: the first levels of a document, and the elements of an array a loop is about to visit, are
//! read in one tight pass before the rules walk them.
//!
//! A card evaluated after many others is no longer in cache, and every node is its own allocation (an
//! object's map, its entries, each key and string), so the rules' walk waits for memory at each step, one miss
//! after another: the member it reads next is known only when the rule gets there. The loads here do not
//! depend on each other's results (only on the node above), so the processor keeps many of them in flight at
//! once, and the walk that follows finds the nodes in cache. On the model-card workload this took a
//! pre-parsed card from 1.22× to 0.77× the hand-written floor's time with only the two interleaved (1.00–1.24×
//! with regorus too), for about 1,900 more instructions per card (docs/performance.md, "Third pass").
//!
//! It only reads, and a bounded amount: the first [`WIDE`] members or items of each node it looks into, two
//! levels down, so a huge array costs no more than a small one here (the loop itself pays for its size).

use crate::value::Value;

/// Members or items looked at per node.
const WIDE: usize = 32;

/// The root's members, each one's members or items, and their headers.
pub(super) fn document(root: &Value) {
    let mut sum = 0usize;
    if let Value::Object(map) = root {
        for (key, value) in map.iter().take(WIDE) {
            sum = sum.wrapping_add(text(key)).wrapping_add(children(value));
        }
    }
    std::hint::black_box(sum);
}

/// The elements of an array a loop is about to visit, and their members.
#[inline]
pub(super) fn items(items: &[Value]) {
    let mut sum = 0usize;
    for item in items.iter().take(WIDE) {
        sum = sum.wrapping_add(children(item));
    }
    std::hint::black_box(sum);
}

/// `v`'s header and its members' (keys and values) or items' headers.
fn children(v: &Value) -> usize {
    match v {
        Value::Object(map) => map
            .iter()
            .take(WIDE)
            .fold(map.len(), |sum, (key, value)| sum.wrapping_add(text(key)).wrapping_add(header(value))),
        Value::Array(items) => items.iter().take(WIDE).fold(items.len(), |sum, item| sum.wrapping_add(header(item))),
        other => header(other),
    }
}

/// A read of the memory `v` points to: a string's first byte, an array's or object's length.
#[inline(always)]
fn header(v: &Value) -> usize {
    match v {
        Value::String(s) => text(s),
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        _ => 0,
    }
}

#[inline(always)]
fn text(s: &str) -> usize {
    s.as_bytes().first().map_or(0, |b| usize::from(*b))
}
