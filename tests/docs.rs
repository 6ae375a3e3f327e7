//! Generated documentation stays current: `docs/rules.md` is `policy list --format markdown` over the bundled
//! rules, and `docs/builtins.md` lists every builtin function. Run with `UPDATE_DOCS=1` to regenerate.

use std::path::Path;

use vigil::Engine;
use vigil::unstable::report::catalog;

fn check_file(relative: &str, expected: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, expected).expect("write docs");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(current == expected, "{relative} is out of date: run `UPDATE_DOCS=1 cargo test --test docs`");
}

#[test]
fn rules_md_lists_the_bundled_rules() {
    let policies =
        Engine::default().compile(vigil::unstable::bundled::BUNDLED.iter().copied()).expect("bundled policies compile");
    let rules: Vec<_> = policies.rules().map(|r| &**r).collect();
    check_file("docs/rules.md", &catalog::markdown(&rules));
}

#[test]
fn builtins_md_lists_every_function() {
    let engine = Engine::default();
    let mut text = String::from(
        "# Builtin functions\n\nGenerated from the function registry (a test keeps this file current). Types are \
         checked when a policy is compiled where they are known, and when it runs otherwise: a wrong argument is a \
         finding (`cause: error`), never a silent pass.\n\nSpecial forms: `exists(x)` (present and not null) and \
         `documents(Kind, ...)` (the data of every loaded document of those kinds); see \
         [language.md](language.md).\n\n| function | returns | description |\n|---|---|---|\n",
    );
    let mut functions: Vec<_> = engine.registry().iter().collect();
    functions.sort_by_key(|f| f.name().to_string());
    for f in functions {
        let description = f.description().split_once(": ").map_or(f.description(), |(_, d)| d).replace('|', "\\|");
        text.push_str(&format!("| `{}` | {:?} | {} |\n", f.signature(), f.returns(), description));
    }
    check_file("docs/builtins.md", &text);
}
