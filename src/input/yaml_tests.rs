//! The tuned YAML loader against the reference one it replaced ([`super::super::yaml_reference`]): same
//! values, spans and errors on real files (the shared corpus, the repository's own YAML) and on generated,
//! often broken YAML — and never a panic.

use std::path::Path;

use proptest::prelude::*;

use super::super::yaml_reference::parse_stream_reference;
use super::*;

/// Both loaders' answers on `text` (at byte `base` of a source holding `prefix` + `text`), as text: `Value`'s
/// `Debug` shows key order and NaN, and the spans are compared one by one.
fn both(text: &str, base: usize) -> (String, String) {
    let prefix = " ".repeat(base);
    let src = Source::new("t.yaml", format!("{prefix}{text}"));
    let limits = Limits { max_depth: 24, max_alias_nodes: 400, max_documents: 40, ..Limits::default() };
    let new = parse_stream(&src, text, base, &limits);
    let old = parse_stream_reference(&src, text, base, &limits);
    (format!("{new:?}"), format!("{old:?}"))
}

fn assert_same(text: &str, what: &str) {
    let (new, old) = both(text, 0);
    assert_eq!(new, old, "the loaders disagree on {what}:\n{text}");
}

fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "md")) {
            out.push(path);
        }
    }
}

/// YAML of a file: the whole of a `.yaml`, the front matter of a Markdown file (with its offset).
fn yaml_of(path: &Path) -> Option<(String, usize)> {
    let text = std::fs::read_to_string(path).ok()?;
    if path.extension().is_some_and(|e| e == "md") {
        let body = text.strip_prefix("---\n")?;
        let end = body.find("\n---")?;
        return Some((body[..=end].to_string(), 4));
    }
    Some((text, 0))
}

fn compare_dir(dir: &Path) -> usize {
    let mut files = Vec::new();
    yaml_files(dir, &mut files);
    let mut compared = 0;
    for path in files {
        let Some((text, base)) = yaml_of(&path) else { continue };
        let (new, old) = both(&text, base);
        assert_eq!(new, old, "the loaders disagree on {}", path.display());
        compared += 1;
    }
    compared
}

#[test]
fn same_as_reference_on_the_corpus() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !corpus.is_dir() {
        println!("skipped: {} is absent", corpus.display());
        return;
    }
    assert!(compare_dir(&corpus) > 200, "the corpus should hold hundreds of YAML and Markdown files");
}

#[test]
fn same_as_reference_on_the_repository_yaml() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let compared: usize =
        ["examples", "tests/cases", "policies", "docs"].iter().map(|d| compare_dir(&root.join(d))).sum();
    assert!(compared > 50, "only {compared} files compared");
}

#[test]
fn same_as_reference_on_edge_cases() {
    let cases = [
        "",
        "# only a comment\n",
        "a: 1\nb: [x, y, {c: d}]\nc: &x {k: v}\nd: *x\n",
        "base: &b {a: 1, b: 2}\nm:\n  <<: *b\n  b: 3\n",
        "m:\n  <<: [*nope]\n",
        "a: &a [1, 2]\nm:\n  <<: [{x: 1}, {y: &i {z: 2}}]\n  w: *i\n",
        "m:\n  <<: {a: 1}\n  <<: {b: 2}\n",
        "m:\n  <<: 3\n",
        "\"<<\": 1\n<<: {a: 1}\n",
        "a: 1\na: 2\n",
        "? [a, b]\n: 1\n? {x: y}\n: 2\n",
        "1: a\n0x1F: b\n~: c\ntrue: d\n1.5: e\n.inf: f\n",
        "on: yes\noff: no\nnull: ~\nx: .NaN\ny: -.inf\nz: 0o17\nw: 1e3\nv: 12345678901234567890\n",
        "a: !!str 1\nb: !!int \"2\"\nc: !!float 3\nd: !!null ''\ne: !!bool yes\n",
        "a: !!python/object:os.system x\n",
        "a: !!map [1]\n",
        "a: !Ref x\nb: !Sub [a, b]\nc: ! 12\n",
        "--- 1\n--- 2\n...\n---\nx: y\n",
        "a: |\n  text\n  more\nb: >-\n  folded\n  text\n",
        "a: |\n  no final newline",
        "é: ü\n日本: 語\nk: \"\\u00e9\\t\"\n",
        "a: [1, 2\n",
        "a: b: c\n",
        "\t- x\n",
        "a:\n  - b\n  -c\n - d\n",
        "&a [*a]\n",
        "x: *unknown\n",
        "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c]\n",
    ];
    for case in cases {
        assert_same(case, "an edge case");
    }
    let deep = "[".repeat(40) + &"]".repeat(40);
    assert_same(&deep, "deep nesting");
    let wide: String = (0..200).map(|i| format!("k{i}: {i}\n")).collect();
    assert_same(&wide, "a wide mapping");
    let wide_dup = format!("{wide}k150: again\n");
    assert_same(&wide_dup, "a duplicate in a wide mapping");
    let small_dup = "a: 1\nb: 2\nc: 3\nb: 4\n";
    assert_same(small_dup, "a duplicate in a small mapping");
}

/// libyaml-safer's open panic reports (simonask/libyaml-safer#6, #7) and the block scalar at end of input
/// it panics on: each is an error with a span, never a crash.
#[test]
fn parser_panics_are_errors() {
    for text in ["a: ''|\n 0", "[!,", "key: |\n  text"] {
        let src = Source::new("t.yaml", text);
        match parse_stream(&src, text, 0, &Limits::default()) {
            Err(e) => assert!(e.message.starts_with("invalid YAML"), "{text:?}: {}", e.message),
            Ok(trees) => assert!(text.starts_with("key"), "{text:?} loaded: {:?}", trees[0].value),
        }
        assert_same(text, "an input the parser panics on");
    }
}

#[test]
fn core_schema_resolution() {
    assert_eq!(resolve_plain(""), Value::Null);
    assert_eq!(resolve_plain("~"), Value::Null);
    assert_eq!(resolve_plain("True"), Value::Bool(true));
    assert_eq!(resolve_plain("on"), Value::from("on"));
    assert_eq!(resolve_plain("nullx"), Value::from("nullx"));
    assert_eq!(resolve_plain("0x1F"), Value::Int(31));
    assert_eq!(resolve_plain("-12"), Value::Int(-12));
    assert_eq!(resolve_plain("1e3"), Value::Float(1000.0));
    assert_eq!(resolve_plain(".5"), Value::Float(0.5));
    assert_eq!(resolve_plain("1.2.3"), Value::from("1.2.3"));
    assert_eq!(resolve_plain("2026-01-01"), Value::from("2026-01-01"));
    assert_eq!(resolve_plain("e5"), Value::from("e5"));
}

/// Pieces of YAML, well-formed and not, that the generator strings together.
fn piece() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("a"),
        Just("b"),
        Just("<<"),
        Just("\"<<\""),
        Just("'q'"),
        Just("1"),
        Just("0x1F"),
        Just("-1.5e3"),
        Just("~"),
        Just("null"),
        Just("on"),
        Just("True"),
        Just(".nan"),
        Just("é"),
        Just("日本"),
        Just("\"x\\ty\""),
        Just(""),
    ];
    let syntax = prop_oneof![
        Just(": "),
        Just(":"),
        Just("- "),
        Just("\n"),
        Just("\n  "),
        Just("\n    "),
        Just("\t"),
        Just("["),
        Just("]"),
        Just("{"),
        Just("}"),
        Just(", "),
        Just("&a "),
        Just("&b "),
        Just("*a"),
        Just("*b"),
        Just("<<: *a"),
        Just("<<: [*a, *b]"),
        Just("!!str "),
        Just("!!int "),
        Just("!!map "),
        Just("!Ref "),
        Just("! "),
        Just("? "),
        Just("|\n  "),
        Just(">-\n  "),
        Just("# c\n"),
        Just("---\n"),
        Just("...\n"),
        Just("\""),
        Just("'"),
    ];
    prop_oneof![word.prop_map(str::to_string), syntax.prop_map(str::to_string)]
}

/// Well-formed block YAML with anchors, aliases and merges, to reach deep into the builder.
fn block(depth: u32) -> BoxedStrategy<String> {
    let scalar = prop_oneof![
        Just("x".to_string()),
        Just("12".to_string()),
        Just("\"q\"".to_string()),
        Just("[1, {a: b}]".to_string()),
        Just("{<<: {m: 1}, n: 2}".to_string())
    ];
    if depth == 0 {
        return scalar.boxed();
    }
    let entries = proptest::collection::vec(
        (prop_oneof![Just("a"), Just("b"), Just("c"), Just("<<")], 0..3u8, block(depth - 1)),
        1..4,
    );
    entries
        .prop_map(move |entries| {
            let indent = "  ".repeat(depth as usize);
            let mut out = String::from("\n");
            for (key, anchor, value) in entries {
                let anchor = match anchor {
                    1 => "&a ",
                    2 => "&b ",
                    _ => "",
                };
                let value = if key == "<<" && anchor.is_empty() { "*a".to_string() } else { value };
                out.push_str(&format!("{indent}{key}: {anchor}{value}\n"));
            }
            out
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Random token soup: mostly invalid YAML. No panic, and the same answer as the reference.
    #[test]
    fn token_soup_matches_reference(pieces in proptest::collection::vec(piece(), 0..40), base in 0usize..3) {
        let text: String = pieces.concat();
        let (new, old) = both(&text, base);
        prop_assert_eq!(new, old, "on {:?}", text);
    }

    /// Nested mappings with anchors, aliases and merge keys, sometimes cut short.
    #[test]
    fn nested_documents_match_reference(body in block(4), cut in proptest::option::of(0usize..400)) {
        let mut text = format!("root: &a {{k: v}}\nx:{body}");
        if let Some(cut) = cut {
            let cut = (0..=cut.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            text.truncate(cut);
        }
        let (new, old) = both(&text, 0);
        prop_assert_eq!(new, old, "on {:?}", text);
    }
}
