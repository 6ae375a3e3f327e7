//! Side-by-side comparison of Vigil with regorus (interpreter and RVM), OPA (optional), a hand-written Rust baseline
//! and the shared hand-written floor on the
//! shared model-card workload. See docs/performance.md for how to read the output.
//!
//! ```text
//! cargo run --release -p vigil-bench --bin compare -- [--count N] [--data DIR] [--passes P] [--warmup W]
//!     [--runs R] [--only vigil,regorus,rvm,baseline,floor,opa] [--no-yaml] [--scaling | --scaling-only documents,rules,items] [--profile-items N]
//! ```
//!
//! All engines are measured in one run, interleaved per document, because absolute times on a shared machine
//! drift by 1.5× between runs: only the ratios carry over.
//!
//! The harness runs under the system allocator; built with `--features mimalloc` it runs under mimalloc, the
//! allocator the `policy` binary ships with (the header says which).

use std::path::PathBuf;
use std::process::exit;
use std::time::{Duration, Instant};

use vigil_bench::engines::{
    Contender, Format, Parsed, REGO_QUERY, VigilEngine, modelcard_contenders, optional_contenders, parse_all,
};
use vigil_bench::floor::FLOOR;
use vigil_bench::measure::{
    Columns, Samples, Stats, Table, interleaved, machine, median_micros, micros, ratio, thousands, timing_headers,
    timing_rows, timing_table, today,
};
use vigil_bench::workload::{DataDir, Workload, agreement, rego_policy, rule_order, workload_dir};
use vigil_bench::{ALLOCATOR, REGORUS_VERSION, WORKLOAD_POLICY, scaling};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Command-line options.
struct Args {
    count: usize,
    data: Option<PathBuf>,
    passes: usize,
    warmup: usize,
    only: Option<Vec<String>>,
    yaml: bool,
    scaling: Option<Vec<String>>,
    profile_items: Option<usize>,
    runs: usize,
}

const USAGE: &str = "usage: compare [--count N] [--data DIR] [--passes P] [--warmup W] \
                     [--runs R] [--only vigil,regorus,rvm,baseline,floor,opa] [--no-yaml] [--scaling | --scaling-only documents,rules,items]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        count: 10_000,
        data: None,
        passes: 3,
        warmup: 3,
        only: None,
        yaml: true,
        scaling: None,
        profile_items: None,
        runs: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let number = |v: String| v.replace('_', "").parse::<usize>().map_err(|e| format!("{v}: {e}"));
        match flag.as_str() {
            "--count" => args.count = number(value()?)?,
            "--data" => args.data = Some(PathBuf::from(value()?)),
            "--passes" => args.passes = number(value()?)?.max(1),
            "--runs" => args.runs = number(value()?)?.max(1),
            "--warmup" => args.warmup = number(value()?)?,
            "--only" => args.only = Some(value()?.split(',').map(|s| s.trim().to_lowercase()).collect()),
            "--no-yaml" => args.yaml = false,
            "--scaling" => args.scaling = Some(vec!["documents".into(), "rules".into(), "items".into()]),
            "--scaling-only" => {
                args.scaling = Some(value()?.split(',').map(|s| s.trim().to_lowercase()).collect());
            }
            "--profile-items" => args.profile_items = Some(number(value()?)?),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(args)
}

/// The short name `--only` uses for a contender.
fn key(name: &str) -> &'static str {
    match name {
        "Vigil" => "vigil",
        "regorus" => "regorus",
        "regorus RVM" => "rvm",
        FLOOR => "floor",
        n if n.starts_with("OPA") => "opa",
        _ => "baseline",
    }
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("compare: {message}");
    exit(1)
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| fail(e));
    println!("# Vigil vs regorus {REGORUS_VERSION} vs OPA vs hand-written Rust\n");
    println!("Machine: {}. Date: {}. Allocator: {ALLOCATOR}.\n", machine(), today());
    if let Some(n) = args.profile_items {
        profile_items(n, args.passes);
        return;
    }
    if let Some(tables) = &args.scaling {
        run_scaling(tables);
        return;
    }
    let rego = rego_policy().unwrap_or_else(|e| fail(format!("cannot read modelcard.rego: {e}")));
    let data = DataDir::prepare(args.data.clone(), args.count, args.yaml).unwrap_or_else(|e| fail(e));
    let workload = Workload::read(&data.path, args.yaml).unwrap_or_else(|e| fail(e));
    let docs = workload.json.len();

    let mut engines = modelcard_contenders(WORKLOAD_POLICY, &rego).unwrap_or_else(|e| fail(e));
    let wanted = |name: &str| args.only.as_ref().is_none_or(|only| only.iter().any(|o| o == key(name)));
    engines.retain(|e| wanted(e.name()));
    // The floor and OPA only when asked for (or no --only), each left out with a note when unavailable.
    if wanted(FLOOR) || wanted("OPA (JSON text in)") {
        let (optional, notes) = optional_contenders(&workload_dir().join("modelcard.rego"));
        engines.extend(optional.into_iter().filter(|e| wanted(e.name())));
        for note in notes {
            println!("Note: {note}.\n");
        }
    }
    if engines.is_empty() {
        fail("--only kept no engine");
    }
    // JSON-only engines (OPA) come last, so the YAML measurements take a prefix of the engines.
    engines.sort_by_key(|e| e.json_only());
    let yaml_engines = engines.iter().take_while(|e| !e.json_only()).count();
    let names: Vec<&'static str> = engines.iter().map(|e| e.name()).collect();
    let index = |k: &str| names.iter().position(|n| key(n) == k);
    // Compile steps, each as the engine's user would run it once per policy set (OPA's is in its process).
    let compile: Vec<f64> = names
        .iter()
        .map(|n| match key(n) {
            "vigil" => median_micros(20, || modelcard_contenders(WORKLOAD_POLICY, &rego).map(|mut v| v.remove(0))),
            "regorus" => median_micros(20, || vigil_bench::engines::RegorusEngine::new(&rego)),
            "rvm" => median_micros(20, || vigil_bench::engines::RegorusVm::new(&rego)),
            "baseline" => median_micros(20, vigil_bench::baseline::Baseline::new),
            _ => f64::NAN,
        })
        .collect();

    // Agreement first: a fast engine that computes something else is not faster.
    let json = parse_inputs(&engines, &workload.json, Format::Json);
    let agreed = agreement(&mut engines, &json, Some(&workload.expected))
        .unwrap_or_else(|e| fail(format!("engines disagree on JSON input: {e}")));
    if args.yaml {
        let yaml = parse_inputs(&engines[..yaml_engines], &workload.yaml, Format::Yaml);
        agreement(&mut engines[..yaml_engines], &yaml, Some(&workload.expected))
            .unwrap_or_else(|e| fail(format!("engines disagree on YAML input: {e}")));
    }
    let total: usize = agreed.records_per_rule.values().sum();
    let mut per_rule: Vec<_> = agreed.records_per_rule.iter().collect();
    per_rule.sort_by_key(|(r, _)| rule_order(r));
    println!(
        "Workload: {} documents from generate.py, {total} violation records ({}). All engines ({}) agree document \
         by document with each other and with expected.json (JSON{} input; the Rego engines, the baseline, the \
         floor and OPA record for record, message included).\n",
        thousands(docs as f64),
        per_rule.iter().map(|(r, n)| format!("{r}={n}")).collect::<Vec<_>>().join(" "),
        names.join(", "),
        if args.yaml { " and YAML" } else { "" }
    );
    println!(
        "{} run(s), each: {} recorded pass(es) over every document after {} warm-up pass(es) over the first {}; \
         single thread; engines interleaved per document in rotating order. regorus: `set_input` + \
         `eval_rule(\"{REGO_QUERY}\")`; RVM: the same policy compiled once for that entry point. OPA: the \
         `opa-golib-python-bindings` library in a child process, timed there around its native \
         `OpaEvalDocument` call only, which decodes the card's JSON text, evaluates the prepared query and encodes \
         the result (OPA takes no pre-parsed input, so its row is the same figure in both tables).\n",
        args.runs,
        args.passes,
        args.warmup,
        thousands(docs.min(1000) as f64)
    );

    let mut runs = Vec::new();
    for run in 0..args.runs {
        if args.runs > 1 {
            println!("## Run {} of {}\n", run + 1, args.runs);
        }
        let figures = measure_run(&mut engines, &names, &json, &workload, &args, &compile, yaml_engines);
        runs.push(figures);
    }
    let index_first = names.len();
    let summary = summary_table(&runs, &index, index_first);
    println!(
        "## Summary: the goals of issue 18, median of {} run(s) with the spread (min–max) over the runs\n\n{}",
        runs.len(),
        summary.render()
    );
}

/// The medians one run measured: Table 1 per row (the engines, then "Vigil, first evaluation"), and Table 2's
/// JSON and YAML blocks per engine (YAML only for the first `yaml_engines`).
struct RunFigures {
    preparsed: Vec<f64>,
    json: Vec<f64>,
    yaml: Vec<f64>,
    /// Vigil's YAML load ÷ the fastest event-only parser and ÷ the fastest loader ([`YAML_LOAD`]), as ratios
    /// over 1; empty without the YAML parser table.
    yaml_load: Vec<f64>,
}

/// Indices into [`RunFigures::yaml_load`]: the denominator 1, the ratio to event-only parsers, to loaders.
const YAML_LOAD: [usize; 3] = [0, 1, 2];

/// One run: Table 1 (pre-parsed input) and Table 2 (end to end), printed, and their medians returned.
fn measure_run(
    engines: &mut [Box<dyn Contender>],
    names: &[&'static str],
    json: &[Vec<Parsed>],
    workload: &Workload,
    args: &Args,
    compile: &[f64],
    yaml_engines: usize,
) -> RunFigures {
    let docs = workload.json.len();
    let index = |k: &str| names.iter().position(|n| key(n) == k);
    // Table 1: pre-parsed input. A Vigil document builds its index of source locations the first time a
    // finding needs one and keeps it, so once the agreement check has run, evaluating the pre-parsed documents
    // skips that work. An extra row shows Vigil on documents never evaluated before: each is parsed just
    // before its evaluation, outside the timed region (its data is fresh in the cache, unlike the pre-parsed
    // documents, parsed long before).
    let vigil = index("vigil");
    let mut table1_names = names.to_vec();
    if vigil.is_some() {
        table1_names.push(VIGIL_FIRST);
    }
    let json_files: Vec<String> = (0..docs).map(|i| format!("doc-{i:05}.json")).collect();
    let samples = interleaved(&table1_names, docs, args.passes, args.warmup, |e, i| {
        if e == names.len() {
            let engine = &mut engines[vigil.unwrap_or_default()];
            let fresh = engine.parse(&json_files[i], &workload.json[i], Format::Json).unwrap_or_else(|err| fail(err));
            return (engine.measure(&fresh), Duration::ZERO);
        }
        (engines[e].measure(&json[e][i]), Duration::ZERO)
    });
    let cols = Columns {
        reference: index("regorus"),
        baseline: index("baseline"),
        floor: index("floor"),
        compile: Some(compile),
        ..Columns::default()
    };
    println!("### Table 1: pre-parsed input, one thread\n\n{}", timing_table(&samples, &cols).render());
    let preparsed = samples.iter().map(|s| Stats::of(&s.total).median).collect();

    // Table 2: end to end from text. Ratios compare engines on the same input format, so each format is its
    // own block of rows. OPA decodes the text inside its timed call, so it reuses the cards it already holds.
    let cols = Columns {
        reference: index("regorus"),
        baseline: index("baseline"),
        floor: index("floor"),
        parse: true,
        ..Columns::default()
    };
    let mut table2 = Table::new(&timing_headers(&cols));
    let mut medians = [Vec::new(), Vec::new()];
    for (block, (format, texts)) in
        [(Format::Json, &workload.json), (Format::Yaml, &workload.yaml)].into_iter().enumerate()
    {
        if texts.is_empty() {
            continue;
        }
        let n = if format == Format::Json { names.len() } else { yaml_engines };
        let files: Vec<String> = (0..docs).map(|i| format!("doc-{i:05}.{}", format.extension())).collect();
        let samples: Vec<Samples> = interleaved(&names[..n], docs, args.passes, args.warmup, |e, i| {
            let engine = &mut engines[e];
            if engine.json_only() {
                return (engine.measure(&json[e][i]), Duration::ZERO);
            }
            let start = Instant::now();
            let parsed = engine.parse(&files[i], &texts[i], format).unwrap_or_else(|err| fail(err));
            let parsed_at = Instant::now();
            std::hint::black_box(engine.run(&parsed));
            drop(parsed);
            (start.elapsed(), parsed_at - start)
        });
        let label = if format == Format::Json { "JSON — " } else { "YAML — " };
        let lead = vec![label.to_string(); n];
        timing_rows(&mut table2, &samples, &Columns { lead: &lead, ..cols.clone() });
        medians[block] = samples.iter().map(|s| Stats::of(&s.total).median).collect();
    }
    println!("### Table 2: end to end from text (parse + evaluate + drop), one thread\n\n{}", table2.render());
    println!("{}\n", json_load_line(&workload.json, args.passes, args.warmup));
    let mut yaml_load = Vec::new();
    if !workload.yaml.is_empty() {
        // A parser that rejects a card loses the table, not the run: the tables above are already printed.
        match vigil_bench::yaml_parsers::run(&workload.yaml, args.passes, args.warmup) {
            Ok(run) => {
                println!("### YAML loading against other YAML parsers, one thread\n\n{}", run.text);
                yaml_load = vec![1.0, run.vs_events, run.vs_loaders];
            }
            Err(e) => eprintln!("compare: no YAML parser table: {e}"),
        }
    }
    let [json, yaml] = medians;
    RunFigures { preparsed, json, yaml, yaml_load }
}

/// The row label of Vigil on cards parsed just before their evaluation.
const VIGIL_FIRST: &str = "Vigil, first evaluation of each card";

/// One line per goal of issue 18: the ratio in every run, its median and spread, and the goal.
fn summary_table(runs: &[RunFigures], index: &dyn Fn(&str) -> Option<usize>, first: usize) -> Table {
    let mut headers = vec!["ratio (of per-card medians, same run)", "goal"];
    let run_names: Vec<String> = (1..=runs.len()).map(|r| format!("run {r}")).collect();
    headers.extend(run_names.iter().map(String::as_str));
    headers.extend(["median", "spread"]);
    let mut table = Table::new(&headers);
    type Pick = fn(&RunFigures) -> &[f64];
    /// A summary line: label, goal, which table, numerator and denominator engines.
    type Line = (&'static str, &'static str, Pick, Option<usize>, Option<usize>);
    let pre: Pick = |r| &r.preparsed;
    let json: Pick = |r| &r.json;
    let yaml: Pick = |r| &r.yaml;
    let yaml_load: Pick = |r| &r.yaml_load;
    let vigil = index("vigil");
    let [one, vs_events, vs_loaders] = YAML_LOAD.map(Some);
    let lines: [Line; 12] = [
        ("Vigil ÷ floor, pre-parsed card", "≤ 1.25×", pre, vigil, index("floor")),
        ("Vigil ÷ baseline, pre-parsed card", "", pre, vigil, index("baseline")),
        ("Vigil pre-parsed ÷ Vigil just parsed (layout penalty)", "< 2×, ideally 1×", pre, vigil, vigil.map(|_| first)),
        ("regorus ÷ Vigil, pre-parsed card", "≥ 25×", pre, index("regorus"), vigil),
        ("regorus RVM ÷ Vigil, pre-parsed card", "", pre, index("rvm"), vigil),
        ("OPA (decodes JSON text) ÷ Vigil, pre-parsed card", "≥ 20×", pre, index("opa"), vigil),
        ("OPA ÷ Vigil, both from JSON text", "", json, index("opa"), vigil),
        ("Vigil ÷ floor, JSON text end to end", "", json, vigil, index("floor")),
        ("Vigil ÷ floor, YAML text end to end", "", yaml, vigil, index("floor")),
        ("regorus ÷ Vigil, JSON text end to end", "", json, index("regorus"), vigil),
        ("Vigil YAML load ÷ fastest events-only parser (sums over cards)", "≤ 1.15×", yaml_load, vs_events, one),
        ("Vigil YAML load ÷ fastest parser loading into its own values (sums)", "≤ 1.15×", yaml_load, vs_loaders, one),
    ];
    for (label, goal, pick, num, den) in lines {
        let (Some(num), Some(den)) = (num, den) else { continue };
        let ratios: Vec<f64> =
            runs.iter().filter_map(|r| Some(pick(r).get(num)? / pick(r).get(den)?)).filter(|x| x.is_finite()).collect();
        if ratios.len() != runs.len() {
            continue;
        }
        let mut row = vec![label.to_string(), goal.to_string()];
        row.extend(ratios.iter().map(|r| ratio(*r)));
        let st = Stats::of(&ratios);
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        row.push(ratio(st.median));
        row.push(format!("{}–{}", ratio(lo), ratio(hi)));
        table.row(&row);
    }
    table
}

/// Issue 18's loader goal in one line: Vigil's `Document::parse` of each JSON card against serde_json parsing
/// the same text into its `Value` (parse only, drop untimed), interleaved per card; the median of the per-pass
/// ratios of medians, with their spread.
fn json_load_line(texts: &[String], passes: usize, warmup: usize) -> String {
    let options = vigil::LoadOptions::default();
    let samples = interleaved(&["vigil", "serde_json"], texts.len(), passes, warmup, |e, i| {
        let start = Instant::now();
        if e == 0 {
            let docs = vigil::Document::parse("card.json", &texts[i], &options).unwrap_or_else(|err| fail(err));
            let elapsed = start.elapsed();
            drop(docs);
            (elapsed, Duration::ZERO)
        } else {
            let value: serde_json::Value = serde_json::from_str(&texts[i]).unwrap_or_else(|err| fail(err));
            let elapsed = start.elapsed();
            drop(value);
            (elapsed, Duration::ZERO)
        }
    });
    let per_pass = |s: &Samples| -> Vec<f64> {
        s.total.chunks(texts.len().max(1)).map(|c| vigil_bench::measure::Stats::of(c).median).collect()
    };
    let (vigil, serde) = (per_pass(&samples[0]), per_pass(&samples[1]));
    let mut ratios: Vec<f64> = vigil.iter().zip(&serde).map(|(v, s)| v / s).collect();
    ratios.sort_by(f64::total_cmp);
    let (lo, hi) = (ratios.first().copied().unwrap_or_default(), ratios.last().copied().unwrap_or_default());
    format!(
        "JSON load ÷ serde_json (Document::parse vs serde_json::Value, parse only, median per card): {:.2}× \
         (passes {lo:.2}–{hi:.2}×; {} vs {} per card)",
        ratios[ratios.len() / 2],
        micros(vigil_bench::measure::Stats::of(&samples[0].total).median),
        micros(vigil_bench::measure::Stats::of(&samples[1].total).median),
    )
}

/// Parses every text with every engine, aborting on the first failure.
fn parse_inputs(engines: &[Box<dyn Contender>], texts: &[String], format: Format) -> Vec<Vec<Parsed>> {
    parse_all(engines, texts, format).unwrap_or_else(|err| fail(err))
}

/// `--scaling`: the three scaling tables of docs/performance.md.
fn run_scaling(tables: &[String]) {
    // One recorded pass: the largest configurations take minutes per pass on two shared cores.
    let passes = 1;
    let run = |key: &str, name: &str, table: &dyn Fn() -> Result<String, String>| {
        if tables.iter().any(|t| t == key) {
            let table = table().unwrap_or_else(|e| fail(format!("scaling by {name}: {e}")));
            println!("### By {name}\n\n{table}");
        }
    };
    println!("## Scaling (median per document, pre-parsed input, one thread)\n");
    run("documents", "number of documents (ten rules)", &|| scaling::documents(&[1_000, 10_000, 100_000], passes));
    run("rules", "number of rules (300 documents)", &|| scaling::rules(&[10, 100, 1_000], 300, passes));
    run("items", "array size (artifacts in one document)", &|| scaling::items(&[10, 1_000, 100_000]));
}

/// `--profile-items N`: Vigil alone on one workload card with `N` artifacts, `passes` times, for a profiler
/// (`valgrind --tool=callgrind --toggle-collect='*Session*evaluate*'`): the scaling table's largest documents
/// without the minutes regorus needs for them.
fn profile_items(n: usize, passes: usize) {
    let data = DataDir::prepare(None, 50, false).unwrap_or_else(|e| fail(e));
    let workload = Workload::read(&data.path, false).unwrap_or_else(|e| fail(e));
    // The same compliant card the scaling table grows, so the profile explains that table.
    let compliant = workload.expected.rules_per_doc.iter().position(Vec::is_empty).unwrap_or_default();
    let card: serde_json::Value = serde_json::from_str(&workload.json[compliant]).unwrap_or_else(|e| fail(e));
    let text = scaling::card_with_artifacts(&card, n);
    let mut vigil = VigilEngine::new("modelcard.policy", WORKLOAD_POLICY).unwrap_or_else(|e| fail(e));
    let doc = vigil.parse("card.json", &text, Format::Json).unwrap_or_else(|e| fail(e));
    for _ in 0..passes {
        let start = Instant::now();
        let findings = vigil.run(&doc);
        println!("{n} artifacts: {findings} findings in {}", micros(start.elapsed().as_secs_f64() * 1e6));
    }
}
