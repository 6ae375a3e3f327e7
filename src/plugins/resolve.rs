//! `import plugin` declarations → the functions each policy file may call, before checking.
//!
//! Imports are per file: `secrets.find` in a file means the plugin that file imported as `secrets`. Plugin
//! functions join the registry by id only (not by name), and the checker resolves `alias.name` through the
//! file's [`Scope`]. Plugins given to the [`EngineBuilder`](crate::EngineBuilder) are registered by name
//! instead, so every file sees them.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use super::PluginOptions;
use crate::diagnostic::Diagnostic;
use crate::functions::{FunctionId, Registry};
use crate::ir::{Expr, ExprId, Program, Stmt};
use crate::source::Source;
use crate::syntax::ast;

/// What one import gives a file.
#[derive(Clone, Debug)]
pub(crate) struct Scope {
    /// The module's path as written, for messages.
    pub label: String,
    /// Function name → registry id.
    pub functions: Vec<(String, FunctionId)>,
}

/// The imports of every file, and which plugin each plugin function belongs to.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scopes {
    files: HashMap<(u32, String), Scope>,
    /// Plugin function → `alias (module path)`, for `policy list`.
    pub owners: HashMap<FunctionId, Arc<str>>,
}

impl Scopes {
    /// What `alias` means in source `source`.
    pub(crate) fn get(&self, source: u32, alias: &str) -> Option<&Scope> {
        self.files.get(&(source, alias.to_string()))
    }

    /// The aliases source `source` imports, for "did you mean".
    pub(crate) fn aliases(&self, source: u32) -> Vec<&str> {
        self.files.keys().filter(|(s, _)| *s == source).map(|(_, a)| a.as_str()).collect()
    }

    /// Records the rules' plugin use in their metadata (`policy list`): plugin functions called by the rule
    /// directly or through the `fn`s it calls.
    pub(crate) fn mark_rules(&self, program: &mut Program) {
        if self.owners.is_empty() {
            return;
        }
        for r in 0..program.rules.len() {
            let mut roots = Vec::new();
            stmt_roots(&program.rules[r].body, &mut roots);
            let mut used: Vec<String> = Vec::new();
            let mut seen = HashSet::new();
            while let Some(id) = roots.pop() {
                if !seen.insert(id) {
                    continue;
                }
                let expr = &program.exprs[id as usize];
                match expr {
                    Expr::Call(f, _) => {
                        if let Some(owner) = self.owners.get(f).filter(|o| !used.iter().any(|u| u == &***o)) {
                            used.push(owner.to_string());
                        }
                    }
                    Expr::CallUser(f, _) => roots.push(program.fns[*f as usize].body),
                    _ => {}
                }
                roots.extend(expr.children().0);
            }
            if !used.is_empty() {
                used.sort();
                std::sync::Arc::make_mut(&mut program.rules[r].info).plugins = used;
            }
        }
    }
}

fn stmt_roots(stmts: &[Stmt], out: &mut Vec<ExprId>) {
    for stmt in stmts {
        match stmt {
            Stmt::When(e) | Stmt::Let { value: e, .. } => out.push(*e),
            Stmt::Check(c) => out.extend([Some(c.cond), c.message, c.at].into_iter().flatten()),
            Stmt::For { lp, body } => {
                out.extend([Some(lp.source), lp.filter].into_iter().flatten());
                stmt_roots(body, out);
            }
        }
    }
}

/// Loads every imported plugin and registers its functions in `registry`. Problems are diagnostics on the
/// import (exit code 2): unreadable module, digest mismatch, missing pin, bad manifest, refused import.
pub(crate) fn resolve(
    files: &[(Arc<Source>, ast::File)],
    options: &PluginOptions,
    registry: &mut Registry,
    scopes: &mut Scopes,
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    #[cfg(feature = "plugins")]
    let mut loaded: HashMap<(std::path::PathBuf, Option<String>), super::Plugin> = HashMap::new();
    for (index, (source, file)) in files.iter().enumerate() {
        let mut first: HashMap<&str, &ast::ImportDecl> = HashMap::new();
        for item in &file.items {
            let ast::Item::Import(import) = item else { continue };
            let alias = import.alias.name.as_str();
            if let Some(previous) = first.get(alias) {
                let related = Diagnostic::new(
                    crate::diagnostic::Code::Plugin,
                    source,
                    previous.alias.span,
                    "first imported here",
                );
                let mut d = Diagnostic::new(
                    crate::diagnostic::Code::Plugin,
                    source,
                    import.alias.span,
                    format!("`{alias}` names two plugin imports in this file"),
                )
                .with_help("give each import its own name after `as`");
                d.related.push(related);
                errors.push(d);
                continue;
            }
            first.insert(alias, import);
            let path = import_path(source.name(), &import.path.name);
            #[cfg(feature = "plugins")]
            {
                let pin = import.sha256.as_ref().map(|s| s.name.clone());
                let key = (std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone()), pin.clone());
                let plugin = match loaded.get(&key) {
                    Some(p) => p.clone(),
                    None => {
                        // A bundle's module (already verified against its signed manifest) or a file.
                        let mut plugin_source =
                            options.modules.get(&path).cloned().unwrap_or_else(|| super::PluginSource::file(&path));
                        plugin_source.label = import.path.name.clone();
                        plugin_source.sha256 = pin.or(plugin_source.sha256);
                        match super::Plugin::load(&plugin_source, options) {
                            Ok(p) => {
                                loaded.insert(key, p.clone());
                                p
                            }
                            Err(e) => {
                                let span = match &import.sha256 {
                                    Some(pin) if e.message.contains("does not match its pin") => pin.span,
                                    _ => import.path.span,
                                };
                                let d = Diagnostic::new(crate::diagnostic::Code::Plugin, source, span, e.message);
                                errors.push(d.with_help_opt(e.help));
                                continue;
                            }
                        }
                    }
                };
                let owner: Arc<str> = format!("{alias} ({})", import.path.name).into();
                let functions = plugin
                    .functions(alias)
                    .into_iter()
                    .map(|f| {
                        let name = f.name().rsplit('.').next().unwrap_or_default().to_string();
                        let id = registry.register_unnamed(f);
                        scopes.owners.insert(id, owner.clone());
                        (name, id)
                    })
                    .collect();
                let scope = Scope { label: import.path.name.clone(), functions };
                scopes.files.insert((index as u32, alias.to_string()), scope);
            }
            #[cfg(not(feature = "plugins"))]
            {
                let _ = (options, &registry, &scopes, index, path);
                errors.push(
                    Diagnostic::new(
                        crate::diagnostic::Code::Plugin,
                        source,
                        import.span,
                        "this build of Vigil cannot load WASM plugins",
                    )
                    .with_help("rebuild with the cargo feature `plugins` (on by default)"),
                );
            }
        }
    }
    errors
}

#[cfg(all(test, not(feature = "plugins")))]
mod tests {
    /// Without the `plugins` feature an import is a checker error on the import, not a crash or a pass.
    #[test]
    fn imports_need_the_feature() {
        let text = "package t\nimport plugin \"p.wasm\" as p sha256 \"00\"\nrule \"T\" {\n  title = \"t\"\n  severity = low\n  applies_to = ModelCard\n  require p.f(1)\n}\n";
        let errors = crate::Engine::default().compile([("t.policy", text)]).unwrap_err();
        assert_eq!(errors.first().message, "this build of Vigil cannot load WASM plugins");
        assert_eq!(errors.first().span.range(), 10..49);
    }
}

/// Where an import in the policy named `policy` points: relative to the policy's folder. Policies from a
/// signed bundle are named `NAME@VERSION:path`, and their imports stay inside that bundle (a key of
/// [`PluginOptions::modules`](super::PluginOptions::modules)), so a bundle's policy never loads a module from disk.
fn import_path(policy: &str, import: &str) -> std::path::PathBuf {
    match policy.rsplit_once('/') {
        Some((folder, _)) => Path::new(folder).join(import),
        None => match policy.split_once(':') {
            Some((bundle, _)) if bundle.contains('@') => format!("{bundle}:{import}").into(),
            _ => import.into(),
        },
    }
}
