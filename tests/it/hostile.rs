//! Hostile inputs and policies: each gets a clear error (or is handled) in bounded time and memory — never a
//! panic, a hang or a silent pass.

use std::path::Path;

use vigil::unstable::input::{LoadOptions, Loaded, collect, load};
use vigil::{Document, Engine};

fn load_error(name: &str, text: &str) -> String {
    match Document::from_str(name, text) {
        Ok(docs) => panic!("{name} loaded {} documents; expected an error", docs.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn yaml_alias_bomb_is_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    let e = load_error("bomb.yaml", &text);
    assert!(e.contains("alias bomb"), "{e}");
}

#[test]
fn deep_nesting_is_refused_in_every_format() {
    let depth = 100_000;
    let cases = [
        ("deep.yaml", format!("{}{}", "[".repeat(depth), "]".repeat(depth))),
        ("deep-block.yaml", (0..2_000).map(|i| format!("{}- \n", "  ".repeat(i))).collect()),
        ("deep.json", format!("{}{}", "[".repeat(depth), "]".repeat(depth))),
        ("deep.toml", format!("a = {}{}", "[".repeat(depth), "]".repeat(depth))),
        ("deep.md", format!("---\nx: {}{}\n---\n", "{a: ".repeat(depth), "}".repeat(depth))),
    ];
    for (name, text) in cases {
        let e = load_error(name, &text);
        assert!(e.contains("nest") || e.contains("depth") || e.contains("invalid"), "{name}: {e}");
    }
}

#[test]
fn python_tags_are_refused_and_local_tags_read_as_data() {
    let e = load_error("evil.yaml", "model: !!python/object/apply:os.system [\"rm -rf /\"]\n");
    assert!(e.contains("unsupported YAML tag `!!python/object/apply:os.system`"), "{e}");
    let docs = Document::from_str("cfn.yaml", "bucket: !Ref ModelBucket\n").expect("local tags are plain data");
    assert_eq!(docs[0].data().get("bucket").and_then(|v| v.as_str()), Some("ModelBucket"));
}

#[test]
fn duplicate_keys_are_refused() {
    let e = load_error("dup.yaml", "license: mit\nlicense: gpl-3.0\n");
    assert!(e.contains("dup.yaml:2:1: duplicate key `license`"), "{e}");
    let e = load_error("dup.json", r#"{"a": 1, "a": 2}"#);
    assert!(e.contains("duplicate key `a`"), "{e}");
}

#[test]
fn binary_junk_and_invalid_utf8_are_clear_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, [0xff, 0xfe, 0x00, 0x12, 0x80, 0x81]).expect("write");
    let e = Document::from_path(&junk).expect_err("junk").to_string();
    assert!(e.contains("junk.json") && e.contains("not valid UTF-8"), "{e}");
    let text = dir.path().join("latin1.yaml");
    std::fs::write(&text, b"name: caf\xe9\n").expect("write");
    let e = Document::from_path(&text).expect_err("latin-1").to_string();
    assert!(e.contains("invalid byte at offset 9"), "{e}");
    let e = load_error("text.json", "\u{0}\u{1}garbage");
    assert!(e.contains("invalid JSON"), "{e}");
}

#[test]
fn huge_files_are_refused_before_reading() {
    let dir = tempfile::tempdir().expect("temp dir");
    let big = dir.path().join("big.yaml");
    let file = std::fs::File::create(&big).expect("create");
    file.set_len(40 << 20).expect("sparse file");
    let e = Document::from_path(&big).expect_err("too big").to_string();
    assert!(e.contains("over the 33554432 byte input limit"), "{e}");
}

#[test]
fn special_files_and_symlink_loops_are_safe() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    std::fs::write(dir.path().join("sub/card.yaml"), "kind: ModelCard\n").expect("write");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop")).expect("symlink");
        std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("dangling.yaml")).expect("symlink");
    }
    let collected = collect(&[dir.path().to_path_buf()], &[]);
    let names: Vec<String> = collected.inputs.iter().map(|i| i.path.to_string_lossy().into_owned()).collect();
    assert_eq!(names.iter().filter(|n| n.ends_with("card.yaml")).count(), 1, "{names:?}");
    #[cfg(unix)]
    {
        let reasons: Vec<&str> = collected.skipped.iter().map(|s| s.reason).collect();
        assert!(reasons.contains(&"symbolic link loop"), "{reasons:?}");
        let e = Document::from_path("/dev/zero").expect_err("a device is not a file").to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }
    for input in &collected.inputs {
        assert!(matches!(load(input, &LoadOptions::default()), Ok(Loaded::Documents(_)) | Err(_)));
    }
}

#[test]
fn hostile_policies_get_errors_not_crashes() {
    let engine = Engine::default();
    let deep = format!("package p\nconst x = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000));
    assert!(engine.compile([("deep.policy", deep.as_str())]).is_err());
    // Nesting of every bracketed form parses in linear time (no exponential backtracking) and is bounded.
    for (open, close) in
        [("[", "]"), ("{a: ", "}"), ("len(", ")"), ("any(x in ", ": true)"), ("(if true then ", " else 0)")]
    {
        let nested = format!("package p\nconst x = {}1{}\n", open.repeat(300), close.repeat(300));
        let e = engine.compile([("nested.policy", nested.as_str())]).expect_err("too deep").to_string();
        assert!(e.contains("nested more than 200 levels"), "{open}: {e}");
    }
    let huge_regex = "package p\nrule \"R\" {\n  title = \"t\"\n  severity = low\n  applies_to = ModelCard\n  require input.a matches /(a{1000}){1000}/\n}\n";
    let e = engine.compile([("regex.policy", huge_regex)]).expect_err("regex too big").to_string();
    assert!(e.contains("invalid regular expression"), "{e}");
    let binary = String::from_utf8_lossy(&[0u8, 159, 146, 150, 255, 10]).into_owned();
    assert!(engine.compile([("junk.policy", binary.as_str())]).is_err());
    // Found by `cargo fuzz run policy`: the error message's "did you mean" looked for the word before the
    // error and sliced into the three-byte U+0F70.
    let multibyte = "# rules look at the\u{f70}";
    let e = engine.compile([("multibyte.policy", multibyte)]).expect_err("no package").to_string();
    assert!(e.contains("expected `package`"), "{e}");
}

#[test]
fn hostile_model_files_are_inspected_in_bounded_time() {
    let options = LoadOptions::default();
    // A safetensors header claiming 100 MB, a pickle claiming a 4 GiB string, and a torch zip of junk.
    let cases: [(&str, Vec<u8>); 3] = [
        ("claims.safetensors", [&100_000_000u64.to_le_bytes()[..], b"{\"a\":"].concat()),
        ("claims.pkl", [&b"\x80\x04\x8d"[..], &u64::MAX.to_le_bytes()[..], b"x"].concat()),
        ("junk.pt", [&b"PK\x03\x04"[..], &[0xff; 200][..]].concat()),
    ];
    for (name, bytes) in cases {
        let doc = Document::from_artifact_bytes(name, &bytes, &options);
        let errors = doc.data().get("errors").and_then(|e| e.as_array()).map_or(0, |e| e.len());
        assert!(errors > 0, "{name}: the problem is reported: {:?}", doc.data().to_json());
    }
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml").is_file());
}

#[test]
fn a_block_scalar_at_the_very_end_of_a_file_loads() {
    // libyaml-safer 0.3 panics on this unless the input ends with a line break.
    let docs = Document::from_str("card.yaml", "license: mit\nnotes: |\n  text").expect("valid YAML");
    assert_eq!(docs[0].data().get("notes").and_then(|v| v.as_str()), Some("text\n"));
    let docs = Document::from_str("README.md", "---\nnotes: >\n  folded\n---\n").expect("valid front matter");
    assert!(docs[0].data().get("notes").is_some());
}

// ------------------------------------------------------------------------------- reports under hostile input

/// Runs the real binary in `dir` without colours.
fn policy_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("the binary runs")
}

/// A minified CycloneDX BOM of `n` model components on one line: every component is a finding of the bundled
/// policies, most of them far past column 65,535.
fn minified_bom(n: usize) -> String {
    let components: Vec<String> = (0..n)
        .map(|i| {
            let description = "d".repeat(120);
            format!(r#"{{"type":"machine-learning-model","name":"model-{i}","bom-ref":"ref-{i}","description":"{description}"}}"#)
        })
        .collect();
    format!(r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{}]}}"#, components.join(","))
}

#[test]
fn findings_and_errors_past_column_65535_render_in_every_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bom = minified_bom(800);
    assert!(bom.len() > 150_000 && !bom.contains('\n'));
    // The same file with a syntax error at its very end.
    let broken = format!("{},]}}", &bom[..bom.len() - 2]);
    std::fs::write(dir.path().join("bom.json"), &bom).expect("write");
    std::fs::write(dir.path().join("broken.json"), &broken).expect("write");
    for (file, code) in [("bom.json", 1), ("broken.json", 2)] {
        for format in ["human", "json", "sarif", "junit", "github"] {
            let out = policy_in(dir.path(), &["check", "--format", format, file]);
            let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert_eq!(out.status.code(), Some(code), "{file} as {format}: {stderr}");
            assert!(!stderr.contains("panicked"), "{file} as {format}: {stderr}");
            if format == "human" {
                // A snippet is a window of the line around the label, not the whole megabyte-wide line.
                let widest = stdout.lines().chain(stderr.lines()).map(|l| l.chars().count()).max().unwrap_or(0);
                assert!(widest < 1_000, "{file}: a {widest}-character line in the report");
            }
        }
    }
    // The error (the trailing comma) and the last component of the BOM are reported at their real column.
    let out = policy_in(dir.path(), &["check", "broken.json"]);
    let column = broken.len() - 2;
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("broken.json:1:{column}")));
    let out = policy_in(dir.path(), &["check", "bom.json"]);
    let last = bom.rfind(r#"{"type""#).expect("a component") + 1;
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("[bom.json:1:{last}]")));
}

#[test]
fn the_human_report_is_linear_in_findings() {
    // 4,000 documents in one file, each with a finding: the old renderer read the file from its start for every
    // finding (minutes in a debug build); with the line index built once it takes well under a second.
    let policy = "package t\nrule \"T-1\" {\n  title = \"named\"\n  severity = high\n  applies_to = ModelCard\n  require input.name == \"ok\" else \"`{input.name}` is not ok\" at input.name\n}\n";
    let policies = Engine::default().compile([("t.policy", policy)]).expect("valid policy");
    let text: String =
        (0..4_000).map(|i| format!("---\nkind: ModelCard\nname: model-{i}\nnotes: {}\n", "x".repeat(80))).collect();
    let docs = Document::from_str("many.yaml", &text).expect("valid YAML");
    let report = policies.evaluate(&docs);
    assert_eq!(report.findings.len(), 4_000);
    let started = std::time::Instant::now();
    let style = vigil::unstable::report::human::Style { color: false, width: 100 };
    let rendered = vigil::unstable::report::to_string(|o| vigil::unstable::report::human::render(&report, style, o));
    let elapsed = started.elapsed();
    assert!(rendered.contains("[many.yaml:15999:7]"), "the last finding is located");
    assert!(elapsed < std::time::Duration::from_secs(15), "rendering 4,000 findings took {elapsed:?}");
}

// ------------------------------------------------------------------------------------------ YAML merge keys

#[test]
fn yaml_merge_keys_follow_pyyaml() {
    // (input, the value of `m` as PyYAML loads it); explicit keys win, and earlier sources over later ones.
    let cases = [
        ("m: {<<: {a: 1}}", r#"{"a":1}"#),
        ("m:\n  <<: {a: 1, b: 2}\n  b: 3", r#"{"b":3,"a":1}"#),
        ("x: &x {a: 1, b: 1}\ny: &y {b: 2, c: 2}\nm:\n  <<: [*x, *y]\n  c: 3", r#"{"c":3,"a":1,"b":1}"#),
        ("x: &x {a: 1}\nm:\n  <<: [{a: 0, z: 0}, *x]", r#"{"a":0,"z":0}"#),
        ("x: &x {a: {deep: [1, 2]}}\nm: {<<: *x, b: 2}", r#"{"b":2,"a":{"deep":[1,2]}}"#),
        // A quoted `<<` is an ordinary key, and so is one in a flow mapping written as a string.
        ("m: {\"<<\": {a: 1}}", r#"{"<<":{"a":1}}"#),
        ("m:\n  '<<': [1, 2]", r#"{"<<":[1,2]}"#),
    ];
    for (text, expected) in cases {
        let docs = Document::from_str("m.yaml", text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let m = docs[0].data().get("m").unwrap_or_else(|| panic!("{text:?}: no `m`"));
        assert_eq!(m.to_json(), expected, "{text:?}");
    }
    for (text, error) in [
        ("m: {<<: 1}", "`<<` merges a mapping or a list of mappings"),
        ("m: {<<: [{a: 1}, 2]}", "`<<` merges a mapping or a list of mappings"),
        ("m:\n  <<: {a: 1}\n  <<: {b: 1}", "m.yaml:3:3: duplicate key `<<`"),
    ] {
        let e = load_error("m.yaml", text);
        assert!(e.contains(error), "{text:?}: {e}");
    }
}

#[test]
fn merged_values_are_located_where_they_are_written() {
    let text = "base: &base\n  image: a:1\nm:\n  <<: [*base, {port: 80, env: {k: v}}]\n  name: x\n";
    let docs = Document::from_str("m.yaml", text).expect("valid");
    let m = docs[0].data().get("m").expect("m");
    let at = |v: &vigil::Value| docs[0].locate(v).map(|l| (l.pointer, docs[0].source().line_col(l.span.start)));
    // Inline entries keep their own place; an entry from an alias is located at the merge key.
    assert_eq!(at(m.get("port").expect("port")), Some(("/m/port".into(), (4, 22))));
    assert_eq!(at(m.get("env").unwrap().get("k").unwrap()), Some(("/m/env/k".into(), (4, 35))));
    assert_eq!(at(m.get("name").expect("name")), Some(("/m/name".into(), (5, 9))));
    assert_eq!(at(m.get("image").expect("image")).map(|(p, _)| p), Some("/m/image".into()));
}

#[test]
fn merge_keys_count_against_the_alias_limit() {
    // Each level merges the one before and holds it under a new key: twice its size. Counting a merged entry as
    // one node (whatever it holds), aliases of the last level looked small while expanding to 2^20 values.
    let mut text = String::from("l0: &l0 {a: [x, x, x, x, x, x, x, x]}\n");
    for i in 1..21 {
        text.push_str(&format!("l{i}: &l{i} {{<<: *l{}, c{i}: *l{}}}\n", i - 1, i - 1));
    }
    text.push_str("all: [*l20, *l20, *l20, *l20]\n");
    let e = load_error("bomb.yaml", &text);
    assert!(e.contains("alias bomb"), "{e}");
}

// ------------------------------------------------------------------------------------- Kubernetes lists

/// `(rule, line, pointer)` of every finding of the bundled policies on `(name, text)`.
fn bundled_findings(name: &str, text: &str) -> Vec<(String, usize, String)> {
    let policies =
        Engine::default().compile(vigil::unstable::bundled::BUNDLED.iter().copied()).expect("bundled policies");
    let docs = Document::from_str(name, text).expect("valid input");
    let mut found: Vec<_> = policies
        .evaluate(&docs)
        .findings
        .iter()
        .map(|f| (f.rule.id.clone(), f.line_col().map_or(0, |(l, _)| l), f.pointer().to_string()))
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn kubernetes_lists_are_checked_item_by_item() {
    let pod = |indent: &str| {
        format!(
            "{indent}metadata:\n{indent}  name: p\n{indent}spec:\n{indent}  containers:\n{indent}    - name: c\n{indent}      image: registry.example.com/m:latest\n{indent}      securityContext:\n{indent}        privileged: true\n"
        )
    };
    // What `kubectl get pods,configmaps -o yaml` writes; the Pod is the second item.
    let list = format!(
        "apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    data: {{a: b}}\n  - apiVersion: v1\n    kind: Pod\n{}",
        pod("    ")
    );
    let found = bundled_findings("all.yaml", &list);
    // The privileged container is found in the second item, on its own lines (15-18) of the list's file.
    let privileged = |found: &[(String, usize, String)], item: &str, lines: std::ops::RangeInclusive<usize>| {
        found.iter().any(|(rule, line, pointer)| {
            rule == "K8S-PSC-003" && lines.contains(line) && pointer.starts_with(&format!("{item}/spec/containers/0"))
        })
    };
    assert!(privileged(&found, "/items/1", 15..=18), "{found:?}");
    // The same Pod alone, for comparison: the same rules fire.
    let alone = bundled_findings("pod.yaml", &format!("apiVersion: v1\nkind: Pod\n{}", pod("")));
    let rules =
        |f: &[(String, usize, String)]| f.iter().map(|(r, _, _)| r.clone()).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(rules(&found), rules(&alone));

    // A typed list from the API: items without `kind`/`apiVersion` take them from the list. JSON too.
    let json = r#"{"apiVersion": "v1", "kind": "PodList", "items": [
  {"metadata": {"name": "ok"}, "spec": {"containers": []}},
  {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x/m:latest", "securityContext": {"privileged": true}}]}}
]}"#;
    let found = bundled_findings("pods.json", json);
    assert!(privileged(&found, "/items/1", 3..=3), "{found:?}");
    let docs = Document::from_str("pods.json", json).expect("valid");
    assert_eq!(docs.len(), 2);
    assert_eq!((docs[1].kind(), docs[1].index()), (vigil::Kind::Kubernetes, 1));
    assert_eq!(docs[1].data().get("kind").and_then(|k| k.as_str()), Some("Pod"));
    assert_eq!(docs[1].locate(docs[1].data()).map(|l| l.pointer), Some("/items/1".into()));
}

#[test]
fn a_list_item_that_cannot_be_told_is_an_error() {
    let e = load_error("l.yaml", "apiVersion: v1\nkind: List\nitems:\n  - metadata: {name: x}\n");
    assert!(e.contains("l.yaml:4:5: item 0 of the List has no `kind`"), "{e}");
    let e = load_error("l.yaml", "apiVersion: v1\nkind: PodList\nitems: [1]\n");
    assert!(e.contains("item 0 of the PodList is not an object"), "{e}");
    // Multi-document files: documents after a list are numbered after its items.
    let docs = Document::from_str("m.yaml", "apiVersion: v1\nkind: List\nitems: []\n---\napiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod}, {apiVersion: v1, kind: Service}]\n---\nkind: ModelCard\n").expect("valid");
    let kinds: Vec<_> = docs
        .iter()
        .map(|d| (d.index(), d.kind().name(), d.data().get("kind").and_then(|k| k.as_str()).unwrap_or("").to_string()))
        .collect();
    assert_eq!(
        kinds,
        [(0, "Kubernetes", "Pod".into()), (1, "Kubernetes", "Service".into()), (2, "ModelCard", "ModelCard".into())]
    );
}
