//! Keras v3 `.keras` archives: `config.json` (the model graph) and
//! `metadata.json` (versions). A `Lambda` layer carries marshalled Python
//! bytecode that runs when the model is loaded with `safe_mode=False`, and a
//! `module` outside the keras namespace makes the loader import that module,
//! so both are reported wherever they appear in the nested config.

use std::collections::BTreeSet;
use std::io::Read;

use serde_json::Value;

use super::document::KerasInfo;

/// serde_json already stops at 128 levels; this is a second guard.
const MAX_DEPTH: usize = 256;
const MAX_REPORTED: usize = 1000;

/// Roots of module paths that belong to Keras itself.
const KERAS_ROOTS: &[&str] = &["keras", "tf_keras", "tensorflow", "keras_nlp", "keras_hub", "keras_cv"];

/// Keras JSON files are small; refuse to buffer more than this.
const MAX_JSON: u64 = 16 << 20;

/// The Keras JSON members found while walking a `.keras` archive.
#[derive(Default)]
pub(super) struct KerasFiles {
    config: Option<Value>,
    metadata: Option<Value>,
}

/// Root-level members of a `.keras` archive that describe the model.
pub(super) fn is_json_member(name: &str) -> bool {
    name == "config.json" || name == "metadata.json"
}

impl KerasFiles {
    /// Read one JSON member (bounded by `MAX_JSON`).
    pub(super) fn read(&mut self, name: &str, r: &mut dyn Read) -> Result<(), String> {
        let mut buf = Vec::new();
        r.take(MAX_JSON).read_to_end(&mut buf).map_err(|e| format!("read error: {e}"))?;
        let v: Value = serde_json::from_slice(&buf).map_err(|e| format!("invalid JSON: {e}"))?;
        if name == "metadata.json" {
            self.metadata = Some(v);
        } else if looks_like_config(&v) {
            self.config = Some(v);
        } else {
            return Err("not a Keras model config".into());
        }
        Ok(())
    }

    /// The analysis, when a model config was found.
    pub(super) fn finish(self) -> Option<KerasInfo> {
        let config = self.config?;
        Some(analyze(&config, self.metadata.as_ref()))
    }
}

pub(super) fn analyze(config: &Value, metadata: Option<&Value>) -> KerasInfo {
    let version = |v: &Value| v.get("keras_version").and_then(Value::as_str).map(str::to_string);
    let mut info =
        KerasInfo { keras_version: metadata.and_then(version).or_else(|| version(config)), ..KerasInfo::default() };
    let mut external = BTreeSet::new();
    walk(config, false, 0, &mut info, &mut external);
    info.external_modules = external.into_iter().collect();
    info
}

/// Is this JSON the top of a Keras model config?
fn looks_like_config(v: &Value) -> bool {
    v.get("class_name").is_some_and(Value::is_string) && v.get("config").is_some()
}

fn walk(v: &Value, in_layers: bool, depth: usize, info: &mut KerasInfo, external: &mut BTreeSet<String>) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            if let Some(class) = map.get("class_name").and_then(Value::as_str) {
                if in_layers {
                    info.layers += 1;
                }
                let short = class.rsplit(['.', '>']).next().unwrap_or(class);
                if short == "Lambda" && info.lambda_layers.len() < MAX_REPORTED {
                    let name = map.get("config").and_then(|c| c.get("name")).and_then(Value::as_str).unwrap_or("?");
                    info.lambda_layers.push(name.to_string());
                }
            }
            if let Some(module) = map.get("module").and_then(Value::as_str) {
                let root = module.split('.').next().unwrap_or(module);
                if !KERAS_ROOTS.contains(&root) && external.len() < MAX_REPORTED {
                    external.insert(module.to_string());
                }
            }
            for (k, child) in map {
                walk(child, k == "layers", depth + 1, info, external);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, in_layers, depth + 1, info, external);
            }
        }
        _ => {}
    }
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
        assert_eq!(info.external_modules, vec!["os"]);
    }
}
