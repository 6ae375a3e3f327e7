//! What `policy lsp` knows about a policy file: its problems (checker errors and schema warnings), and what
//! to show on hover, where a name is defined, and what may come next at a position.
//!
//! Everything here works in byte offsets of the file's text; the command line's server (`src/cli/lsp.rs`)
//! converts to the protocol's UTF-16 positions and speaks JSON-RPC. A file is checked with its project as
//! `policy check` would check it ([`project`]): the other `.policy` files of its folder and of the
//! `vigil.toml` that applies, its parameters and schemas, and the bundled packs.

mod complete;
mod format;
mod project;

use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::functions::Registry;
use crate::input::Kind;
use crate::schema::{PathNote, Schemas};
use crate::source::{Source, Span};
use crate::syntax::ast;

pub use complete::{Completion, CompletionKind};
pub use format::format;
pub use project::{Project, project};

/// A problem to show in the editor.
#[derive(Clone, Debug)]
pub struct Problem {
    /// Byte range in the file.
    pub start: usize,
    /// End of the range.
    pub end: usize,
    /// The message, with its help appended.
    pub message: String,
    /// The stable code (`vigil::unknown-name`).
    pub code: &'static str,
    /// A warning rather than an error.
    pub warning: bool,
}

/// A declaration's place: the file and byte range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The file, as named to [`analyse`].
    pub file: String,
    /// Byte range.
    pub start: usize,
    /// End of the range.
    pub end: usize,
}

/// One file analysed.
pub struct Analysis {
    /// The file's problems.
    pub problems: Vec<Problem>,
    source: Arc<Source>,
    /// The parsed file, when it parses.
    tree: Option<ast::File>,
    /// The other files of its folder, parsed (those that parse).
    siblings: Vec<(Arc<Source>, ast::File)>,
    notes: Vec<PathNote>,
    schemas: Schemas,
    registry: Registry,
}

/// Analyses `text`, the contents of the file `name`, with the other policy files of its folder (`(name,
/// text)`) and user schemas (`(kind, name, text)`), without the bundled packs.
pub fn analyse(name: &str, text: &str, siblings: &[(String, String)], schemas: &[(Kind, String, String)]) -> Analysis {
    let project = Project { policies: siblings.to_vec(), schemas: schemas.to_vec(), ..Project::default() };
    analyse_in(name, text, &project)
}

/// Analyses `text`, the contents of the file `name`, as part of `project` ([`project()`] finds it).
pub fn analyse_in(name: &str, text: &str, project: &Project) -> Analysis {
    let source = Source::new(name, text);
    let mut builder = Engine::builder();
    let mut problems: Vec<Problem> = project
        .problems
        .iter()
        .map(|message| Problem { start: 0, end: 0, message: message.clone(), code: "vigil::config", warning: false })
        .collect();
    for (param, value) in &project.params {
        builder = builder.param(param.clone(), value.clone());
    }
    let mut user = Vec::new();
    for (kind, schema_name, schema_text) in &project.schemas {
        match crate::schema::parse_user(schema_name, schema_text) {
            Ok(doc) => {
                let doc = Arc::new(doc);
                builder = builder.schema_doc(*kind, doc.clone());
                user.push((*kind, doc));
            }
            Err(message) => problems.push(Problem { start: 0, end: 0, message, code: "vigil::config", warning: true }),
        }
    }
    let engine = builder.build();
    let schemas = Schemas::with(&user);

    let tree = crate::syntax::parse(&source).ok();
    let siblings: Vec<(Arc<Source>, ast::File)> = project
        .policies
        .iter()
        .filter(|(n, _)| n != name)
        .filter_map(|(n, t)| {
            let s = Source::new(n.as_str(), t.as_str());
            crate::syntax::parse(&s).ok().map(|f| (s, f))
        })
        .collect();
    // The project's files that parse (one being edited elsewhere must not hide this file's problems), after
    // the bundled packs as `policy check` orders them, and this file last: a rule id used twice is reported
    // on its second definition, which is then the one in the editor.
    let mut all: Vec<(String, String)> =
        siblings.iter().map(|(s, _)| (s.name().to_string(), s.text().to_string())).collect();
    all.push((name.to_string(), text.to_string()));
    if project.builtin {
        let mut bundled = project::bundled_for(all.iter().map(|(n, _)| n.as_str()));
        bundled.append(&mut all);
        all = bundled;
    }
    if let Err(diagnostics) = engine.compile(all) {
        problems.extend(diagnostics.iter().filter(|d| d.source.name() == name).map(problem));
        // `[params]` of vigil.toml that fit no declared parameter have no place in a policy file: shown at
        // the top of the open file, since `policy check` would refuse to run.
        let settings = diagnostics.iter().filter(|d| d.source.name() == "<parameters>");
        problems.extend(settings.map(|d| {
            let p = problem(d);
            Problem { start: 0, end: 0, message: format!("vigil.toml `[params]`: {}", p.message), ..p }
        }));
    }
    let mut notes = Vec::new();
    if let Some(file) = &tree {
        let (warnings, found) = crate::schema::lint(&[(source.clone(), file)], &schemas, true);
        problems.extend(warnings.iter().map(problem));
        notes = found;
    }
    Analysis { problems, source, tree, siblings, notes, schemas, registry: engine.registry().clone() }
}

fn problem(d: &Diagnostic) -> Problem {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    Problem {
        start: d.span.start as usize,
        end: d.span.end as usize,
        message,
        code: d.code.as_str(),
        warning: d.code.is_warning(),
    }
}

/// The identifier (letters, digits, `_`) around `offset`, and its range.
pub(crate) fn word_at(text: &str, offset: usize) -> Option<(&str, usize, usize)> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    // The offset may come from a newer version of the text than this analysis: stay on a character.
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let start = text[..offset].char_indices().rev().take_while(|(_, c)| is_ident(*c)).last().map_or(offset, |(i, _)| i);
    let end = text[offset..].char_indices().find(|(_, c)| !is_ident(*c)).map_or(text.len(), |(i, _)| offset + i);
    (start < end).then(|| (&text[start..end], start, end))
}

fn contains(span: Span, offset: usize) -> bool {
    span.start as usize <= offset && offset <= span.end as usize
}

impl Analysis {
    /// The files this one is checked with, itself first.
    fn files(&self) -> impl Iterator<Item = (&Arc<Source>, &ast::File)> {
        self.tree.iter().map(|t| (&self.source, t)).chain(self.siblings.iter().map(|(s, f)| (s, f)))
    }

    /// The package's declaration of `name` (const, param or fn), in this file or a sibling of its package.
    fn declaration(&self, name: &str) -> Option<(&Arc<Source>, &ast::Item, &ast::Ident)> {
        let package = self.tree.as_ref().map(|t| t.package.name.as_str());
        for (source, file) in self.files() {
            if package.is_some_and(|p| p != file.package.name) {
                continue;
            }
            for item in &file.items {
                let ident = match item {
                    ast::Item::Const(d) | ast::Item::Param(d) => &d.name,
                    ast::Item::Fn(f) => &f.name,
                    _ => continue,
                };
                if ident.name == name {
                    return Some((source, item, ident));
                }
            }
        }
        None
    }

    /// A local (`let`, loop variable, function parameter) visible at `offset`: its last binding before it.
    fn local(&self, name: &str, offset: usize) -> Option<Span> {
        let tree = self.tree.as_ref()?;
        let mut found = None;
        let mut bind = |ident: &ast::Ident| {
            if ident.name == name && (ident.span.start as usize) <= offset {
                found = Some(ident.span);
            }
        };
        for item in &tree.items {
            match item {
                ast::Item::Rule(rule) if contains(rule.span, offset) => visit_bindings(&rule.body, &mut bind),
                ast::Item::Fn(f) if f.params.first().is_some_and(|p| (p.span.start as usize) <= offset) => {
                    let end = f.body.span.end as usize;
                    if offset <= end {
                        f.params.iter().for_each(&mut bind);
                    }
                }
                _ => {}
            }
        }
        found
    }

    /// Markdown for the thing at `offset`.
    pub fn hover(&self, offset: usize) -> Option<String> {
        if let Some(note) = self.notes.iter().find(|n| contains(n.span, offset)) {
            let mut out = format!("`{}`", note.path);
            if let Some(d) = &note.description {
                out.push_str(&format!("\n\n{d}"));
            }
            if !note.members.is_empty() {
                let names: Vec<String> = note.members.iter().take(20).map(|(n, _)| format!("`{n}`")).collect();
                let more = if note.members.len() > 20 { ", ..." } else { "" };
                out.push_str(&format!("\n\nmembers: {}{more}", names.join(", ")));
            }
            return Some(out);
        }
        if let Some(rule) = self.tree.iter().flat_map(|t| &t.items).find_map(|i| match i {
            ast::Item::Rule(r) if contains(r.id.span, offset) => Some(r),
            _ => None,
        }) {
            return Some(rule_hover(self.source.text(), rule));
        }
        let (word, _, _) = word_at(self.source.text(), offset)?;
        if let Ok(kind) = word.parse::<Kind>() {
            return Some(format!("document kind `{kind}`\n\n{}", kind.description()));
        }
        if let Some(span) = self.local(word, offset) {
            let line = self.source.line_col(span.start).0;
            return Some(format!("local `{word}`, bound on line {line}"));
        }
        if let Some((source, item, _)) = self.declaration(word) {
            let (what, doc) = match item {
                ast::Item::Const(d) => ("const", &d.doc),
                ast::Item::Param(d) => ("param", &d.doc),
                ast::Item::Fn(f) => ("fn", &f.doc),
                _ => return None,
            };
            let span = match item {
                ast::Item::Const(d) | ast::Item::Param(d) => Span { start: d.name.span.start, end: d.value.span.end },
                ast::Item::Fn(f) => Span { start: f.name.span.start, end: f.body.span.end },
                _ => return None,
            };
            let text = source.text().get(span.range()).unwrap_or(word);
            let text: String = text.chars().take(400).collect();
            return Some(format!("```\n{what} {text}\n```\n\n{}", doc.trim()));
        }
        if let Some(id) = self.registry.lookup(word) {
            let f = self.registry.get(id);
            return Some(format!("```\n{}\n```\n\n{}", f.signature(), f.description()));
        }
        match word {
            "input" => Some("`input`: the document's data".into()),
            "doc" => Some("`doc`: the document's metadata: `path`, `kind`, `format`, `index`, `sections`".into()),
            "exists" => Some("`exists(x)`: true when `x` is present and not null".into()),
            "documents" => Some("`documents(Kind, ...)`: the data of every loaded document of those kinds".into()),
            _ => None,
        }
    }

    /// Where the name at `offset` is declared: a local, or a const, param or fn of the package.
    pub fn definition(&self, offset: usize) -> Option<Place> {
        let (word, _, _) = word_at(self.source.text(), offset)?;
        if let Some(span) = self.local(word, offset) {
            return Some(Place {
                file: self.source.name().to_string(),
                start: span.start as usize,
                end: span.end as usize,
            });
        }
        let (source, _, ident) = self.declaration(word)?;
        Some(Place { file: source.name().to_string(), start: ident.span.start as usize, end: ident.span.end as usize })
    }

    /// The text this analysis was made of.
    pub fn text(&self) -> &str {
        self.source.text()
    }
}

fn rule_hover(text: &str, rule: &ast::RuleDecl) -> String {
    let mut out = format!("rule `{}`", rule.id.name);
    for stmt in &rule.body {
        if let ast::Stmt::Meta { name, value } = stmt {
            let shown = text.get(value.span.range()).unwrap_or("");
            out.push_str(&format!("\n\n**{}**: {}", name.name, shown));
        }
    }
    if !rule.doc.trim().is_empty() {
        out.push_str(&format!("\n\n{}", rule.doc.trim()));
    }
    out
}

/// Calls `bind` for every name a block binds (`let`, loop variables, quantifier and comprehension variables).
fn visit_bindings(stmts: &[ast::Stmt], bind: &mut dyn FnMut(&ast::Ident)) {
    for stmt in stmts {
        match stmt {
            ast::Stmt::Let { name, value } => {
                visit_expr(value, bind);
                bind(name);
            }
            ast::Stmt::For { binding, body, .. } => {
                binding.key.iter().for_each(&mut *bind);
                bind(&binding.var);
                visit_bindings(body, bind);
            }
            ast::Stmt::When(e) => visit_expr(e, bind),
            ast::Stmt::Check(c) => visit_expr(&c.cond, bind),
            ast::Stmt::Meta { .. } => {}
        }
    }
}

fn visit_expr(expr: &ast::Expr, bind: &mut dyn FnMut(&ast::Ident)) {
    match &expr.kind {
        ast::ExprKind::Quantified { binding, .. } => {
            binding.key.iter().for_each(&mut *bind);
            bind(&binding.var);
        }
        ast::ExprKind::Comprehension { bindings, .. } => {
            for b in bindings {
                b.key.iter().for_each(&mut *bind);
                bind(&b.var);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
