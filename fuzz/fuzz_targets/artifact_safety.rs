//! Safety, not just crash-freedom: a well-formed pickle stream that imports a dangerous global somewhere
//! between its opcodes is never reported clean. The scan either names the import (verdict `dangerous`) or
//! says it could not read the stream to its end (`incomplete`, a blocking finding).
#![no_main]

#[path = "../pickle_gen.rs"]
mod pickle_gen;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let bytes = pickle_gen::stream(data);
    let options = vigil::unstable::input::LoadOptions::default();
    for name in ["model.pkl", "weights"] {
        let doc = vigil::Document::from_artifact_bytes(name, &bytes, &options);
        let art = doc.data();
        let verdict = art.get("verdict").and_then(vigil::Value::as_str).unwrap_or_default();
        let incomplete = art.get("incomplete").and_then(vigil::Value::as_array).is_some_and(|a| !a.is_empty());
        assert!(
            verdict == "dangerous" || incomplete,
            "{name}: a dangerous import was reported {verdict}: {bytes:?}"
        );
    }
});
