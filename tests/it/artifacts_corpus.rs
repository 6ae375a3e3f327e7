//! Verdicts over picklescan's test corpus (shared/corpus/artifacts/pickles).
//! Runs only where the corpus exists; prints "skipped: corpus not found" otherwise.
//! The files are only ever read as bytes.

use std::path::{Path, PathBuf};

use vigil::unstable::input::LoadOptions;
use vigil::{Document, Value};

fn corpus_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var("VIGIL_PICKLE_CORPUS").ok().map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/artifacts/pickles")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_dir())
}

/// (file, expected format, expected verdict, globals that must be flagged dangerous)
const EXPECTED: &[(&str, &str, &str, &[&str])] = &[
    ("bad_pytorch.pt", "unknown", "uninspected", &[]),
    ("benign0_v0.pkl", "pickle", "clean", &[]),
    ("benign0_v3.pkl", "pickle", "clean", &[]),
    ("benign0_v4.pkl", "pickle", "clean", &[]),
    ("benign_password_protected.zip", "zip", "uninspected", &[]),
    ("broken_model.pkl", "pickle", "dangerous", &["builtins.exec"]),
    ("malicious-invalid-bytes.pkl", "pickle", "dangerous", &["os.system"]),
    (
        "malicious0.pkl",
        "pickle",
        "dangerous",
        &["__builtin__.eval", "__builtin__.compile", "__builtin__.getattr", "__builtin__.apply"],
    ),
    ("malicious1.7z", "7z", "uninspected", &[]),
    ("malicious1.zip", "zip", "dangerous", &["builtins.eval"]),
    ("malicious10.pkl", "pickle", "dangerous", &["__builtin__.exec"]),
    ("malicious11.pkl", "pickle", "dangerous", &["os.system"]),
    ("malicious12.pkl", "pickle", "dangerous", &["operator.attrgetter"]),
    ("malicious13a.pkl", "pickle", "dangerous", &["pickle.loads"]),
    ("malicious13b.pkl", "pickle", "dangerous", &["_pickle.loads"]),
    ("malicious14.pkl", "pickle", "dangerous", &["runpy._run_code"]),
    ("malicious15a.pkl", "pickle", "dangerous", &["__builtin__.getattr", "bdb.Bdb"]),
    ("malicious15b.pkl", "pickle", "dangerous", &["bdb.Bdb.run", "bdb.Bdb"]),
    ("malicious16.pkl", "pickle", "dangerous", &["pip.main"]),
    ("malicious17.pkl", "pickle", "dangerous", &["torch._inductor.codecache.compile_file"]),
    ("malicious18.pkl", "pickle", "dangerous", &["pydoc.pipepager"]),
    ("malicious19.pkl", "pickle", "dangerous", &["functools.partial", "torch.serialization.load"]),
    ("malicious1_0x1.zip", "zip", "dangerous", &["builtins.eval"]),
    ("malicious1_0x20.zip", "zip", "dangerous", &["builtins.eval"]),
    ("malicious1_0x40.zip", "zip", "dangerous", &["builtins.eval"]),
    ("malicious1_central_directory.zip", "zip", "dangerous", &["builtins.eval"]),
    ("malicious1_v0.pkl", "pickle", "dangerous", &["__builtin__.eval"]),
    ("malicious1_v3.pkl", "pickle", "dangerous", &["builtins.eval"]),
    ("malicious1_v4.pkl", "pickle", "dangerous", &["builtins.eval"]),
    ("malicious1_wrong_ext.zip", "zip", "dangerous", &["builtins.eval"]),
    ("malicious20.pkl", "pickle", "dangerous", &["venv.create"]),
    ("malicious2_v0.pkl", "pickle", "dangerous", &["posix.system"]),
    ("malicious2_v3.pkl", "pickle", "dangerous", &["posix.system"]),
    ("malicious2_v4.pkl", "pickle", "dangerous", &["posix.system"]),
    ("malicious3.pkl", "pickle", "dangerous", &["httplib.HTTPSConnection"]),
    ("malicious4.pickle", "pickle", "dangerous", &["requests.api.get"]),
    ("malicious5.pickle", "pickle", "dangerous", &["aiohttp.client.ClientSession"]),
    ("malicious6.pkl", "pickle", "dangerous", &["requests.api.get"]),
    ("malicious7.pkl", "pickle", "dangerous", &["socket.create_connection"]),
    ("malicious8.pkl", "pickle", "dangerous", &["subprocess.run"]),
    ("malicious9.pkl", "pickle", "dangerous", &["sys.exit"]),
    ("new_pytorch_model.bin", "pytorch-zip", "clean", &[]),
    ("not_a_pickle.bin", "unknown", "uninspected", &[]),
    ("pytorch_magic_bypass.pt", "pickle", "dangerous", &["__builtin__.eval", "posix.system"]),
    ("pytorch_model.bin", "pytorch-legacy", "clean", &[]),
    ("sys_module_override_sploit.pkl", "pickle", "dangerous", &["?.?"]),
];

/// The string member `key` of an artifact document.
fn text<'a>(doc: &'a Value, key: &str) -> &'a str {
    doc.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The strings of the array member `key`.
fn strings<'a>(doc: &'a Value, key: &str) -> Vec<&'a str> {
    doc.get(key).and_then(Value::as_array).unwrap_or_default().iter().filter_map(Value::as_str).collect()
}

#[test]
fn corpus_verdicts() {
    let Some(dir) = corpus_dir() else {
        println!("skipped: corpus not found");
        return;
    };
    let options = LoadOptions::default();
    let mut failures = Vec::new();
    for (file, format, verdict, dangerous) in EXPECTED {
        let path = dir.join(file);
        let doc = match Document::from_artifact(&path, &options) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        assert_eq!(doc.kind(), vigil::Kind::ModelArtifact);
        let art = doc.data();
        if text(art, "format") != *format {
            failures.push(format!("{file}: format {}, expected {format}", text(art, "format")));
        }
        if text(art, "verdict") != *verdict {
            failures.push(format!("{file}: verdict {}, expected {verdict}", text(art, "verdict")));
        }
        let flagged = strings(art, "dangerous_globals");
        for g in *dangerous {
            if !flagged.contains(g) {
                failures.push(format!("{file}: {g} not flagged (got {flagged:?})"));
            }
        }
        if *verdict != "dangerous" && !flagged.is_empty() {
            failures.push(format!("{file}: unexpected dangerous globals {flagged:?}"));
        }
        if text(art, "sha256").len() != 64 {
            failures.push(format!("{file}: no sha256"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pytorch_fixtures_list_only_safe_globals() {
    let Some(dir) = corpus_dir() else {
        println!("skipped: corpus not found");
        return;
    };
    for file in ["pytorch_model.bin", "new_pytorch_model.bin"] {
        let doc = Document::from_artifact(&dir.join(file), &LoadOptions::default()).expect("readable fixture");
        let art = doc.data();
        let globals = art.get("globals").and_then(Value::as_array).unwrap_or_default();
        let mut names: Vec<&str> = globals.iter().map(|g| text(g, "qualified")).collect();
        names.sort_unstable();
        names.dedup();
        let unsafe_ones: Vec<&str> =
            globals.iter().filter(|g| text(g, "classification") != "safe").map(|g| text(g, "qualified")).collect();
        assert!(unsafe_ones.is_empty(), "{file}: {unsafe_ones:?} among {names:?}");
        assert!(strings(art, "errors").is_empty(), "{file}: {:?}", strings(art, "errors"));
    }
}
