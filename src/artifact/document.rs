//! The `ModelArtifact` document: what security policies see.
//!
//! Every key is always present (absent sections are `null` or `[]`) so policy
//! expressions never have to guard against missing keys. Field meanings are
//! documented for policy authors in docs/artifacts.md; keep both in sync.

use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::artifact::pickle::classify::Classification;

/// Container / file format, detected from magic bytes (never the extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactFormat {
    Pickle,
    PytorchZip,
    PytorchLegacy,
    Torchscript,
    Safetensors,
    Gguf,
    Numpy,
    NumpyZip,
    Joblib,
    JoblibCompressed,
    Keras,
    Zip,
    #[serde(rename = "7z")]
    SevenZip,
    Onnx,
    /// HDF5 (legacy Keras `.h5`): not parsed, only searched for code markers.
    Hdf5,
    /// A tar archive that is not a legacy `torch.save` checkpoint.
    Tar,
    Unknown,
}

/// What actually encodes the weights / objects inside the container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Serialization {
    Pickle,
    Safetensors,
    Gguf,
    Numpy,
    Keras,
    Onnx,
    Unknown,
}

/// One-word summary of the code-execution risk, for simple policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing executable found and everything that could hold code was read.
    Clean,
    /// Something that can hold code could not be read (7z, compressed joblib, encrypted entries, ...).
    Uninspected,
    /// Unknown globals, or a pickle scan that stopped on an error.
    Suspicious,
    /// A dangerous global or a Keras Lambda layer.
    Dangerous,
}

/// A global imported by a pickle (GLOBAL, INST, STACK_GLOBAL or EXT*).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GlobalRef {
    pub module: String,
    pub name: String,
    pub classification: Classification,
    /// Why it is dangerous (null for safe/unknown).
    pub reason: Option<String>,
    /// Byte offset of the importing opcode within the pickle stream.
    pub offset: u64,
    pub opcode: &'static str,
}

/// The scan of one pickle stream (a file, or one archive entry).
#[derive(Clone, Debug, Default, Serialize)]
pub struct PickleReport {
    /// Archive entry path (`!` separates nesting levels); null for the file itself.
    pub entry: Option<String>,
    /// Highest PROTO seen (null: protocol 0/1, which has no PROTO opcode).
    pub protocol: Option<u8>,
    pub opcodes: u64,
    /// Number of complete (STOP-terminated) pickles in the stream.
    pub segments: u64,
    /// Distinct globals in order of first appearance.
    pub globals: Vec<GlobalRef>,
    /// REDUCE / BUILD / OBJ / NEWOBJ / NEWOBJ_EX / INST count.
    pub calls: u64,
    /// PERSID / BINPERSID count (PyTorch tensor storages).
    pub persistent_ids: u64,
    /// joblib NumpyArrayWrapper arrays whose raw bytes were stepped over.
    pub joblib_arrays: u64,
    pub bytes_scanned: u64,
    pub errors: Vec<String>,
    /// The scan stopped before the end of the stream (a limit or a parse
    /// error), so whatever follows was not seen. Junk after a complete pickle
    /// does not count: no loader reads past it. Reported through the
    /// artifact's `incomplete`, not serialized here.
    #[serde(skip)]
    pub stopped_early: bool,
}

/// A global summarised across all pickles of the artifact.
#[derive(Clone, Debug, Serialize)]
pub struct GlobalSummary {
    pub module: String,
    pub name: String,
    /// `module.name`, as listed in `dangerous_globals` / `unknown_globals`.
    pub qualified: String,
    pub classification: Classification,
    pub reason: Option<String>,
    /// How many pickle streams import it.
    pub occurrences: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SafetensorsInfo {
    pub valid: bool,
    /// First validation failure (null when valid).
    pub error: Option<String>,
    pub tensors: u64,
    pub dtypes: Vec<String>,
    pub parameters: u64,
    /// `__metadata__` string map (null when absent).
    pub metadata: Option<BTreeMap<String, String>>,
    pub header_bytes: u64,
    pub data_bytes: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct GgufInfo {
    pub version: u32,
    pub tensors: u64,
    pub metadata_keys: u64,
    pub architecture: Option<String>,
    pub model_name: Option<String>,
    pub quantization: Option<String>,
    pub license: Option<String>,
    pub parameters: Option<u64>,
    /// Tensor count per ggml type name (`Q4_K`, `F16`, ...).
    pub tensor_types: BTreeMap<String, u64>,
    /// `tokenizer.chat_template` present (Jinja templates are rendered at run time).
    pub has_chat_template: bool,
    /// Scalar metadata only (numbers, booleans, strings up to 256 bytes).
    pub metadata: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct KerasInfo {
    pub keras_version: Option<String>,
    pub layers: u64,
    /// Names of `Lambda` layers (they carry marshalled Python bytecode).
    pub lambda_layers: Vec<String>,
    /// `module` values outside keras/tensorflow referenced by the config.
    pub external_modules: Vec<String>,
    /// JSON paths of `__lambda__` objects (lambdas used as activations,
    /// losses, ...): marshalled bytecode, like a Lambda layer.
    pub lambda_functions: Vec<String>,
    /// `module.name (reason)` of imports the config makes that classify as
    /// dangerous (`{"module": "os", "class_name": "function", "config": "system"}`).
    pub dangerous_imports: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct NumpyArray {
    pub entry: Option<String>,
    pub version: String,
    /// `descr` as written (`<f4`, or a Python repr for structured dtypes).
    pub dtype: String,
    pub shape: Vec<u64>,
    pub fortran_order: bool,
    /// Object dtype: the payload is a pickle (scanned into `pickles`).
    pub object: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ArchiveInfo {
    pub entries: u64,
    pub encrypted: bool,
    pub encrypted_entries: Vec<String>,
    /// Entry names (first 1000).
    pub names: Vec<String>,
    /// Sum of the uncompressed sizes the archive declares.
    pub declared_bytes: u64,
    /// Decompressed bytes actually read.
    pub read_bytes: u64,
    /// Entries cut at `max_entry_bytes` (or the total cap).
    pub capped_entries: Vec<String>,
    pub nested_archives: u64,
    /// Entries beyond `max_entries` that were not looked at.
    pub skipped_entries: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct OnnxInfo {
    pub ir_version: Option<u64>,
    pub producer_name: Option<String>,
    pub producer_version: Option<String>,
    pub domain: Option<String>,
    pub model_version: Option<u64>,
    pub opsets: Vec<OnnxOpset>,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct OnnxOpset {
    pub domain: String,
    pub version: u64,
}

/// The document policies are written against.
#[derive(Clone, Debug, Serialize)]
pub struct Artifact {
    pub path: String,
    pub name: String,
    pub size: u64,
    pub sha256: Option<String>,
    pub format: ArtifactFormat,
    pub serialization: Serialization,
    pub executes_code_on_load: bool,
    pub verdict: Verdict,
    pub pickles: Vec<PickleReport>,
    pub globals: Vec<GlobalSummary>,
    pub dangerous_globals: Vec<String>,
    pub unknown_globals: Vec<String>,
    pub safetensors: Option<SafetensorsInfo>,
    pub gguf: Option<GgufInfo>,
    pub keras: Option<KerasInfo>,
    pub numpy: Vec<NumpyArray>,
    pub archive: Option<ArchiveInfo>,
    pub onnx: Option<OnnxInfo>,
    /// Things deliberately not inspected (7z, compressed joblib, encrypted entries).
    pub warnings: Vec<String>,
    /// Malformed content or limits hit; findings made before the error are kept.
    pub errors: Vec<String>,
    /// Content that can run code and was not inspected to its end (a pickle
    /// scan stopped by a limit or a parse error, an entry cut by a read cap,
    /// a compressed stream not decompressed): not knowing is not clean.
    pub incomplete: Vec<String>,
}

impl Artifact {
    /// The format as the document spells it (`safetensors`, `pytorch-zip`).
    pub(super) fn format_name(&self) -> String {
        serde_json::to_value(self.format).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }

    pub(super) fn empty(path: &str, size: u64) -> Self {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_string();
        Artifact {
            path: path.to_string(),
            name,
            size,
            sha256: None,
            format: ArtifactFormat::Unknown,
            serialization: Serialization::Unknown,
            executes_code_on_load: false,
            verdict: Verdict::Clean,
            pickles: Vec::new(),
            globals: Vec::new(),
            dangerous_globals: Vec::new(),
            unknown_globals: Vec::new(),
            safetensors: None,
            gguf: None,
            keras: None,
            numpy: Vec::new(),
            archive: None,
            onnx: None,
            warnings: Vec::new(),
            errors: Vec::new(),
            incomplete: Vec::new(),
        }
    }
}
