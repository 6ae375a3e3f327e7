//! `policy fmt`: one canonical layout for policy files (the layout rules are in [`layout`]).
//!
//! The formatter works on the token stream, comments included ([`tokens`]), and changes only the
//! whitespace between tokens, so it cannot reorder code or move a comment to another declaration. It then
//! checks its own work before returning anything: the output must parse to the same syntax tree (spans
//! aside) and hold the same comments, else the file is refused with an error instead of being rewritten
//! (not knowing that a rewrite is safe is not safe).

mod layout;
mod tokens;

use std::sync::Arc;

use pest::Parser as _;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::source::{Source, Span};
use crate::syntax::{PolicyParser, Rule};

/// Formats the policy text `text`; errors (the file does not parse) name the file `<input>`.
pub fn format_source(text: &str) -> Result<String, Diagnostics> {
    format_named("<input>", text)
}

/// Formats the policy file `name` holding `text`. A file that does not parse is returned as its syntax
/// errors, with spans.
pub fn format_named(name: &str, text: &str) -> Result<String, Diagnostics> {
    let source = Source::new(name, text);
    let original = crate::syntax::parse(&source).map_err(to_diagnostics)?;
    let formatted = layout_of(&source)?;
    // The self-check: same tree, same comments. A failure here is a formatter bug, reported as such.
    let refuse = |what: &str| {
        let message = format!("cannot format this file safely: the result would {what} (a bug in `policy fmt`)");
        Diagnostics::new(Diagnostic::new(Code::Syntax, &source, Span::new(0, 0), message))
    };
    let again = Source::new(name, formatted.as_str());
    let reparsed = crate::syntax::parse(&again).map_err(|_| refuse("not parse"))?;
    if shape(&original) != shape(&reparsed) {
        return Err(refuse("change the meaning of the policy"));
    }
    if comments(text) != comments(&formatted) {
        return Err(refuse("lose or change a comment"));
    }
    Ok(formatted)
}

/// The comments of a policy text, in order (the text must parse).
pub fn comments(text: &str) -> Vec<String> {
    let Ok(mut pairs) = PolicyParser::parse(Rule::file, text) else { return Vec::new() };
    let Some(file) = pairs.next() else { return Vec::new() };
    let Ok(tokens) = tokens::tokens(file, text) else { return Vec::new() };
    tokens.iter().filter(|t| t.kind == tokens::Kind::Comment).map(|t| t.text.to_string()).collect()
}

/// Comments with the declaration they belong to: the index of the declaration whose text contains them
/// or, between declarations, of the next one (a comment above a rule is about that rule); the number of
/// declarations after the last. Used by tests to check that formatting keeps every comment with its
/// declaration.
pub fn comment_owners(text: &str) -> Vec<(usize, String)> {
    let Ok(mut pairs) = PolicyParser::parse(Rule::file, text) else { return Vec::new() };
    let Some(root) = pairs.next() else { return Vec::new() };
    let ends: Vec<usize> =
        root.clone().into_inner().filter(|p| p.as_rule() != Rule::EOI).map(|p| p.as_span().end()).collect();
    let Ok(tokens) = tokens::tokens(root, text) else { return Vec::new() };
    tokens
        .iter()
        .filter(|t| t.kind == tokens::Kind::Comment)
        .map(|t| (ends.iter().position(|end| t.start < *end).unwrap_or(ends.len()), t.text.to_string()))
        .collect()
}

/// Whether two policy texts parse to the same syntax tree, spans aside (both must parse).
pub fn same_meaning(a: &str, b: &str) -> bool {
    let parse = |t: &str| crate::syntax::parse(&Source::new("<input>", t)).ok().map(|f| shape(&f));
    matches!((parse(a), parse(b)), (Some(x), Some(y)) if x == y)
}

fn layout_of(source: &Arc<Source>) -> Result<String, Diagnostics> {
    let text = source.text();
    let mut pairs = PolicyParser::parse(Rule::file, text).map_err(|_| {
        Diagnostics::new(Diagnostic::new(Code::Syntax, source, Span::new(0, 0), "the policy could not be parsed"))
    })?;
    let file = pairs.next().expect("the file rule always yields one pair");
    let tokens = tokens::tokens(file, text).map_err(|at| {
        let message = "cannot format this file: unexpected text here (a bug in `policy fmt`)";
        Diagnostics::new(Diagnostic::new(Code::Syntax, source, Span::new(at, at + 1), message))
    })?;
    Ok(layout::print(&tokens))
}

/// A syntax tree as JSON without its spans: what the file means, not where it says it.
fn shape(file: &crate::syntax::ast::File) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.remove("span");
                if map.len() == 2 && map.contains_key("start") && map.contains_key("end") {
                    *v = serde_json::Value::Null;
                    return;
                }
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(file).unwrap_or(serde_json::Value::Null);
    strip(&mut value);
    value
}

fn to_diagnostics(errors: Vec<crate::diagnostic::Diagnostic>) -> Diagnostics {
    Diagnostics::from_vec(errors).unwrap_or_else(|| {
        Diagnostics::new(Diagnostic::new(
            Code::Syntax,
            &Source::new("<input>", ""),
            Span::new(0, 0),
            "the policy could not be parsed",
        ))
    })
}

#[cfg(test)]
mod tests;
