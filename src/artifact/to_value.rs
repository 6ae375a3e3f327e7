//! The [`Artifact`] document as the engine's [`Value`], built directly.
//!
//! The result is exactly what `Value::from(serde_json::to_value(&artifact))`
//! gives (the serde derive on the document types stays the definition of the
//! shape documented in docs/artifacts.md; the tests below hold the two equal),
//! without building the document twice. Each object is cloned from a
//! per-thread template that already holds its keys (no key allocation or
//! hashing per document), and enum names and empty arrays are shared.
//!
//! This is the one file of the module tree that names a type outside it
//! (`crate::value`): it is the bridge to the engine's data model.

use std::sync::Arc;

use serde::Serialize;

use crate::value::{Map, Value};

use crate::artifact::document::{
    ArchiveInfo, Artifact, ArtifactFormat, Classification, GgufInfo, GlobalRef, GlobalSummary, KerasInfo, NumpyArray,
    OnnxInfo, OnnxOpset, PickleReport, SafetensorsInfo, Serialization, Verdict,
};

pub(crate) const ARTIFACT_KEYS: [&str; 21] = [
    "path",
    "name",
    "size",
    "sha256",
    "format",
    "serialization",
    "executes_code_on_load",
    "verdict",
    "pickles",
    "globals",
    "dangerous_globals",
    "unknown_globals",
    "safetensors",
    "gguf",
    "keras",
    "numpy",
    "archive",
    "onnx",
    "warnings",
    "errors",
    "incomplete",
];
pub(crate) const PICKLE_KEYS: [&str; 10] = [
    "entry",
    "protocol",
    "opcodes",
    "segments",
    "globals",
    "calls",
    "persistent_ids",
    "joblib_arrays",
    "bytes_scanned",
    "errors",
];
pub(crate) const GLOBAL_KEYS: [&str; 6] = ["module", "name", "classification", "reason", "offset", "opcode"];
pub(crate) const SUMMARY_KEYS: [&str; 6] = ["module", "name", "qualified", "classification", "reason", "occurrences"];
pub(crate) const SAFETENSORS_KEYS: [&str; 8] =
    ["valid", "error", "tensors", "dtypes", "parameters", "metadata", "header_bytes", "data_bytes"];
pub(crate) const GGUF_KEYS: [&str; 11] = [
    "version",
    "tensors",
    "metadata_keys",
    "architecture",
    "model_name",
    "quantization",
    "license",
    "parameters",
    "tensor_types",
    "has_chat_template",
    "metadata",
];
pub(crate) const KERAS_KEYS: [&str; 6] =
    ["keras_version", "layers", "lambda_layers", "external_modules", "lambda_functions", "dangerous_imports"];
pub(crate) const NUMPY_KEYS: [&str; 6] = ["entry", "version", "dtype", "shape", "fortran_order", "object"];
pub(crate) const ARCHIVE_KEYS: [&str; 9] = [
    "entries",
    "encrypted",
    "encrypted_entries",
    "names",
    "declared_bytes",
    "read_bytes",
    "capped_entries",
    "nested_archives",
    "skipped_entries",
];
pub(crate) const ONNX_KEYS: [&str; 7] =
    ["ir_version", "producer_name", "producer_version", "domain", "model_version", "opsets", "metadata"];
pub(crate) const OPSET_KEYS: [&str; 2] = ["domain", "version"];

const FORMATS: [ArtifactFormat; 17] = [
    ArtifactFormat::Pickle,
    ArtifactFormat::PytorchZip,
    ArtifactFormat::PytorchLegacy,
    ArtifactFormat::Torchscript,
    ArtifactFormat::Safetensors,
    ArtifactFormat::Gguf,
    ArtifactFormat::Numpy,
    ArtifactFormat::NumpyZip,
    ArtifactFormat::Joblib,
    ArtifactFormat::JoblibCompressed,
    ArtifactFormat::Keras,
    ArtifactFormat::Zip,
    ArtifactFormat::SevenZip,
    ArtifactFormat::Onnx,
    ArtifactFormat::Hdf5,
    ArtifactFormat::Tar,
    ArtifactFormat::Unknown,
];
const SERIALIZATIONS: [Serialization; 7] = [
    Serialization::Pickle,
    Serialization::Safetensors,
    Serialization::Gguf,
    Serialization::Numpy,
    Serialization::Keras,
    Serialization::Onnx,
    Serialization::Unknown,
];
const VERDICTS: [Verdict; 4] = [Verdict::Clean, Verdict::Uninspected, Verdict::Suspicious, Verdict::Dangerous];
const CLASSIFICATIONS: [Classification; 3] = [Classification::Safe, Classification::Unknown, Classification::Dangerous];
/// Opcodes that import globals (the only ones a `GlobalRef` names).
const IMPORT_OPCODES: [&str; 6] = ["GLOBAL", "STACK_GLOBAL", "INST", "EXT1", "EXT2", "EXT4"];

/// Object templates and shared strings, one set per thread (no contention on
/// the reference counts).
struct Shared {
    artifact: Map,
    pickle: Map,
    global: Map,
    summary: Map,
    safetensors: Map,
    gguf: Map,
    keras: Map,
    numpy: Map,
    archive: Map,
    onnx: Map,
    opset: Map,
    empty_array: Value,
    formats: Vec<Value>,
    serializations: Vec<Value>,
    verdicts: Vec<Value>,
    classifications: Vec<Value>,
    opcodes: Vec<Value>,
}

thread_local! {
    static SHARED: Shared = Shared::new();
}

/// The name serde gives an enum variant.
fn serde_name<T: Serialize>(v: T) -> Value {
    Value::from(serde_json::to_value(v).unwrap_or_default())
}

fn template<const N: usize>(keys: [&str; N]) -> Map {
    let mut m = Map::with_capacity_and_hasher(N, Default::default());
    for k in keys {
        m.insert(Arc::from(k), Value::Null);
    }
    m
}

impl Shared {
    fn new() -> Shared {
        Shared {
            artifact: template(ARTIFACT_KEYS),
            pickle: template(PICKLE_KEYS),
            global: template(GLOBAL_KEYS),
            summary: template(SUMMARY_KEYS),
            safetensors: template(SAFETENSORS_KEYS),
            gguf: template(GGUF_KEYS),
            keras: template(KERAS_KEYS),
            numpy: template(NUMPY_KEYS),
            archive: template(ARCHIVE_KEYS),
            onnx: template(ONNX_KEYS),
            opset: template(OPSET_KEYS),
            empty_array: Value::Array(Arc::new(Vec::new())),
            formats: FORMATS.map(serde_name).to_vec(),
            serializations: SERIALIZATIONS.map(serde_name).to_vec(),
            verdicts: VERDICTS.map(serde_name).to_vec(),
            classifications: CLASSIFICATIONS.map(serde_name).to_vec(),
            opcodes: IMPORT_OPCODES.map(Value::from).to_vec(),
        }
    }

    /// An object with the template's keys and `values` in the same order.
    fn object<const N: usize>(template: &Map, values: [Value; N]) -> Value {
        let mut m = template.clone();
        for (i, v) in values.into_iter().enumerate() {
            if let Some((_, slot)) = m.get_index_mut(i) {
                *slot = v;
            }
        }
        Value::Object(Arc::new(m))
    }

    fn array(&self, items: Vec<Value>) -> Value {
        if items.is_empty() { self.empty_array.clone() } else { Value::Array(Arc::new(items)) }
    }

    fn strings(&self, items: &[String]) -> Value {
        self.array(items.iter().map(|s| text(s)).collect())
    }

    fn format(&self, f: ArtifactFormat) -> Value {
        let i = FORMATS.iter().position(|x| *x == f);
        i.and_then(|i| self.formats.get(i).cloned()).unwrap_or_else(|| serde_name(f))
    }

    fn serialization(&self, s: Serialization) -> Value {
        let i = SERIALIZATIONS.iter().position(|x| *x == s);
        i.and_then(|i| self.serializations.get(i).cloned()).unwrap_or_else(|| serde_name(s))
    }

    fn verdict(&self, v: Verdict) -> Value {
        let i = VERDICTS.iter().position(|x| *x == v);
        i.and_then(|i| self.verdicts.get(i).cloned()).unwrap_or_else(|| serde_name(v))
    }

    fn classification(&self, c: Classification) -> Value {
        let i = CLASSIFICATIONS.iter().position(|x| *x == c);
        i.and_then(|i| self.classifications.get(i).cloned()).unwrap_or_else(|| serde_name(c))
    }

    fn opcode(&self, name: &str) -> Value {
        let i = IMPORT_OPCODES.iter().position(|x| *x == name);
        i.and_then(|i| self.opcodes.get(i).cloned()).unwrap_or_else(|| text(name))
    }

    fn artifact(&self, a: &Artifact) -> Value {
        // Each summary repeats the module, name and reason of the first
        // pickle global it counts: those strings are shared, not copied.
        let mut firsts: Vec<Option<[Value; 3]>> = vec![None; a.globals.len()];
        let mut next = 0usize;
        let pickles =
            self.array(a.pickles.iter().map(|p| self.pickle(p, &a.globals, &mut firsts, &mut next)).collect());
        // Each summary's `qualified` is shared with the dangerous/unknown lists that repeat it.
        let qualified: Vec<Value> = a.globals.iter().map(|g| text(&g.qualified)).collect();
        let summaries = self.array(
            a.globals
                .iter()
                .zip(&qualified)
                .zip(firsts)
                .map(|((g, q), first)| self.summary(g, q.clone(), first))
                .collect(),
        );
        Shared::object(
            &self.artifact,
            [
                text(&a.path),
                text(&a.name),
                unsigned(a.size),
                a.sha256.as_deref().map_or(Value::Null, text),
                self.format(a.format),
                self.serialization(a.serialization),
                Value::Bool(a.executes_code_on_load),
                self.verdict(a.verdict),
                pickles,
                summaries,
                self.subsequence(&a.dangerous_globals, &qualified),
                self.subsequence(&a.unknown_globals, &qualified),
                a.safetensors.as_ref().map_or(Value::Null, |s| self.safetensors(s)),
                a.gguf.as_ref().map_or(Value::Null, |g| self.gguf(g)),
                a.keras.as_ref().map_or(Value::Null, |k| self.keras(k)),
                self.array(a.numpy.iter().map(|n| self.numpy(n)).collect()),
                a.archive.as_ref().map_or(Value::Null, |x| self.archive(x)),
                a.onnx.as_ref().map_or(Value::Null, |o| self.onnx(o)),
                self.strings(&a.warnings),
                self.strings(&a.errors),
                self.strings(&a.incomplete),
            ],
        )
    }

    /// `items` as strings, reusing the values of `pool` (in which they appear
    /// in the same order) instead of allocating them again.
    fn subsequence(&self, items: &[String], pool: &[Value]) -> Value {
        let mut next = 0usize;
        let values = items
            .iter()
            .map(|s| {
                let found = pool.get(next..).and_then(|rest| rest.iter().position(|v| v.as_str() == Some(s.as_str())));
                match found {
                    Some(i) => {
                        next += i + 1;
                        pool[next - 1].clone()
                    }
                    None => text(s),
                }
            })
            .collect();
        self.array(values)
    }

    /// A pickle report. `summaries[*next]` is the next summary whose first
    /// occurrence has not been met yet; its strings are left in `firsts`.
    fn pickle(
        &self,
        p: &PickleReport,
        summaries: &[GlobalSummary],
        firsts: &mut [Option<[Value; 3]>],
        next: &mut usize,
    ) -> Value {
        let globals = p
            .globals
            .iter()
            .map(|g| {
                let strings = [text(&g.module), text(&g.name), g.reason.as_deref().map_or(Value::Null, text)];
                if let (Some(s), Some(slot)) = (summaries.get(*next), firsts.get_mut(*next))
                    && s.module == g.module
                    && s.name == g.name
                    && s.reason == g.reason
                {
                    *slot = Some(strings.clone());
                    *next += 1;
                }
                self.global(g, strings)
            })
            .collect();
        Shared::object(
            &self.pickle,
            [
                p.entry.as_deref().map_or(Value::Null, text),
                p.protocol.map_or(Value::Null, |v| Value::Int(i64::from(v))),
                unsigned(p.opcodes),
                unsigned(p.segments),
                self.array(globals),
                unsigned(p.calls),
                unsigned(p.persistent_ids),
                unsigned(p.joblib_arrays),
                unsigned(p.bytes_scanned),
                self.strings(&p.errors),
            ],
        )
    }

    /// A pickle global, given its module, name and reason values.
    fn global(&self, g: &GlobalRef, [module, name, reason]: [Value; 3]) -> Value {
        Shared::object(
            &self.global,
            [module, name, self.classification(g.classification), reason, unsigned(g.offset), self.opcode(g.opcode)],
        )
    }

    /// A summary; `first` holds the module, name and reason values of its first occurrence.
    fn summary(&self, g: &GlobalSummary, qualified: Value, first: Option<[Value; 3]>) -> Value {
        let [module, name, reason] =
            first.unwrap_or_else(|| [text(&g.module), text(&g.name), g.reason.as_deref().map_or(Value::Null, text)]);
        Shared::object(
            &self.summary,
            [module, name, qualified, self.classification(g.classification), reason, unsigned(g.occurrences)],
        )
    }

    fn safetensors(&self, s: &SafetensorsInfo) -> Value {
        Shared::object(
            &self.safetensors,
            [
                Value::Bool(s.valid),
                s.error.as_deref().map_or(Value::Null, text),
                unsigned(s.tensors),
                self.strings(&s.dtypes),
                unsigned(s.parameters),
                s.metadata.as_ref().map_or(Value::Null, |m| string_map(m.iter().map(|(k, v)| (k, text(v))))),
                unsigned(s.header_bytes),
                unsigned(s.data_bytes),
            ],
        )
    }

    fn gguf(&self, g: &GgufInfo) -> Value {
        Shared::object(
            &self.gguf,
            [
                Value::Int(i64::from(g.version)),
                unsigned(g.tensors),
                unsigned(g.metadata_keys),
                g.architecture.as_deref().map_or(Value::Null, text),
                g.model_name.as_deref().map_or(Value::Null, text),
                g.quantization.as_deref().map_or(Value::Null, text),
                g.license.as_deref().map_or(Value::Null, text),
                g.parameters.map_or(Value::Null, unsigned),
                string_map(g.tensor_types.iter().map(|(k, v)| (k, unsigned(*v)))),
                Value::Bool(g.has_chat_template),
                string_map(g.metadata.iter().map(|(k, v)| (k, Value::from(v.clone())))),
            ],
        )
    }

    fn keras(&self, k: &KerasInfo) -> Value {
        Shared::object(
            &self.keras,
            [
                k.keras_version.as_deref().map_or(Value::Null, text),
                unsigned(k.layers),
                self.strings(&k.lambda_layers),
                self.strings(&k.external_modules),
                self.strings(&k.lambda_functions),
                self.strings(&k.dangerous_imports),
            ],
        )
    }

    fn numpy(&self, n: &NumpyArray) -> Value {
        Shared::object(
            &self.numpy,
            [
                n.entry.as_deref().map_or(Value::Null, text),
                text(&n.version),
                text(&n.dtype),
                self.array(n.shape.iter().map(|d| unsigned(*d)).collect()),
                Value::Bool(n.fortran_order),
                Value::Bool(n.object),
            ],
        )
    }

    fn archive(&self, a: &ArchiveInfo) -> Value {
        Shared::object(
            &self.archive,
            [
                unsigned(a.entries),
                Value::Bool(a.encrypted),
                self.strings(&a.encrypted_entries),
                self.strings(&a.names),
                unsigned(a.declared_bytes),
                unsigned(a.read_bytes),
                self.strings(&a.capped_entries),
                unsigned(a.nested_archives),
                unsigned(a.skipped_entries),
            ],
        )
    }

    fn onnx(&self, o: &OnnxInfo) -> Value {
        Shared::object(
            &self.onnx,
            [
                o.ir_version.map_or(Value::Null, unsigned),
                o.producer_name.as_deref().map_or(Value::Null, text),
                o.producer_version.as_deref().map_or(Value::Null, text),
                o.domain.as_deref().map_or(Value::Null, text),
                o.model_version.map_or(Value::Null, unsigned),
                self.array(o.opsets.iter().map(|s| self.opset(s)).collect()),
                string_map(o.metadata.iter().map(|(k, v)| (k, text(v)))),
            ],
        )
    }

    fn opset(&self, s: &OnnxOpset) -> Value {
        Shared::object(&self.opset, [text(&s.domain), unsigned(s.version)])
    }
}

fn text(s: &str) -> Value {
    Value::String(Arc::from(s))
}

/// A `u64` the way serde_json hands it over: an integer when it fits `i64`.
fn unsigned(n: u64) -> Value {
    i64::try_from(n).map_or(Value::Float(n as f64), Value::Int)
}

/// A string-keyed map (BTreeMap order) as an object.
fn string_map<'a>(entries: impl Iterator<Item = (&'a String, Value)>) -> Value {
    Value::Object(Arc::new(entries.map(|(k, v)| (Arc::from(k.as_str()), v)).collect()))
}

impl Artifact {
    /// The document as the engine's value (same shape as its serde form).
    pub fn to_value(&self) -> Value {
        SHARED.with(|s| s.artifact(self))
    }
}

#[cfg(test)]
mod tests;
