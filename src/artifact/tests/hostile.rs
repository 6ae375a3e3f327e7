//! Issue 14, "Model files": one test per class of file that passed the gate,
//! each fixture generated here (never loaded by any real loader).

use super::containers::stored;
use super::{
    ArtifactFormat, ArtifactLimits, Classification, InspectOptions, Verdict, call4, has_dangerous, inspect,
    inspect_bytes, opts,
};

/// `os.system('id')` in protocol 0: only printable bytes and newlines.
const TEXT_PAYLOAD: &[u8] = b"cos\nsystem\n(S'id'\ntR.";

fn named(name: &str, bytes: &[u8]) -> super::Artifact {
    inspect_bytes(name, bytes, &opts())
}

// ---- 1. A scan that stops early is a blocking finding ----

#[test]
fn every_early_stop_is_listed_as_incomplete() {
    let long_name = format!("cos\n{}\n.", "x".repeat(70_000));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated before STOP", b"\x80\x02(X\x05\x00\x00\x00hello".to_vec(), "truncated"),
        ("invalid opcode mid-stream", b"\x80\x02N\xff.".to_vec(), "invalid opcode"),
        ("GLOBAL longer than max_string", long_name.into_bytes(), "longer than"),
        ("unsupported protocol", b"\x80\x02N\x80\x09.".to_vec(), "unsupported protocol"),
    ];
    for (what, bytes, needle) in cases {
        let a = named("x.pkl", &bytes);
        assert!(a.incomplete.iter().any(|e| e.contains(needle)), "{what}: {:?}", a.incomplete);
        assert_ne!(a.verdict, Verdict::Clean, "{what}");
    }
}

#[test]
fn junk_after_a_complete_pickle_is_not_an_early_stop() {
    // No loader reads past the STOP into bytes that are not opcodes.
    let a = named("x.pkl", b"\x80\x02N.\n\n\x00\x00");
    assert!(a.incomplete.is_empty(), "{:?}", a.incomplete);
    assert!(a.errors.iter().any(|e| e.contains("junk after STOP")));
}

#[test]
fn archive_caps_are_early_stops() {
    let z = stored(&[("a/data.pkl", &call4("collections", "OrderedDict", "x")), ("a/b.pkl", b"N.")]);
    let few = InspectOptions { hash: false, limits: ArtifactLimits { max_entries: 1, ..ArtifactLimits::default() } };
    let a = inspect_bytes("m.pt", &z, &few);
    assert!(a.incomplete.iter().any(|e| e.contains("max_entries")), "{:?}", a.incomplete);
    let small =
        InspectOptions { hash: false, limits: ArtifactLimits { max_entry_bytes: 4, ..ArtifactLimits::default() } };
    let b = inspect_bytes("m.pt", &z, &small);
    assert!(b.incomplete.iter().any(|e| e.contains("read cap")), "{:?}", b.incomplete);
}

#[test]
fn compressed_joblib_is_decompressed_or_an_early_stop() {
    use std::io::Write;
    let lz4 = named("model.joblib", b"\x04\x22\x4d\x18\x01\x02\x03\x04");
    assert!(lz4.incomplete.iter().any(|e| e.contains("not decompressed")), "{:?}", lz4.incomplete);
    let broken = named("model.joblib", b"\x78\x9c\x01\x02\x03\x04");
    assert!(!broken.incomplete.is_empty(), "a stream that does not decompress is not clean");
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let mut g = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let evil = call4("os", "system", "id");
    let (zlib, gzip) = match (z.write_all(&evil), g.write_all(&evil)) {
        (Ok(()), Ok(())) => (z.finish().unwrap_or_default(), g.finish().unwrap_or_default()),
        _ => (Vec::new(), Vec::new()),
    };
    for (what, bytes) in [("zlib", zlib), ("gzip", gzip)] {
        let a = named("model.joblib", &bytes);
        assert_eq!(a.format, ArtifactFormat::JoblibCompressed, "{what}");
        assert!(has_dangerous(&a, "os.system"), "{what}: {:?}", a.errors);
        assert!(a.incomplete.is_empty(), "{what}: {:?}", a.incomplete);
    }
}

// ---- 3. Polyglots ----

/// `GGUF` read as opcodes: BINFLOAT swallows `GUF`, the version and one byte
/// of the tensor count; seven NONEs are the rest of the count (so the GGUF
/// header claims ~2^56 tensors and fails), POPs the metadata count.
fn gguf_polyglot() -> Vec<u8> {
    let mut v = b"GGUF\x03\x00\x00\x00\x01".to_vec();
    v.extend_from_slice(b"NNNNNNN");
    v.extend_from_slice(b"0000000");
    v.push(b'0');
    v.extend_from_slice(TEXT_PAYLOAD);
    v
}

/// A safetensors length prefix that is PROTO 2 then BINFLOAT (which swallows
/// the `{`): the header then holds the pickle.
fn safetensors_polyglot() -> Vec<u8> {
    let mut v = vec![0x80, 0x02, b'G', 0x00, 0, 0, 0, 0, b'{', b'"', b':'];
    v.extend_from_slice(TEXT_PAYLOAD);
    v
}

/// `BZh9` (a bz2 joblib dump) read as opcodes: BINBYTES of 0x0039685a bytes.
fn bzip_polyglot() -> Vec<u8> {
    let mut v = b"BZh9\x00".to_vec();
    v.resize(5 + 0x0039_685a, b'A');
    v.extend_from_slice(TEXT_PAYLOAD);
    v
}

#[test]
fn magic_bytes_that_decode_as_pickles_are_also_scanned_as_pickles() {
    let bz = bzip_polyglot();
    for (name, bytes, claimed) in [
        ("model.bin", gguf_polyglot(), ArtifactFormat::Gguf),
        ("model.gguf", gguf_polyglot(), ArtifactFormat::Gguf),
        ("model.bin", safetensors_polyglot(), ArtifactFormat::Safetensors),
        ("model.safetensors", safetensors_polyglot(), ArtifactFormat::Safetensors),
        ("model.joblib", bz.clone(), ArtifactFormat::JoblibCompressed),
        ("model.pkl", bz, ArtifactFormat::JoblibCompressed),
    ] {
        let a = named(name, &bytes);
        assert_eq!(a.format, claimed, "{name}");
        assert!(has_dangerous(&a, "os.system"), "{name} as {claimed:?}: {:?} {:?}", a.globals, a.errors);
        assert_eq!(a.verdict, Verdict::Dangerous, "{name}");
        assert!(a.executes_code_on_load);
    }
}

#[test]
fn valid_weights_with_a_pickle_extension_stay_quiet() {
    let header = br#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let mut st = (header.len() as u64).to_le_bytes().to_vec();
    st.extend_from_slice(header);
    st.extend_from_slice(&[0; 8]);
    let a = named("pytorch_model.bin", &st);
    assert_eq!(a.format, ArtifactFormat::Safetensors);
    assert!(a.pickles.is_empty() && a.errors.is_empty() && a.warnings.is_empty(), "{a:?}");
    assert_eq!(a.verdict, Verdict::Clean);
}

#[test]
fn a_malformed_safetensors_file_is_safetensors_not_unknown() {
    let a = named("model.safetensors", b"this is not a header at all, just text");
    assert_eq!(a.format, ArtifactFormat::Safetensors);
    assert!(a.safetensors.as_ref().is_some_and(|s| !s.valid));
    let b = named("model.safetensors", &[0xff; 64]);
    assert_eq!(b.format, ArtifactFormat::Safetensors);
}

// ---- 4. Pickles without magic ----

#[test]
fn pickles_without_proto_are_sniffed_by_parsing() {
    // Protocol 4 opcodes, no PROTO, first byte SHORT_BINUNICODE.
    assert!(super::super::sniff_pickle(&call4("os", "system", "id")[2..]));
    assert!(super::super::sniff_pickle(TEXT_PAYLOAD));
    // A STACK_GLOBAL on a computed operand, then STOP: still convincing.
    assert!(super::super::sniff_pickle(b"N)\x93."));
    for text in [
        &b"Version 1.2\nNotes about the model\n"[..],
        b"(c) 2024 Example Inc.\nAll rights reserved.\n",
        b"I am a text file.\n",
        b"a.",
        b"Rt.",
        b"Vhello\n.",
        b"",
    ] {
        assert!(!super::super::sniff_pickle(text), "{:?}", String::from_utf8_lossy(text));
    }
}

#[test]
fn short_text_is_not_a_model_file_by_the_protocol_0_shape_alone() {
    // "hello" is BINGET, APPENDS, LIST, LIST, PERSID…: the weak magic-less shape
    // matches, but nothing convinces, so a file of that name is not a model file.
    for text in [&b"hello"[..], b"lol", b"(tell", b"]hello world"] {
        let mut rest = std::io::empty();
        assert!(!super::super::is_model_file(text, &mut rest), "{:?}", String::from_utf8_lossy(text));
    }
    // PROTO, a format's magic, or a convincing protocol 0 stream still are.
    for bytes in [&b"\x80\x04K\x01."[..], b"GGUF\x03\x00\x00\x00", b"cos\nsystem\n(S'id'\ntR."] {
        let mut rest = std::io::empty();
        assert!(super::super::is_model_file(bytes, &mut rest), "{:?}", String::from_utf8_lossy(bytes));
    }
}

// ---- 5. Classification by full dotted path ----

#[test]
fn protocol_4_attribute_walks_are_classified_by_where_they_end() {
    for (module, name) in [("logging", "os.system"), ("torch", "hub.load"), ("numpy", "__class__.__subclasses__")] {
        let a = inspect(&call4(module, name, "id"));
        assert!(has_dangerous(&a, &format!("{module}.{name}")), "{module}.{name}: {:?}", a.globals);
    }
    // Benign reconstruction helpers stay benign.
    let mut v = vec![0x80, 0x02];
    v.extend_from_slice(b"cnumpy\nfloat64\n0cnumpy.core.multiarray\n_reconstruct\n0c__builtin__\ndict\n0");
    v.extend_from_slice(b"ctorch._utils\n_rebuild_tensor\n0ccollections\nOrderedDict\n)R.");
    let b = inspect(&v);
    assert!(b.globals.iter().all(|g| g.classification == Classification::Safe), "{:?}", b.globals);
    assert_eq!(b.verdict, Verdict::Clean);
}

// ---- 2. Mirror what the loaders accept ----

#[test]
fn npy_object_dtypes_in_any_spelling_have_their_payload_scanned() {
    let payload = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.";
    for descr in ["'(1,)O'", r"'\x4f'", "'|' 'O'", "'object'", "('O', (2,))", "'<f4,O'", "'T'"] {
        let header = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': (1,), }}");
        let a = named("x.npy", &super::containers::npy(&header, payload));
        assert!(has_dangerous(&a, "os.system"), "descr {descr}: {:?}", a.numpy);
    }
    // Duplicate keys: numpy uses the last one.
    let dup = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'descr': '|O'}";
    assert!(has_dangerous(&named("x.npy", &super::containers::npy(dup, payload)), "os.system"));
    // A header numpy might read differently is not trusted to be plain.
    let odd = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk";
    let a = named("x.npy", &super::containers::npy(odd, payload));
    assert!(has_dangerous(&a, "os.system"), "{:?}", a.warnings);
}

/// The bytes joblib steps over as array data are opcodes to plain
/// `pickle.load` (no alignment padding in the way).
#[test]
fn joblib_array_bytes_are_scanned_as_plain_pickle_load_reads_them() {
    let mut v = vec![0x80, 0x04];
    v.extend(super::pickles::joblib_wrapper_with("f4", 0, false));
    let mut data = TEXT_PAYLOAD[..TEXT_PAYLOAD.len() - 1].to_vec();
    data.push(b'0');
    data.resize(24, b'N');
    v.extend_from_slice(&data);
    v.extend_from_slice(b"0.");
    let a = named("model.joblib", &v);
    assert_eq!(a.pickles[0].joblib_arrays, 1);
    assert!(has_dangerous(&a, "os.system"), "{:?}", a.globals);
}

/// A structured dtype whose flags say it holds objects is a nested pickle to
/// joblib (`dtype.hasobject`), not raw bytes.
#[test]
fn joblib_hasobject_follows_the_dtype_flags() {
    let mut v = vec![0x80, 0x04];
    v.extend(super::pickles::joblib_wrapper_with("V16", 0x3f, true));
    v.extend_from_slice(b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.");
    v.extend_from_slice(b"0N.");
    let a = named("model.joblib", &v);
    assert!(has_dangerous(&a, "os.system"), "{:?} {:?}", a.globals, a.errors);
    // Plain structured data (flags 0) is still stepped over exactly.
    let mut plain = vec![0x80, 0x04];
    plain.extend(super::pickles::joblib_wrapper_with("V2", 0, false));
    plain.extend_from_slice(&[0u8; 12]);
    plain.extend_from_slice(b"0N.");
    let b = named("model.joblib", &plain);
    assert!(b.errors.is_empty() && b.incomplete.is_empty(), "{:?}", b.errors);
    assert_eq!(b.verdict, Verdict::Clean);
}

/// A `.keras` archive is whatever has a root `config.json` (weights in
/// `.h5`, `.npz` or none), even with junk before `PK`, and every way a Keras
/// config runs code is reported.
#[test]
fn keras_archives_as_keras_reads_them() {
    let lambda_activation = br#"{"module":"keras","class_name":"Sequential","config":{"layers":[
        {"module":"keras.layers","class_name":"Dense","config":{"name":"d",
          "activation":{"module":null,"class_name":"__lambda__","config":{"code":"4wEAAA=="}}}}]}}"#;
    let cve = br#"{"module":"keras","class_name":"Functional","config":{"layers":[
        {"module":"subprocess","class_name":"function","config":"check_output","registered_name":"function"}]}}"#;
    let plain = stored(&[("config.json", &lambda_activation[..]), ("model.weights.npz", b"PK\x05\x06")]);
    let a = named("m.keras", &plain);
    assert_eq!(a.format, ArtifactFormat::Keras);
    assert_eq!(a.keras.as_ref().map(|k| k.lambda_functions.len()), Some(1), "{:?}", a.keras);
    assert_eq!(a.verdict, Verdict::Dangerous);
    let mut prefixed = b"#!/bin/sh\nexec python -m something\n".to_vec();
    prefixed.extend(stored(&[("config.json", &cve[..])]));
    let b = named("m.keras", &prefixed);
    assert_eq!(b.format, ArtifactFormat::Keras, "{:?}", b.errors);
    let imports = b.keras.as_ref().map(|k| k.dangerous_imports.clone()).unwrap_or_default();
    assert!(imports.iter().any(|i| i.starts_with("subprocess.check_output")), "{imports:?}");
    assert_eq!(b.verdict, Verdict::Dangerous);
    // A config too large to read is a blocking finding, not a skip.
    let huge = format!("{{\"class_name\": \"Sequential\", \"config\": \"{}\"}}", "x".repeat(65 << 20));
    let c = named("m.keras", &stored(&[("config.json", huge.as_bytes())]));
    assert!(c.incomplete.iter().any(|e| e.contains("config.json")), "{:?}", c.incomplete);
    // A zip whose config.json is some other tool's is just a zip.
    let d = named("repo.zip", &stored(&[("config.json", br#"{"model_type": "bert"}"#)]));
    assert_eq!(d.format, ArtifactFormat::Zip);
    assert!(d.incomplete.is_empty() && d.errors.is_empty(), "{:?}", d.errors);
}

#[test]
fn legacy_hdf5_keras_with_lambda_is_flagged() {
    let mut h5 = b"\x89HDF\r\n\x1a\n\x00\x00\x00\x00model_config".to_vec();
    h5.extend_from_slice(br#"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "evil", "function": ["4wEAAAAA", null, null]}}]}}"#);
    let a = named("model.h5", &h5);
    assert_eq!(a.format, ArtifactFormat::Hdf5);
    assert_eq!(a.keras.as_ref().map(|k| k.lambda_layers.clone()), Some(vec!["evil".to_string()]));
    assert_eq!(a.verdict, Verdict::Dangerous);
    let weights = named("w.h5", b"\x89HDF\r\n\x1a\n\x00\x00 only float data here");
    assert_eq!(weights.verdict, Verdict::Uninspected);
    assert!(weights.keras.is_none());
}

/// The oldest `torch.save` format: a tar of `sys_info`, `pickle`,
/// `storages` and `tensors`, with raw records between the pickles of the
/// last two. `evil` puts a second pickle after the storage's raw bytes.
fn legacy_tar(evil: bool) -> Vec<u8> {
    let mut storages = b"\x80\x02K\x01.".to_vec();
    storages.extend_from_slice(b"\x80\x02(X\x01\x00\x00\x000X\x03\x00\x00\x00cpuctorch\nFloatStorage\ntq\x00.");
    storages.extend_from_slice(&2u64.to_le_bytes());
    storages.extend_from_slice(b"cos\nsys\n"); // raw floats that look like opcodes
    if evil {
        storages.extend_from_slice(TEXT_PAYLOAD);
    }
    storages.extend_from_slice(b"\x80\x02].");
    let mut tensors = b"\x80\x02K\x01.".to_vec();
    tensors.extend_from_slice(b"\x80\x02(X\x01\x00\x00\x001X\x01\x00\x00\x000ctorch\nFloatTensor\ntq\x00.");
    tensors.extend_from_slice(&1i32.to_le_bytes());
    tensors.extend_from_slice(&[0u8; 4 + 8 + 8 + 8]);
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in [
        ("sys_info", &b"\x80\x02}q\x00."[..]),
        ("pickle", b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01."),
        ("storages", &storages),
        ("tensors", &tensors),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        if b.append_data(&mut h, name, data).is_err() {
            return Vec::new();
        }
    }
    b.into_inner().unwrap_or_default()
}

#[test]
fn legacy_tar_checkpoints_are_scanned_member_by_member() {
    let clean = named("model.pt", &legacy_tar(false));
    assert_eq!(clean.format, ArtifactFormat::PytorchLegacy);
    assert_eq!(clean.pickles.len(), 4, "{:?}", clean.pickles);
    assert!(clean.errors.is_empty() && clean.incomplete.is_empty(), "{:?}", clean.errors);
    assert_eq!(clean.verdict, Verdict::Clean, "{:?}", clean.globals);
    let evil = named("model.pt", &legacy_tar(true));
    assert!(has_dangerous(&evil, "os.system"), "{:?}", evil.globals);
    assert_eq!(evil.verdict, Verdict::Dangerous);
}

/// `torch.storage._load_from_bytes(b)` unpickles `b`: the nested pickle is
/// scanned and what it imports is reported with the outer stream.
#[test]
fn load_from_bytes_payload_is_scanned() {
    let inner = call4("subprocess", "check_output", "id");
    let mut v = b"\x80\x02ctorch.storage\n_load_from_bytes\nq\x00B".to_vec();
    v.extend_from_slice(&u32::try_from(inner.len()).unwrap_or(0).to_le_bytes());
    v.extend_from_slice(&inner);
    v.extend_from_slice(b"\x85R.");
    let a = named("model.pt", &v);
    assert!(has_dangerous(&a, "torch.storage._load_from_bytes"), "{:?}", a.globals);
    assert!(has_dangerous(&a, "subprocess.check_output"), "{:?}", a.globals);
    assert!(a.incomplete.is_empty(), "{:?}", a.incomplete);
}

#[test]
fn source_and_prose_are_not_sniffed_as_pickles() {
    for text in [
        &b"import os\nimport sys\n\nprint(os.getcwd())\n"[..],
        b"id,name\n1,alice\n2,bob\n",
        b"(see the notes)\nmore text.\n.",
        b"ca b\nc d\n.",
    ] {
        assert!(!super::super::sniff_pickle(text), "{:?}", String::from_utf8_lossy(text));
    }
}
