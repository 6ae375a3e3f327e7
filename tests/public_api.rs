//! The library's public API, snapshotted: a change to it shows in review and must be accepted on purpose
//! (`cargo insta review`). The command line's `vigil::unstable` modules are hidden from the docs and not
//! listed. The front-end types `vigil` re-exports from `vigil-syntax` are listed from that crate.
//!
//! rustdoc's JSON output is unstable; `RUSTC_BOOTSTRAP=1` lets the stable toolchain emit it. The build goes
//! to its own target directory (check mode, library only), so it neither waits for nor invalidates the
//! test build.

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn public_api_is_deliberate() {
    let Some(listing) = listing("vigil", |_| true) else { return };
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("public_api", listing);
    });
}

/// `vigil` re-exports `Source`, `Span`, `Diagnostic`, `Diagnostics` and `Code` from the front-end crate; rustdoc
/// lists a re-export of another crate's item as a bare `pub use`, so their API is snapshotted here, from that
/// crate (its syntax trees are not re-exported, and not listed).
#[test]
fn re_exported_front_end_api_is_deliberate() {
    let re_exported =
        |item: &str| ["vigil_syntax::source::", "vigil_syntax::diagnostic::"].iter().any(|p| item.contains(p));
    let Some(listing) = listing("vigil-syntax", re_exported) else { return };
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("public_api_front_end", listing);
    });
}

/// The public items of `package`'s library that `keep` accepts, one per line; `None` (skipped) without cargo.
fn listing(package: &str, keep: impl Fn(&str) -> bool) -> Option<String> {
    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target").join("public-api");
    let out = match Command::new(&cargo)
        .current_dir(root)
        .env("RUSTC_BOOTSTRAP", "1")
        .env_remove("RUSTDOCFLAGS")
        .args(["rustdoc", "--lib", "-p", package, "--locked", "--no-default-features", "--target-dir"])
        .arg(&target)
        .args(["--", "-Z", "unstable-options", "--output-format", "json"])
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: cannot run {}: {e}", cargo.display());
            return None;
        }
    };
    assert!(out.status.success(), "cargo rustdoc failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let json = target.join("doc").join(format!("{}.json", package.replace('-', "_")));
    // Blanket impls (`Into`, `Any`, ...) and auto traits come from the compiler and its version, not from us:
    // left out, so a toolchain upgrade does not churn the snapshot. `Send + Sync` is asserted below instead.
    let api = public_api::Builder::from_rustdoc_json(&json)
        .omit_blanket_impls(true)
        .omit_auto_trait_impls(true)
        .build()
        .expect("rustdoc JSON parses");
    Some(api.items().map(|item| item.to_string()).filter(|item| keep(item)).map(|item| item + "\n").collect())
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
