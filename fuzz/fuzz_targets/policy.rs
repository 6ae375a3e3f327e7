//! Policy text → parse, check and compile: errors are fine, panics are not.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = vigil::Engine::default().compile([("fuzz.policy", text)]);
});
