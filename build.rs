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
            files.push(path);
        }
    }
}
