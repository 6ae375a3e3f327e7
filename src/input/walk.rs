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
                // Whether a file without a text extension is a model artifact is decided by its bytes, in `load`.
                out.inputs.push(Input { path: entry.into_path(), explicit: false });
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
    let Ok(mut file) = std::fs::File::open(path) else { return false };
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    super::artifact::sniff(&head[..filled]).is_some() || super::artifact::is_pickle_file(path)
}

/// Loads one collected input.
pub fn load(input: &Input, options: &LoadOptions) -> Result<Loaded, LoadError> {
    if Format::from_path(&input.path).is_none() {
        if is_artifact(&input.path) {
            return Ok(Loaded::Documents(vec![Document::from_artifact(&input.path, options)?]));
        }
        if !input.explicit {
            return Ok(Loaded::Skipped(Skipped { path: input.path.clone(), reason: "not a known input format" }));
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
        return Ok(Loaded::Skipped(Skipped { path: input.path.clone(), reason: "Markdown without front matter" }));
    }
    Ok(Loaded::Documents(docs))
}

fn markdown_has_front_matter(doc: &Document) -> bool {
    doc.source().text().trim_start_matches('\u{feff}').starts_with("---")
}
