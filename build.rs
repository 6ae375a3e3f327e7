//! Embeds the bundled policy packs (`policies/**/*.policy`) into the library, already parsed.
//!
//! Parsing is most of what a cold `policy check` costs, so the build script runs the library's own parser
//! (the `vigil-syntax` crate, a build dependency) over the bundled policies and stores their syntax trees
//! with postcard; at run time they are deserialized instead of parsed. A bundled policy that does not parse
//! fails the build, with the parser's message.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vigil_syntax::{source, syntax};

fn main() {
    version_info();
    let root = Path::new("policies");
    println!("cargo::rerun-if-changed=policies");
    // The parser is a dependency, so cargo reruns this script when it changes.
    let mut files = Vec::new();
    collect(root, &mut files);
    files.sort();
    let mut out = String::from(
        "/// The bundled policies: `(path, text)`, sorted by path.\npub static BUNDLED: &[(&str, &str)] = &[\n",
    );
    let mut trees = Vec::new();
    for file in &files {
        let rel = file.to_string_lossy().replace('\\', "/");
        let abs = std::fs::canonicalize(file).expect("policy file path");
        out.push_str(&format!("    ({rel:?}, include_str!({:?})),\n", abs.to_string_lossy()));
        println!("cargo::rerun-if-changed={}", file.display());
        let text = std::fs::read_to_string(file).expect("readable policy");
        let source: Arc<source::Source> = source::Source::new(rel.as_str(), text.as_str());
        match syntax::parse(&source) {
            Ok(tree) => trees.push(tree),
            Err(errors) => {
                let messages: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.location(), e.message)).collect();
                panic!("bundled policy does not parse:\n{}", messages.join("\n"));
            }
        }
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out_dir.join("bundled.rs"), out).expect("write bundled.rs");
    let blob = postcard::to_allocvec(&trees).expect("serializable syntax trees");
    std::fs::write(out_dir.join("bundled.ast"), blob).expect("write bundled.ast");
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "policy") {
            // `NAME_test.policy` files hold the packs' tests (`policy test policies/`), not policies to ship.
            if !path.file_name().is_some_and(|n| n.to_string_lossy().ends_with("_test.policy")) {
                files.push(path);
            }
        }
    }
}

/// `policy --version` names the git commit and the enabled features: `VIGIL_GIT_COMMIT` (from the
/// environment when set, as in a container build without `.git`; else `git rev-parse`; else "unknown") and
/// `VIGIL_FEATURES`. A build without git or outside a checkout never fails for it.
///
/// Only HEAD and the branch it points to are watched, not the whole `.git`: the crate is rebuilt when the
/// commit changes, never because git touched its index. In a worktree `.git` is a file, so the folders come
/// from git itself.
fn version_info() {
    println!("cargo::rerun-if-env-changed=VIGIL_GIT_COMMIT");
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git").args(args).output().ok()?;
        let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !text.is_empty()).then_some(text)
    };
    let commit = match std::env::var("VIGIL_GIT_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => {
            let commit = git(&["rev-parse", "--short=12", "HEAD"]);
            if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
                println!("cargo::rerun-if-changed={dir}/HEAD");
                let common = git(&["rev-parse", "--git-common-dir"]).unwrap_or(dir);
                println!("cargo::rerun-if-changed={common}/packed-refs");
                if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                    println!("cargo::rerun-if-changed={common}/{branch}");
                }
            }
            commit.unwrap_or_else(|| "unknown".to_string())
        }
    };
    println!("cargo::rustc-env=VIGIL_GIT_COMMIT={commit}");
    let mut features: Vec<String> = std::env::vars()
        .filter_map(|(k, _)| k.strip_prefix("CARGO_FEATURE_").map(|f| f.to_lowercase().replace('_', "-")))
        .filter(|f| f != "default")
        .collect();
    features.sort();
    let features = if features.is_empty() { "none".to_string() } else { features.join(", ") };
    println!("cargo::rustc-env=VIGIL_FEATURES={features}");
}
