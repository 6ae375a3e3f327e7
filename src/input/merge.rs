//! YAML merge keys (`<<`), as PyYAML reads them: the value is a mapping (`<<: *base`, `<<: {a: 1}`) or a list
//! of mappings (`<<: [*a, {b: 1}]`); explicit keys win over merged ones, earlier mappings over later ones.
//! The loader ([`super::yaml`]) merges; this module works out what is merged and where each merged entry is
//! located, so that the spans it records stay in step with the locator's walk ([`super::locate`]).

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use super::locate::{NodeSpan, container, walk_len};
use super::yaml::Origin;
use crate::source::Span;
use crate::value::Value;

/// A document's anchors: name → (value, logical node count, spans recorded before it was finished).
pub(super) type Anchors = HashMap<String, (Value, usize, usize), foldhash::fast::RandomState>;

/// The `<<` merge key of the current mapping: where its value's spans begin, and the mappings to merge in.
#[derive(Default)]
pub(super) struct Merge {
    pub spans_from: usize,
    pub sources: Vec<MergeSource>,
    pub span: Span,
    /// Logical nodes the merged mappings hold, counted against the alias limit like the mapping's own.
    pub nodes: usize,
}

/// A mapping to merge in. An alias (`<<: *base`) was located where its anchor is, so each merged entry takes
/// one span (the merge key); an inline mapping (`<<: {a: 1}`) brings the spans recorded for its entries.
pub(super) struct MergeSource {
    pub map: Value,
    /// The spans of each entry's subtree, in the mapping's order; empty for an alias.
    pub entries: Vec<Vec<NodeSpan>>,
}

/// The mappings a `<<` value merges in, with the spans recorded for the entries of inline ones; `None` when
/// the value is neither a mapping nor a list of mappings. `recorded` are the value's spans, from its own.
pub(super) fn merge_sources<S: BuildHasher>(
    value: &Value,
    origin: Origin,
    recorded: &[NodeSpan],
    anchors: &HashMap<String, (Value, usize, usize), S>,
    spans_from: usize,
) -> Option<Vec<MergeSource>> {
    // Collections anchored before the merge value began are located there: an alias to one inside the
    // merge value took a single span, as the locator will take.
    let mut seen: HashSet<usize> =
        anchors.values().filter(|(_, _, at)| *at <= spans_from).filter_map(|(v, _, _)| container(v)).collect();
    match (value, origin) {
        (Value::Object(_), Origin::Alias) => Some(vec![MergeSource { map: value.clone(), entries: Vec::new() }]),
        (Value::Object(_), Origin::Node) => Some(vec![inline(value, recorded, &mut seen).0]),
        (Value::Array(items), Origin::Node) => {
            let mut at = 1;
            let mut sources = Vec::with_capacity(items.len());
            for item in items.iter() {
                if !matches!(item, Value::Object(_)) {
                    return None;
                }
                let (source, taken) = inline(item, recorded.get(at..).unwrap_or_default(), &mut seen);
                sources.push(source);
                at += taken;
            }
            Some(sources)
        }
        _ => None,
    }
}

/// A mapping of a merge value and the spans of each of its entries, cut from `spans` (which start at the
/// mapping's own); an alias to a mapping walked already takes one span and brings none.
fn inline(map: &Value, spans: &[NodeSpan], seen: &mut HashSet<usize>) -> (MergeSource, usize) {
    let alias = MergeSource { map: map.clone(), entries: Vec::new() };
    let (Value::Object(entries), Some(c)) = (map, container(map)) else { return (alias, 1) };
    if !seen.insert(c) {
        return (alias, 1);
    }
    let mut at = 1;
    let mut split = Vec::with_capacity(entries.len());
    for v in entries.values() {
        let n = walk_len(v, seen);
        split.push(spans.get(at..at + n).map(<[NodeSpan]>::to_vec).unwrap_or_default());
        at += n;
    }
    (MergeSource { map: map.clone(), entries: split }, at)
}
