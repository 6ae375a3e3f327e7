//! What a module says about itself, read before anything is compiled: the `vigil.manifest` custom section
//! (its functions and their types) and the imports (refused: plugins get nothing from the host).

use serde::Deserialize;

use super::PluginError;
use crate::functions::Ty;

/// The custom section holding the manifest.
pub(super) const SECTION: &str = "vigil.manifest";
/// The ABI version this host speaks.
pub(super) const ABI: u32 = 1;
/// Longest manifest accepted: it is a short list of signatures.
const MAX_MANIFEST: usize = 64 << 10;

/// One function a plugin offers.
#[derive(Clone, Debug)]
pub(crate) struct Signature {
    pub name: String,
    pub params: Vec<Ty>,
    pub returns: Ty,
    pub doc: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    abi: u32,
    functions: Vec<RawFunction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunction {
    name: String,
    #[serde(default)]
    params: Vec<String>,
    returns: String,
    #[serde(default)]
    doc: String,
}

/// Reads the manifest and refuses any import. `label` names the plugin in errors.
pub(super) fn inspect(label: &str, bytes: &[u8]) -> Result<Vec<Signature>, PluginError> {
    let mut manifest = None;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload
            .map_err(|e| PluginError::new(format!("plugin `{label}` is not a valid WebAssembly module: {e}")))?;
        match payload {
            wasmparser::Payload::Version { encoding: wasmparser::Encoding::Component, .. } => {
                return Err(PluginError::new(format!(
                    "plugin `{label}` is a WebAssembly component; Vigil loads core modules (docs/plugins.md)"
                )));
            }
            wasmparser::Payload::ImportSection(reader) => {
                if let Some(import) = reader.into_iter().next() {
                    let import = import.map_err(|e| PluginError::new(format!("plugin `{label}`: {e}")))?;
                    let what = if import.module.starts_with("wasi") { "WASI" } else { "host imports" };
                    return Err(PluginError::new(format!(
                        "plugin `{label}` imports `{}.{}`, which Vigil does not offer: plugins get no {what}",
                        import.module, import.name
                    ))
                    .help("plugins are pure functions: build without WASI (wasm32-unknown-unknown, -nostdlib) and link nothing from the host"));
                }
            }
            wasmparser::Payload::CustomSection(reader) if reader.name() == SECTION => {
                if manifest.is_some() {
                    return Err(PluginError::new(format!("plugin `{label}` has two `{SECTION}` sections")));
                }
                manifest = Some(reader.data());
            }
            _ => {}
        }
    }
    let Some(data) = manifest else {
        return Err(PluginError::new(format!("plugin `{label}` has no manifest (custom section `{SECTION}`)"))
            .help("every plugin declares its functions in a JSON custom section; see docs/plugins.md"));
    };
    parse(label, data)
}

/// Parses and validates the manifest JSON.
fn parse(label: &str, data: &[u8]) -> Result<Vec<Signature>, PluginError> {
    if data.len() > MAX_MANIFEST {
        return Err(PluginError::new(format!("plugin `{label}`: the manifest is over {MAX_MANIFEST} bytes")));
    }
    let bad = |e: String| PluginError::new(format!("plugin `{label}`: bad manifest: {e}"));
    let raw: RawManifest = serde_json::from_slice(data).map_err(|e| bad(e.to_string()))?;
    if raw.abi != ABI {
        return Err(bad(format!("ABI version {} is not supported (this Vigil speaks version {ABI})", raw.abi)));
    }
    let mut out: Vec<Signature> = Vec::new();
    for f in raw.functions {
        let valid = f.name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && f.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid || f.name.starts_with("vigil_") {
            return Err(bad(format!("`{}` is not a usable function name", f.name)));
        }
        if out.iter().any(|o| o.name == f.name) {
            return Err(bad(format!("function `{}` is listed twice", f.name)));
        }
        let params = f.params.iter().map(|p| ty(p).map_err(&bad)).collect::<Result<Vec<Ty>, _>>()?;
        let returns = ty(&f.returns).map_err(&bad)?;
        out.push(Signature { name: f.name, params, returns, doc: f.doc });
    }
    if out.is_empty() {
        return Err(bad("it lists no functions".into()));
    }
    Ok(out)
}

/// `"string"`, `"string|null"`, `"any"`: a type set.
fn ty(text: &str) -> Result<Ty, String> {
    text.split('|').try_fold(Ty::NONE, |acc, part| {
        let one = match part.trim() {
            "null" => Ty::NULL,
            "boolean" => Ty::BOOL,
            "number" => Ty::NUMBER,
            "string" => Ty::STRING,
            "array" => Ty::ARRAY,
            "object" => Ty::OBJECT,
            "any" => Ty::ANY,
            other => {
                return Err(format!(
                    "unknown type `{other}` (expected null, boolean, number, string, array, object or any, joined by `|`)"
                ));
            }
        };
        Ok(acc.or(one))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_and_unite() {
        assert_eq!(ty("string").unwrap(), Ty::STRING);
        assert_eq!(ty("string | null").unwrap(), Ty::STRING.or(Ty::NULL));
        assert_eq!(ty("any").unwrap(), Ty::ANY);
        assert!(ty("str").unwrap_err().contains("unknown type `str`"));
    }

    #[test]
    fn manifests_are_validated() {
        let ok = parse("p", br#"{"abi":1,"functions":[{"name":"find","params":["string"],"returns":"array"}]}"#);
        assert_eq!(ok.unwrap()[0].params, vec![Ty::STRING]);
        for (text, expected) in [
            (r#"{"abi":2,"functions":[]}"#, "ABI version 2"),
            (r#"{"abi":1,"functions":[]}"#, "no functions"),
            (r#"{"abi":1,"functions":[{"name":"a b","returns":"any"}]}"#, "not a usable"),
            (r#"{"abi":1,"functions":[{"name":"vigil_alloc","returns":"any"}]}"#, "not a usable"),
            (r#"{"abi":1,"functions":[{"name":"f","returns":"any"},{"name":"f","returns":"any"}]}"#, "twice"),
            (r#"{"abi":1,"functions":[{"name":"f","returns":"any","extra":1}]}"#, "unknown field"),
            ("not json", "bad manifest"),
        ] {
            let e = parse("p", text.as_bytes()).unwrap_err();
            assert!(e.message.contains(expected), "{text}: {}", e.message);
        }
    }
}
