//! The loader's bridge to the model-file inspector ([`crate::artifact`]): a model file becomes one
//! `ModelArtifact` [`Document`] built from the inspector's facts, with the digest cache consulted on the way.
//! The walker decides what is a model file (`walk.rs`, by extension or `artifact::is_model_file`).

use std::path::Path;

use crate::artifact;

use super::{Document, Kind, LoadError, LoadOptions, io_message};

impl Document {
    /// Inspects a model file (weights, pickle, archive) without loading it, as a `ModelArtifact` document.
    /// See `docs/artifacts.md` for the fields.
    pub fn from_artifact(path: &Path, options: &LoadOptions) -> Result<Document, LoadError> {
        let name = path.to_string_lossy();
        // The digest cache is keyed by size and modification time; without it (or without hashing) the file's
        // metadata is only needed by the inspector itself, which reads it from the open file.
        let cache = options.hash_cache.as_ref().filter(|_| options.artifacts.hash);
        let meta = match cache {
            Some(_) => Some(std::fs::metadata(path).map_err(|e| LoadError::file(&name, io_message(&e)))?),
            None => None,
        };
        let mut inspect = options.artifacts.clone();
        let cached = cache.zip(meta.as_ref()).and_then(|(c, meta)| c.lookup(path, meta));
        if cached.is_some() {
            inspect.hash = false;
        }
        let mut facts = artifact::inspect_path(path, &inspect).map_err(|e| LoadError::file(&name, io_message(&e)))?;
        if let Some(sha) = cached {
            facts.sha256 = Some(sha);
        } else if let (Some(cache), Some(meta), Some(sha)) = (cache, &meta, &facts.sha256) {
            cache.store(path, meta, sha);
        }
        let data = facts.to_value();
        let kind = options.kind.unwrap_or(Kind::ModelArtifact);
        Ok(Document::from_value(&name, kind, data))
    }

    /// Inspects model-file bytes held in memory (already fetched blobs, fuzzing) as a `ModelArtifact` document.
    pub fn from_artifact_bytes(name: &str, bytes: &[u8], options: &LoadOptions) -> Document {
        let facts = artifact::inspect_bytes(name, bytes, &options.artifacts);
        let data = facts.to_value();
        Document::from_value(name, options.kind.unwrap_or(Kind::ModelArtifact), data)
    }
}
