//! The pre-commit hook on a real repository (issue 15, item 20): `.pre-commit-hooks.yaml` passes only files
//! Vigil reads, the hook's command skips what no rule reads, cross-document rules see the unchanged files,
//! and the entry script builds with `--locked`.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::support::policy;
use vigil::{Document, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The hooks of `.pre-commit-hooks.yaml`, read with Vigil's own YAML loader.
fn hooks() -> Vec<Value> {
    let docs = Document::from_path(root().join(".pre-commit-hooks.yaml")).expect("the hooks file parses");
    docs[0].data().as_array().expect("a list of hooks").to_vec()
}

fn text<'a>(hook: &'a Value, key: &str) -> &'a str {
    hook.get(key).and_then(Value::as_str).unwrap_or_else(|| panic!("hook has no `{key}`"))
}

fn words(hook: &Value, key: &str) -> Vec<String> {
    match hook.get(key) {
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        Some(v) => v.as_str().unwrap_or("").split_whitespace().map(str::to_string).collect(),
        None => Vec::new(),
    }
}

#[test]
fn only_files_vigil_reads_reach_the_hook() {
    for hook in hooks() {
        // pre-commit's `files` is a Python regex; this one uses only syntax the two engines share.
        let files = regex::Regex::new(text(&hook, "files")).expect("valid regex");
        let read = [
            "models/classifier.pkl",
            "legacy/model.pickle",
            "sklearn/pipe.joblib",
            "weights/model.safetensors",
            "weights/pytorch_model.bin",
            "llm/model.Q4_K_M.gguf",
            "onnx/model.onnx",
            "MLproject",
            "train/MLproject",
            "mlruns/0/abc/artifacts/model/MLmodel",
            "dvc.yaml",
            "dvc.lock",
            "data/raw.dvc",
            ".github/workflows/ci.yml",
            "deploy/isvc.yaml",
            "boms/model.cdx.json",
            "spdx/ai.jsonld",
            "README.md",
            "vigil.toml",
        ];
        for path in read {
            assert!(files.is_match(path), "{}: {path} must reach the hook", text(&hook, "id"));
        }
        for path in ["docs/logo.png", "assets/photo.JPG", "src/train.py", "Makefile", "LICENSE", "notes.txt"] {
            assert!(!files.is_match(path), "{}: {path} must not reach the hook", text(&hook, "id"));
        }
        assert_eq!(hook.get("pass_filenames"), Some(&Value::Bool(true)));
        let entry = words(&hook, "entry");
        assert!(entry.contains(&"--pre-commit".to_string()), "{entry:?}");
        assert_eq!(words(&hook, "args"), ["--context", "."]);
    }
}

/// pre-commit's `language: rust` runs `cargo install --path .`, which ignores Cargo.lock; the hook that
/// builds must do so itself, with `--locked`. A stand-in `cargo` records how it is called.
#[cfg(unix)]
#[test]
fn the_hook_builds_with_locked_once_and_runs_the_binary() {
    use std::os::unix::fs::PermissionsExt;
    let building = hooks().into_iter().find(|h| text(h, "language") == "script").expect("a hook that builds");
    let entry = words(&building, "entry");
    let script = std::fs::read_to_string(root().join(&entry[0])).expect("the entry script");

    // A hook checkout: the script, a Cargo.lock, and a `cargo` on the PATH that logs and "builds" a stub.
    let dir = tempfile::tempdir().expect("temp dir");
    let checkout = dir.path().join("repo");
    std::fs::create_dir_all(checkout.join("scripts")).expect("mkdir");
    std::fs::write(checkout.join("Cargo.lock"), "# lock\n").expect("write");
    let script_path = checkout.join(&entry[0]);
    std::fs::write(&script_path, &script).expect("write");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let log = dir.path().join("cargo.log");
    let fake_cargo = format!(
        "#!/bin/sh\necho \"$@\" >> '{log}'\nmkdir -p '{out}'\nprintf '#!/bin/sh\\necho \"policy $*\"\\n' > '{out}/policy'\nchmod +x '{out}/policy'\n",
        log = log.display(),
        out = checkout.join("target/release").display()
    );
    std::fs::write(bin.join("cargo"), fake_cargo).expect("write");
    for exe in [bin.join("cargo"), script_path.clone()] {
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let run = || -> Output {
        Command::new(&script_path)
            .args(&entry[1..])
            .args(["--context", ".", "models/card.md"])
            .env("PATH", &path)
            .output()
            .expect("the script runs")
    };
    let first = run();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(String::from_utf8_lossy(&first.stdout), "policy check --pre-commit --context . models/card.md\n");
    let calls = std::fs::read_to_string(&log).expect("cargo was called");
    assert!(calls.starts_with("build --locked --release"), "{calls}");
    // Built once: the second run goes straight to the binary.
    assert!(run().status.success());
    assert_eq!(std::fs::read_to_string(&log).expect("log").lines().count(), 1);
}

#[test]
fn a_commit_of_files_no_rule_reads_passes_and_a_broken_workflow_does_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files: &[(&str, &[u8])] = &[
        ("tsconfig.json", b"{\n  // editor\n  \"compilerOptions\": {},\n}\n"),
        ("chart/templates/svc.yaml", b"metadata:\n  labels:\n    {{- include \"l\" . | nindent 4 }}\n"),
        ("docs/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ("notes.md", b"# Notes\n"),
        ("broken.yml", b"on: push\njobs: [\n"),
    ];
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
    let hook = ["check", "--pre-commit", "--context", "."];
    let changed = ["tsconfig.json", "chart/templates/svc.yaml", "docs/logo.png", "notes.md"];
    let out = policy(&[&hook[..], &changed[..]].concat(), dir.path());
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("4 files skipped"), "{all}");
    // Without --pre-commit, named files that do not parse are errors, as they always were.
    let plain = policy(&[&["check"], &changed[..]].concat(), dir.path());
    assert_eq!(plain.status.code(), Some(2));
    // A changed workflow that does not parse still fails the commit.
    let broken = policy(&[&hook[..], &["broken.yml"]].concat(), dir.path());
    assert_eq!(broken.status.code(), Some(2), "{}", String::from_utf8_lossy(&broken.stderr));
}
