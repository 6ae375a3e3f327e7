//! The VS Code extension (editors/vscode): its manifest points at files that exist and parse, its grammar
//! knows every document kind, and — when Node and the extension's dev dependencies are installed (`npm ci`
//! in editors/vscode) — the grammar tokenises every bundled policy without an `invalid` token.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_manifest_grammar_and_configuration_fit_together() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode");
    let manifest = read_json(&dir.join("package.json"));
    let language = &manifest["contributes"]["languages"][0];
    assert_eq!(language["extensions"], serde_json::json!([".policy"]));
    read_json(&dir.join(language["configuration"].as_str().expect("configuration")));
    let grammar_entry = &manifest["contributes"]["grammars"][0];
    assert_eq!(grammar_entry["language"], language["id"]);
    let grammar = read_json(&dir.join(grammar_entry["path"].as_str().expect("path")));
    assert_eq!(grammar["scopeName"], grammar_entry["scopeName"]);
    assert!(dir.join(manifest["main"].as_str().expect("main")).is_file());
    // Kinds are highlighted by name: a kind added to Vigil must be added to the grammar.
    let text = grammar.to_string();
    for kind in vigil::Kind::ALL.iter().filter(|k| **k != vigil::Kind::Unknown) {
        assert!(
            text.contains(&format!("|{kind}|"))
                || text.contains(&format!("({kind}|"))
                || text.contains(&format!("|{kind})")),
            "{kind}"
        );
    }
}

#[test]
fn the_grammar_tokenises_every_bundled_policy() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode");
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        println!("skipped: node is not installed");
        return;
    }
    if !dir.join("node_modules/vscode-textmate").is_dir() || !dir.join("node_modules/vscode-oniguruma").is_dir() {
        println!("skipped: run `npm ci` in editors/vscode for vscode-textmate and vscode-oniguruma");
        return;
    }
    let out = Command::new("node").arg("test/tokenize.js").current_dir(&dir).output().expect("node runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("0 problems"), "{text}");
}
