//! Criterion benches for the YAML loader on its own: Vigil's load of one generated model card and of a real
//! deployment manifest, next to the rows it is measured against (`vigil_bench::yaml_parsers`): the event-only
//! parsers (libyaml-safer, the parser it uses; saphyr-parser; yaml-rust2) and the parsers loading into their
//! own values (yaml-rust2's `YamlLoader`, saphyr's `Yaml`, `MarkedYaml`, `MarkedYamlOwned`). The ratio of the
//! first row to the others is issue 18's "YAML load ÷ parser".
//!
//! Run with `cargo bench -p vigil-bench --bench loaders_yaml`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil::Document;
use vigil_bench::yaml_parsers::{READERS, ROWS};
use vigil_bench::{Rng, model_card_yaml};

fn group(c: &mut Criterion, name: &str, texts: &[String]) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(texts.iter().map(|t| t.len() as u64).sum()));
    group.bench_function("Vigil load (Document::from_str)", |b| {
        b.iter(|| texts.iter().map(|t| Document::from_str("doc.yaml", t).map_or(0, |d| d.len())).sum::<usize>())
    });
    for (label, parse) in ROWS.into_iter().zip(READERS).skip(1) {
        group.bench_function(label, |b| {
            b.iter(|| texts.iter().map(|t| parse(black_box(t)).unwrap_or(0)).sum::<usize>())
        });
    }
    group.finish();
}

fn loaders_yaml(c: &mut Criterion) {
    let mut rng = Rng::new(7);
    let cards: Vec<String> = (0..100).map(|i| model_card_yaml(&mut rng, i)).collect();
    group(c, "yaml/100 generated model cards", &cards);
    let manifest = include_str!("../../examples/deployments/inferenceservice.yaml").to_string();
    group(c, "yaml/KServe InferenceService manifest", &[manifest]);
}

criterion_group!(benches, loaders_yaml);
criterion_main!(benches);
