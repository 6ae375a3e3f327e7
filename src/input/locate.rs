//! Where a value came from: source spans and JSON pointers for nodes of a loaded document.
//!
//! Loaders record one [`NodeSpan`] per node, in pre-order, and nothing else: that costs a push per node and
//! keeps evaluation free of location bookkeeping. Only when a finding must be reported does the document
//! build a [`Locator`], which walks the tree once in the same order and indexes every node by its address.
//! Evaluation hands out references into the document, so a node's address identifies it.
//!
//! Aliased YAML containers are shared (`Arc`), so the walk descends into each shared container once —
//! exactly as the YAML loader recorded it — and later occurrences take the span of the alias.

use std::collections::{HashMap, HashSet};

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;
use std::sync::Arc;

use crate::source::Span;
use crate::value::Value;

/// The spans of one node: its key (for object members) and its value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NodeSpan {
    pub key: Span,
    pub value: Span,
}

/// A document's pre-order spans: recorded by its loader, or (JSON) scanned from its text when a location is
/// first needed.
#[derive(Debug)]
pub(crate) enum Spans {
    Eager(Vec<NodeSpan>),
    Scan,
}

/// A parsed tree and its pre-order spans.
#[derive(Debug)]
pub(crate) struct Tree {
    pub value: Value,
    pub spans: Vec<NodeSpan>,
}

/// Where a node is: its spans and its JSON pointer (RFC 6901) from the document root.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Location {
    /// Span of the value in the input file.
    pub span: Span,
    /// Span of the member's key, when the value is an object member.
    pub key_span: Option<Span>,
    /// JSON pointer, e.g. `/artifacts/0/format`.
    pub pointer: String,
}

impl Location {
    /// The span to point at: the value if it fits on one line, else its key, else its first line.
    pub fn label_span(&self, text: &str) -> Span {
        let value = text.get(self.span.range()).unwrap_or("");
        if !value.is_empty() && !value.contains('\n') {
            return self.span;
        }
        if let Some(key) = self.key_span.filter(|k| !k.is_empty()) {
            return key;
        }
        let line = value.split('\n').next().unwrap_or("").trim_end();
        Span::new(self.span.start as usize, self.span.start as usize + line.len())
    }
}

#[derive(Debug)]
enum Segment {
    Root,
    Index(usize),
    Key(Arc<str>),
}

#[derive(Debug)]
struct Entry {
    span: NodeSpan,
    parent: Option<u32>,
    segment: Segment,
}

/// An index from node addresses to locations, for one tree.
#[derive(Debug, Default)]
pub(crate) struct Locator {
    by_address: FastMap<usize, u32>,
    /// Arrays, objects and strings also by their shared contents: a policy that gathers containers into a new
    /// list (`[c for p in pods(input) for c in p.containers]`) holds copies of the handles, not the document's
    /// slots, and a finding at such a copy (or a member of it) must still point at the original.
    by_contents: FastMap<usize, u32>,
    entries: Vec<Entry>,
    /// A prefix for pointers (`/$doc` for the document's meta tree, `/items/3` for an item of a List).
    prefix: String,
}

fn address(value: &Value) -> usize {
    value as *const Value as usize
}

/// The address of an array's or object's shared contents, which copies of the value keep.
fn contents_address(value: &Value) -> Option<usize> {
    match value {
        Value::Array(items) if !items.is_empty() => Some(Arc::as_ptr(items) as usize),
        Value::Object(map) if !map.is_empty() => Some(Arc::as_ptr(map) as usize),
        Value::String(text) if !text.is_empty() => Some(Arc::as_ptr(text) as *const u8 as usize),
        _ => None,
    }
}

impl Locator {
    /// Walks `root` in the loader's pre-order, pairing nodes with `spans`.
    pub(crate) fn build(root: &Value, spans: &[NodeSpan], prefix: &str) -> Locator {
        let mut locator = Locator {
            prefix: prefix.to_string(),
            by_address: FastMap::with_capacity_and_hasher(spans.len(), Default::default()),
            by_contents: FastMap::default(),
            entries: Vec::with_capacity(spans.len()),
        };
        let mut seen = FastSet::default();
        let mut next_span = spans.iter().copied();
        // (node, parent entry, segment); children pushed in reverse so they pop in order.
        let mut stack: Vec<(&Value, Option<u32>, Segment)> = vec![(root, None, Segment::Root)];
        while let Some((node, parent, segment)) = stack.pop() {
            let span = next_span.next().unwrap_or_default();
            let id = locator.entries.len() as u32;
            locator.entries.push(Entry { span, parent, segment });
            locator.by_address.entry(address(node)).or_insert(id);
            let first_visit = match node {
                Value::Array(items) => seen.insert(Arc::as_ptr(items) as usize),
                Value::Object(map) => seen.insert(Arc::as_ptr(map) as usize),
                _ => false,
            };
            if let Some(contents) = contents_address(node) {
                locator.by_contents.entry(contents).or_insert(id);
            }
            if !first_visit {
                continue;
            }
            match node {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate().rev() {
                        stack.push((item, Some(id), Segment::Index(i)));
                    }
                }
                Value::Object(map) => {
                    for (k, v) in map.iter().rev() {
                        stack.push((v, Some(id), Segment::Key(k.clone())));
                    }
                }
                _ => {}
            }
        }
        locator
    }

    /// The location of `node`, if it belongs to this tree.
    pub(crate) fn locate(&self, node: &Value) -> Option<Location> {
        let id = match self.by_address.get(&address(node)) {
            Some(id) => *id,
            None => *self.by_contents.get(&contents_address(node)?)?,
        };
        let entry = &self.entries[id as usize];
        let key_span = (!entry.span.key.is_empty()).then_some(entry.span.key);
        Some(Location { span: entry.span.value, key_span, pointer: self.pointer(id) })
    }

    fn pointer(&self, mut id: u32) -> String {
        let mut segments = Vec::new();
        loop {
            let entry = &self.entries[id as usize];
            match &entry.segment {
                Segment::Root => break,
                Segment::Index(i) => segments.push(i.to_string()),
                Segment::Key(k) => segments.push(k.replace('~', "~0").replace('/', "~1")),
            }
            match entry.parent {
                Some(parent) => id = parent,
                None => break,
            }
        }
        let mut pointer = self.prefix.clone();
        for segment in segments.iter().rev() {
            pointer.push('/');
            pointer.push_str(segment);
        }
        pointer
    }
}

/// The address of a collection's shared contents, which the locator keys its "walked already" set on.
pub(crate) fn container(value: &Value) -> Option<usize> {
    match value {
        Value::Array(items) => Some(Arc::as_ptr(items) as usize),
        Value::Object(map) => Some(Arc::as_ptr(map) as usize),
        _ => None,
    }
}

/// How many spans the locator takes for `value` (see [`Locator::build`]): one per node, not descending
/// into a collection it has walked already.
pub(crate) fn walk_len(value: &Value, seen: &mut HashSet<usize>) -> usize {
    let Some(c) = container(value) else { return 1 };
    if !seen.insert(c) {
        return 1;
    }
    1 + match value {
        Value::Array(items) => items.iter().map(|v| walk_len(v, seen)).sum(),
        Value::Object(map) => map.values().map(|v| walk_len(v, seen)).sum(),
        _ => 0,
    }
}

/// Appends one segment to a JSON pointer.
pub(crate) fn push_pointer(pointer: &mut String, segment: &str) {
    pointer.push('/');
    pointer.push_str(&segment.replace('~', "~0").replace('/', "~1"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_and_nest() {
        let v = Value::from_json(r#"{"a/b": [{"c~d": 1}]}"#).unwrap();
        let spans: Vec<NodeSpan> =
            (0..4).map(|i| NodeSpan { key: Span::default(), value: Span::new(i, i + 1) }).collect();
        let loc = Locator::build(&v, &spans, "");
        let leaf = &v.get("a/b").unwrap().as_array().unwrap()[0].get("c~d").unwrap();
        let at = loc.locate(leaf).unwrap();
        assert_eq!(at.pointer, "/a~1b/0/c~0d");
        assert_eq!(at.span, Span::new(3, 4));
        assert_eq!(loc.locate(&v).unwrap().pointer, "");
        assert!(loc.locate(&Value::Null).is_none());
    }
}
