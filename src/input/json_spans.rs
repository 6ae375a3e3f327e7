//! The spans of a JSON text's nodes, in pre-order: what the [`Locator`](super::locate::Locator) pairs with
//! the parsed tree. The JSON loader records nothing while parsing; this scan runs only when a location is
//! first needed (or an error must name one), over text the parser has already accepted up to that point.
//!
//! It is a tokenizer, not a parser: strings, numbers and literals are tokens, brackets open and close
//! containers, and a string followed by `:` is a key. Containers are tracked on an explicit stack, so any
//! nesting is fine. On invalid text it never panics; it just stops making sense, and callers only read the
//! nodes before the error.

use super::locate::NodeSpan;
use crate::source::Span;

/// One [`NodeSpan`] per value, in pre-order: the value's span (brackets and quotes included) and, for an
/// object member, its key's.
pub(crate) fn scan(text: &str) -> Vec<NodeSpan> {
    let bytes = text.as_bytes();
    let mut spans: Vec<NodeSpan> = Vec::new();
    // Open containers, as indexes into `spans`; their ends are set when they close.
    let mut open: Vec<usize> = Vec::new();
    let mut key = Span::default();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' | b':' => i += 1,
            b'{' | b'[' => {
                open.push(spans.len());
                spans.push(NodeSpan { key: std::mem::take(&mut key), value: Span::new(i, i) });
                i += 1;
            }
            b'}' | b']' => {
                if let Some(node) = open.pop() {
                    spans[node].value.end = (i + 1) as u32;
                }
                i += 1;
            }
            b'"' => {
                let end = string_end(bytes, i);
                let span = Span::new(i, end);
                i = end;
                while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r') {
                    i += 1;
                }
                if bytes.get(i) == Some(&b':') {
                    key = span;
                } else {
                    spans.push(NodeSpan { key: std::mem::take(&mut key), value: span });
                }
            }
            _ => {
                // A number or a literal: up to the next delimiter.
                let start = i;
                while i < bytes.len() && !matches!(bytes[i], b',' | b':' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                    i += 1;
                }
                spans.push(NodeSpan { key: std::mem::take(&mut key), value: Span::new(start, i) });
            }
        }
    }
    spans
}

/// The byte after the string that opens at `start`, or the end of the text.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return i + 1,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jsonc_parser::ast;
    use jsonc_parser::common::Ranged;
    use proptest::prelude::*;

    use super::*;
    use crate::input::{Limits, json};
    use crate::source::Source;
    use crate::value::{Map, Value};

    /// The loader as it was before spans became lazy: jsonc-parser's located AST, one span per node as it
    /// builds the value. The oracle for both the values and the spans.
    fn eager(text: &str) -> Option<(Value, Vec<NodeSpan>)> {
        let options = jsonc_parser::ParseOptions {
            allow_comments: false,
            allow_loose_object_property_names: false,
            allow_trailing_commas: false,
            allow_missing_commas: false,
            allow_single_quoted_strings: false,
            allow_hexadecimal_numbers: false,
            allow_unary_plus_numbers: false,
            allow_bare_decimal_point_numbers: false,
            allow_non_finite_numbers: false,
            allow_extended_string_escapes: false,
        };
        let root = jsonc_parser::parse_to_ast(text, &Default::default(), &options).ok()?.value?;
        let mut spans = Vec::new();
        let value = build(&root, Span::default(), &mut spans)?;
        Some((value, spans))
    }

    fn span_of(node: &impl Ranged) -> Span {
        Span::new(node.range().start, node.range().end)
    }

    fn build(node: &ast::Value<'_>, key: Span, spans: &mut Vec<NodeSpan>) -> Option<Value> {
        spans.push(NodeSpan { key, value: span_of(node) });
        Some(match node {
            ast::Value::NullKeyword(_) => Value::Null,
            ast::Value::BooleanLit(b) => Value::Bool(b.value),
            ast::Value::StringLit(s) => Value::String(Arc::from(&*s.value)),
            ast::Value::NumberLit(n) => {
                let t = n.value;
                match t.parse::<i64>() {
                    Ok(i) if !t.contains(['.', 'e', 'E']) => Value::Int(i),
                    _ => Value::Float(t.parse::<f64>().ok().filter(|x| x.is_finite())?),
                }
            }
            ast::Value::Array(a) => Value::Array(Arc::new(
                a.elements.iter().map(|e| build(e, Span::default(), spans)).collect::<Option<_>>()?,
            )),
            ast::Value::Object(o) => {
                let mut map = Map::default();
                for p in &o.properties {
                    let ast::ObjectPropName::String(s) = &p.name else { return None };
                    let value = build(&p.value, span_of(s), spans)?;
                    map.insert(Arc::from(&*s.value), value);
                }
                Value::Object(Arc::new(map))
            }
        })
    }

    /// Equality that tells an integer from the same float and -0.0 from 0.0.
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same(a, b)),
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().zip(y.iter()).all(|((ka, a), (kb, b))| ka == kb && same(a, b))
            }
            (Value::Int(_) | Value::Float(_), _) | (_, Value::Int(_) | Value::Float(_)) => false,
            _ => a == b,
        }
    }

    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|i| i.to_string()),
            any::<u64>().prop_map(|u| u.to_string()),
            any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(|x| format!("{x:e}")),
            any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(|x| x.to_string()),
            "-?(0|[1-9][0-9]{0,25})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?",
            Just("-0".to_string()),
            Just("-0.0".to_string()),
        ]
    }

    fn string() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z~/]{0,6}".prop_map(|s| format!("\"{s}\"")),
            any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
            Just(r#""a\"b\\c\u00e9\ud83d\ude00""#.to_string()),
        ]
    }

    /// JSON text with random spacing between tokens.
    fn json_text() -> impl Strategy<Value = String> {
        let ws = "[ \t\r\n]{0,2}";
        let leaf = prop_oneof![number(), string(), Just("true".into()), Just("false".into()), Just("null".into())];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec((inner.clone(), ws), 0..6).prop_map(|items| {
                    let items: Vec<String> = items.into_iter().map(|(v, w)| format!("{w}{v}{w}")).collect();
                    format!("[{}]", items.join(","))
                }),
                prop::collection::btree_map("[a-z]{1,4}", (inner, ws), 0..6).prop_map(|members| {
                    let members: Vec<String> =
                        members.into_iter().map(|(k, (v, w))| format!("{w}\"{k}\"{w}:{w}{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn lazy_spans_and_values_match_the_eager_loader(text in json_text(), pad in "[ \n]{0,3}") {
            let text = format!("{pad}{text}{pad}");
            let src = Source::new("t.json", text.as_str());
            let new = json::parse(&src, &Limits::default());
            match eager(&text) {
                Some((value, spans)) => {
                    let new = new.map_err(|e| e.message).unwrap();
                    prop_assert!(same(&new, &value), "{text}: {new:?} != {value:?}");
                    prop_assert_eq!(scan(&text), spans);
                }
                // Numbers out of f64's range: both refuse them.
                None => prop_assert!(new.is_err(), "{text}"),
            }
        }
    }

    #[test]
    fn spans_of_a_small_document() {
        let text = r#"{"a": [1, "x\"y"], "b": {}}"#;
        let got: Vec<(Span, Span)> = scan(text).iter().map(|s| (s.key, s.value)).collect();
        let d = Span::default();
        assert_eq!(
            got,
            [
                (d, Span::new(0, 27)),
                (Span::new(1, 4), Span::new(6, 17)),
                (d, Span::new(7, 8)),
                (d, Span::new(10, 16)),
                (Span::new(19, 22), Span::new(24, 26)),
            ]
        );
        assert_eq!(eager(text).map(|(_, s)| s), Some(scan(text)));
    }
}
