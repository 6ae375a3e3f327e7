//! The project an open policy file belongs to, found the way `policy check` finds it, so the editor shows
//! the errors `policy check` would: the repository's `vigil.toml` (nearest above the file, else the editor's
//! workspace folder's), the policy files it names, its `[params]` and `[schemas]`, and the bundled packs
//! unless it turns them off (`builtin = false`).
//!
//! Without this the server only saw the file's own folder: a function of the package defined in another
//! configured folder was "unknown", a rule id that duplicates a bundled one passed, and a parameter value
//! of the wrong type set in `vigil.toml` went unnoticed until CI.

use std::path::{Path, PathBuf};

use crate::input::Kind;
use crate::value::Value;

/// Policy files read per project at most (a misconfigured `policies = ["/"]` must not stall the editor).
const MAX_FILES: usize = 500;

/// What a file is checked with.
#[derive(Clone, Debug, Default)]
pub struct Project {
    /// The `vigil.toml` that applies, when there is one.
    pub config: Option<PathBuf>,
    /// The other policy files checked with the file, `(name, text)`: those `vigil.toml` names and the
    /// file's own folder (a package may span files); never the file itself, whose text is the editor's.
    pub policies: Vec<(String, String)>,
    /// Whether the bundled packs are compiled with it (`policy check` does unless `builtin = false`).
    pub builtin: bool,
    /// `[params]`, applied as `policy check` applies them.
    pub params: Vec<(String, Value)>,
    /// `[schemas]`: `(kind, file name, text)`.
    pub schemas: Vec<(Kind, String, String)>,
    /// Problems with the configuration or the files it names, shown on the open file.
    pub problems: Vec<String>,
}

/// The project of the policy file `file` (an absolute path), given the editor's workspace folders.
pub fn project(file: &Path, roots: &[PathBuf]) -> Project {
    let folder = file.parent().unwrap_or(Path::new("."));
    let mut out = Project { builtin: true, ..Project::default() };
    // `policy check` runs in the workspace and finds vigil.toml upward from there; a file of a nested
    // project is governed by the nearest one above it, so look from the file first.
    let root = roots.iter().filter(|r| file.starts_with(r)).max_by_key(|r| r.components().count()).or(roots.first());
    let found = crate::config::find(folder).or_else(|| root.and_then(|r| crate::config::find(r)));
    let mut named = Vec::new();
    if let Some(path) = &found {
        match crate::config::load_repository(path) {
            Ok(config) => {
                out.builtin = config.builtin != Some(false);
                out.params = config.params.clone();
                for (kind, schema) in &config.schemas {
                    match std::fs::read_to_string(schema) {
                        Ok(text) => out.schemas.push((*kind, schema.display().to_string(), text)),
                        Err(e) => out.problems.push(format!("{}: {e}", schema.display())),
                    }
                }
                for policies in &config.policies {
                    if let Err(e) = crate::bundled::read_policies(policies, config.root.as_deref(), &mut named) {
                        out.problems.push(e);
                    }
                }
            }
            Err(errors) => {
                out.problems.extend(errors.iter().map(|d| format!("{}: {}", path.display(), d.message)));
            }
        }
        out.config = found.clone();
    }
    let mut siblings = Vec::new();
    if let Ok(entries) = std::fs::read_dir(folder) {
        let mut paths: Vec<PathBuf> =
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "policy")).collect();
        paths.sort();
        for p in paths {
            if let Ok(text) = std::fs::read_to_string(&p) {
                siblings.push((p.display().to_string(), text));
            }
        }
    }
    // One entry per file: the same file may be named by the configuration and sit in the folder.
    let me = canonical(file);
    let mut seen = vec![me];
    for (name, text) in named.into_iter().chain(siblings) {
        let key = canonical(Path::new(&name));
        if seen.contains(&key) {
            continue;
        }
        if out.policies.len() == MAX_FILES {
            out.problems.push(format!("more than {MAX_FILES} policy files in the project: the rest are not read"));
            break;
        }
        seen.push(key);
        out.policies.push((name, text));
    }
    out
}

/// The bundled packs to compile with `files` (the open file and its project's): all of them, except any
/// the project itself holds (editing the packs in Vigil's own repository would otherwise define every rule
/// twice).
pub(crate) fn bundled_for<'a>(files: impl Iterator<Item = &'a str> + Clone) -> Vec<(String, String)> {
    crate::bundled::BUNDLED
        .iter()
        .filter(|(name, _)| !files.clone().any(|f| f.replace('\\', "/").ends_with(&format!("/{name}")) || f == *name))
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}
