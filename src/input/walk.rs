//! Finding input files: explicit paths and folders walked recursively, in a deterministic order.
//!
//! The tree under check is untrusted, so it cannot choose what the gate sees: `.gitignore` and `.ignore` files
//! are not honoured (git itself ignores them for committed files, so honouring them would let a commit hide
//! itself); only `--exclude` and the configuration's `exclude` leave files out. Hidden folders such as
//! `.github/` are included, `.git/` never is. Symbolic links are followed only while they stay inside the
//! folder being walked, and FIFOs, sockets and devices are never opened. Every file left out, for whatever
//! reason, is recorded in `skipped` with the reason, so nothing vanishes silently. A file named explicitly
//! must load or it is an error.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{Document, Format, LoadError, LoadOptions};
use crate::confine;

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

/// Reasons a file is passed over (`skipped[].reason` in the JSON report).
pub mod reason {
    /// Matched `--exclude` or the configuration's `exclude`.
    pub const EXCLUDED: &str = "excluded by --exclude or the configuration's exclude";
    /// A symbolic link whose target is outside the folder being checked.
    pub const LINK_OUTSIDE: &str = "symbolic link leading outside the checked folder (not followed)";
    /// A symbolic link to nothing.
    pub const BROKEN_LINK: &str = "broken symbolic link";
    /// A symbolic link to one of its own parent folders.
    pub const LINK_LOOP: &str = "symbolic link loop";
    /// A FIFO, socket or device node: reading it could block forever or never end.
    pub const SPECIAL: &str = "not a regular file (FIFO, socket or device): never opened";
    /// No format claims it (and its bytes are not a model file's).
    pub const UNKNOWN_FORMAT: &str = "not a known input format";
    /// A folder's README without front matter.
    pub const PLAIN_MARKDOWN: &str = "Markdown without front matter";
    /// The walk could not read it.
    pub const UNREADABLE: &str = "unreadable";
}

/// Expands `paths` into input files. `excludes` are gitignore-style globs relative to each walked folder.
pub fn collect(paths: &[PathBuf], excludes: &[String]) -> Collected {
    let mut out = Collected::default();
    for path in paths {
        let name = path.to_string_lossy();
        // The path named is trusted; what it resolves to may not be: a link in the checkout standing where CI
        // expects a file or folder must not lead the gate out of the tree.
        let parent = confine::real_prefix(&confine::lexical_absolute(path));
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) => {
                let dangling = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
                let message = if dangling { reason::BROKEN_LINK.to_string() } else { super::io_message(&e) };
                out.errors.push(LoadError::file(&name, message));
                continue;
            }
        };
        if !confine::inside(&parent, path) {
            out.errors.push(LoadError::file(
                &name,
                format!("a symbolic link leading outside {}: not followed", parent.display()),
            ));
        } else if let Some(what) = confine::special_file(&meta) {
            out.errors.push(LoadError::file(&name, format!("{what}, not a regular file: never opened")));
        } else if meta.is_dir() {
            walk_dir(path, excludes, &mut out);
        } else {
            out.inputs.push(Input { path: path.clone(), explicit: true });
        }
    }
    out
}

fn walk_dir(root: &Path, excludes: &[String], out: &mut Collected) {
    let mut globs = ignore::gitignore::GitignoreBuilder::new(root);
    for glob in excludes {
        if let Err(e) = globs.add_line(None, glob) {
            out.errors.push(LoadError::file(glob, format!("invalid exclude glob: {e}")));
        }
    }
    let excluded = globs.build().unwrap_or_else(|_| ignore::gitignore::Gitignore::empty());
    let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    // The filter runs inside the walker, which offers no other way to report what it drops.
    let dropped: Arc<Mutex<Vec<Skipped>>> = Arc::default();
    let sink = dropped.clone();
    let mut builder = ignore::WalkBuilder::new(root);
    builder.standard_filters(false).follow_links(true).sort_by_file_name(|a, b| a.cmp(b)).filter_entry(move |entry| {
        if entry.depth() == 0 {
            return true;
        }
        if entry.file_name() == ".git" {
            return false;
        }
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        let why = if excluded.matched(entry.path(), is_dir).is_ignore() {
            Some(reason::EXCLUDED)
        } else if entry.path_is_symlink() && !confine::inside(&real_root, entry.path()) {
            Some(reason::LINK_OUTSIDE)
        } else {
            None
        };
        match why {
            None => true,
            Some(reason) => {
                let skipped = Skipped { path: entry.path().to_path_buf(), reason };
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(skipped);
                false
            }
        }
    });
    for entry in builder.build() {
        // Entries the filter dropped come before any later entry, so the order stays the walk's.
        out.skipped.append(&mut dropped.lock().unwrap_or_else(|e| e.into_inner()));
        match entry {
            Ok(entry) if entry.depth() == 0 => {}
            Ok(entry) => match entry.file_type() {
                Some(t) if t.is_file() => {
                    // Whether a file without a text extension is a model file is decided by its bytes, in `load`.
                    out.inputs.push(Input { path: entry.into_path(), explicit: false });
                }
                Some(t) if t.is_dir() => {}
                _ => out.skipped.push(Skipped { path: entry.into_path(), reason: reason::SPECIAL }),
            },
            Err(e) => {
                let (path, reason) = describe_walk_error(&e);
                match path {
                    Some(path) => out.skipped.push(Skipped { path, reason }),
                    None => out.errors.push(LoadError::file(&root.to_string_lossy(), e.to_string())),
                }
            }
        }
    }
    out.skipped.append(&mut dropped.lock().unwrap_or_else(|e| e.into_inner()));
}

fn describe_walk_error(e: &ignore::Error) -> (Option<PathBuf>, &'static str) {
    match e {
        ignore::Error::WithPath { path, err } => (Some(path.clone()), describe_walk_error(err).1),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => describe_walk_error(err),
        ignore::Error::Loop { child, .. } => (Some(child.clone()), reason::LINK_LOOP),
        ignore::Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => (None, reason::BROKEN_LINK),
        _ => (None, reason::UNREADABLE),
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

/// File extensions of model files: inspected even when their bytes match no known format (and then reported
/// as an unknown format, which is itself a finding for the artifact rules).
const ARTIFACT_EXTENSIONS: &[&str] = &[
    "bin",
    "pt",
    "pth",
    "ckpt",
    "pkl",
    "pickle",
    "joblib",
    "dill",
    "npy",
    "npz",
    "safetensors",
    "gguf",
    "ggml",
    "onnx",
    "keras",
    "h5",
    "hdf5",
    "pb",
    "tflite",
    "mar",
    "msgpack",
];

/// Whether a file is a model artifact: by extension, or by its first bytes.
fn is_artifact(path: &std::path::Path) -> bool {
    use std::io::Read;
    let by_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ARTIFACT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
    if by_name {
        return true;
    }
    let mut head = [0u8; 64];
    let Ok(mut file) = confine::open_regular(path) else { return false };
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    crate::artifact::is_model_file(&head[..filled], &mut file)
}

/// Loads one collected input.
pub fn load(input: &Input, options: &LoadOptions) -> Result<Loaded, LoadError> {
    // Checked again here: `load` is public, and a path may have changed since the walk.
    if let Ok(meta) = std::fs::metadata(&input.path)
        && let Some(what) = confine::special_file(&meta)
    {
        if input.explicit {
            let name = input.path.to_string_lossy();
            return Err(LoadError::file(&name, format!("{what}, not a regular file: never opened")));
        }
        return Ok(Loaded::Skipped(Skipped { path: input.path.clone(), reason: reason::SPECIAL }));
    }
    if Format::from_path(&input.path).is_none() {
        if is_artifact(&input.path) {
            return Ok(Loaded::Documents(vec![Document::from_artifact(&input.path, options)?]));
        }
        if !input.explicit {
            return Ok(Loaded::Skipped(Skipped { path: input.path.clone(), reason: reason::UNKNOWN_FORMAT }));
        }
    }
    let docs = Document::load(&input.path, options)?;
    // A folder's README without front matter is documentation, not a model card.
    let plain_markdown = !input.explicit
        && options.kind.is_none()
        && docs.len() == 1
        && docs[0].format() == Some(Format::Markdown)
        && !markdown_has_front_matter(&docs[0]);
    if plain_markdown {
        return Ok(Loaded::Skipped(Skipped { path: input.path.clone(), reason: reason::PLAIN_MARKDOWN }));
    }
    Ok(Loaded::Documents(docs))
}

fn markdown_has_front_matter(doc: &Document) -> bool {
    doc.source().text().trim_start_matches('\u{feff}').starts_with("---")
}
