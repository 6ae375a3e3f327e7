//! The library's public API, snapshotted: a change to it shows in review and must be accepted on purpose
//! (`cargo insta review`). The command line's `vigil::unstable` modules are hidden from the docs and not
//! listed.
//!
//! rustdoc's JSON output is unstable; `RUSTC_BOOTSTRAP=1` lets the stable toolchain emit it. The build goes
//! to its own target directory (check mode, library only), so it neither waits for nor invalidates the
//! test build.

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn public_api_is_deliberate() {
    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target").join("public-api");
    let out = match Command::new(&cargo)
        .current_dir(root)
        .env("RUSTC_BOOTSTRAP", "1")
        .env_remove("RUSTDOCFLAGS")
        .args(["rustdoc", "--lib", "-p", "vigil", "--locked", "--no-default-features", "--target-dir"])
        .arg(&target)
        .args(["--", "-Z", "unstable-options", "--output-format", "json"])
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: cannot run {}: {e}", cargo.display());
            return;
        }
    };
    assert!(out.status.success(), "cargo rustdoc failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let json = target.join("doc").join("vigil.json");
    // Blanket impls (`Into`, `Any`, ...) and auto traits come from the compiler and its version, not from us:
    // left out, so a toolchain upgrade does not churn the snapshot. `Send + Sync` is asserted below instead.
    let api = public_api::Builder::from_rustdoc_json(&json)
        .omit_blanket_impls(true)
        .omit_auto_trait_impls(true)
        .build()
        .expect("rustdoc JSON parses");
    let listing: String = api.items().map(|item| format!("{item}\n")).collect();
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("public_api", listing);
    });
}

/// What the docs promise about threads: compile once, share the set, evaluate from any thread.
#[test]
fn engine_types_are_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<vigil::Engine>();
    shareable::<vigil::PolicySet>();
    shareable::<vigil::Session>();
    shareable::<vigil::Document>();
    shareable::<vigil::Report>();
    shareable::<vigil::Error>();
}
