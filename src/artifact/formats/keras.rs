//! Keras v3 `.keras` archives: `config.json` (the model graph) and
//! `metadata.json` (versions). Code reaches a Keras config three ways, all
//! reported wherever they appear in the nested config:
//! * a `Lambda` layer carries marshalled Python bytecode (run with
//!   `safe_mode=False`);
//! * a `__lambda__` object (a lambda used as an activation, a loss, any
//!   callable argument) carries the same;
//! * a `module` outside the Keras namespace makes the loader import that
//!   module and fetch `class_name` (or, for `class_name: "function"`, the
//!   function named by `config`) from it: the CVE-2025-1550 shape, which
//!   `safe_mode` did not stop. Those are classified like pickle globals.
//!
//! The legacy HDF5 format (`.h5`) is not parsed: [`scan_hdf5`] only searches
//! its bytes for the same markers.

use std::collections::BTreeSet;
use std::io::Read;

use serde_json::Value;

use crate::artifact::document::KerasInfo;
use crate::artifact::pickle::classify::{Classification, classify};

/// serde_json already stops at 128 levels; this is a second guard.
const MAX_DEPTH: usize = 256;
const MAX_REPORTED: usize = 1000;

/// Roots of module paths that belong to Keras itself.
const KERAS_ROOTS: &[&str] = &["keras", "tf_keras", "tensorflow", "keras_nlp", "keras_hub", "keras_cv"];

/// Keras JSON read into memory; a larger `config.json` is not inspected,
/// which is itself a blocking finding (the caller reports it).
pub(in crate::artifact) const MAX_JSON: u64 = 64 << 20;

/// The Keras JSON members found while walking a `.keras` archive.
#[derive(Default)]
pub(in crate::artifact) struct KerasFiles {
    config: Option<Value>,
    metadata: Option<Value>,
}

/// Root-level members of a `.keras` archive that describe the model.
pub(in crate::artifact) fn is_json_member(name: &str) -> bool {
    name == "config.json" || name == "metadata.json"
}

/// Why a Keras JSON member could not be used.
pub(in crate::artifact) enum ReadError {
    /// The member could hold the model and was not (fully) read.
    Unread(String),
    /// Valid JSON, but not a Keras model config: the archive is not a Keras model.
    NotKeras,
}

impl KerasFiles {
    /// Read one JSON member (bounded by `MAX_JSON`).
    pub(in crate::artifact) fn read(&mut self, name: &str, r: &mut dyn Read) -> Result<(), ReadError> {
        let mut buf = Vec::new();
        r.take(MAX_JSON + 1).read_to_end(&mut buf).map_err(|e| ReadError::Unread(format!("read error: {e}")))?;
        if buf.len() as u64 > MAX_JSON {
            return Err(ReadError::Unread(format!("larger than {MAX_JSON} bytes; not inspected")));
        }
        let v: Value = serde_json::from_slice(&buf).map_err(|e| ReadError::Unread(format!("invalid JSON: {e}")))?;
        if name == "metadata.json" {
            self.metadata = Some(v);
        } else if looks_like_config(&v) {
            self.config = Some(v);
        } else {
            return Err(ReadError::NotKeras);
        }
        Ok(())
    }

    /// The analysis, when a model config was found.
    pub(in crate::artifact) fn finish(self) -> Option<KerasInfo> {
        let config = self.config?;
        Some(analyze(&config, self.metadata.as_ref()))
    }
}

pub(in crate::artifact) fn analyze(config: &Value, metadata: Option<&Value>) -> KerasInfo {
    let version = |v: &Value| v.get("keras_version").and_then(Value::as_str).map(str::to_string);
    let mut info =
        KerasInfo { keras_version: metadata.and_then(version).or_else(|| version(config)), ..KerasInfo::default() };
    let mut found = Found::default();
    walk(config, false, 0, "", &mut info, &mut found);
    info.external_modules = found.external.into_iter().collect();
    info.dangerous_imports = found.dangerous.into_iter().collect();
    info
}

#[derive(Default)]
struct Found {
    external: BTreeSet<String>,
    dangerous: BTreeSet<String>,
}

impl Found {
    /// Classify what the loader imports for `module` + `name`.
    fn import(&mut self, module: &str, name: &str) {
        let root = module.split('.').next().unwrap_or(module);
        let (class, why) = classify(module, name);
        if class == Classification::Dangerous && self.dangerous.len() < MAX_REPORTED {
            let why = why.unwrap_or_default();
            self.dangerous.insert(format!("{module}.{name} ({why})"));
        } else if !KERAS_ROOTS.contains(&root) && self.external.len() < MAX_REPORTED {
            self.external.insert(module.to_string());
        }
    }
}

/// Is this JSON the top of a Keras model config?
fn looks_like_config(v: &Value) -> bool {
    v.get("class_name").is_some_and(Value::is_string) && v.get("config").is_some()
}

fn walk(v: &Value, in_layers: bool, depth: usize, path: &str, info: &mut KerasInfo, found: &mut Found) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            let class = map.get("class_name").and_then(Value::as_str);
            if let Some(class) = class {
                if in_layers {
                    info.layers += 1;
                }
                let short = class.rsplit(['.', '>']).next().unwrap_or(class);
                if short == "Lambda" && info.lambda_layers.len() < MAX_REPORTED {
                    let name = map.get("config").and_then(|c| c.get("name")).and_then(Value::as_str).unwrap_or("?");
                    info.lambda_layers.push(name.to_string());
                }
                if class == "__lambda__" && info.lambda_functions.len() < MAX_REPORTED {
                    info.lambda_functions.push(if path.is_empty() { "/".into() } else { path.to_string() });
                }
            }
            if let Some(module) = map.get("module").and_then(Value::as_str) {
                // `{"module": "os", "class_name": "function", "config": "system"}`
                // is `os.system`; otherwise the class (or registered name).
                let function = map.get("config").and_then(Value::as_str).filter(|_| class == Some("function"));
                let name = function.or(class).unwrap_or("?");
                found.import(module, name);
            }
            for (k, child) in map {
                let child_path = format!("{path}/{k}");
                walk(child, k == "layers", depth + 1, &child_path, info, found);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, in_layers, depth + 1, &format!("{path}/{i}"), info, found);
            }
        }
        _ => {}
    }
}

/// Legacy Keras HDF5 files (`\x89HDF\r\n\x1a\n`): the model config is a
/// JSON attribute stored as plain bytes, so a bounded search for the same
/// markers (`"class_name": "Lambda"`, `__lambda__`, `"module": "..."`) finds
/// them without an HDF5 parser. Returns whether a Keras model config was seen.
pub(in crate::artifact) fn scan_hdf5(bytes: &[u8], info: &mut KerasInfo) -> bool {
    use regex::bytes::Regex;
    use std::sync::OnceLock;
    static PATTERNS: OnceLock<Option<[Regex; 3]>> = OnceLock::new();
    let Some([lambda, module, keras]) = PATTERNS
        .get_or_init(|| {
            Some([
                Regex::new(r#""class_name":\s*"Lambda"(?:.{0,200}?"name":\s*"([^"]{0,200})")?"#).ok()?,
                Regex::new(r#""module":\s*"([^"]{1,200})"(?:.{0,40}?"class_name":\s*"([^"]{1,200})")?"#).ok()?,
                Regex::new(r#"model_config|"keras_version"|"class_name":\s*""#).ok()?,
            ])
        })
        .as_ref()
    else {
        return false;
    };
    for c in lambda.captures_iter(bytes).take(MAX_REPORTED) {
        let name = c.get(1).map_or("?".into(), |m| String::from_utf8_lossy(m.as_bytes()).into_owned());
        info.lambda_layers.push(name);
    }
    if let Some(at) = memchr_find(bytes, b"__lambda__") {
        info.lambda_functions.push(format!("byte {at}"));
    }
    let mut found = Found::default();
    for c in module.captures_iter(bytes).take(MAX_REPORTED) {
        let text = |i: usize| c.get(i).map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned());
        found.import(&text(1).unwrap_or_default(), &text(2).unwrap_or_else(|| "?".into()));
    }
    info.external_modules = found.external.into_iter().collect();
    info.dangerous_imports = found.dangerous.into_iter().collect();
    let seen = keras.is_match(bytes) || !info.lambda_layers.is_empty() || !info.lambda_functions.is_empty();
    if let Some(v) =
        regex::bytes::Regex::new(r#""keras_version":\s*"([^"]{1,40})""#).ok().and_then(|r| r.captures(bytes))
    {
        info.keras_version = v.get(1).map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned());
    }
    seen
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_lambda_and_modules() {
        let cfg: Value = serde_json::from_str(
            r#"{"module":"keras","class_name":"Sequential","config":{"name":"seq","layers":[
                {"module":"keras.layers","class_name":"Dense","config":{"name":"d"}},
                {"module":"keras","class_name":"Functional","config":{"layers":[
                    {"module":"keras.layers","class_name":"Lambda","config":{"name":"sneaky","function":{"class_name":"__lambda__"}}}
                ]}},
                {"module":"os","class_name":"system","config":{}}
            ]}}"#,
        )
        .unwrap_or(Value::Null);
        let meta: Value = serde_json::from_str(r#"{"keras_version":"3.4.1"}"#).unwrap_or(Value::Null);
        assert!(looks_like_config(&cfg));
        let info = analyze(&cfg, Some(&meta));
        assert_eq!(info.lambda_layers, vec!["sneaky"]);
        assert_eq!(info.layers, 4);
        assert_eq!(info.keras_version.as_deref(), Some("3.4.1"));
        assert!(info.external_modules.is_empty(), "{:?}", info.external_modules);
        assert_eq!(info.dangerous_imports, vec!["os.system (module os is blocklisted)"]);
    }

    /// Lambdas used as activations, configs that import functions from
    /// modules outside Keras (CVE-2025-1550), and custom layers of the user's
    /// own package (needing review, not dangerous).
    #[test]
    fn lambda_functions_and_imported_callables() {
        let cfg: Value = serde_json::from_str(
            r#"{"module":"keras","class_name":"Sequential","config":{"layers":[
                {"module":"keras.layers","class_name":"Dense","config":{"name":"d",
                    "activation":{"module":null,"class_name":"__lambda__","config":{"code":"4wEAAA=="}}}},
                {"module":"builtins","class_name":"function","config":"exec","registered_name":"function"},
                {"module":"my_project.layers","class_name":"Attention","config":{}}
            ]}}"#,
        )
        .unwrap_or(Value::Null);
        let info = analyze(&cfg, None);
        assert_eq!(info.lambda_functions, vec!["/config/layers/0/config/activation"]);
        assert_eq!(info.dangerous_imports.len(), 1, "{:?}", info.dangerous_imports);
        assert!(info.dangerous_imports[0].starts_with("builtins.exec"));
        assert_eq!(info.external_modules, vec!["my_project.layers"]);
    }

    #[test]
    fn hdf5_byte_search() {
        let mut h5 = b"\x89HDF\r\n\x1a\n\x00\x00model_config".to_vec();
        h5.extend_from_slice(br#"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "lam", "function": ["4wEA", null, null]}}, {"module": "subprocess", "class_name": "Popen"}]}}"#);
        let mut info = KerasInfo::default();
        assert!(scan_hdf5(&h5, &mut info));
        assert_eq!(info.lambda_layers, vec!["lam"]);
        assert!(
            info.dangerous_imports.iter().any(|d| d.starts_with("subprocess.Popen")),
            "{:?}",
            info.dangerous_imports
        );
        let mut none = KerasInfo::default();
        assert!(!scan_hdf5(b"\x89HDF\r\n\x1a\n just weights", &mut none));
    }
}
