//! Loading inputs: files → [`Document`]s with source positions and a detected [`Kind`].
//!
//! Formats: YAML (multi-document), JSON, TOML, Markdown with YAML front matter. Every value keeps the span it
//! came from, so a finding maps to file:line:column. Loading is bounded by [`Limits`]: file size, nesting
//! depth, YAML alias expansion and documents per file.

mod hash_cache;
pub(crate) mod hint;
mod json;
mod json_spans;
mod kind;
mod list;
pub(crate) mod locate;
mod markdown;
mod merge;
mod model_file;
mod toml;
mod walk;
mod yaml;
#[cfg(test)]
mod yaml_reference;
mod yaml_scalar;

use std::path::Path;
use std::sync::{Arc, OnceLock};

pub use crate::artifact::{ArtifactLimits, InspectOptions};
pub use hash_cache::HashCache;
pub use kind::Kind;
pub use locate::Location;
pub use markdown::PLACEHOLDER;
pub use walk::{Collected, Input, Loaded, Skipped, collect, load};

use locate::{Locator, NodeSpan, Spans, Tree};

use indexmap::map::RawEntryApiV1;
use indexmap::map::raw_entry_v1::RawEntryMut;

use crate::source::{Source, Span};
use crate::value::{KeyHasher, Map, Value, key_hash};

/// JSON text → a value by the JSON loader's rules, without locations (`Value::from_json`).
pub(crate) fn json_from_str(text: &str) -> Result<Value, serde_json::Error> {
    json::from_str(text)
}

/// How YAML reads an unquoted scalar (core schema): for writers that must quote what would read differently.
pub(crate) fn resolve_yaml_scalar(text: &str) -> Value {
    yaml::resolve_plain(text)
}

/// Bounds on what one input may cost to load. The defaults suit real artifacts with a wide margin.
///
/// ```
/// let limits = vigil::LoadLimits::default().with_max_file_bytes(1 << 20).with_max_depth(32);
/// assert_eq!((limits.max_file_bytes, limits.max_depth), (1 << 20, 32));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Limits {
    /// Largest text input read, in bytes (default 32 MiB).
    pub max_file_bytes: u64,
    /// Deepest nesting of arrays and objects (default 128).
    pub max_depth: usize,
    /// Most nodes YAML aliases may add to one document (default 100,000).
    pub max_alias_nodes: usize,
    /// Most YAML documents in one file (default 10,000).
    pub max_documents: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_file_bytes: 32 << 20, max_depth: 128, max_alias_nodes: 100_000, max_documents: 10_000 }
    }
}

setters!(Limits {
    /// Sets the largest text input read, in bytes.
    with_max_file_bytes => max_file_bytes: u64,
    /// Sets the deepest nesting of arrays and objects.
    with_max_depth => max_depth: usize,
    /// Sets how many nodes YAML aliases may add to one document.
    with_max_alias_nodes => max_alias_nodes: usize,
    /// Sets how many YAML documents one file may hold.
    with_max_documents => max_documents: usize,
});

/// How an input file is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// YAML 1.2, possibly several documents.
    Yaml,
    /// JSON.
    Json,
    /// TOML.
    Toml,
    /// Markdown with optional YAML front matter.
    Markdown,
}

impl Format {
    /// The lowercase name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Toml => "toml",
            Format::Markdown => "markdown",
        }
    }

    /// The format a file name implies, if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        if matches!(name, "MLproject" | "MLmodel" | "dvc.lock")
            || name.ends_with(".dvc")
            || name.ends_with(".MLproject")
        {
            return Some(Format::Yaml);
        }
        let ext = path.extension()?.to_str()?;
        let is = |names: &[&str]| names.iter().any(|n| ext.eq_ignore_ascii_case(n));
        if is(&["yaml", "yml"]) {
            Some(Format::Yaml)
        } else if is(&["json", "jsonld"]) {
            Some(Format::Json)
        } else if is(&["toml"]) {
            Some(Format::Toml)
        } else if is(&["md", "markdown"]) {
            Some(Format::Markdown)
        } else {
            None
        }
    }
}

/// An input that could not be loaded: which file, what went wrong and, for syntax errors, where.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LoadError {
    /// The file, as the user named it.
    pub file: Arc<str>,
    /// What went wrong.
    pub message: String,
    /// Where in the file, for syntax errors.
    pub span: Option<Span>,
    source_text: Option<Arc<Source>>,
}

impl LoadError {
    pub(crate) fn syntax(src: &Source, span: Span, message: impl Into<String>) -> LoadError {
        LoadError { file: src.name_arc().clone(), message: message.into(), span: Some(span), source_text: None }
    }

    pub(crate) fn file(file: &str, message: impl Into<String>) -> LoadError {
        LoadError { file: file.into(), message: message.into(), span: None, source_text: None }
    }

    pub(crate) fn with_source(mut self, src: &Arc<Source>) -> LoadError {
        self.source_text = Some(src.clone());
        self
    }

    /// The input text, when the error points into it.
    pub fn source_text(&self) -> Option<&Arc<Source>> {
        self.source_text.as_ref()
    }

    /// 1-based line and column of the error, if it has a position.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        Some(self.source_text.as_ref()?.line_col(self.span?.start))
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line_col() {
            Some((line, col)) => write!(f, "{}:{line}:{col}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for LoadError {}

impl miette::Diagnostic for LoadError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(crate::diagnostic::Code::Input.as_str()))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source_text.as_deref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let (span, source) = self.span.zip(self.source_text.as_ref())?;
        let label = miette::LabeledSpan::new_with_span(Some("here".into()), source.display_span(span));
        Some(Box::new(std::iter::once(label)))
    }
}

/// Options for loading inputs: `LoadOptions::default()` and `with_*` setters.
///
/// ```
/// use vigil::{Document, Kind, LoadLimits, LoadOptions};
///
/// let options = LoadOptions::default()
///     .with_kind(Kind::ModelCard)
///     .with_limits(LoadLimits::default().with_max_depth(32));
/// let docs = Document::parse("card.json", r#"{"name": "m"}"#, &options)?;
/// assert_eq!(docs[0].kind(), Kind::ModelCard);
/// # Ok::<(), vigil::LoadError>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Size and shape bounds.
    pub limits: Limits,
    /// Use this kind instead of detecting one.
    pub kind: Option<Kind>,
    /// How model artifacts are inspected (hashing on or off, inspection limits).
    pub artifacts: crate::artifact::InspectOptions,
    /// Reuse artifact digests of files whose size and modification time have not changed. Tool layer
    /// (`policy check --hash-cache`): hidden, not covered by semver.
    #[doc(hidden)]
    pub hash_cache: Option<std::sync::Arc<HashCache>>,
}

impl LoadOptions {
    /// Reads every document as `kind` (or detects kinds again, with `None`).
    #[must_use]
    pub fn with_kind(mut self, kind: impl Into<Option<Kind>>) -> Self {
        self.kind = kind.into();
        self
    }
}

setters!(LoadOptions {
    /// Sets the size and shape bounds.
    with_limits => limits: Limits,
    /// Sets how model artifacts are inspected.
    with_artifacts => artifacts: crate::artifact::InspectOptions,
});

/// One loaded input document: its data, kind, source text and the span of every value.
///
/// Cheap to clone and shareable across threads. A multi-document YAML file yields one `Document` per document.
///
/// ```
/// use vigil::{Document, Kind};
/// let docs = Document::from_str("card.yaml", "kind: ModelCard\nlicense: mit\n").unwrap();
/// assert_eq!(docs[0].kind(), Kind::ModelCard);
/// assert_eq!(docs[0].data().get("license").and_then(|v| v.as_str()), Some("mit"));
/// ```
#[derive(Clone, Debug)]
pub struct Document(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    source: Arc<Source>,
    index: usize,
    kind: Kind,
    format: Option<Format>,
    data: Value,
    data_spans: Spans,
    meta: Value,
    meta_spans: Vec<NodeSpan>,
    /// Where the data sits in its file's tree: `` for a whole document, `/items/3` for an item of a List.
    pointer_prefix: String,
    locators: OnceLock<[Locator; 2]>,
}

impl Document {
    /// Loads every document in the file at `path`, detecting format and kind.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Vec<Document>, LoadError> {
        Document::load(path.as_ref(), &LoadOptions::default())
    }

    /// Parses `text` as if it were the file `name` (the extension picks the format; JSON or YAML otherwise).
    pub fn from_str(name: &str, text: &str) -> Result<Vec<Document>, LoadError> {
        Document::parse(name, text, &LoadOptions::default())
    }

    /// Wraps data that is already in memory (no source positions).
    pub fn from_value(name: &str, kind: Kind, data: Value) -> Document {
        let source = Source::new(name, "");
        let meta = meta_value(&source, kind, None, 0, Value::object());
        Document::assemble(source, 0, kind, None, Tree { value: data, spans: Vec::new() }, meta, String::new())
    }

    /// Loads the file at `path` with explicit options.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Vec<Document>, LoadError> {
        let name = path.to_string_lossy();
        let text = read_text(path, &name, &options.limits)?;
        Document::parse(&name, &text, options)
    }

    /// Parses `text` named `name` with explicit options.
    pub fn parse(name: &str, text: &str, options: &LoadOptions) -> Result<Vec<Document>, LoadError> {
        let format = Format::from_path(Path::new(name))
            .unwrap_or_else(|| if text.trim_start().starts_with(['{', '[']) { Format::Json } else { Format::Yaml });
        if text.len() as u64 > options.limits.max_file_bytes {
            return Err(LoadError::file(
                name,
                format!("larger than the {} byte input limit", options.limits.max_file_bytes),
            ));
        }
        let source = Source::new(name, text);
        parse_source(&source, format, options).map_err(|e| e.with_source(&source))
    }

    fn assemble(
        source: Arc<Source>,
        index: usize,
        kind: Kind,
        format: Option<Format>,
        data: Tree,
        meta: Tree,
        pointer_prefix: String,
    ) -> Document {
        Document::assemble_with(
            source,
            index,
            kind,
            format,
            (data.value, Spans::Eager(data.spans)),
            meta,
            pointer_prefix,
        )
    }

    fn assemble_with(
        source: Arc<Source>,
        index: usize,
        kind: Kind,
        format: Option<Format>,
        (data, data_spans): (Value, Spans),
        meta: Tree,
        pointer_prefix: String,
    ) -> Document {
        Document(Arc::new(Inner {
            source,
            index,
            kind,
            format,
            data,
            data_spans,
            meta: meta.value,
            meta_spans: meta.spans,
            pointer_prefix,
            locators: OnceLock::new(),
        }))
    }

    /// What the document is.
    pub fn kind(&self) -> Kind {
        self.0.kind
    }

    /// The file's name as given.
    pub fn name(&self) -> &str {
        self.0.source.name()
    }

    /// Position of this document within its file (multi-document YAML; each item of a Kubernetes list counts
    /// as one), from 0.
    pub fn index(&self) -> usize {
        self.0.index
    }

    /// The file's encoding, when it is a text format.
    pub fn format(&self) -> Option<Format> {
        self.0.format
    }

    /// The data policies see as `input`.
    pub fn data(&self) -> &Value {
        &self.0.data
    }

    /// What policies see as `doc`: path, kind, format, index and the Markdown sections.
    pub fn meta(&self) -> &Value {
        &self.0.meta
    }

    /// The source text (empty for data given as a value).
    pub fn source(&self) -> &Arc<Source> {
        &self.0.source
    }

    /// Where a value that belongs to this document came from.
    pub fn locate(&self, node: &Value) -> Option<Location> {
        let [data, meta] = self.0.locators.get_or_init(|| {
            let scanned;
            let data_spans = match &self.0.data_spans {
                Spans::Eager(spans) => spans,
                Spans::Scan => {
                    scanned = json_spans::scan(self.0.source.text());
                    &scanned
                }
            };
            [
                Locator::build(&self.0.data, data_spans, &self.0.pointer_prefix),
                Locator::build(&self.0.meta, &self.0.meta_spans, "/$doc"),
            ]
        });
        data.locate(node).or_else(|| meta.locate(node))
    }

    /// Whether two handles refer to the same loaded document.
    pub fn same(&self, other: &Document) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

fn read_text(path: &Path, name: &str, limits: &Limits) -> Result<String, LoadError> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| LoadError::file(name, io_message(&e)))?;
    if !meta.is_file() {
        return Err(LoadError::file(name, "not a regular file"));
    }
    if meta.len() > limits.max_file_bytes {
        return Err(LoadError::file(
            name,
            format!("{} bytes is over the {} byte input limit", meta.len(), limits.max_file_bytes),
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| LoadError::file(name, io_message(&e)))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow after `metadata`: never read past the limit.
    file.take(limits.max_file_bytes + 1).read_to_end(&mut bytes).map_err(|e| LoadError::file(name, io_message(&e)))?;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(LoadError::file(name, format!("over the {} byte input limit", limits.max_file_bytes)));
    }
    String::from_utf8(bytes).map_err(|e| {
        LoadError::file(name, format!("not valid UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()))
    })
}

pub(crate) fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn parse_source(source: &Arc<Source>, format: Format, options: &LoadOptions) -> Result<Vec<Document>, LoadError> {
    let limits = &options.limits;
    let path = Path::new(source.name());
    let documents = match format {
        // An empty document (a stray `---`, a file of comments) holds nothing to check.
        Format::Yaml => {
            yaml::parse_stream(source, source.text(), 0, limits)?.into_iter().filter(|t| !t.value.is_null()).collect()
        }
        Format::Json => {
            let value = json::parse(source, limits)?;
            if !list::is_list(&value) {
                // Spans stay in the text until a finding needs one (see `json_spans`).
                let kind = options.kind.unwrap_or_else(|| kind::detect(path, &value));
                let meta = meta_tree(source, kind, Some(format), 0, no_sections());
                let data = (value, Spans::Scan);
                return Ok(vec![Document::assemble_with(
                    source.clone(),
                    0,
                    kind,
                    Some(format),
                    data,
                    meta,
                    String::new(),
                )]);
            }
            // The items of a list are located within it: they need the file's spans now.
            vec![Tree { spans: json_spans::scan(source.text()), value }]
        }
        Format::Toml => vec![toml::parse(source, limits)?],
        Format::Markdown => {
            let card = markdown::parse(source, limits)?;
            let front_matter =
                card.front_matter.unwrap_or(Tree { value: Value::object(), spans: vec![NodeSpan::default()] });
            let kind = options
                .kind
                .unwrap_or_else(|| kind::detect_card(path, source.text(), &front_matter.value, &card.sections.value));
            let meta = meta_tree(source, kind, Some(format), 0, card.sections);
            let doc = Document::assemble(source.clone(), 0, kind, Some(format), front_matter, meta, String::new());
            return Ok(vec![doc]);
        }
    };
    // A Kubernetes list is its items, each a document (see `list`).
    let mut trees = Vec::with_capacity(documents.len());
    for tree in documents {
        match list::unwrap(source, &tree) {
            Some(items) => trees.extend(items?.into_iter().map(|item| (item.tree, item.prefix))),
            None => trees.push((tree, String::new())),
        }
    }
    if trees.len() > limits.max_documents {
        let max = limits.max_documents;
        return Err(LoadError::file(source.name(), format!("more than {max} documents in one file")));
    }
    Ok(trees
        .into_iter()
        .enumerate()
        .map(|(index, (tree, prefix))| {
            let kind = options.kind.unwrap_or_else(|| kind::detect(path, &tree.value));
            let meta = meta_tree(source, kind, Some(format), index, no_sections());
            Document::assemble(source.clone(), index, kind, Some(format), tree, meta, prefix)
        })
        .collect())
}

fn meta_value(source: &Source, kind: Kind, format: Option<Format>, index: usize, sections: Value) -> Tree {
    let values = [
        Value::from(source.name()),
        Value::from(kind.name()),
        format.map_or(Value::Null, |f| Value::from(f.name())),
        Value::Int(index as i64),
        sections,
    ];
    let mut map = Map::with_capacity_and_hasher(META_KEYS.len(), KeyHasher);
    let insert = |map: &mut Map, keys: &[(Arc<str>, u64); 5], values: [Value; 5]| {
        for ((key, hash), value) in keys.iter().zip(values) {
            if let RawEntryMut::Vacant(slot) = map.raw_entry_mut_v1().from_hash(*hash, |_| false) {
                slot.insert_hashed_nocheck(*hash, key.clone(), value);
            }
        }
    };
    let mut values = Some(values);
    let _ = META.try_with(|meta| insert(&mut map, &meta.keys, values.take().unwrap_or_default()));
    // In a thread-local destructor, after the shared keys are gone: keys of its own.
    if let Some(values) = values {
        insert(&mut map, &Meta::keys(), values);
    }
    Tree { value: Value::Object(Arc::new(map)), spans: Vec::new() }
}

/// The keys of the `doc` tree.
const META_KEYS: [&str; 5] = ["path", "kind", "format", "index", "sections"];

/// What every `doc` tree built on this thread shares: its keys (with their hashes) and the empty `sections`
/// of documents that are not Markdown. Neither is ever located by its `Arc` (keys are not values, and the
/// locator leaves empty collections out of its by-contents index), so sharing them moves no location.
struct Meta {
    keys: [(Arc<str>, u64); 5],
    no_sections: Value,
}

impl Meta {
    fn keys() -> [(Arc<str>, u64); 5] {
        META_KEYS.map(|key| (Arc::from(key), key_hash(key)))
    }
}

thread_local! {
    static META: Meta = Meta { keys: Meta::keys(), no_sections: Value::object() };
}

/// A `sections` tree for a document without Markdown sections.
fn no_sections() -> Tree {
    Tree {
        value: META.try_with(|meta| meta.no_sections.clone()).unwrap_or_else(|_| Value::object()),
        spans: Vec::new(),
    }
}

/// The `doc` tree: only the sections have positions; the rest is located at the top of the file. (A locator
/// takes missing spans as the top of the file: when no section has a position, no span is stored.)
fn meta_tree(source: &Source, kind: Kind, format: Option<Format>, index: usize, sections: Tree) -> Tree {
    let mut tree = meta_value(source, kind, format, index, sections.value);
    if sections.spans.iter().any(|s| *s != NodeSpan::default()) {
        tree.spans = vec![NodeSpan::default(); 5];
        tree.spans.extend(sections.spans);
    }
    tree
}
