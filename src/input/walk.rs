//! Finding input files: explicit paths and folders walked recursively, in a deterministic order.
//!
//! Folders honour `.gitignore`/`.ignore` files and `--exclude` globs, include hidden folders such as
//! `.github/` (workflows live there) but never `.git/`, and survive symbolic-link loops. In folders, files of no
//! known format are skipped and counted; a file named explicitly must load or it is an error.

use std::path::{Path, PathBuf};

use super::{Document, Format, LoadError, LoadOptions};

/// The result of walking the paths given on the command line.
#[derive(Debug, Default)]
pub struct Collected {
    /// Files to load, in order.
    pub inputs: Vec<Input>,
    /// Files passed over, with the reason.
    pub skipped: Vec<Skipped>,
    /// Paths that could not be read at all.
    pub errors: Vec<LoadError>,
}

/// A file to load.
#[derive(Clone, Debug)]
pub struct Input {
    /// Its path, as found.
    pub path: PathBuf,
    /// Named on the command line (must load) rather than found in a folder (may be skipped).
    pub explicit: bool,
}

/// A file passed over while walking a folder.
#[derive(Clone, Debug)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why it was passed over.
    pub reason: &'static str,
}

/// Expands `paths` into input files. `excludes` are gitignore-style globs relative to each walked folder.
pub fn collect(paths: &[PathBuf], excludes: &[String]) -> Collected {
    let mut out = Collected::default();
    for path in paths {
        let name = path.to_string_lossy();
        match std::fs::metadata(path) {
            Err(e) => out.errors.push(LoadError::file(&name, super::io_message(&e))),
            Ok(meta) if meta.is_dir() => walk_dir(path, excludes, &mut out),
            Ok(_) => out.inputs.push(Input { path: path.clone(), explicit: true }),
        }
    }
    out
}

fn walk_dir(root: &Path, excludes: &[String], out: &mut Collected) {
    let mut overrides = ignore::overrides::OverrideBuilder::new(root);
    for glob in excludes {
        if let Err(e) = overrides.add(&format!("!{glob}")) {
            out.errors.push(LoadError::file(glob, format!("invalid exclude glob: {e}")));
        }
    }
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .hidden(false)
        .follow_links(true)
        .require_git(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|entry| entry.file_name() != ".git");
    if let Ok(overrides) = overrides.build() {
        builder.overrides(overrides);
    }
    for entry in builder.build() {
        match entry {
            Ok(entry) if entry.file_type().is_some_and(|t| t.is_file()) => {
                let path = entry.into_path();
                if Format::from_path(&path).is_some() {
                    out.inputs.push(Input { path, explicit: false });
                } else {
                    out.skipped.push(Skipped { path, reason: "not a known input format" });
                }
            }
            Ok(_) => {}
            Err(e) => {
                let (path, reason) = describe_walk_error(&e);
                match path {
                    Some(path) => out.skipped.push(Skipped { path, reason }),
                    None => out.errors.push(LoadError::file(&root.to_string_lossy(), e.to_string())),
                }
            }
        }
    }
}

fn describe_walk_error(e: &ignore::Error) -> (Option<PathBuf>, &'static str) {
    match e {
        ignore::Error::WithPath { path, err } => (Some(path.clone()), describe_walk_error(err).1),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => describe_walk_error(err),
        ignore::Error::Loop { child, .. } => (Some(child.clone()), "symbolic link loop"),
        ignore::Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => (None, "broken symbolic link"),
        _ => (None, "unreadable"),
    }
}

/// What loading one input produced.
#[derive(Debug)]
pub enum Loaded {
    /// The file's documents.
    Documents(Vec<Document>),
    /// The file was found in a folder and is not an input after all (Markdown without front matter).
    Skipped(Skipped),
}

/// Loads one collected input.
pub fn load(input: &Input, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let docs = Document::load(&input.path, options)?;
    // A folder's README without front matter is documentation, not a model card.
    let plain_markdown = !input.explicit
        && options.kind.is_none()
        && docs.len() == 1
        && docs[0].format() == Some(Format::Markdown)
        && !markdown_has_front_matter(&docs[0]);
    if plain_markdown {
        return Ok(Loaded::Skipped(Skipped { path: input.path.clone(), reason: "Markdown without front matter" }));
    }
    Ok(Loaded::Documents(docs))
}

fn markdown_has_front_matter(doc: &Document) -> bool {
    doc.source().text().trim_start_matches('\u{feff}').starts_with("---")
}
