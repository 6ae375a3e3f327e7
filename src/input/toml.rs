//! TOML → [`Value`] trees with source spans, via the `toml` crate's spanned document tables.

use std::sync::Arc;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::locate::{NodeSpan, Tree};
use super::{Limits, LoadError};
use crate::source::{Source, Span};
use crate::value::{Map, Value};

/// Parses one TOML document.
pub(crate) fn parse(src: &Source, limits: &Limits) -> Result<Tree, LoadError> {
    let text = src.text();
    let table = DeTable::parse(text).map_err(|e| {
        let span = e.span().map_or(Span::default(), |r| Span::new(r.start, r.end));
        LoadError::syntax(src, span, format!("invalid TOML: {}", e.message().trim()))
    })?;
    let mut builder = Builder { src, limits, spans: Vec::new() };
    let root_span = Span::new(0, text.len());
    builder.spans.push(NodeSpan { key: Span::default(), value: root_span });
    let value = builder.table(table.get_ref(), 0, root_span)?;
    Ok(Tree { value, spans: builder.spans })
}

struct Builder<'a> {
    src: &'a Source,
    limits: &'a Limits,
    spans: Vec<NodeSpan>,
}

fn span_of<T>(s: &Spanned<T>) -> Span {
    let r = s.span();
    Span::new(r.start, r.end)
}

impl Builder<'_> {
    fn table(&mut self, table: &DeTable<'_>, depth: usize, span: Span) -> Result<Value, LoadError> {
        self.check_depth(depth, span)?;
        let mut map = Map::with_capacity_and_hasher(table.len(), Default::default());
        for (key, value) in table.iter() {
            let key_span = span_of(key);
            self.spans.push(NodeSpan { key: key_span, value: span_of(value) });
            let v = self.value(value, depth + 1)?;
            map.insert(Arc::from(key.get_ref().as_ref()), v);
        }
        Ok(Value::Object(Arc::new(map)))
    }

    fn value(&mut self, value: &Spanned<DeValue<'_>>, depth: usize) -> Result<Value, LoadError> {
        let span = span_of(value);
        Ok(match value.get_ref() {
            DeValue::String(s) => Value::String(Arc::from(s.as_ref())),
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Value::Int(n),
                Err(_) => return Err(LoadError::syntax(self.src, span, "integer out of the 64-bit range")),
            },
            DeValue::Float(f) => {
                let text = f.as_str().replace('_', "");
                let parsed = match text.trim_start_matches(['+', '-']) {
                    "inf" => Some(f64::INFINITY),
                    "nan" => Some(f64::NAN),
                    _ => text.parse::<f64>().ok(),
                };
                let x = parsed.ok_or_else(|| LoadError::syntax(self.src, span, "invalid float"))?;
                Value::Float(if text.starts_with('-') && x > 0.0 { -x } else { x })
            }
            DeValue::Boolean(b) => Value::Bool(*b),
            // Dates stay text (RFC 3339), as the date builtins expect.
            DeValue::Datetime(d) => Value::String(d.to_string().into()),
            DeValue::Array(items) => {
                self.check_depth(depth, span)?;
                let mut out = Vec::new();
                for item in items {
                    self.spans.push(NodeSpan { key: Span::default(), value: span_of(item) });
                    out.push(self.value(item, depth + 1)?);
                }
                Value::Array(Arc::new(out))
            }
            DeValue::Table(table) => self.table(table, depth, span)?,
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
