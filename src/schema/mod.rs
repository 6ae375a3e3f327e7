//! Input schemas: what data each document kind can hold, so the checker can warn when a policy reads a path
//! that cannot exist (`input.licence` in a model card) and the language server can describe and complete
//! input paths.
//!
//! Schemas are JSON Schema documents, read lazily: only the shape keywords matter (`properties`,
//! `additionalProperties`, `patternProperties`, `items`, `$ref`, `allOf`/`anyOf`/`oneOf`) and `description`.
//! A path is reported only where every schema the rule's kinds have is *closed* (`additionalProperties:
//! false`) and none declares the member: an open object, a kind without a schema or an unresolvable
//! reference means "anything may be here", so nothing is reported (warnings must never be noise).
//!
//! The built-in schemas are data files in `builtin/` (the CycloneDX one is derived from the published
//! schema by `scripts/compact-schema.py`); `ModelArtifact`'s is built from the inspector's own field lists
//! (`artifact.rs`). Users add schemas per kind (`[schemas]` in vigil.toml, `EngineBuilder::schema`); a
//! user schema is an alternative to the built-in one, so it can only allow more.

mod artifact;
mod lint;

use std::sync::{Arc, OnceLock};

use serde_json::Value as Json;

use crate::input::Kind;

pub(crate) use lint::{PathNote, lint};

/// One schema document.
#[derive(Debug)]
pub(crate) struct SchemaDoc {
    /// How `$ref`s from other documents name it (`kubernetes#/definitions/objectMeta`), and what messages
    /// call it.
    pub name: String,
    pub json: Json,
}

/// The schemas of every kind: built-in ones plus the user's.
#[derive(Clone, Debug)]
pub(crate) struct Schemas {
    docs: Vec<Slot>,
    /// Kind → (document index, JSON pointer of the root inside it).
    roots: Vec<(Kind, usize, &'static str)>,
}

/// A schema document: a built-in one (parsed on first use, by index into `BUILTIN` then `artifact` and
/// `doc`), or the user's.
#[derive(Clone, Debug)]
enum Slot {
    Builtin(usize),
    User(Arc<SchemaDoc>),
}

fn builtin_name(index: usize) -> &'static str {
    match BUILTIN.get(index) {
        Some((name, _)) => name,
        None if index == BUILTIN.len() => "artifact",
        None => "doc",
    }
}

fn builtin_index(name: &str) -> Option<usize> {
    (0..BUILTIN.len() + 2).find(|i| builtin_name(*i) == name)
}

/// A built-in schema, parsed the first time it is needed.
fn builtin_doc(index: usize) -> &'static SchemaDoc {
    const N: usize = BUILTIN.len() + 2;
    static PARSED: [OnceLock<SchemaDoc>; N] = [const { OnceLock::new() }; N];
    PARSED[index.min(N - 1)].get_or_init(|| {
        let json = match BUILTIN.get(index) {
            Some((_, text)) => serde_json::from_str(text).expect("built-in schemas are valid JSON (tested)"),
            None if index == BUILTIN.len() => artifact::schema(),
            None => meta_schema(),
        };
        SchemaDoc { name: builtin_name(index).to_string(), json }
    })
}

/// A place in a schema.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node<'s> {
    doc: usize,
    json: &'s Json,
}

/// What a value in a policy can be, as far as the schemas know.
#[derive(Clone, Debug, Default)]
pub(crate) struct Shape<'s> {
    /// Schemas the value matches (one of them).
    pub nodes: Vec<Node<'s>>,
    /// The value may also be anything (an open schema, a kind without one, a computed value).
    pub any: bool,
}

impl Shape<'_> {
    /// Nothing is known.
    pub fn any() -> Self {
        Shape { nodes: Vec::new(), any: true }
    }
}

/// The outcome of reading a member.
pub(crate) enum Member<'s> {
    /// It may exist; what it holds.
    Found(Shape<'s>),
    /// It cannot exist (every schema is closed there), or — when `near_miss_only` — it may, but a schema
    /// asks for near misses of its members to be reported (`x-vigil-typos`). The members that can.
    Missing { known: Vec<String>, near_miss_only: bool },
}

const BUILTIN: &[(&str, &str)] = &[
    ("modelcard", include_str!("builtin/modelcard.json")),
    ("mlbom", include_str!("builtin/mlbom.json")),
    ("github", include_str!("builtin/github.json")),
    ("kubernetes", include_str!("builtin/kubernetes.json")),
    ("kserve", include_str!("builtin/kserve.json")),
    ("seldon", include_str!("builtin/seldon.json")),
    ("argo", include_str!("builtin/argo.json")),
    ("kubeflow", include_str!("builtin/kubeflow.json")),
    ("dvc", include_str!("builtin/dvc.json")),
    ("mlflow", include_str!("builtin/mlflow.json")),
    ("exchange", include_str!("builtin/exchange.json")),
];

/// Which built-in schema (and where in it) describes each kind.
const KIND_ROOTS: &[(Kind, &str, &str)] = &[
    (Kind::ModelCard, "modelcard", ""),
    (Kind::MLBom, "mlbom", ""),
    (Kind::GitHubWorkflow, "github", ""),
    (Kind::Kubernetes, "kubernetes", ""),
    (Kind::InferenceService, "kserve", ""),
    (Kind::Seldon, "seldon", ""),
    (Kind::ArgoWorkflow, "argo", ""),
    (Kind::KubeflowPipeline, "kubeflow", ""),
    (Kind::DvcPipeline, "dvc", "/definitions/pipeline"),
    (Kind::DvcLock, "dvc", "/definitions/lock"),
    (Kind::DvcFile, "dvc", "/definitions/file"),
    (Kind::MLproject, "mlflow", "/definitions/project"),
    (Kind::MLmodel, "mlflow", "/definitions/model"),
    (Kind::InferenceExchange, "exchange", ""),
    (Kind::ModelArtifact, "artifact", ""),
];

/// How deep `$ref`s and combinators are followed: schemas may be recursive (a CycloneDX component holds
/// components).
const MAX_DEPTH: usize = 12;

impl Schemas {
    /// The built-in schemas. Each is parsed the first time a rule of its kinds is checked: the CycloneDX
    /// one alone is 94 KB, which a run checking only model-card rules should not pay for.
    pub(crate) fn builtin() -> Schemas {
        let mut docs: Vec<Slot> = (0..BUILTIN.len()).map(Slot::Builtin).collect();
        docs.push(Slot::Builtin(BUILTIN.len())); // `artifact`
        docs.push(Slot::Builtin(BUILTIN.len() + 1)); // `doc`
        let roots = KIND_ROOTS
            .iter()
            .filter_map(|(kind, name, pointer)| Some((*kind, builtin_index(name)?, *pointer)))
            .collect();
        Schemas { docs, roots }
    }

    /// The built-in schemas plus the user's, each for a kind.
    pub(crate) fn with(extra: &[(Kind, Arc<SchemaDoc>)]) -> Schemas {
        let mut schemas = Schemas::builtin();
        for (kind, doc) in extra {
            schemas.docs.push(Slot::User(doc.clone()));
            schemas.roots.push((*kind, schemas.docs.len() - 1, ""));
        }
        schemas
    }

    fn doc(&self, index: usize) -> &SchemaDoc {
        match &self.docs[index] {
            Slot::Builtin(i) => builtin_doc(*i),
            Slot::User(doc) => doc,
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        (0..self.docs.len()).find(|i| match &self.docs[*i] {
            Slot::Builtin(b) => builtin_name(*b) == name,
            Slot::User(doc) => doc.name == name,
        })
    }

    /// The shape of `input` for a rule that applies to `kinds` (and the kinds they cover).
    pub(crate) fn input(&self, kinds: &[Kind]) -> Shape<'_> {
        let mut shape = Shape::default();
        for doc_kind in Kind::ALL.iter().filter(|k| **k != Kind::Unknown && kinds.iter().any(|r| r.covers(**k))) {
            let mut found = false;
            for (kind, doc, pointer) in &self.roots {
                if kind == doc_kind
                    && let Some(json) = self.doc(*doc).json.pointer(pointer)
                {
                    shape.nodes.push(Node { doc: *doc, json });
                    found = true;
                }
            }
            shape.any |= !found;
        }
        shape.any |= shape.nodes.is_empty();
        shape
    }

    /// The shape of `doc`, the metadata of every document.
    pub(crate) fn meta(&self) -> Shape<'_> {
        let doc = self.position("doc").expect("built in");
        Shape { nodes: vec![Node { doc, json: &self.doc(doc).json }], any: false }
    }

    /// Whether `kind` has a schema.
    #[cfg(test)]
    pub(crate) fn has(&self, kind: Kind) -> bool {
        self.roots.iter().any(|(k, _, _)| *k == kind)
    }

    /// A node's alternatives with references and combinators followed. `any` is set when one of them
    /// could not be followed.
    fn expand<'s>(&'s self, node: Node<'s>, depth: usize, out: &mut Vec<Node<'s>>, any: &mut bool) {
        if depth > MAX_DEPTH {
            *any = true;
            return;
        }
        let Some(object) = node.json.as_object() else {
            // `true` (anything) and `false` (nothing) schemas.
            *any |= node.json != &Json::Bool(false);
            return;
        };
        if let Some(reference) = object.get("$ref").and_then(Json::as_str) {
            match self.resolve(node.doc, reference) {
                Some(target) => self.expand(target, depth + 1, out, any),
                None => *any = true,
            }
        }
        let mut combined = false;
        for key in ["allOf", "anyOf", "oneOf"] {
            for branch in object.get(key).and_then(Json::as_array).into_iter().flatten() {
                combined = true;
                self.expand(Node { doc: node.doc, json: branch }, depth + 1, out, any);
            }
        }
        let shaped = ["properties", "additionalProperties", "patternProperties", "items", "type"]
            .iter()
            .any(|k| object.contains_key(*k));
        if shaped || (!combined && !object.contains_key("$ref")) {
            out.push(node);
        }
    }

    fn resolve(&self, doc: usize, reference: &str) -> Option<Node<'_>> {
        let (name, pointer) = reference.split_once('#')?;
        let doc = if name.is_empty() { doc } else { self.position(name)? };
        Some(Node { doc, json: self.doc(doc).json.pointer(pointer)? })
    }

    fn alternatives<'s>(&'s self, shape: &Shape<'s>) -> (Vec<Node<'s>>, bool) {
        let mut out = Vec::new();
        let mut any = shape.any;
        for node in &shape.nodes {
            self.expand(*node, 0, &mut out, &mut any);
        }
        (out, any)
    }

    /// Reads member `name` of a value of this shape.
    pub(crate) fn member<'s>(&'s self, shape: &Shape<'s>, name: &str) -> Member<'s> {
        let (alternatives, mut any) = self.alternatives(shape);
        let mut found = Shape::default();
        let mut known = Vec::new();
        let mut near_miss_only = false;
        for alt in alternatives {
            let object = alt.json.as_object().expect("expand keeps objects only");
            if let Some(p) = object.get("properties").and_then(|p| p.get(name)) {
                found.nodes.push(Node { doc: alt.doc, json: p });
                continue;
            }
            let pattern = object.get("patternProperties").and_then(Json::as_object).and_then(|patterns| {
                patterns.iter().find(|(re, _)| regex::Regex::new(re).is_ok_and(|re| re.is_match(name)))
            });
            if let Some((_, p)) = pattern {
                found.nodes.push(Node { doc: alt.doc, json: p });
                continue;
            }
            match object.get("additionalProperties") {
                Some(Json::Bool(false)) if object.get("patternProperties").is_none() => {
                    known.extend(property_names(object));
                }
                Some(p @ Json::Object(_)) => found.nodes.push(Node { doc: alt.doc, json: p }),
                _ if object.get("x-vigil-typos") == Some(&Json::Bool(true)) => {
                    near_miss_only = true;
                    known.extend(property_names(object));
                }
                _ => any = true,
            }
        }
        if found.nodes.is_empty() && !any {
            known.sort();
            known.dedup();
            return Member::Missing { known, near_miss_only };
        }
        found.any = any;
        Member::Found(found)
    }

    /// The elements of an array (or values of an object) of this shape.
    pub(crate) fn items<'s>(&'s self, shape: &Shape<'s>) -> Shape<'s> {
        let (alternatives, mut any) = self.alternatives(shape);
        let mut out = Shape::default();
        for alt in alternatives {
            match alt.json.get("items").or_else(|| alt.json.get("additionalProperties").filter(|a| a.is_object())) {
                Some(items) => out.nodes.push(Node { doc: alt.doc, json: items }),
                None => any = true,
            }
        }
        out.any = any || out.nodes.is_empty();
        out
    }

    /// The members a value of this shape is known to have, with their descriptions, for completion.
    pub(crate) fn members<'s>(&'s self, shape: &Shape<'s>) -> Vec<(String, Option<String>)> {
        let (alternatives, _) = self.alternatives(shape);
        let mut out: Vec<(String, Option<String>)> = Vec::new();
        for alt in alternatives {
            for (name, p) in alt.json.get("properties").and_then(Json::as_object).into_iter().flatten() {
                if !out.iter().any(|(n, _)| n == name) {
                    out.push((
                        name.clone(),
                        self.description(&Shape { nodes: vec![Node { doc: alt.doc, json: p }], any: false }),
                    ));
                }
            }
        }
        out
    }

    /// The first description of this shape (following references).
    pub(crate) fn description<'s>(&'s self, shape: &Shape<'s>) -> Option<String> {
        let direct = shape.nodes.iter().find_map(|n| n.json.get("description").and_then(Json::as_str));
        if let Some(d) = direct {
            return Some(d.to_string());
        }
        let (alternatives, _) = self.alternatives(shape);
        alternatives.iter().find_map(|n| n.json.get("description").and_then(Json::as_str)).map(str::to_string)
    }
}

/// `doc`: the metadata every document has (docs/language.md).
fn meta_schema() -> Json {
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "path": {"type": "string", "description": "The file the document came from."},
            "kind": {"type": "string", "description": "The document's kind (`ModelCard`, `MLBom` ...)."},
            "format": {"description": "The file format (`yaml`, `json`, `markdown` ...), or null for model files."},
            "index": {"type": "integer", "description": "Position of the document in a multi-document file."},
            "sections": {"type": "object", "description": "Markdown cards: heading text → section text (null when only a template placeholder)."}
        }
    })
}

/// Parses a user's JSON Schema; the error names the line and column.
pub(crate) fn parse_user(name: &str, text: &str) -> Result<SchemaDoc, String> {
    let json: Json = serde_json::from_str(text).map_err(|e| format!("{name}:{}:{}: {e}", e.line(), e.column()))?;
    if !json.is_object() && !json.is_boolean() {
        return Err(format!("{name}: a JSON Schema is an object (or `true`/`false`)"));
    }
    Ok(SchemaDoc { name: name.to_string(), json })
}

/// The names a schema object declares under `properties`.
fn property_names(object: &serde_json::Map<String, Json>) -> impl Iterator<Item = String> + '_ {
    object.get("properties").and_then(Json::as_object).into_iter().flatten().map(|(k, _)| k.clone())
}

#[cfg(test)]
mod tests;
