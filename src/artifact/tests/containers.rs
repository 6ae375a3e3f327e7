//! Containers and weight formats: zips (PyTorch, Keras, npz, nested, bombs,
//! odd flags), NumPy, safetensors and GGUF, all built in the tests.

use std::io::{Cursor, Write};

use ::zip::write::SimpleFileOptions;
use ::zip::{CompressionMethod, ZipWriter};

use super::{ArtifactFormat, ArtifactLimits, InspectOptions, Verdict, call4, has_dangerous, inspect, inspect_bytes};
use crate::artifact::formats::gguf::tests::{gguf, gstr};

fn zip_of(entries: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(method);
    for (name, data) in entries {
        if w.start_file(*name, opts).is_err() || w.write_all(data).is_err() {
            return Vec::new();
        }
    }
    w.finish().map(Cursor::into_inner).unwrap_or_default()
}

pub(super) fn stored(entries: &[(&str, &[u8])]) -> Vec<u8> {
    zip_of(entries, CompressionMethod::Stored)
}

/// A `.npy` file: magic, version 1.0, `header` padded so the data starts 64-byte aligned, then `payload`.
pub(in super::super) fn npy(header: &str, payload: &[u8]) -> Vec<u8> {
    let mut h = header.to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&u16::try_from(h.len()).unwrap_or(0).to_le_bytes());
    v.extend_from_slice(h.as_bytes());
    v.extend_from_slice(payload);
    v
}

#[test]
fn pytorch_zip_scans_every_pickle() {
    let z = stored(&[
        ("archive/data.pkl", b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01."),
        ("archive/data/0", &[0u8; 64]),
        ("archive/extra.pkl", &call4("os", "system", "id")),
        ("archive/version", b"3\n"),
    ]);
    let a = inspect(&z);
    assert_eq!(a.format, ArtifactFormat::PytorchZip);
    assert_eq!(a.pickles.len(), 2);
    assert!(has_dangerous(&a, "os.system"));
    assert_eq!(a.pickles[1].entry.as_deref(), Some("archive/extra.pkl"));
    assert_eq!(a.archive.as_ref().map(|x| x.entries), Some(4));
}

#[test]
fn torchscript_constants_pkl_is_scanned() {
    let z = zip_of(
        &[
            ("m/data.pkl", b"\x80\x02}q\x00."),
            ("m/constants.pkl", &call4("builtins", "eval", "1")),
            ("m/code/__torch__.py", b"def forward(self): pass\n"),
        ],
        CompressionMethod::Deflated,
    );
    let a = inspect(&z);
    assert_eq!(a.format, ArtifactFormat::Torchscript);
    assert!(has_dangerous(&a, "builtins.eval"));
}

#[test]
fn keras_lambda_layer_is_reported() {
    let config = br#"{"module":"keras","class_name":"Sequential","config":{"name":"s","layers":[
        {"module":"keras.layers","class_name":"InputLayer","config":{"name":"in"}},
        {"module":"keras.layers","class_name":"Lambda","config":{"name":"evil","function":{"class_name":"__lambda__","config":{"code":"4wEAAAAA"}}}}]}}"#;
    let z = zip_of(
        &[
            ("metadata.json", br#"{"keras_version":"3.3.3","date_saved":"x"}"#),
            ("config.json", config),
            ("model.weights.h5", b"\x89HDF\r\n\x1a\n"),
        ],
        CompressionMethod::Deflated,
    );
    let a = inspect(&z);
    assert_eq!(a.format, ArtifactFormat::Keras);
    let k = a.keras.as_ref().map(|k| (k.lambda_layers.clone(), k.layers, k.keras_version.clone()));
    assert_eq!(k, Some((vec!["evil".to_string()], 2, Some("3.3.3".to_string()))));
    assert_eq!(a.verdict, Verdict::Dangerous);
    assert!(a.executes_code_on_load);
}

#[test]
fn zip_bomb_entry_is_capped() {
    // A pickle whose BINBYTES8 payload is 4 MiB of zeros: the scanner has to
    // read through it, and the cap stops it after 1 MiB.
    let mut big = vec![0x80, 0x04, 0x8e];
    big.extend_from_slice(&(4u64 << 20).to_le_bytes());
    big.resize(big.len() + (4 << 20), 0);
    big.extend_from_slice(&call4("os", "system", "id")[2..]);
    let z = zip_of(&[("big.pkl", &big)], CompressionMethod::Deflated);
    assert!(z.len() < 64 << 10, "deflate should squeeze zeros");
    let capped = InspectOptions {
        hash: false,
        limits: ArtifactLimits { max_entry_bytes: 1 << 20, ..ArtifactLimits::default() },
    };
    let a = inspect_bytes("bomb.zip", &z, &capped);
    let info = a.archive.clone().unwrap_or_default();
    assert_eq!(info.capped_entries, vec!["big.pkl"]);
    assert!(info.read_bytes <= (1 << 20) + 4096, "{}", info.read_bytes);
    assert!(a.errors.iter().any(|e| e.contains("read cap")));
    assert!(a.errors.iter().any(|e| e.contains("truncated")));
    assert_eq!(a.verdict, Verdict::Suspicious);
    // Without the cap the same entry is read to the end and the import found.
    assert!(has_dangerous(&inspect(&z), "os.system"));
}

#[test]
fn encrypted_flag_does_not_hide_a_stored_pickle() {
    let mut z = stored(&[("model/config.pkl", &call4("builtins", "eval", "1"))]);
    // Set general-purpose bit 0 in the local and central headers, as
    // malicious1_0x1.zip does: PyTorch ignores it, so must we.
    z[6] |= 1;
    if let Some(cd) = z.windows(4).position(|w| w == b"PK\x01\x02") {
        z[cd + 8] |= 1;
    }
    let a = inspect(&z);
    assert!(has_dangerous(&a, "builtins.eval"), "{:?}", a.errors);
    let info = a.archive.unwrap_or_default();
    assert!(info.encrypted);
    assert_eq!(info.encrypted_entries, vec!["model/config.pkl"]);
}

#[test]
fn nested_archives_recurse_until_max_depth() {
    let inner = stored(&[("payload.pkl", &call4("os", "system", "id"))]);
    let middle = stored(&[("inner.zip", &inner)]);
    let outer = stored(&[("middle.zip", &middle)]);
    let a = inspect(&outer);
    assert!(has_dangerous(&a, "os.system"));
    assert_eq!(a.pickles[0].entry.as_deref(), Some("middle.zip!inner.zip!payload.pkl"));
    let shallow = InspectOptions { hash: false, limits: ArtifactLimits { max_depth: 1, ..ArtifactLimits::default() } };
    let b = inspect_bytes("outer.zip", &outer, &shallow);
    assert!(b.dangerous_globals.is_empty());
    assert!(b.errors.iter().any(|e| e.contains("max_depth")));
    assert_eq!(b.verdict, Verdict::Uninspected);
}

#[test]
fn generic_zip_sniffs_pickles_by_content() {
    let z = stored(&[("notes.txt", b"hello"), ("data.txt", &call4("os", "system", "id"))]);
    let a = inspect(&z);
    assert_eq!(a.format, ArtifactFormat::Zip);
    assert!(has_dangerous(&a, "os.system"));
}

#[test]
fn npy_object_and_plain() {
    let plain = inspect(&npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", &[0; 16]));
    assert_eq!(plain.format, ArtifactFormat::Numpy);
    assert!(plain.pickles.is_empty());
    assert!(!plain.executes_code_on_load);
    assert_eq!(plain.verdict, Verdict::Clean);
    let obj_payload = call4("os", "system", "id");
    let obj = inspect(&npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", &obj_payload));
    assert!(obj.numpy[0].object);
    assert!(has_dangerous(&obj, "os.system"));
    assert!(obj.executes_code_on_load);
}

#[test]
fn npz_of_arrays() {
    let a_npy = npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", &[0; 8]);
    let b_npy = npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", &call4("pickle", "loads", "x"));
    let z = zip_of(&[("a.npy", &a_npy), ("b.npy", &b_npy)], CompressionMethod::Deflated);
    let a = inspect(&z);
    assert_eq!(a.format, ArtifactFormat::NumpyZip);
    assert_eq!(a.numpy.len(), 2);
    assert_eq!(a.numpy[1].entry.as_deref(), Some("b.npy"));
    assert!(has_dangerous(&a, "pickle.loads"));
}

#[test]
fn safetensors_document() {
    let header = r#"{"__metadata__":{"format":"pt"},"w":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}}"#;
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(&[0; 8]);
    let a = inspect(&v);
    assert_eq!(a.format, ArtifactFormat::Safetensors);
    let st = a.safetensors.clone().unwrap_or_default();
    assert!(st.valid && st.parameters == 4 && st.dtypes == vec!["BF16"]);
    assert_eq!(a.verdict, Verdict::Clean);
    assert!(!a.executes_code_on_load);
    v.push(0);
    let bad = inspect(&v);
    assert!(bad.safetensors.is_some_and(|s| !s.valid));
    assert!(bad.errors.iter().any(|e| e.starts_with("safetensors:")));
}

#[test]
fn gguf_minimal_header() {
    let arr = {
        let mut v = 8u32.to_le_bytes().to_vec();
        v.extend_from_slice(&2u64.to_le_bytes());
        v.extend(gstr("<s>"));
        v.extend(gstr("</s>"));
        v
    };
    let g = gguf(
        &[
            ("general.architecture", 8, gstr("llama")),
            ("general.license", 8, gstr("apache-2.0")),
            ("general.file_type", 4, 15u32.to_le_bytes().to_vec()),
            ("llama.context_length", 4, 4096u32.to_le_bytes().to_vec()),
            ("tokenizer.ggml.tokens", 9, arr),
            ("tokenizer.chat_template", 8, gstr("{{ messages }}")),
        ],
        &[("tok_embd.weight", &[4096, 32000], 12), ("norm.weight", &[4096], 0)],
    );
    let a = inspect(&g);
    assert_eq!(a.format, ArtifactFormat::Gguf);
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    let info = a.gguf.unwrap_or_default();
    assert_eq!(info.version, 3);
    assert_eq!(info.tensors, 2);
    assert_eq!(info.architecture.as_deref(), Some("llama"));
    assert_eq!(info.quantization.as_deref(), Some("Q4_K_M"));
    assert_eq!(info.license.as_deref(), Some("apache-2.0"));
    assert_eq!(info.parameters, Some(4096 * 32000 + 4096));
    assert!(info.has_chat_template);
    assert_eq!(info.metadata.get("llama.context_length"), Some(&serde_json::json!(4096)));
    assert!(!info.metadata.contains_key("tokenizer.ggml.tokens"));
}

#[test]
fn gguf_hostile_counts() {
    let mut v = b"GGUF".to_vec();
    v.extend_from_slice(&3u32.to_le_bytes());
    v.extend_from_slice(&u64::MAX.to_le_bytes());
    v.extend_from_slice(&u64::MAX.to_le_bytes());
    let a = inspect(&v);
    assert!(a.errors.iter().any(|e| e.contains("overflows") || e.contains("more bytes")));
    let arr = {
        let mut v = 8u32.to_le_bytes().to_vec();
        v.extend_from_slice(&(1u64 << 60).to_le_bytes());
        v
    };
    let b = inspect(&gguf(&[("x", 9, arr)], &[]));
    assert!(b.errors.iter().any(|e| e.contains("array length")));
}

#[test]
fn seven_zip_and_compressed_joblib_are_uninspected() {
    let a = inspect(b"7z\xbc\xaf\x27\x1c\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00");
    assert_eq!(a.format, ArtifactFormat::SevenZip);
    assert_eq!(a.verdict, Verdict::Uninspected);
    assert!(!a.warnings.is_empty());
    // A gzip stream cut short: decompressed as far as it goes, and not clean.
    let z = inspect(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03");
    assert_eq!(z.format, ArtifactFormat::JoblibCompressed);
    assert_ne!(z.verdict, Verdict::Clean);
    assert!(!z.incomplete.is_empty());
    assert!(z.executes_code_on_load);
}

#[test]
fn too_many_declared_entries_are_refused_before_parsing() {
    let names: Vec<String> = (0..20).map(|i| format!("f{i}.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let z = stored(&entries);
    let few = InspectOptions { hash: false, limits: ArtifactLimits { max_entries: 10, ..ArtifactLimits::default() } };
    let a = inspect_bytes("many.zip", &z, &few);
    assert!(a.errors.iter().any(|e| e.contains("declares 20 entries")), "{:?}", a.errors);
    assert_eq!(a.verdict, Verdict::Uninspected);
    assert_eq!(inspect(&z).archive.map(|x| x.entries), Some(20));
}

/// `data.pkl` as `torch.save(model.state_dict())` writes it: protocol 2, an OrderedDict of `tensors`
/// tensors rebuilt by `_rebuild_tensor_v2` from persistent storage ids, globals memoized once and fetched
/// again with LONG_BINGET (at indexes no string takes), every string memoized with LONG_BINPUT. `poison` adds an `os.system` call at the end.
fn state_dict(tensors: u32, poison: bool) -> Vec<u8> {
    let mut v = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(".to_vec();
    let mut memo = 2u32;
    let mut put = |v: &mut Vec<u8>| {
        v.push(b'r');
        v.extend_from_slice(&memo.to_le_bytes());
        memo += 1;
    };
    let text = |v: &mut Vec<u8>, s: &str| {
        v.push(b'X');
        v.extend_from_slice(&u32::try_from(s.len()).unwrap_or(0).to_le_bytes());
        v.extend_from_slice(s.as_bytes());
    };
    for i in 0..tensors {
        text(&mut v, &format!("encoder.layer.{i}.weight"));
        put(&mut v);
        if i == 0 {
            v.extend_from_slice(b"ctorch._utils\n_rebuild_tensor_v2\nr\xa0\x86\x01\x00");
        } else {
            v.extend_from_slice(b"j\xa0\x86\x01\x00"); // LONG_BINGET 100000
        }
        v.extend_from_slice(b"((");
        text(&mut v, "storage");
        put(&mut v);
        if i == 0 {
            v.extend_from_slice(b"ctorch\nFloatStorage\nr\xa1\x86\x01\x00");
        } else {
            v.extend_from_slice(b"j\xa1\x86\x01\x00");
        }
        text(&mut v, &i.to_string());
        put(&mut v);
        text(&mut v, "cpu");
        put(&mut v);
        v.extend_from_slice(b"J\x00\x00\x09\x00tQK\x00M\x00\x03M\x00\x03\x86K\x01M\x00\x03\x86\x89h\x00)RtR");
    }
    if poison {
        text(&mut v, "_metadata");
        v.extend_from_slice(b"cos\nsystem\n(X\x02\x00\x00\x00idtR");
    }
    v.extend_from_slice(b"u.");
    v
}

#[test]
fn a_checkpoint_with_hundreds_of_tensors_is_clean_and_a_poisoned_one_is_not() {
    for poison in [false, true] {
        let pkl = state_dict(300, poison);
        let names: Vec<String> = (0..300).map(|i| format!("archive/data/{i}")).collect();
        let mut entries: Vec<(&str, &[u8])> = vec![("archive/data.pkl", &pkl)];
        entries.extend(names.iter().map(|n| (n.as_str(), &[0u8; 64][..])));
        entries.push(("archive/version", b"3\n"));
        let a = inspect(&stored(&entries));
        assert_eq!(a.format, ArtifactFormat::PytorchZip);
        assert!(a.errors.is_empty() && a.warnings.is_empty(), "{:?} {:?}", a.errors, a.warnings);
        assert_eq!(a.archive.as_ref().map(|x| x.entries), Some(302));
        assert_eq!(a.pickles.len(), 1, "storages are not pickles");
        assert_eq!(a.pickles[0].persistent_ids, 300);
        let mut globals: Vec<&str> = a.globals.iter().map(|g| g.qualified.as_str()).collect();
        globals.sort_unstable();
        if poison {
            assert_eq!(a.verdict, Verdict::Dangerous);
            assert_eq!(a.dangerous_globals, ["os.system"]);
        } else {
            assert_eq!(a.verdict, Verdict::Clean, "{globals:?}");
            assert_eq!(globals, ["collections.OrderedDict", "torch.FloatStorage", "torch._utils._rebuild_tensor_v2"]);
        }
    }
}
