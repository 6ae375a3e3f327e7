//! Criterion benches for WASM plugins (docs/plugins.md, "Speed"):
//! - the round trip of a trivial plugin function, value encoding and decoding included (target < 2 µs),
//!   next to a builtin called the same way;
//! - the secrets plugin on one string, and its rules on a typical GitHub workflow (each document gets a
//!   fresh instance, which is included).
//!
//! Run with `cargo bench -p vigil-bench --bench plugins`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use vigil::unstable::plugins::{PluginOptions, PluginSource, sha256_hex};
use vigil::{CallContext, Function};
use vigil::{Document, Engine, Value};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const SECRETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/plugins/secrets");

fn options() -> PluginOptions {
    PluginOptions::default().with_no_cache(true)
}

fn function(engine: &Engine, name: &str) -> Function {
    engine.registry().get(engine.registry().lookup(name).expect("registered")).clone()
}

fn round_trip(c: &mut Criterion) {
    let wasm = wat::parse_file(format!("{ROOT}/examples/plugins/wat/echo.wat")).expect("echo.wat");
    let source = PluginSource::bytes("echo.wat", wasm.clone()).sha256(sha256_hex(&wasm));
    let engine = Engine::builder().plugin_options(options()).plugin("p", source).expect("loads").build();
    let (echo, len) = (function(&engine, "p.echo"), function(&engine, "len"));
    let cx = CallContext::new(jiff::Timestamp::UNIX_EPOCH);
    let arg = Value::from("ghcr.io/acme/model:1.2");
    c.bench_function("plugin/trivial call round trip (echo of a short string)", |b| {
        b.iter(|| black_box(echo.call(&[black_box(&arg)], &cx).expect("echo")))
    });
    c.bench_function("plugin/baseline: builtin len() called the same way", |b| {
        b.iter(|| black_box(len.call(&[black_box(&arg)], &cx).expect("len")))
    });
}

fn secrets(c: &mut Criterion) {
    let pin = std::fs::read_to_string(format!("{SECRETS}/secrets.wasm.sha256")).expect("pin");
    let source = PluginSource::file(format!("{SECRETS}/secrets.wasm")).sha256(pin.trim());
    let engine = Engine::builder().plugin_options(options()).plugin("s", source).expect("loads").build();
    let find = function(&engine, "s.find");
    let cx = CallContext::new(jiff::Timestamp::UNIX_EPOCH);
    let value = Value::from("Bearer for the registry; contact ml-platform@acme-ml.io or rotate AKIAIOSFODNN7EXAMPLE");
    c.bench_function("plugin/secrets find() on an 85-character value", |b| {
        b.iter(|| black_box(find.call(&[black_box(&value)], &cx).expect("find")))
    });

    let engine = Engine::builder().plugin_options(options()).build();
    let policy = std::fs::read_to_string(format!("{SECRETS}/secrets.policy")).expect("policy");
    let name = format!("{SECRETS}/secrets.policy");
    let policies = engine.compile([(name, policy)]).expect("compiles");
    let workflow = std::fs::read_to_string(format!("{ROOT}/examples/pipelines/train.yml")).expect("workflow");
    let docs = Document::from_str("train.yml", &workflow).expect("parses");
    let session = policies.session(&docs);
    c.bench_function("plugin/secrets rules on examples/pipelines/train.yml", |b| {
        b.iter(|| black_box(session.evaluate(&docs[0])))
    });
}

criterion_group!(benches, round_trip, secrets);
criterion_main!(benches);
