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
        "# Builtin functions\n\nGenerated from the function registry (a test keeps this file current, and another \
         evaluates every example). Types are checked when a policy is compiled where they are known, and when it \
         runs otherwise: an argument of the wrong type is a finding (`cause: invalid-data`), a function that fails \
         another (`cause: error`), never a silent pass.\n\n**Argument order.** Every function takes the value it \
         examines first (the text, array, object or date) and patterns, separators and other operands after it: \
         `regex_match(s, pattern)` like `s matches pattern`, `starts_with(s, prefix)`, `split(s, sep)`, \
         `contains(xs, item)`. A literal pattern is compiled with the policy (an invalid one is a policy error), \
         and a pattern-looking literal in the text position with data in the pattern position is refused as a \
         call written backwards.\n\nSpecial forms: `exists(x)` (present and not null) and \
         `documents(Kind, ...)` (the data of every loaded document of those kinds); see \
         [language.md](language.md).\n\n| function | arguments | returns | example | description |\n\
         |---|---|---|---|---|\n",
    );
    let mut functions: Vec<_> = engine.registry().iter().collect();
    functions.sort_by_key(|f| f.name().to_string());
    for f in functions {
        let (usage, description) = f.description().split_once(": ").unwrap_or((f.name(), f.description()));
        let usage = usage.trim_matches('`');
        let names: Vec<&str> = usage
            .strip_prefix(f.name())
            .and_then(|rest| rest.strip_prefix('(')?.strip_suffix(')'))
            .map(|list| list.split(", ").filter(|n| !n.is_empty()).map(|n| n.trim_matches(['[', ']'])).collect())
            .unwrap_or_default();
        assert_eq!(
            names.len(),
            f.params().len(),
            "`{}`: the description's usage `{usage}` names each argument",
            f.name()
        );
        let arguments: Vec<String> = names.iter().zip(f.params()).map(|(name, ty)| format!("`{name}`: {ty}")).collect();
        let arguments = if arguments.is_empty() { "none".to_string() } else { arguments.join("; ") };
        let (call, result) = f.example_call().unwrap_or_else(|| panic!("`{}` has no example", f.name()));
        let cell = |s: &str| s.replace('|', "\\|");
        text.push_str(&format!(
            "| `{}` | {} | {:?} | `{}` → `{}` | {} |\n",
            cell(usage),
            cell(&arguments),
            f.returns(),
            cell(call),
            cell(result),
            cell(description)
        ));
    }
    check_file("docs/builtins.md", &text);
}

/// Every policy example of docs/language.md (a fenced block starting with `package`) compiles, and the
/// `test` blocks among them pass: the reference cannot drift from the language.
#[test]
fn language_md_examples_compile_and_their_tests_pass() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/language.md")).expect("read");
    let blocks: Vec<&str> = text
        .split("```")
        .skip(1)
        .step_by(2)
        .map(|b| b.split_once('\n').map_or("", |(_, body)| body))
        .filter(|b| b.starts_with("package "))
        .collect();
    assert!(blocks.len() >= 2, "the examples are found");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let path = dir.path().join(format!("example{i}.policy"));
        std::fs::write(&path, block).expect("write example");
        if let Err(e) = Engine::default().compile([(path.to_string_lossy().into_owned(), block.to_string())]) {
            panic!("docs/language.md example {i} does not compile: {e:?}\n{block}");
        }
        files.push(path);
    }
    let run = vigil::unstable::testing::run(&files, &Default::default()).expect("the examples compile together");
    assert!(run.results.len() >= 3, "the test examples run");
    for r in &run.results {
        assert!(r.passed(), "docs/language.md test {:?} fails: {:?}", r.name, r.problems);
    }
}
