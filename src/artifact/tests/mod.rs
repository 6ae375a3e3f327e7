//! End-to-end tests through the public API, with every input assembled in
//! the test itself (no fixtures on disk).

pub(super) mod containers;
mod hostile;
pub(super) mod pickles;

pub(super) use super::{
    Artifact, ArtifactFormat, ArtifactLimits, Classification, InspectOptions, Verdict, inspect_bytes,
};

pub(super) fn opts() -> InspectOptions {
    InspectOptions { hash: false, ..InspectOptions::default() }
}

pub(super) fn inspect(bytes: &[u8]) -> Artifact {
    inspect_bytes("test.bin", bytes, &opts())
}

pub(super) fn has_dangerous(a: &Artifact, qualified: &str) -> bool {
    a.dangerous_globals.iter().any(|g| g == qualified)
}

/// Short strings the way protocol 4 writes them (SHORT_BINUNICODE + MEMOIZE).
pub(super) fn sbu(s: &str) -> Vec<u8> {
    let mut v = vec![0x8c, u8::try_from(s.len()).unwrap_or(0)];
    v.extend_from_slice(s.as_bytes());
    v.push(0x94);
    v
}

/// A protocol-4 `module.name(arg)` call pickle.
pub(super) fn call4(module: &str, name: &str, arg: &str) -> Vec<u8> {
    let mut v = vec![0x80, 0x04];
    v.extend(sbu(module));
    v.extend(sbu(name));
    v.push(0x93);
    v.extend(sbu(arg));
    v.extend_from_slice(&[0x85, b'R', b'.']);
    v
}

/// One small file of each kind the inspector tells apart (pickles, NumPy, GGUF, ONNX, safetensors with
/// metadata, a zip of two pickles): seeds for tests that run every format through one property.
pub(super) fn sample_files() -> Vec<Vec<u8>> {
    let header = br#"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let mut safetensors = (header.len() as u64).to_le_bytes().to_vec();
    safetensors.extend_from_slice(header);
    safetensors.extend_from_slice(&[0; 8]);
    vec![
        call4("os", "system", "id"),
        b"c__builtin__\neval\np0\n(Vprint(1)\np1\ntp2\nRp3\n.".to_vec(),
        b"\x93NUMPY\x01\x00\x76\x00{'descr': '|O', 'fortran_order': False, 'shape': (1,), }".to_vec(),
        b"GGUF\x03\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00".to_vec(),
        b"\x08\x08\x12\x07pytorch\x3a\x03\x01\x02\x03".to_vec(),
        safetensors,
        containers::stored(&[
            ("a/data.pkl", &call4("os", "system", "x")),
            ("a/extra.pkl", &call4("os", "system", "y")),
        ]),
    ]
}

#[test]
fn document_serializes_with_stable_keys() {
    let a = inspect(&call4("os", "system", "id"));
    let json = serde_json::to_value(&a).unwrap_or_default();
    for key in [
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
    ] {
        assert!(json.get(key).is_some(), "missing key {key}");
    }
    assert_eq!(json["format"], "pickle");
    assert_eq!(json["verdict"], "dangerous");
    assert_eq!(json["pickles"][0]["globals"][0]["classification"], "dangerous");
    assert_eq!(json["dangerous_globals"][0], "os.system");
    assert_eq!(a.format, ArtifactFormat::Pickle);
    assert_eq!(a.verdict, Verdict::Dangerous);
}

/// Deterministic mutation smoke test: flipped bytes, truncations and
/// splices of valid inputs of every format must never panic.
#[test]
fn mutated_inputs_never_panic() {
    let seeds = sample_files();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let o = opts();
    // VIGIL_FUZZ_ROUNDS raises the count for a longer local run.
    let rounds = std::env::var("VIGIL_FUZZ_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(4000u64);
    for round in 0..rounds {
        let seed = &seeds[(round as usize) % seeds.len()];
        let mut v = seed.clone();
        let edits = 1 + next() % 4;
        for _ in 0..edits {
            if v.is_empty() {
                break;
            }
            let at = (next() as usize) % v.len();
            match next() % 4 {
                0 => v[at] = next() as u8,
                1 => v.truncate(at),
                2 => v.insert(at, next() as u8),
                _ => v[at] ^= 0x80,
            }
        }
        let a = inspect_bytes("fuzz", &v, &o);
        assert!(serde_json::to_string(&a).is_ok());
    }
}
