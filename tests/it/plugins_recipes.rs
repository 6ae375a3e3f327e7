//! The three recipes of docs/plugins.md, built with the commands the docs give and run through Vigil:
//! WAT always (assembled here), C and Rust when Debian's compilers are installed (a skip is printed
//! otherwise). Plus the exit code of `policy check` when a plugin fails.
#![cfg(feature = "plugins")]

use std::path::{Path, PathBuf};
use std::process::Command;

use vigil::unstable::plugins::{PluginOptions, PluginSource, sha256_hex};
use vigil::{Document, Engine};

/// Runs a recipe's build script into a temporary folder; `None` (after printing why) when its compiler
/// is missing.
fn build(recipe: &str, output: &str, compiler: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    if !Path::new(compiler).exists() {
        eprintln!("skipped: {compiler} is not installed, so the {recipe} recipe is not built (see docs/plugins.md)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(output);
    let status = Command::new("sh").arg(format!("examples/plugins/{recipe}/build.sh")).env("OUT", &out).status();
    assert!(status.unwrap().success(), "the {recipe} recipe does not build");
    Some((dir, out))
}

/// Compiles `rule_body` against the plugin at `wasm` (given to the builder as `p`) and returns the
/// messages of the findings on one model card.
fn messages(wasm: &[u8], rule_body: &str) -> Vec<String> {
    let source = PluginSource::bytes("recipe.wasm", wasm.to_vec()).sha256(sha256_hex(wasm));
    let options = PluginOptions::default().with_no_cache(true);
    let engine = Engine::builder().plugin_options(options).plugin("p", source).unwrap().build();
    let text = format!(
        "package t\nrule \"T-1\" {{\n  title = \"t\"\n  severity = high\n  applies_to = ModelCard\n{rule_body}\n}}\n"
    );
    let policies = engine.compile([("t.policy", text)]).unwrap_or_else(|e| panic!("{e}"));
    let docs = Document::from_str("card.yaml", "kind: ModelCard\nname: héllo \"wörld\"\n").unwrap();
    policies.evaluate(&docs).findings.into_iter().map(|f| f.finding.message).collect()
}

#[test]
fn wat_recipe() {
    let wasm = wat::parse_file("examples/plugins/wat/echo.wat").unwrap();
    let got = messages(&wasm, "  require false else \"{p.echo(input.name)}\"");
    assert_eq!(got, vec![r#"["héllo \"wörld\""]"#]);
}

#[test]
fn c_recipe() {
    let Some((_dir, out)) = build("c", "words.wasm", "/usr/bin/clang") else { return };
    let wasm = std::fs::read(out).unwrap();
    let got = messages(
        &wasm,
        "  require false else \"{p.words(input.name)} {p.words(\"a\\nb  c\\u{e9} \")} {p.words(\"\")}\"",
    );
    assert_eq!(got, vec!["2 3 0"]);
}

#[test]
fn rust_recipe() {
    let Some((_dir, out)) = build("rust", "upper.wasm", "/usr/bin/rustc") else { return };
    let wasm = std::fs::read(out).unwrap();
    let got =
        messages(&wasm, "  require p.upper(input.name) == \"HÉLLO \\\"WÖRLD\\\"\" else \"{p.upper(input.name)}\"");
    assert!(got.is_empty(), "{got:?}");
}

/// A plugin that traps fails `policy check` with exit code 1 and an error finding, never 0.
#[test]
fn a_failing_plugin_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = r#"{"abi":1,"functions":[{"name":"f","params":["any"],"returns":"any"}]}"#.replace('"', "\\\"");
    let wasm = wat::parse_str(format!(
        r#"(module (memory (export "memory") 1)
             (func (export "vigil_alloc") (param i32) (result i32) (i32.const 1024))
             (func (export "f") (param i32 i32) (result i64) unreachable)
             (@custom "vigil.manifest" "{manifest}"))"#
    ))
    .unwrap();
    std::fs::write(dir.path().join("p.wasm"), &wasm).unwrap();
    let policy = format!(
        "package t\nimport plugin \"p.wasm\" as p sha256 \"{}\"\nrule \"T-1\" {{\n  title = \"t\"\n  severity = info\n  \
         applies_to = ModelCard\n  require p.f(input.name) != 1\n}}\n",
        sha256_hex(&wasm)
    );
    std::fs::write(dir.path().join("t.policy"), policy).unwrap();
    std::fs::write(dir.path().join("card.yaml"), "kind: ModelCard\nname: x\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(["check", "--no-config", "--no-builtin", "--format", "json", "--policy"])
        .arg(dir.path().join("t.policy"))
        .arg(dir.path().join("card.yaml"))
        .env("VIGIL_CACHE_DIR", dir.path().join("cache"))
        .output()
        .unwrap();
    // The rule's severity is info, below the default --fail-on low: an error still fails the run.
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["cause"], "error");
    let message = report["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("`f` of plugin `p.wasm` trapped: unreachable code reached"), "{message}");
}

/// docs/plugins.md quotes each recipe file whole, so the documented recipes are the tested ones.
#[test]
fn the_docs_quote_the_recipes_verbatim() {
    let docs = std::fs::read_to_string("docs/plugins.md").unwrap();
    for file in [
        "examples/plugins/wat/echo.wat",
        "examples/plugins/c/words.c",
        "examples/plugins/c/manifest.json",
        "examples/plugins/c/build.sh",
        "examples/plugins/rust/upper.rs",
        "examples/plugins/rust/build.sh",
    ] {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(docs.contains(&format!("\n{text}```\n")), "docs/plugins.md does not quote {file} as it is");
    }
}
