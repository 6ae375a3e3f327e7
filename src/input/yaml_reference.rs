//! The YAML loader as it was before it was tuned for speed (libyaml-safer events into `Value`s, one hash-map
//! insert and one allocation per node), kept verbatim for the tests only: the tuned loader must produce the
//! same values, spans and errors on every input (see `yaml::tests`).

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use libyaml_safer::{EventData, Mark, Parser, ScalarStyle};

use super::locate::{NodeSpan, Tree};
use super::merge::{Merge, merge_sources};
use super::yaml::Origin;
use super::{Limits, LoadError};
use crate::source::{Source, Span};
use crate::value::{Map, Value};

const CORE_TAG: &str = "tag:yaml.org,2002:";

/// Parses every document of a YAML stream; `text` starts at byte `base` of `src` (front matter sits inside Markdown).
pub(crate) fn parse_stream_reference(
    src: &Source,
    text: &str,
    base: usize,
    limits: &Limits,
) -> Result<Vec<Tree>, LoadError> {
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
    let mut builder = Builder { src, base, limits, docs: Vec::new(), state: None };
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

struct Builder<'a> {
    src: &'a Source,
    base: usize,
    limits: &'a Limits,
    docs: Vec<Tree>,
    state: Option<DocState>,
}

/// The document being built.
struct DocState {
    stack: Vec<Frame>,
    /// One entry per node, in pre-order (see [`super::locate`]).
    spans: Vec<NodeSpan>,
    /// Anchored values with their logical node counts and the index of their first recorded span.
    anchors: HashMap<String, (Value, usize, usize)>,
    /// Logical nodes added by alias expansion so far.
    expanded: usize,
    root: Option<Value>,
}

enum Frame {
    Seq {
        items: Vec<Value>,
        slot: usize,
        anchor: Option<String>,
        nodes: usize,
        is_key: bool,
    },
    Map {
        map: Map,
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

impl Builder<'_> {
    fn offset(&self, mark: Mark) -> usize {
        self.base + usize::try_from(mark.index).unwrap_or(usize::MAX - self.base)
    }

    fn error(&self, span: Span, message: impl Into<String>) -> LoadError {
        LoadError::syntax(self.src, span, message)
    }

    fn state(&mut self, span: Span) -> Result<&mut DocState, LoadError> {
        let src = self.src;
        self.state.as_mut().ok_or_else(|| LoadError::syntax(src, span, "content outside a YAML document"))
    }

    fn event(&mut self, event: EventData, span: Span) -> Result<(), LoadError> {
        match event {
            EventData::DocumentStart { .. } => {
                let state =
                    DocState { stack: Vec::new(), spans: Vec::new(), anchors: HashMap::new(), expanded: 0, root: None };
                self.state = Some(state);
            }
            EventData::DocumentEnd { .. } => {
                if let Some(state) = self.state.take() {
                    self.docs.push(Tree { value: state.root.unwrap_or(Value::Null), spans: state.spans });
                    if self.docs.len() > self.limits.max_documents {
                        let max = self.limits.max_documents;
                        return Err(self.error(span, format!("more than {max} YAML documents in one file")));
                    }
                }
            }
            EventData::Scalar { anchor, tag, value, style, .. } => {
                let merge_key = value == "<<"
                    && (matches!((style, tag.as_deref()), (ScalarStyle::Plain, None))
                        || tag.as_deref() == Some("tag:yaml.org,2002:merge"));
                let value =
                    if merge_key { Value::from("<<") } else { self.scalar(&value, style, tag.as_deref(), span)? };
                if !self.take_key(&value, span, merge_key)? {
                    self.record(span)?;
                    self.finish(value, 1, anchor, span, Origin::Node)?;
                }
            }
            EventData::Alias { anchor } => {
                let max = self.limits.max_alias_nodes;
                let state = self.state(span)?;
                let Some((value, nodes, _)) = state.anchors.get(&anchor).cloned() else {
                    return Err(self.error(span, format!("alias `*{anchor}` to an unknown anchor")));
                };
                state.expanded = state.expanded.saturating_add(nodes);
                if state.expanded > max {
                    return Err(self.error(span, format!("YAML aliases expand to more than {max} nodes (alias bomb?)")));
                }
                if !self.take_key(&value, span, false)? {
                    self.record(span)?;
                    self.finish(value, nodes, None, span, Origin::Alias)?;
                }
            }
            EventData::SequenceStart { anchor, tag, .. } => {
                self.check_container_tag(tag.as_deref(), "seq", span)?;
                let (slot, is_key) = self.open(span)?;
                self.push(Frame::Seq { items: Vec::new(), slot, anchor, nodes: 1, is_key }, span)?;
            }
            EventData::MappingStart { anchor, tag, .. } => {
                self.check_container_tag(tag.as_deref(), "map", span)?;
                let (slot, is_key) = self.open(span)?;
                let frame = Frame::Map { map: Map::default(), slot, anchor, nodes: 1, key: None, merge: None, is_key };
                self.push(frame, span)?;
            }
            EventData::SequenceEnd | EventData::MappingEnd => self.close(span)?,
            EventData::StreamStart { .. } | EventData::StreamEnd => {}
        }
        Ok(())
    }

    /// If the current mapping awaits a key, `value` becomes that key.
    fn take_key(&mut self, value: &Value, span: Span, is_merge: bool) -> Result<bool, LoadError> {
        let src = self.src;
        let state = self.state(span)?;
        let spans_len = state.spans.len();
        let Some(Frame::Map { key: key @ None, merge, .. }) = state.stack.last_mut() else { return Ok(false) };
        let text: Arc<str> = match value {
            Value::String(s) => s.clone(),
            Value::Null => "null".into(),
            // A collection as key (`{{ card_data }}` in a template): keep its text so the file still loads.
            other => other.to_json().into(),
        };
        if is_merge {
            // Loaders disagree on a second merge key (PyYAML merges both, others refuse): refused, like any
            // duplicate key, so that every reader of the file sees the same mapping.
            if merge.is_some() {
                return Err(LoadError::syntax(src, span, "duplicate key `<<`"));
            }
            *merge = Some(Merge { spans_from: spans_len, span, ..Merge::default() });
        }
        *key = Some(Key { text, span, merge: is_merge });
        Ok(true)
    }

    /// Records the span of a node that starts here (pre-order) and returns its slot.
    fn record(&mut self, span: Span) -> Result<usize, LoadError> {
        let state = self.state(span)?;
        let key = match state.stack.last() {
            Some(Frame::Map { key: Some(key), .. }) => key.span,
            _ => Span::default(),
        };
        state.spans.push(NodeSpan { key, value: span });
        Ok(state.spans.len() - 1)
    }

    /// Starts a collection; it is a key when its mapping awaits one.
    fn open(&mut self, span: Span) -> Result<(usize, bool), LoadError> {
        let is_key = matches!(self.state(span)?.stack.last(), Some(Frame::Map { key: None, .. }));
        Ok((self.record(span)?, is_key))
    }

    fn push(&mut self, frame: Frame, span: Span) -> Result<(), LoadError> {
        let max = self.limits.max_depth;
        let state = self.state(span)?;
        if state.stack.len() >= max {
            return Err(self.error(span, format!("nesting deeper than {max} levels")));
        }
        state.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, span: Span) -> Result<(), LoadError> {
        let state = self.state(span)?;
        let Some(frame) = state.stack.pop() else { return Err(self.error(span, "unbalanced YAML events")) };
        let (value, slot, anchor, nodes, origin, is_key) = match frame {
            Frame::Seq { items, slot, anchor, nodes, is_key } => {
                (Value::Array(Arc::new(items)), slot, anchor, nodes, Origin::Node, is_key)
            }
            Frame::Map { mut map, slot, anchor, mut nodes, merge, is_key, .. } => {
                // Explicit keys win over merged ones, and earlier merge sources over later ones (PyYAML's
                // order). An entry merged from an alias is located at the merge key, its nodes where their
                // anchor is; one from an inline mapping keeps the spans recorded for it.
                if let Some(merge) = merge {
                    nodes = nodes.saturating_add(merge.nodes);
                    for source in &merge.sources {
                        let Value::Object(entries) = &source.map else { continue };
                        for (i, (k, v)) in entries.iter().enumerate() {
                            if map.contains_key(k) {
                                continue;
                            }
                            map.insert(k.clone(), v.clone());
                            match source.entries.get(i).filter(|spans| !spans.is_empty()) {
                                Some(spans) => state.spans.extend_from_slice(spans),
                                None => state.spans.push(NodeSpan { key: merge.span, value: merge.span }),
                            }
                        }
                    }
                }
                (Value::Object(Arc::new(map)), slot, anchor, nodes, Origin::Node, is_key)
            }
        };
        let recorded = &mut state.spans[slot];
        recorded.value = recorded.value.join(span);
        let span = recorded.value;
        if is_key {
            // Keys are not nodes: forget the spans recorded for this one.
            state.spans.truncate(slot);
            self.take_key(&value, span, false)?;
            return Ok(());
        }
        self.finish(value, nodes, anchor, span, origin)
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
        let state = self.state(span)?;
        if let Some(anchor) = anchor {
            // Spans recorded so far: an anchor finished before a merge value began is located outside it.
            let recorded = state.spans.len();
            state.anchors.insert(anchor, (value.clone(), nodes, recorded));
        }
        match state.stack.last_mut() {
            None => state.root = Some(value),
            Some(Frame::Seq { items, nodes: n, .. }) => {
                items.push(value);
                *n = n.saturating_add(nodes);
            }
            Some(Frame::Map { map, key, nodes: n, merge, .. }) => {
                let Some(Key { text: k, span: key_span, merge: is_merge }) = key.take() else {
                    return Err(LoadError::syntax(src, span, "mapping value without a key"));
                };
                if is_merge {
                    let merge = merge.get_or_insert_with(Merge::default);
                    // The merge value's own spans leave the pre-order list: it is not a node of this mapping.
                    let recorded = state.spans.split_off(merge.spans_from.min(state.spans.len()));
                    let Some(sources) = merge_sources(&value, origin, &recorded, &state.anchors, merge.spans_from)
                    else {
                        let message =
                            "`<<` merges a mapping or a list of mappings (`<<: *base`, `<<: [*a, *b]`, `<<: {a: 1}`)";
                        return Err(LoadError::syntax(src, span, message));
                    };
                    merge.sources.extend(sources);
                    merge.nodes = merge.nodes.saturating_add(nodes);
                    return Ok(());
                }
                if map.contains_key(&k) {
                    return Err(LoadError::syntax(src, key_span, format!("duplicate key `{k}`")));
                }
                map.insert(k, value);
                *n = n.saturating_add(nodes);
            }
        }
        Ok(())
    }

    fn check_container_tag(&self, tag: Option<&str>, expected: &str, span: Span) -> Result<(), LoadError> {
        match tag.and_then(|t| t.strip_prefix(CORE_TAG)) {
            Some(suffix) if suffix != expected => Err(self.unsafe_tag(suffix, span)),
            _ => Ok(()),
        }
    }

    fn unsafe_tag(&self, suffix: &str, span: Span) -> LoadError {
        let message =
            format!("unsupported YAML tag `!!{suffix}`: Vigil reads plain data and never constructs tagged objects");
        self.error(span, message)
    }

    fn scalar(&self, text: &str, style: ScalarStyle, tag: Option<&str>, span: Span) -> Result<Value, LoadError> {
        if let Some(suffix) = tag.and_then(|t| t.strip_prefix(CORE_TAG)) {
            let resolved = resolve_plain(text);
            return match (suffix, resolved) {
                ("str" | "binary" | "timestamp", _) => Ok(Value::String(text.into())),
                ("null", Value::Null) => Ok(Value::Null),
                ("bool", v @ Value::Bool(_)) | ("int", v @ Value::Int(_)) | ("float", v @ Value::Float(_)) => Ok(v),
                ("float", Value::Int(i)) => Ok(Value::Float(i as f64)),
                ("null" | "bool" | "int" | "float", _) => {
                    Err(self.error(span, format!("`{text}` is not a valid !!{suffix}")))
                }
                _ => Err(self.unsafe_tag(suffix, span)),
            };
        }
        // Local tags (`!Ref`, `!Sub`, ...) annotate plain data: the value is read as if untagged. The
        // non-specific tag `!` makes a plain scalar a string.
        Ok(match (style, tag) {
            (ScalarStyle::Plain, None) => resolve_plain(text),
            (ScalarStyle::Plain, Some(t)) if t != "!" => resolve_plain(text),
            _ => Value::String(text.into()),
        })
    }
}

/// YAML 1.2 core schema resolution of an untagged plain scalar.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Value::String(text.into());
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Int(i);
        }
    } else if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Value::Int(i);
        }
    } else if is_core_int(text) {
        return match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => text.parse::<f64>().map_or_else(|_| Value::String(text.into()), Value::Float),
        };
    } else if is_core_float(text)
        && let Ok(x) = text.parse::<f64>()
    {
        return Value::Float(x);
    }
    Value::String(text.into())
}

fn is_core_int(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn is_core_float(text: &str) -> bool {
    let s = text.strip_prefix(['-', '+']).unwrap_or(text).as_bytes();
    let mut i = 0;
    let int_digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if s.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == s.len()
}
