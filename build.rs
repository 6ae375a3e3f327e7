//! Embeds the bundled policy packs (`policies/**/*.policy`) into the library.

use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new("policies");
    println!("cargo::rerun-if-changed=policies");
    let mut files = Vec::new();
    collect(root, &mut files);
    files.sort();
    let mut out = String::from(
        "/// The bundled policies: `(path, text)`, sorted by path.\npub static BUNDLED: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        let rel = file.to_string_lossy().replace('\\', "/");
        let abs = std::fs::canonicalize(file).expect("policy file path");
        out.push_str(&format!("    ({rel:?}, include_str!({:?})),\n", abs.to_string_lossy()));
        println!("cargo::rerun-if-changed={}", file.display());
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("bundled.rs");
    std::fs::write(dest, out).expect("write bundled.rs");
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
