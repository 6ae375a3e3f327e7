//! Criterion benches for the reports on hostile shapes: many findings in one big file, where every format must
//! stay linear in findings (the human report once read the file from its start for every finding), and a
//! minified one-line file whose findings sit hundreds of thousands of columns in.
//!
//! Run with `cargo bench -p vigil-bench --bench report`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil::unstable::report::human::{self, Style};
use vigil::unstable::report::{github, json, junit, sarif, to_string};
use vigil::{Document, Engine, Report, RuleInfo};

/// `n` Pods in one multi-document YAML file, each breaking several of the bundled Kubernetes rules.
fn pods(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{i}\nspec:\n  containers:\n    - name: c{i}\n      image: models.example.com/serve:latest\n      env:\n        - name: API_KEY\n          value: hunter2-{i}\n"
            )
        })
        .collect()
}

/// A minified CycloneDX BOM of `n` model components, all on line 1.
fn minified_bom(n: usize) -> String {
    let components: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"type":"machine-learning-model","name":"model-{i}","bom-ref":"ref-{i}"}}"#))
        .collect();
    format!(r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{}]}}"#, components.join(","))
}

fn bench_formats(c: &mut Criterion, group: &str, name: &str, text: &str) {
    let policies =
        Engine::default().compile(vigil::unstable::bundled::BUNDLED.iter().copied()).expect("bundled policies");
    let docs = Document::from_str(name, text).expect("valid input");
    let report: Report = policies.evaluate(&docs);
    let rules: Vec<&RuleInfo> = policies.rules().map(|r| &**r).collect();
    let style = Style { color: false, width: 100 };
    let mut g = c.benchmark_group(group);
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(report.findings.len() as u64));
    // Every run starts from fresh sources: the line index is built lazily, once per source, and is part of
    // what is measured.
    let fresh = || {
        let docs = Document::from_str(name, text).expect("valid input");
        policies.evaluate(&docs)
    };
    g.bench_function("human", |b| {
        b.iter_batched(
            fresh,
            |r| black_box(to_string(|o| human::render(&r, style, o))).len(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("json", |b| {
        b.iter_batched(
            fresh,
            |r| black_box(to_string(|o| json::render(&r, None, o))).len(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("sarif", |b| {
        b.iter_batched(
            fresh,
            |r| black_box(to_string(|o| sarif::render(&r, &rules, Path::new("."), o))).len(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("junit", |b| {
        b.iter_batched(
            fresh,
            |r| black_box(to_string(|o| junit::render(&r, &rules, o))).len(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("github", |b| {
        b.iter_batched(
            fresh,
            |r| black_box(to_string(|o| github::render(&r, o))).len(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
    drop(report);
}

fn many_findings(c: &mut Criterion) {
    bench_formats(c, "report/2000 pods in one file", "pods.yaml", &pods(2_000));
}

fn minified(c: &mut Criterion) {
    bench_formats(c, "report/minified BOM of 3000 components", "bom.json", &minified_bom(3_000));
}

criterion_group!(benches, many_findings, minified);
criterion_main!(benches);
