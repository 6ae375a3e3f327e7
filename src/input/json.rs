//! Strict JSON (RFC 8259) → [`Value`] trees with source spans, via jsonc-parser's located AST.
//!
//! Every JSON5/JSONC leniency is switched off: a trailing comma or a comment is an error, as it is for the
//! tools that consume these files.

use std::sync::Arc;

use jsonc_parser::ast;
use jsonc_parser::common::Ranged;

use super::locate::{NodeSpan, Tree};
use super::{Limits, LoadError};
use crate::source::{Source, Span};
use crate::value::{Map, Value};

fn strict() -> jsonc_parser::ParseOptions {
    jsonc_parser::ParseOptions {
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
    }
}

/// Parses one JSON document.
pub(crate) fn parse(src: &Source, limits: &Limits) -> Result<Tree, LoadError> {
    let text = src.text();
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &strict()).map_err(|e| {
        let r = e.range();
        LoadError::syntax(src, Span::new(r.start, r.end), format!("invalid JSON: {}", e.kind()))
    })?;
    let Some(root) = parsed.value else {
        return Err(LoadError::syntax(src, Span::new(0, 0), "invalid JSON: the file holds no value"));
    };
    let mut builder = Builder { src, limits, spans: Vec::new() };
    let value = builder.value(&root, Span::default(), 0)?;
    Ok(Tree { value, spans: builder.spans })
}

struct Builder<'a> {
    src: &'a Source,
    limits: &'a Limits,
    spans: Vec<NodeSpan>,
}

fn span_of(node: &impl Ranged) -> Span {
    let r = node.range();
    Span::new(r.start, r.end)
}

impl Builder<'_> {
    fn value(&mut self, node: &ast::Value<'_>, key: Span, depth: usize) -> Result<Value, LoadError> {
        let span = span_of(node);
        self.spans.push(NodeSpan { key, value: span });
        Ok(match node {
            ast::Value::NullKeyword(_) => Value::Null,
            ast::Value::BooleanLit(b) => Value::Bool(b.value),
            ast::Value::StringLit(s) => Value::String(Arc::from(&*s.value)),
            ast::Value::NumberLit(n) => number(n.value)
                .ok_or_else(|| LoadError::syntax(self.src, span, format!("invalid JSON number `{}`", n.value)))?,
            ast::Value::Array(array) => {
                self.check_depth(depth, span)?;
                let mut items = Vec::with_capacity(array.elements.len());
                for element in &array.elements {
                    items.push(self.value(element, Span::default(), depth + 1)?);
                }
                Value::Array(Arc::new(items))
            }
            ast::Value::Object(object) => {
                self.check_depth(depth, span)?;
                let mut map = Map::with_capacity_and_hasher(object.properties.len(), Default::default());
                for prop in &object.properties {
                    let (name, key_span) = match &prop.name {
                        ast::ObjectPropName::String(s) => (Arc::<str>::from(&*s.value), span_of(s)),
                        ast::ObjectPropName::Word(w) => (Arc::<str>::from(w.value), span_of(w)),
                    };
                    if map.contains_key(&name) {
                        // Two readers of the same file could otherwise see different values.
                        return Err(LoadError::syntax(self.src, key_span, format!("duplicate key `{name}`")));
                    }
                    let value = self.value(&prop.value, key_span, depth + 1)?;
                    map.insert(name, value);
                }
                Value::Object(Arc::new(map))
            }
        })
    }

    fn check_depth(&self, depth: usize, span: Span) -> Result<(), LoadError> {
        if depth >= self.limits.max_depth {
            let max = self.limits.max_depth;
            return Err(LoadError::syntax(self.src, span, format!("nesting deeper than {max} levels")));
        }
        Ok(())
    }
}

fn number(text: &str) -> Option<Value> {
    if !text.contains(['.', 'e', 'E'])
        && let Ok(i) = text.parse::<i64>()
    {
        return Some(Value::Int(i));
    }
    text.parse::<f64>().ok().filter(|x| x.is_finite()).map(Value::Float)
}
