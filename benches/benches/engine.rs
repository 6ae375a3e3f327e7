//! Criterion benches for the core engine:
//! - compiling the bundled policies;
//! - evaluating one document: a real model card against the bundled policies, and a workload card against the
//!   workload's ten rules;
//! - `policy check` throughput over 10,000 generated YAML files, next to the cost of only loading them.
//!
//! Run with `cargo bench -p vigil-bench --bench engine`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use vigil::unstable::input::{LoadOptions, Loaded, collect, load};
use vigil::unstable::pipeline::{CheckOptions, check};
use vigil::{Document, Engine};
use vigil_bench::{Rng, WORKLOAD_POLICY, model_card_yaml, write_model_cards};

fn bundled() -> vigil::PolicySet {
    Engine::default().compile(vigil::unstable::bundled::BUNDLED.iter().copied()).expect("bundled policies compile")
}

fn compile(c: &mut Criterion) {
    c.bench_function("compile/bundled policies", |b| b.iter(|| black_box(bundled())));
    c.bench_function("compile/workload policy", |b| {
        b.iter(|| black_box(Engine::default().compile([("modelcard.policy", WORKLOAD_POLICY)]).expect("compiles")))
    });
}

fn evaluate(c: &mut Criterion) {
    let card = Document::from_str("README.md", include_str!("../../examples/model/README.md")).expect("example card");
    let policies = bundled();
    let session = policies.session(&[]);
    c.bench_function("evaluate/example model card, bundled policies", |b| {
        b.iter(|| black_box(session.evaluate(&card[0])))
    });

    let workload = Engine::default().compile([("modelcard.policy", WORKLOAD_POLICY)]).expect("compiles");
    let session = workload.session(&[]);
    let mut rng = Rng::new(7);
    let docs: Vec<Document> =
        (0..1000).flat_map(|i| Document::from_str("doc.yaml", &model_card_yaml(&mut rng, i)).expect("valid")).collect();
    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(docs.len() as u64));
    group.bench_function("1000 workload cards, ten rules", |b| {
        b.iter(|| docs.iter().map(|d| session.evaluate(d).len()).sum::<usize>())
    });
    group.finish();
}

fn throughput(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    write_model_cards(dir.path(), 10_000, 42).expect("write documents");
    let workload = Engine::default().compile([("modelcard.policy", WORKLOAD_POLICY)]).expect("compiles");
    let options = CheckOptions::new([dir.path().to_path_buf()]);
    let mut group = c.benchmark_group("check 10k files");
    group.sample_size(10).measurement_time(Duration::from_secs(20)).throughput(Throughput::Elements(10_000));
    group.bench_function("load and parse only", |b| {
        b.iter(|| {
            let collected = collect(&options.paths, &[]);
            let load_options = LoadOptions::default();
            collected.inputs.par_iter().filter(|i| matches!(load(i, &load_options), Ok(Loaded::Documents(_)))).count()
        })
    });
    group.bench_function("policy check (ten rules)", |b| {
        b.iter(|| black_box(check(&workload, &options)).findings.len())
    });
    group.finish();
}

criterion_group!(benches, compile, evaluate, throughput);
criterion_main!(benches);
