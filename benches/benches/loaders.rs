//! Criterion benches of the input loaders on their own, each next to the parser it is measured against
//! (issue 18: JSON loading ≤ 1.2× serde_json, YAML loading close to the fastest Rust YAML parser):
//! - JSON: `Document::from_str` (Vigil's located document: values, kind, lazy locations), `Value::from_json`
//!   (values only), and serde_json into its own `Value`;
//! - YAML: `Document::from_str` and yaml_serde (the parser regorus uses) into its `Value`;
//!
//! on 1,000 generated workload model cards (pretty-printed JSON, as generate.py writes them) and on two large
//! synthetic files: a CycloneDX ML-BOM with 5,000 components and a card with 20,000 artifacts.
//!
//! Run with `cargo bench -p vigil-bench --bench loaders`.

use std::hint::black_box;

use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime};
use vigil::{Document, Value};
use vigil_bench::{Rng, model_card_yaml};

/// The workload cards as YAML and as pretty JSON (the same data).
fn cards() -> (Vec<String>, Vec<String>) {
    let mut rng = Rng::new(7);
    let yaml: Vec<String> = (0..1000).map(|i| model_card_yaml(&mut rng, i)).collect();
    let json = yaml
        .iter()
        .map(|y| {
            let doc = Document::from_str("card.yaml", y).expect("generated cards are valid");
            serde_json::to_string_pretty(doc[0].data()).expect("serializable")
        })
        .collect();
    (yaml, json)
}

/// A CycloneDX ML-BOM with `n` components, pretty-printed.
fn bom(n: usize) -> String {
    let mut rng = Rng::new(11);
    let components: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "type": if i % 7 == 0 { "machine-learning-model" } else { "library" },
                "bom-ref": format!("pkg:pypi/component-{i}@1.{}.{}", rng.below(30), rng.below(10)),
                "name": format!("component-{i}"),
                "version": format!("1.{}.{}", rng.below(30), rng.below(10)),
                "hashes": [{"alg": "SHA-256", "content": rng.hex(64)}],
                "licenses": [{"license": {"id": "Apache-2.0"}}],
                "properties": [{"name": "size", "value": rng.below(1 << 40).to_string()}, {"name": "score", "value": 0.5}],
            })
        })
        .collect();
    let bom =
        serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components});
    serde_json::to_string_pretty(&bom).expect("serializable")
}

/// A model card with `n` artifacts, compact.
fn big_card(n: usize) -> String {
    let mut rng = Rng::new(13);
    let artifacts: Vec<serde_json::Value> = (0..n)
        .map(|k| {
            serde_json::json!({
                "path": format!("model-{:06}-of-{n:06}.safetensors", k + 1),
                "format": "safetensors",
                "sha256": rng.hex(64),
                "size": 1_000_000 + k * 7919,
            })
        })
        .collect();
    let card =
        serde_json::json!({"kind": "ModelCard", "name": "our-org/big", "license": "mit", "artifacts": artifacts});
    card.to_string()
}

fn json_group(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, texts: &[String]) {
    let bytes: usize = texts.iter().map(String::len).sum();
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function(format!("{name}/vigil Document"), |b| {
        b.iter(|| texts.iter().map(|t| Document::from_str("card.json", t).expect("valid").len()).sum::<usize>())
    });
    group.bench_function(format!("{name}/vigil Value::from_json"), |b| {
        b.iter(|| texts.iter().for_each(|t| drop(black_box(Value::from_json(t).expect("valid")))))
    });
    group.bench_function(format!("{name}/serde_json Value"), |b| {
        b.iter(|| {
            texts.iter().for_each(|t| drop(black_box(serde_json::from_str::<serde_json::Value>(t).expect("valid"))))
        })
    });
}

fn json(c: &mut Criterion) {
    let (_, cards) = cards();
    let mut group = c.benchmark_group("json load");
    json_group(&mut group, "1000 workload cards", &cards);
    json_group(&mut group, "ML-BOM, 5000 components", &[bom(5000)]);
    json_group(&mut group, "card, 20000 artifacts", &[big_card(20_000)]);
    group.finish();
}

fn yaml(c: &mut Criterion) {
    let (cards, _) = cards();
    let mut group = c.benchmark_group("yaml load");
    group.throughput(Throughput::Bytes(cards.iter().map(String::len).sum::<usize>() as u64));
    group.bench_function("1000 workload cards/vigil Document", |b| {
        b.iter(|| cards.iter().map(|t| Document::from_str("card.yaml", t).expect("valid").len()).sum::<usize>())
    });
    group.bench_function("1000 workload cards/yaml_serde Value", |b| {
        b.iter(|| {
            cards.iter().for_each(|t| drop(black_box(yaml_serde::from_str::<yaml_serde::Value>(t).expect("valid"))))
        })
    });
    group.finish();
}

criterion_group!(benches, json, yaml);
criterion_main!(benches);
