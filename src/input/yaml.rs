//! YAML → [`Value`] trees with source spans, built from libyaml's event stream (via `libyaml-safer`).
//!
//! libyaml is the reference parser that PyYAML, Ruby and Go's yaml (and so kubectl, Argo, Kubeflow) follow,
//! so Vigil accepts what the tools that consume these files accept. Scalars resolve with the YAML 1.2 core
//! schema (`on`/`yes` stay strings). The builder is iterative, so nesting depth is bounded by
//! [`Limits::max_depth`] and never by the stack. Aliases share the anchored value (an `Arc` clone) but their
//! logical size is counted, so an alias bomb is refused long before it can make evaluation expensive.
//!
//! Speed (docs/performance.md, "YAML loading"): libyaml-safer's state machine is most of the time; the
//! builder adds little to it because each collection is allocated once at its final size (children wait in
//! shared stacks), small mappings find duplicate keys by comparing keys rather than by hashing them twice,
//! and a plain scalar is resolved without allocating, so its text is copied once, into its `Value`.

use std::sync::Arc;

use indexmap::map::Entry;
use libyaml_safer::{EventData, Mark, Parser, ScalarStyle};

use super::locate::{NodeSpan, Tree};
use super::merge::{Anchors, Merge, merge_sources};
pub(crate) use super::yaml_scalar::resolve_plain;
use super::yaml_scalar::{check_container_tag, scalar};
use super::{Limits, LoadError};
use crate::source::{Source, Span};
use crate::value::{KeyHasher, Map, Value};

/// Mappings up to this many entries check for duplicate keys by comparing the keys, and are hashed once, at
/// their exact size, when they close; larger ones move into an `IndexMap` (profiled: growing and rehashing
/// small maps entry by entry was the largest cost of the loader outside the parser).
const SMALL_MAP: usize = 12;

/// Parses every document of a YAML stream; `text` starts at byte `base` of `src` (front matter sits inside Markdown).
pub(crate) fn parse_stream(src: &Source, text: &str, base: usize, limits: &Limits) -> Result<Vec<Tree>, LoadError> {
    // libyaml-safer 0.3 panics on a block scalar that ends the input without a line break (`key: |\n  text`
    // at end of file); a trailing newline moves no span (it only gives such a scalar its final line break).
    // Any other panic in the parser is caught below and reported as an error, never a crash.
    let owned;
    let text = if text.ends_with('\n') || text.is_empty() {
        text
    } else {
        owned = format!("{text}\n");
        owned.as_str()
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| events(src, text, base, limits))).unwrap_or_else(|_| {
        Err(LoadError::syntax(
            src,
            Span::new(base, base),
            "invalid YAML: the parser failed on this input (please report it)",
        ))
    })
}

fn events(src: &Source, text: &str, base: usize, limits: &Limits) -> Result<Vec<Tree>, LoadError> {
    let mut builder = Builder {
        src,
        base,
        limits,
        len: text.len(),
        docs: Vec::new(),
        in_doc: false,
        stack: Vec::new(),
        spans: Vec::new(),
        anchors: Anchors::default(),
        expanded: 0,
        root: None,
        items: Vec::new(),
        entries: Vec::new(),
    };
    let mut bytes = text.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut bytes);
    loop {
        let event = parser.parse().map_err(|e| {
            let at = builder.offset(e.problem_mark().unwrap_or_default());
            let what = match e.context() {
                Some(context) => format!("{} {context}", e.problem()),
                None => e.problem().to_string(),
            };
            LoadError::syntax(src, Span::new(at, at), format!("invalid YAML: {what}"))
        })?;
        let span = Span::new(builder.offset(event.start_mark), builder.offset(event.end_mark));
        if matches!(event.data, EventData::StreamEnd) {
            return Ok(builder.docs);
        }
        builder.event(event.data, span)?;
    }
}

/// Builds the documents of one stream. The buffers live as long as the stream, so a multi-document file
/// reuses them, and the open collections' children wait in two shared stacks (`items`, `entries`) rather
/// than in a growing `Vec` or map per collection: each collection is allocated once, at its final size.
struct Builder<'a> {
    src: &'a Source,
    base: usize,
    limits: &'a Limits,
    /// Bytes in the stream, to size the span list of a document.
    len: usize,
    docs: Vec<Tree>,
    in_doc: bool,
    stack: Vec<Frame>,
    /// One entry per node of the current document, in pre-order (see [`super::locate`]).
    spans: Vec<NodeSpan>,
    /// Anchored values of the current document, with their logical node counts and the spans recorded before.
    anchors: Anchors,
    /// Logical nodes added by alias expansion so far in the current document.
    expanded: usize,
    root: Option<Value>,
    /// Items of the open sequences, innermost last; a sequence's start at `Frame::Seq::from`.
    items: Vec<Value>,
    /// Entries of the open small mappings, innermost last; a mapping's start at `Frame::Map::from`.
    entries: Vec<(Arc<str>, Value)>,
}

enum Frame {
    Seq {
        from: usize,
        slot: usize,
        anchor: Option<String>,
        nodes: usize,
        is_key: bool,
    },
    Map {
        from: usize,
        /// The entries once there are more than [`SMALL_MAP`] of them.
        large: Option<Map>,
        slot: usize,
        anchor: Option<String>,
        nodes: usize,
        key: Option<Key>,
        merge: Option<Merge>,
        is_key: bool,
    },
}

/// A mapping key: its text, its span, and whether it is a merge key (a plain, untagged `<<`; a quoted
/// `"<<"` is an ordinary key, as in PyYAML).
struct Key {
    text: Arc<str>,
    span: Span,
    merge: bool,
}

/// How a finished node came to be: merge sources that are aliases carry no spans of their own.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Origin {
    Alias,
    Node,
}

impl Builder<'_> {
    fn offset(&self, mark: Mark) -> usize {
        self.base + usize::try_from(mark.index).unwrap_or(usize::MAX - self.base)
    }

    fn error(&self, span: Span, message: impl Into<String>) -> LoadError {
        LoadError::syntax(self.src, span, message)
    }

    fn in_doc(&self, span: Span) -> Result<(), LoadError> {
        if self.in_doc { Ok(()) } else { Err(self.error(span, "content outside a YAML document")) }
    }

    /// Whether the innermost open collection is a mapping that awaits a key.
    fn awaits_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn event(&mut self, event: EventData, span: Span) -> Result<(), LoadError> {
        match event {
            EventData::DocumentStart { .. } => {
                self.in_doc = true;
                self.stack.clear();
                self.items.clear();
                self.entries.clear();
                self.anchors.clear();
                self.expanded = 0;
                self.root = None;
                // About one node per 16 bytes of block YAML; capped, so a huge scalar reserves nothing big.
                let rest = self.len.saturating_sub((span.start as usize).saturating_sub(self.base));
                self.spans = Vec::with_capacity((rest / 16).min(4096));
            }
            EventData::DocumentEnd { .. } => {
                if self.in_doc {
                    self.in_doc = false;
                    let spans = std::mem::take(&mut self.spans);
                    self.docs.push(Tree { value: self.root.take().unwrap_or(Value::Null), spans });
                    if self.docs.len() > self.limits.max_documents {
                        let max = self.limits.max_documents;
                        return Err(self.error(span, format!("more than {max} YAML documents in one file")));
                    }
                }
            }
            EventData::Scalar { anchor, tag, value, style, .. } => {
                self.in_doc(span)?;
                let plain = matches!(style, ScalarStyle::Plain);
                let merge_key =
                    value == "<<" && ((plain && tag.is_none()) || tag.as_deref() == Some("tag:yaml.org,2002:merge"));
                let value =
                    if merge_key { Value::from("<<") } else { scalar(self.src, value, style, tag.as_deref(), span)? };
                if self.awaits_key() {
                    self.take_key(value, span, merge_key)?;
                } else {
                    self.record(span);
                    self.finish(value, 1, anchor, span, Origin::Node)?;
                }
            }
            EventData::Alias { anchor } => {
                self.in_doc(span)?;
                let max = self.limits.max_alias_nodes;
                let Some((value, nodes, _)) = self.anchors.get(&anchor).cloned() else {
                    return Err(self.error(span, format!("alias `*{anchor}` to an unknown anchor")));
                };
                self.expanded = self.expanded.saturating_add(nodes);
                if self.expanded > max {
                    return Err(self.error(span, format!("YAML aliases expand to more than {max} nodes (alias bomb?)")));
                }
                if self.awaits_key() {
                    self.take_key(value, span, false)?;
                } else {
                    self.record(span);
                    self.finish(value, nodes, None, span, Origin::Alias)?;
                }
            }
            EventData::SequenceStart { anchor, tag, .. } => {
                self.in_doc(span)?;
                check_container_tag(self.src, tag.as_deref(), "seq", span)?;
                let is_key = self.awaits_key();
                let slot = self.record(span);
                let from = self.items.len();
                self.push(Frame::Seq { from, slot, anchor, nodes: 1, is_key }, span)?;
            }
            EventData::MappingStart { anchor, tag, .. } => {
                self.in_doc(span)?;
                check_container_tag(self.src, tag.as_deref(), "map", span)?;
                let is_key = self.awaits_key();
                let slot = self.record(span);
                let from = self.entries.len();
                let frame = Frame::Map { from, large: None, slot, anchor, nodes: 1, key: None, merge: None, is_key };
                self.push(frame, span)?;
            }
            EventData::SequenceEnd | EventData::MappingEnd => {
                self.in_doc(span)?;
                self.close(span)?;
            }
            EventData::StreamStart { .. } | EventData::StreamEnd => {}
        }
        Ok(())
    }

    /// `value` becomes the key the innermost mapping awaits.
    fn take_key(&mut self, value: Value, span: Span, is_merge: bool) -> Result<(), LoadError> {
        let spans_len = self.spans.len();
        let Some(Frame::Map { key, merge, .. }) = self.stack.last_mut() else { return Ok(()) };
        let text: Arc<str> = match value {
            Value::String(s) => s,
            Value::Null => "null".into(),
            // A collection as key (`{{ card_data }}` in a template): keep its text so the file still loads.
            other => other.to_json().into(),
        };
        if is_merge {
            // Loaders disagree on a second merge key (PyYAML merges both, others refuse): refused, like any
            // duplicate key, so that every reader of the file sees the same mapping.
            if merge.is_some() {
                return Err(LoadError::syntax(self.src, span, "duplicate key `<<`"));
            }
            *merge = Some(Merge { spans_from: spans_len, span, ..Merge::default() });
        }
        *key = Some(Key { text, span, merge: is_merge });
        Ok(())
    }

    /// Records the span of a node that starts here (pre-order) and returns its slot.
    fn record(&mut self, span: Span) -> usize {
        let key = match self.stack.last() {
            Some(Frame::Map { key: Some(key), .. }) => key.span,
            _ => Span::default(),
        };
        self.spans.push(NodeSpan { key, value: span });
        self.spans.len() - 1
    }

    fn push(&mut self, frame: Frame, span: Span) -> Result<(), LoadError> {
        let max = self.limits.max_depth;
        if self.stack.len() >= max {
            return Err(self.error(span, format!("nesting deeper than {max} levels")));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, span: Span) -> Result<(), LoadError> {
        let Some(frame) = self.stack.pop() else { return Err(self.error(span, "unbalanced YAML events")) };
        let (value, slot, anchor, nodes, is_key) = match frame {
            Frame::Seq { from, slot, anchor, nodes, is_key } => {
                let items: Vec<Value> = self.items.drain(from.min(self.items.len())..).collect();
                (Value::Array(Arc::new(items)), slot, anchor, nodes, is_key)
            }
            Frame::Map { from, large, slot, anchor, mut nodes, merge, is_key, .. } => {
                let mut map = large.unwrap_or_else(|| {
                    let entries = self.entries.drain(from.min(self.entries.len())..);
                    let mut map = Map::with_capacity_and_hasher(entries.len(), KeyHasher);
                    // The keys are distinct (checked as they came), so each is hashed once, with no growth.
                    map.extend(entries);
                    map
                });
                // Explicit keys win over merged ones, and earlier merge sources over later ones (PyYAML's
                // order). An entry merged from an alias is located at the merge key, its nodes where their
                // anchor is; one from an inline mapping keeps the spans recorded for it.
                if let Some(merge) = merge {
                    nodes = nodes.saturating_add(merge.nodes);
                    for source in &merge.sources {
                        let Value::Object(entries) = &source.map else { continue };
                        for (i, (k, v)) in entries.iter().enumerate() {
                            let Entry::Vacant(slot) = map.entry(k.clone()) else { continue };
                            slot.insert(v.clone());
                            match source.entries.get(i).filter(|spans| !spans.is_empty()) {
                                Some(spans) => self.spans.extend_from_slice(spans),
                                None => self.spans.push(NodeSpan { key: merge.span, value: merge.span }),
                            }
                        }
                    }
                }
                (Value::Object(Arc::new(map)), slot, anchor, nodes, is_key)
            }
        };
        let recorded = &mut self.spans[slot];
        recorded.value = recorded.value.join(span);
        let span = recorded.value;
        if is_key {
            // Keys are not nodes: forget the spans recorded for this one.
            self.spans.truncate(slot);
            return self.take_key(value, span, false);
        }
        self.finish(value, nodes, anchor, span, Origin::Node)
    }

    /// A finished node (scalar, alias or closed collection) is anchored if asked and goes into its parent.
    fn finish(
        &mut self,
        value: Value,
        nodes: usize,
        anchor: Option<String>,
        span: Span,
        origin: Origin,
    ) -> Result<(), LoadError> {
        let src = self.src;
        if let Some(anchor) = anchor {
            // Spans recorded so far: an anchor finished before a merge value began is located outside it.
            let recorded = self.spans.len();
            self.anchors.insert(anchor, (value.clone(), nodes, recorded));
        }
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { nodes: n, .. }) => {
                self.items.push(value);
                *n = n.saturating_add(nodes);
            }
            Some(Frame::Map { from, large, key, nodes: n, merge, .. }) => {
                let Some(Key { text: k, span: key_span, merge: is_merge }) = key.take() else {
                    return Err(LoadError::syntax(src, span, "mapping value without a key"));
                };
                if is_merge {
                    let merge = merge.get_or_insert_with(Merge::default);
                    // The merge value's own spans leave the pre-order list: it is not a node of this mapping.
                    let recorded = self.spans.split_off(merge.spans_from.min(self.spans.len()));
                    let Some(sources) = merge_sources(&value, origin, &recorded, &self.anchors, merge.spans_from)
                    else {
                        let message =
                            "`<<` merges a mapping or a list of mappings (`<<: *base`, `<<: [*a, *b]`, `<<: {a: 1}`)";
                        return Err(LoadError::syntax(src, span, message));
                    };
                    merge.sources.extend(sources);
                    merge.nodes = merge.nodes.saturating_add(nodes);
                    return Ok(());
                }
                let duplicate = |k: &str| LoadError::syntax(src, key_span, format!("duplicate key `{k}`"));
                match large {
                    Some(map) => match map.entry(k) {
                        Entry::Occupied(e) => return Err(duplicate(e.key())),
                        Entry::Vacant(slot) => {
                            slot.insert(value);
                        }
                    },
                    None => {
                        let open = self.entries.get(*from..).unwrap_or_default();
                        if open.iter().any(|(other, _)| **other == *k) {
                            return Err(duplicate(&k));
                        }
                        self.entries.push((k, value));
                        if self.entries.len() - *from > SMALL_MAP {
                            let mut map = Map::with_capacity_and_hasher(4 * SMALL_MAP, KeyHasher);
                            map.extend(self.entries.drain(*from..));
                            *large = Some(map);
                        }
                    }
                }
                *n = n.saturating_add(nodes);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;
