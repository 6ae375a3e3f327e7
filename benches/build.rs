//! Finds the shared hand-written floor (`../shared/bench/modelcard/native_floor.rs`, or the one in
//! `$VIGIL_BENCH_WORKLOAD`) and, when it is there, compiles it in as `vigil_bench::floor::native` (cfg
//! `vigil_floor`). The file belongs to the shared workload, not to this repository: it is referenced by
//! absolute path from a generated module declaration, never copied. Without it the harness prints a note and
//! leaves the floor's row out.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(vigil_floor)");
    println!("cargo::rerun-if-env-changed=VIGIL_BENCH_WORKLOAD");
    let dir = std::env::var_os("VIGIL_BENCH_WORKLOAD").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../shared/bench/modelcard")
    });
    let floor = dir.join("native_floor.rs");
    println!("cargo::rerun-if-changed={}", floor.display());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("native_floor_mod.rs");
    let declaration = match floor.canonicalize() {
        Ok(path) => {
            println!("cargo::rustc-cfg=vigil_floor");
            // Third-party code under its own style: neither our lints nor our formatting apply to it.
            format!(
                "#[allow(clippy::all, missing_docs, unused)]\n#[path = {:?}]\npub mod native;\n",
                path.display().to_string()
            )
        }
        Err(_) => String::new(),
    };
    if let Err(e) = std::fs::write(&out, declaration) {
        panic!("cannot write {}: {e}", out.display());
    }
}
