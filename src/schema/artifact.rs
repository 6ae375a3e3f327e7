//! The `ModelArtifact` schema, built from the inspector's own field lists (`artifact::to_value`), so it
//! cannot drift from what the inspector writes; descriptions come from the field tables of
//! docs/artifacts.md, which document the same fields.

use serde_json::{Map, Value as Json, json};

use crate::artifact::to_value as keys;

const DOCS: &str = include_str!("../../docs/artifacts.md");

/// `| `name` | type | description |` rows of the docs section whose heading starts with `heading`.
fn descriptions(heading: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in DOCS.lines() {
        if line.starts_with('#') {
            inside = line.trim_start_matches('#').trim().starts_with(heading);
            continue;
        }
        if !inside || !line.starts_with("| `") {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let Some(description) = cells.last() else { continue };
        for name in cells[0].split(',').map(|n| n.trim().trim_matches('`')) {
            out.push((name.to_string(), first_sentence(description)));
        }
    }
    out
}

fn first_sentence(text: &str) -> String {
    let end = text.find(". ").map_or(text.len(), |i| i + 1);
    text[..end].to_string()
}

/// A closed object of `names`, described from the docs section `heading`, with some members' schemas given.
fn object(names: &[&str], heading: &str, nested: &[(&str, Json)]) -> Json {
    let described = descriptions(heading);
    let mut properties = Map::new();
    for name in names {
        let mut schema = nested.iter().find(|(n, _)| n == name).map_or_else(|| json!({}), |(_, s)| s.clone());
        if let Some((_, d)) = described.iter().find(|(n, _)| n == name) {
            schema["description"] = Json::from(d.clone());
        }
        properties.insert(name.to_string(), schema);
    }
    json!({"type": "object", "additionalProperties": false, "properties": properties})
}

fn array_of(item: Json) -> Json {
    json!({"type": "array", "items": item})
}

/// The schema of a `ModelArtifact` document.
pub(super) fn schema() -> Json {
    let pickle_global = object(&keys::GLOBAL_KEYS, "`globals[]` inside", &[]);
    let pickle = object(&keys::PICKLE_KEYS, "`pickles[]`", &[("globals", array_of(pickle_global))]);
    let summary = object(&keys::SUMMARY_KEYS, "`globals[]` (top level)", &[]);
    let onnx = object(
        &keys::ONNX_KEYS,
        "`onnx`",
        &[("opsets", array_of(object(&keys::OPSET_KEYS, "`onnx`", &[]))), ("metadata", json!({"type": "object"}))],
    );
    let open_map = json!({"type": "object"});
    object(
        &keys::ARTIFACT_KEYS,
        "Top-level fields",
        &[
            ("pickles", array_of(pickle)),
            ("globals", array_of(summary)),
            ("safetensors", object(&keys::SAFETENSORS_KEYS, "`safetensors`", &[("metadata", open_map.clone())])),
            ("gguf", object(&keys::GGUF_KEYS, "`gguf`", &[("metadata", open_map.clone()), ("tensor_types", open_map)])),
            ("keras", object(&keys::KERAS_KEYS, "`keras`", &[])),
            ("numpy", array_of(object(&keys::NUMPY_KEYS, "`numpy[]`", &[]))),
            ("archive", object(&keys::ARCHIVE_KEYS, "`archive`", &[])),
            ("onnx", onnx),
        ],
    )
}
