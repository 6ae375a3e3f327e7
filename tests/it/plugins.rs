//! WASM plugins (docs/plugins.md): the ABI end to end, the checker's view of plugin functions, and hostile
//! modules — each contained as a load error or an error finding, in bounded time.
#![cfg(feature = "plugins")]

use std::time::{Duration, Instant};

use vigil::unstable::plugins::{Limits, PluginOptions, PluginSource, sha256_hex};
use vigil::{Cause, Document, Engine, Finding};

/// Memory, an allocator that puts the arguments at 1024 (tests pass small arguments) and nothing else.
const BASE: &str = r#"
  (memory (export "memory") 1)
  (func (export "vigil_alloc") (param i32) (result i32) (i32.const 1024))
"#;

/// `f(any) -> any`.
const MANIFEST_F: &str = r#"{"abi":1,"functions":[{"name":"f","params":["any"],"returns":"any"}]}"#;

fn wat_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Assembles a module: BASE, `body`, and the manifest (if any) as the `vigil.manifest` custom section.
fn module(body: &str, manifest: Option<&str>) -> Vec<u8> {
    let custom = manifest.map_or(String::new(), |m| format!("(@custom \"vigil.manifest\" \"{}\")", wat_escape(m)));
    // Imports come before any function, so they go first.
    let (imports, body) = match body.find("(func (export") {
        Some(i) if body.starts_with("(import") => body.split_at(i),
        _ => ("", body),
    };
    wat::parse_str(format!("(module {imports} {BASE} {body} {custom})")).expect("valid WAT")
}

/// A plugin whose `f` returns `bytes` verbatim (placed at 2048).
fn returning(bytes: &str) -> Vec<u8> {
    let packed = (2048u64 << 32) | bytes.len() as u64;
    let body = format!(
        r#"(data (i32.const 2048) "{}") (func (export "f") (param i32 i32) (result i64) (i64.const {packed}))"#,
        wat_escape(bytes)
    );
    module(&body, Some(MANIFEST_F))
}

/// A plugin whose `f` has this body (locals 0 and 1 are the argument pointer and length).
fn with_body(body: &str) -> Vec<u8> {
    module(&format!(r#"(func $f (export "f") (param i32 i32) (result i64) {body})"#), Some(MANIFEST_F))
}

/// Tight limits, so hostile plugins are stopped quickly; no disk cache, so tests leave nothing behind.
fn options() -> PluginOptions {
    let limits = Limits::default()
        .with_fuel(20_000_000)
        .with_timeout_ms(2_000)
        .with_memory_bytes(4 << 20)
        .with_max_result_bytes(64 << 10);
    PluginOptions::default().with_limits(limits).with_no_cache(true)
}

const RULE: &str = r#"
rule "T-1" {
  title = "t"
  severity = high
  applies_to = ModelCard
  require p.f(input.license) != "never" else "f said never"
}
"#;

/// Writes `wasm` as `p.wasm` next to a policy importing it (pinned to its digest unless `pin` says
/// otherwise) with `rules`, and compiles.
fn compile_with(
    wasm: &[u8],
    pin: Option<&str>,
    rules: &str,
    options: PluginOptions,
) -> (tempfile::TempDir, Result<vigil::PolicySet, vigil::Diagnostics>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.wasm"), wasm).unwrap();
    let digest = sha256_hex(wasm);
    let pin = match pin {
        Some("") => String::new(),
        Some(p) => format!(" sha256 \"{p}\""),
        None => format!(" sha256 \"{digest}\""),
    };
    let text = format!("package t\nimport plugin \"p.wasm\" as p{pin}\n{rules}");
    let name = dir.path().join("t.policy").display().to_string();
    let engine = Engine::builder().plugin_options(options).build();
    let compiled = engine.compile([(name, text)]);
    (dir, compiled)
}

fn card(license: &str) -> Vec<Document> {
    Document::from_str("card.yaml", &format!("kind: ModelCard\nlicense: {license}\n")).unwrap()
}

/// Findings of RULE over one model card.
fn findings(wasm: &[u8]) -> Vec<Finding> {
    let (_dir, compiled) = compile_with(wasm, None, RULE, options());
    let policies = compiled.unwrap_or_else(|e| panic!("{e:?}"));
    policies.evaluate(&card("mit")).findings.into_iter().map(|r| r.finding).collect()
}

fn load_error(wasm: &[u8], pin: Option<&str>, options: PluginOptions) -> String {
    let (_dir, compiled) = compile_with(wasm, pin, RULE, options);
    let diagnostics = compiled.expect_err("the plugin must be refused");
    diagnostics.iter().map(|d| format!("{} {}", d.message, d.help.clone().unwrap_or_default())).collect()
}

#[test]
fn the_wat_recipe_round_trips_values() {
    let wasm = wat::parse_file("examples/plugins/wat/echo.wat").unwrap();
    let rules = r#"
rule "T-1" {
  title = "t"
  severity = high
  applies_to = ModelCard
  require p.echo(input) == [input] else "echo changed the input"
  require p.echo({a: [1, 2.5, null, true, "é\n"]}) == [{a: [1, 2.5, null, true, "é\n"]}] else "literal"
  require p.echo("x") == ["no"] else "echo({p.echo("x")})"
}
"#;
    let (_dir, compiled) = compile_with(&wasm, None, rules, options());
    let report = compiled.unwrap().evaluate(&card("mit"));
    let messages: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(messages, vec![r#"echo(["x"])"#]);
}

/// Hostile or broken plugins at call time: each is one error finding for the calling rule, quickly.
#[test]
fn failing_calls_are_error_findings() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("infinite loop", with_body("(loop $l (br $l)) (i64.const 0)"), "ran out of fuel"),
        ("memory bomb", with_body("(loop $l (drop (memory.grow (i32.const 16))) (br $l)) (i64.const 0)"), "memory cap"),
        ("trap", with_body("unreachable"), "unreachable"),
        ("deep recursion", with_body("(call $f (local.get 0) (local.get 1))"), "overflowed its stack"),
        ("undecodable result", returning("not json"), "does not decode"),
        ("bare value", returning("[1]"), "does not decode"),
        ("huge length", with_body("(i64.const 0xffffffff)"), "over the cap"),
        ("pointer outside memory", with_body("(i64.const 0x7fff000000000010)"), "outside its memory"),
        ("plugin error", returning(r#"{"error":"bad input"}"#), "failed: bad input"),
    ];
    for (what, wasm, expected) in cases {
        let start = Instant::now();
        let found = findings(&wasm);
        assert!(start.elapsed() < Duration::from_secs(10), "{what}: took {:?}", start.elapsed());
        assert_eq!(found.len(), 1, "{what}: {found:?}");
        assert_eq!(found[0].cause, Cause::Error, "{what}");
        assert!(found[0].message.contains(expected), "{what}: {}", found[0].message);
        assert!(found[0].message.contains("`f` of plugin `p.wasm`"), "{what}: {}", found[0].message);
    }
}

#[test]
fn a_result_of_the_wrong_type_fails_closed() {
    let manifest = r#"{"abi":1,"functions":[{"name":"f","params":["any"],"returns":"boolean"}]}"#;
    let data = r#"(data (i32.const 2048) "{\"ok\":\"yes\"}")"#;
    let wasm = module(
        &format!(r#"{data} (func (export "f") (param i32 i32) (result i64) (i64.const {}))"#, (2048u64 << 32) | 12),
        Some(manifest),
    );
    let rules = RULE.replace(r#"p.f(input.license) != "never""#, "p.f(input.license)");
    let (_dir, compiled) = compile_with(&wasm, None, &rules, options());
    let found = compiled.unwrap().evaluate(&card("mit")).findings;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].cause, Cause::Error);
    assert!(
        found[0].message.contains("returned the string `yes`, but its manifest declares a boolean"),
        "{}",
        found[0].message
    );
}

#[test]
fn the_deadline_stops_a_loop_that_has_fuel() {
    let mut options = options();
    options.limits.fuel = u64::MAX / 2;
    options.limits.timeout_ms = 100;
    let (_dir, compiled) = compile_with(&with_body("(loop $l (br $l)) (i64.const 0)"), None, RULE, options);
    let start = Instant::now();
    let found = compiled.unwrap().evaluate(&card("mit")).findings;
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    assert!(found[0].message.contains("ran past its deadline of 100 ms"), "{}", found[0].message);
}

/// Broken or dangerous modules are refused when loaded, naming the plugin and the problem.
#[test]
fn bad_modules_are_refused_when_loaded() {
    let f = r#"(func (export "f") (param i32 i32) (result i64) (i64.const 0))"#;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "wrong export signature",
            module(r#"(func (export "f") (param i32) (result i32) (i32.const 0))"#, Some(MANIFEST_F)),
            "export `f` must be a function (ptr: i32, len: i32) -> i64",
        ),
        ("declared but not exported", module("", Some(MANIFEST_F)), "declares `f`, which it does not export"),
        ("missing manifest", module(f, None), "has no manifest (custom section `vigil.manifest`)"),
        (
            "bad manifest",
            module(f, Some(r#"{"abi":1,"functions":[{"name":"f","returns":"text"}]}"#)),
            "unknown type `text`",
        ),
        (
            "WASI import",
            module(
                &format!(
                    r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) {f}"#
                ),
                Some(MANIFEST_F),
            ),
            "imports `wasi_snapshot_preview1.fd_write`, which Vigil does not offer: plugins get no WASI",
        ),
        (
            "host import",
            module(&format!(r#"(import "env" "now" (func (result i64))) {f}"#), Some(MANIFEST_F)),
            "imports `env.now`",
        ),
        ("not WebAssembly", b"\0asm\x01\0\0\0garbage".to_vec(), "not a valid WebAssembly module"),
    ];
    for (what, wasm, expected) in cases {
        let message = load_error(&wasm, None, options());
        assert!(message.contains(expected), "{what}: {message}");
        assert!(message.contains("plugin `p.wasm`"), "{what}: {message}");
    }
}

#[test]
fn the_pin_is_checked_before_anything_else() {
    let wasm = returning(r#"{"ok":1}"#);
    let wrong = "0".repeat(64);
    let message = load_error(&wasm, Some(&wrong), options());
    assert!(message.contains(&format!("pinned sha256 {wrong}, the module's is {}", sha256_hex(&wasm))), "{message}");
    // Even garbage is refused for its digest first: nothing unpinned is ever parsed.
    assert!(load_error(b"garbage", Some(&wrong), options()).contains("does not match its pin"));

    let message = load_error(&wasm, Some(""), options());
    assert!(message.contains("is not pinned") && message.contains(&sha256_hex(&wasm)), "{message}");
    let allowed = options().with_allow_unpinned(true);
    let (_dir, compiled) = compile_with(&wasm, Some(""), RULE, allowed);
    assert!(compiled.is_ok());
}

#[test]
fn one_alias_names_one_import() {
    let wasm = returning(r#"{"ok":1}"#);
    let digest = sha256_hex(&wasm);
    let rules = format!("import plugin \"p.wasm\" as p sha256 \"{digest}\"\n{RULE}");
    let (_dir, compiled) = compile_with(&wasm, None, &rules, options());
    let diagnostics = compiled.unwrap_err();
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics.first().message, "`p` names two plugin imports in this file");
    assert_eq!(diagnostics.first().related[0].message, "first imported here");
}

/// The checker knows plugin functions from the manifest: misuse is reported before evaluation, with spans.
#[test]
fn misuse_is_reported_by_the_checker() {
    let manifest = r#"{"abi":1,"functions":[{"name":"find","params":["string"],"returns":"array"}]}"#;
    let wasm = module(r#"(func (export "find") (param i32 i32) (result i64) (i64.const 0))"#, Some(manifest));
    let cases = [
        ("p.fnd(input.license)", "plugin `p` (p.wasm) has no function `fnd`", Some("did you mean `find`?"), "p.fnd"),
        ("p.find()", "`p.find` takes 1 arguments, found 0", Some("usage: p.find(a string)"), "p.find()"),
        ("p.find(1)", "argument 1 of `p.find` must be a string, but this is a number", None, "1"),
        ("q.find(input.license)", "`q` is not an imported plugin", Some("did you mean `p`?"), "q.find"),
    ];
    for (call, message, help, pointed) in cases {
        let rules = RULE.replace(r#"p.f(input.license) != "never""#, &format!("{call} == []"));
        let (_dir, compiled) = compile_with(&wasm, None, &rules, options());
        let diagnostics = compiled.unwrap_err();
        let d = diagnostics.first();
        assert_eq!(d.message, message, "{call}");
        assert_eq!(d.help.as_deref(), help, "{call}");
        assert_eq!(&d.source.text()[d.span.range()], pointed, "{call}");
    }
}

/// A counter plugin: `count()` returns how many times it was called in this instance.
fn counter() -> Vec<u8> {
    let manifest = r#"{"abi":1,"functions":[{"name":"count","params":["any"],"returns":"number"}]}"#;
    let body = r#"
      (global $n (mut i32) (i32.const 0))
      (data (i32.const 2048) "{\"ok\":0}")
      (func (export "count") (param i32 i32) (result i64)
        (global.set $n (i32.add (global.get $n) (i32.const 1)))
        (i32.store8 (i32.const 2054) (i32.add (i32.const 48) (global.get $n)))
        (i64.const 0x80000000008))"#;
    module(body, Some(manifest))
}

/// Instances are reused within a document and replaced between documents: a plugin that counts its calls
/// sees one document's calls, never the previous document's. (The calls read the document, so they are not
/// folded into constants when the policy is compiled.)
#[test]
fn state_never_crosses_documents() {
    let rules = r#"
rule "T-1" {
  title = "t"
  severity = high
  applies_to = ModelCard
  require false else "first {p.count(input.license)}, second {p.count(input.license)}"
}
"#;
    let (_dir, compiled) = compile_with(&counter(), None, rules, options());
    let policies = compiled.unwrap();
    let mut docs = card("a");
    docs.extend(card("b"));
    let messages: Vec<String> = policies.evaluate(&docs).findings.into_iter().map(|f| f.finding.message).collect();
    assert_eq!(messages, vec!["first 1, second 2", "first 1, second 2"]);
}

#[test]
fn a_failed_call_does_not_poison_the_next_document() {
    // `f` traps when its argument is the JSON `["bad"]` (7 bytes) and answers otherwise.
    let body = r#"
      (data (i32.const 2048) "{\"ok\":1}")
      (func (export "f") (param i32 i32) (result i64)
        (if (i32.eq (local.get 1) (i32.const 7)) (then unreachable))
        (i64.const 0x80000000008))"#;
    let (_dir, compiled) = compile_with(&module(body, Some(MANIFEST_F)), None, RULE, options());
    let policies = compiled.unwrap();
    let mut docs = card("bad");
    docs.extend(card("good"));
    let session = policies.session(&docs);
    assert_eq!(session.evaluate(&docs[0]).len(), 1);
    assert_eq!(session.evaluate(&docs[1]).len(), 0);
    assert_eq!(session.evaluate(&docs[0])[0].cause, Cause::Error);
}

/// The same plugin from many threads at once gives what one thread gives.
#[test]
fn threads_share_a_plugin_safely() {
    let wasm = wat::parse_file("examples/plugins/wat/echo.wat").unwrap();
    let rules = r#"
rule "T-1" {
  title = "t"
  severity = high
  applies_to = ModelCard
  require false else "{p.echo(input.license)}"
}
"#;
    let (_dir, compiled) = compile_with(&wasm, None, rules, options());
    let policies = compiled.unwrap();
    let docs: Vec<Document> = (0..64).flat_map(|i| card(&format!("license-{i}"))).collect();
    let one: Vec<String> = docs.iter().map(|d| policies.session(&docs).evaluate(d)[0].message.clone()).collect();
    let many: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| docs.iter().map(|d| policies.session(&docs).evaluate(d)[0].message.clone()).collect()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(one[3], r#"["license-3"]"#);
    for run in many {
        assert_eq!(run, one);
    }
}

#[test]
fn builder_plugins_are_visible_to_every_file_and_listed() {
    let wasm = wat::parse_file("examples/plugins/wat/echo.wat").unwrap();
    let source = PluginSource::bytes("echo.wat", wasm.clone()).sha256(sha256_hex(&wasm));
    let engine = Engine::builder().plugin_options(options()).plugin("e", source).unwrap().build();
    assert!(engine.registry().lookup("e.echo").is_some());
    let text = "package t\nfn wrap(x) = e.echo(x)\nrule \"T-1\" {\n  title = \"t\"\n  severity = high\n  applies_to = ModelCard\n  require wrap(1) == [1]\n}\n";
    let policies = engine.compile([("t.policy", text)]).unwrap();
    let rule = policies.rules().next().unwrap();
    assert_eq!(rule.plugins, vec!["e (echo.wat)"]);
    assert!(policies.evaluate(&card("mit")).findings.is_empty());

    let unpinned = PluginSource::bytes("echo.wat", wasm);
    let Err(e) = Engine::builder().plugin_options(options()).plugin("e", unpinned) else { panic!("loaded") };
    assert!(e.message.contains("is not pinned"), "{e}");
}
