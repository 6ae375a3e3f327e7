//! Completion: after `input.` (and deeper) the members the schemas of the rule's kinds allow; after a name
//! the policy read before, the members seen for it; elsewhere builtins, kinds, keywords and the package's
//! names.
//!
//! The text being typed rarely parses (`input.` is not an expression), so the position's context is read
//! from the raw text, and what the last parse learnt (locals, member notes) comes from the analysis of the
//! last version that parsed.

use crate::input::Kind;
use crate::schema::{Member, Shape};
use crate::syntax::ast;

use super::Analysis;

/// What a completion is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    /// A builtin or package function.
    Function,
    /// A member of the input.
    Field,
    /// A document kind.
    Kind,
    /// A word of the language.
    Keyword,
    /// A const or param.
    Constant,
    /// A local, `input` or `doc`.
    Variable,
}

/// One completion.
#[derive(Clone, Debug)]
pub struct Completion {
    /// What is inserted.
    pub label: String,
    /// What it is.
    pub kind: CompletionKind,
    /// A signature or type.
    pub detail: Option<String>,
    /// Its documentation.
    pub documentation: Option<String>,
}

const KEYWORDS: &[&str] = &[
    "package", "const", "param", "fn", "rule", "let", "when", "require", "forbid", "for", "in", "where", "else", "at",
    "not", "and", "or", "if", "then", "matches", "all", "any", "none", "count", "true", "false", "null", "import",
    "plugin",
];
const META: &[&str] = &["title", "severity", "applies_to", "controls", "remediation", "tags", "url"];
const SEVERITIES: &[&str] = &["info", "low", "medium", "high", "critical"];

impl Analysis {
    /// Completions at `offset` of `text` (the current text, which may not parse; `self` is the analysis of
    /// the last version that did, or of this one).
    pub fn completion(&self, text: &str, offset: usize) -> Vec<Completion> {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let is_path = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
        let start = before.char_indices().rev().take_while(|(_, c)| is_path(*c)).last().map_or(offset, |(i, _)| i);
        let typed = &before[start..];
        if let Some((chain, _partial)) = typed.rsplit_once('.') {
            return self.members(before, chain);
        }
        let line = before.rsplit('\n').next().unwrap_or("");
        if line.trim_start().starts_with("applies_to") {
            return Kind::ALL.iter().filter(|k| **k != Kind::Unknown).map(|k| kind_item(*k)).collect();
        }
        if line.trim_start().starts_with("severity") {
            return SEVERITIES.iter().map(|s| item(s, CompletionKind::Keyword, None, None)).collect();
        }
        let mut out: Vec<Completion> = Vec::new();
        for f in self.registry.iter() {
            out.push(item(f.name(), CompletionKind::Function, Some(f.signature()), Some(f.description().to_string())));
        }
        for special in ["exists", "documents"] {
            out.push(item(special, CompletionKind::Function, None, None));
        }
        for (_, file) in self.files() {
            for it in &file.items {
                match it {
                    ast::Item::Const(d) | ast::Item::Param(d) => {
                        out.push(item(&d.name.name, CompletionKind::Constant, None, Some(d.doc.clone())))
                    }
                    ast::Item::Fn(f) => {
                        out.push(item(&f.name.name, CompletionKind::Function, None, Some(f.doc.clone())))
                    }
                    _ => {}
                }
            }
        }
        if let Some(tree) = &self.tree {
            let mut locals = Vec::new();
            for it in &tree.items {
                if let ast::Item::Rule(rule) = it
                    && super::contains(rule.span, offset)
                {
                    super::visit_bindings(&rule.body, &mut |i: &ast::Ident| locals.push(i.name.clone()));
                }
            }
            locals.sort();
            locals.dedup();
            out.extend(locals.iter().map(|l| item(l, CompletionKind::Variable, None, None)));
        }
        out.push(item("input", CompletionKind::Variable, None, Some("the document's data".into())));
        out.push(item("doc", CompletionKind::Variable, None, Some("the document's metadata".into())));
        out.extend(Kind::ALL.iter().filter(|k| **k != Kind::Unknown).map(|k| kind_item(*k)));
        out.extend(KEYWORDS.iter().chain(META).map(|k| item(k, CompletionKind::Keyword, None, None)));
        out
    }

    /// The members of the value `chain` (`input.spec`, `step`, `doc`) names at the end of `before`.
    fn members(&self, before: &str, chain: &str) -> Vec<Completion> {
        let mut parts = chain.split('.');
        let root = parts.next().unwrap_or("");
        let rest: Vec<&str> = parts.collect();
        let shape = match root {
            "input" => Some(self.schemas.input(&enclosing_kinds(before))),
            "doc" => Some(self.schemas.meta()),
            _ => None,
        };
        let members = match shape {
            Some(mut shape) => {
                for name in &rest {
                    shape = match self.schemas.member(&shape, name) {
                        Member::Found(s) => s,
                        Member::Missing { .. } => Shape::default(),
                    };
                }
                self.schemas.members(&shape)
            }
            // A local or deeper path: what the last parse learnt about the same text, nearest first.
            None => self
                .notes
                .iter()
                .rev()
                .find(|n| n.path == chain && (n.span.start as usize) < before.len())
                .or_else(|| self.notes.iter().find(|n| n.path == chain))
                .map(|n| n.members.clone())
                .unwrap_or_default(),
        };
        members.into_iter().map(|(name, doc)| item(&name, CompletionKind::Field, None, doc)).collect()
    }
}

/// The kinds of the rule being written at the end of `before`: its last `applies_to` after the last `rule`.
fn enclosing_kinds(before: &str) -> Vec<Kind> {
    let rule = before.rfind("rule \"").unwrap_or(0);
    let Some(at) = before[rule..].rfind("applies_to") else { return Vec::new() };
    let line = before[rule + at..].lines().next().unwrap_or("");
    let value = line.split_once('=').map_or("", |(_, v)| v);
    value.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter_map(|w| w.parse::<Kind>().ok()).collect()
}

fn item(label: &str, kind: CompletionKind, detail: Option<String>, documentation: Option<String>) -> Completion {
    let documentation = documentation.filter(|d| !d.trim().is_empty());
    Completion { label: label.to_string(), kind, detail, documentation }
}

fn kind_item(kind: Kind) -> Completion {
    item(kind.name(), CompletionKind::Kind, Some("document kind".into()), Some(kind.description().to_string()))
}
