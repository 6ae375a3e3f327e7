//! Model-file bytes → static inspection: every input gets a document, none crashes or hangs.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let options = vigil::unstable::input::LoadOptions::default();
    let _ = vigil::Document::from_artifact_bytes("fuzz.bin", bytes, &options);
});
