//! YAML loading against other Rust YAML parsers (issue 18: "YAML loading ≤ 1.15× the fastest maintained Rust
//! YAML parser"), in two groups. Vigil's row is its whole load (`Document::from_str`: parse, values, spans,
//! kind), the `parse` column of Table 2; every row reads the whole text and drops what it built.
//!
//! Events only: each parser reads the text and every event is touched, nothing is built. That is the floor any
//! loader built on the parser pays.
//! - libyaml-safer: the parser Vigil's loader uses (a Rust port of libyaml, as PyYAML, Go's yaml and so
//!   kubectl read YAML);
//! - saphyr-parser: the YAML 1.2 parser of the saphyr project (yaml-rust2's successor), events with spans;
//! - yaml-rust2: the same lineage, events with a start mark only (no end, so no exact spans).
//!
//! Loading into the parser's own document type, as the JSON goal compares Vigil with serde_json parsing into
//! its `Value`: each library's fastest entry point (saphyr's from a `&str` input, which lets its values borrow
//! from the text; its `load_from_str` goes through a `char` iterator and is slower).
//! - yaml-rust2's `YamlLoader` into `Yaml` (owned strings, no spans);
//! - saphyr's `Yaml` (scalars borrowed from the text where they can be, no spans);
//! - saphyr's `MarkedYaml` (borrowed, each node with its span, as Vigil's values have);
//! - saphyr's `MarkedYamlOwned` (owned strings and spans: the closest to Vigil's `Value`, which outlives its
//!   text).

use std::hint::black_box;
use std::ops::Range;
use std::time::{Duration, Instant};

use saphyr::LoadableYamlNode;

use crate::measure::{Samples, Stats, Table, interleaved, micros, ratio};

/// Reads one text, returning how many events (or documents) it gave.
pub type Reader = fn(&str) -> Result<usize, String>;

/// The rows: Vigil's load, then [`EVENTS`], then [`LOADERS`].
pub const ROWS: [&str; 8] = [
    "Vigil YAML load (Document::from_str)",
    "libyaml-safer 0.3, events only",
    "saphyr-parser 0.3, events only",
    "yaml-rust2 0.10, events only",
    "yaml-rust2 0.10, YamlLoader into Yaml",
    "saphyr 0.3, into Yaml (borrows the text)",
    "saphyr 0.3, into MarkedYaml (borrows, spans)",
    "saphyr 0.3, into MarkedYamlOwned (owned, spans)",
];

/// What each row of [`ROWS`] runs.
pub const READERS: [Reader; 8] = [
    vigil_load,
    libyaml_safer_events,
    saphyr_events,
    yaml_rust2_events,
    yaml_rust2_load,
    saphyr_load,
    saphyr_marked_load,
    saphyr_marked_owned_load,
];

/// The rows of the event-only parsers.
pub const EVENTS: Range<usize> = 1..4;
/// The rows of the parsers loading into their own document type.
pub const LOADERS: Range<usize> = 4..8;

/// Vigil's whole load: documents with values, spans and kind.
pub fn vigil_load(text: &str) -> Result<usize, String> {
    vigil::Document::from_str("doc.yaml", text).map(|docs| black_box(docs).len()).map_err(|e| e.to_string())
}

/// Events libyaml-safer reads from `text`.
pub fn libyaml_safer_events(text: &str) -> Result<usize, String> {
    let mut bytes = text.as_bytes();
    let mut parser = libyaml_safer::Parser::new();
    parser.set_input_string(&mut bytes);
    let mut n = 0;
    loop {
        let event = parser.parse().map_err(|e| e.to_string())?;
        n += 1;
        if matches!(black_box(&event).data, libyaml_safer::EventData::StreamEnd) {
            return Ok(n);
        }
    }
}

/// Events saphyr-parser reads from `text` (borrowing its scalars from it where it can).
pub fn saphyr_events(text: &str) -> Result<usize, String> {
    let mut parser = saphyr_parser::Parser::new_from_str(text);
    let mut n = 0;
    while let Some(event) = parser.next_event() {
        black_box(event.map_err(|e| e.to_string())?);
        n += 1;
    }
    Ok(n)
}

/// Events yaml-rust2 reads from `text`.
pub fn yaml_rust2_events(text: &str) -> Result<usize, String> {
    let mut parser = yaml_rust2::parser::Parser::new_from_str(text);
    let mut n = 0;
    loop {
        let (event, _) = parser.next_token().map_err(|e| e.to_string())?;
        n += 1;
        if black_box(&event) == &yaml_rust2::Event::StreamEnd {
            return Ok(n);
        }
    }
}

/// Documents yaml-rust2's `YamlLoader` loads from `text`.
pub fn yaml_rust2_load(text: &str) -> Result<usize, String> {
    let docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
    Ok(black_box(docs).len())
}

/// Documents of saphyr node type `N` loaded from `text` through a `&str` input.
fn saphyr_nodes<'a, N: LoadableYamlNode<'a>>(text: &'a str) -> Result<usize, String> {
    let mut parser = saphyr_parser::Parser::new_from_str(text);
    let docs = N::load_from_parser(&mut parser).map_err(|e| e.to_string())?;
    Ok(black_box(docs).len())
}

/// Documents saphyr loads from `text` as `Yaml`.
pub fn saphyr_load(text: &str) -> Result<usize, String> {
    saphyr_nodes::<saphyr::Yaml>(text)
}

/// Documents saphyr loads from `text` as `MarkedYaml`.
pub fn saphyr_marked_load(text: &str) -> Result<usize, String> {
    saphyr_nodes::<saphyr::MarkedYaml>(text)
}

/// Documents saphyr loads from `text` as `MarkedYamlOwned`.
pub fn saphyr_marked_owned_load(text: &str) -> Result<usize, String> {
    saphyr_nodes::<saphyr::MarkedYamlOwned>(text)
}

/// One run of the table: the rendered table and its two lines, and the figures behind them.
#[derive(Debug)]
pub struct YamlRun {
    /// The table and the two "YAML load ÷" lines, as printed.
    pub text: String,
    /// Vigil's load ÷ the fastest event-only parser (sums over all cards).
    pub vs_events: f64,
    /// Vigil's load ÷ the fastest parser loading into its own values (sums over all cards).
    pub vs_loaders: f64,
}

/// The fastest row of `rows` by `sums`.
fn fastest(rows: Range<usize>, sums: &[f64]) -> usize {
    let first = rows.start;
    rows.min_by(|&a, &b| sums[a].total_cmp(&sums[b])).unwrap_or(first)
}

/// Times Vigil's YAML load and every other row on every text, interleaved per document in rotating order, and
/// renders the table with each row's ratio to Vigil's parser (libyaml-safer), to the fastest event-only parser
/// and to the fastest loader, plus the two "YAML load ÷" lines.
pub fn run(texts: &[String], passes: usize, warmup: usize) -> Result<YamlRun, String> {
    for (row, step) in ROWS.iter().zip(READERS) {
        if let Some((i, e)) = texts.iter().enumerate().find_map(|(i, t)| step(t).err().map(|e| (i, e))) {
            return Err(format!("{row} fails on document {i}: {e}"));
        }
    }
    let samples: Vec<Samples> = interleaved(&ROWS, texts.len(), passes, warmup, |e, i| {
        let start = Instant::now();
        let _ = black_box(READERS[e](&texts[i]));
        (start.elapsed(), Duration::ZERO)
    });
    let stats: Vec<Stats> = samples.iter().map(|s| Stats::of(&s.total)).collect();
    // Sums over all documents, so a ratio weighs large cards as they weigh in a run.
    let sums: Vec<f64> = samples.iter().map(|s| s.total.iter().sum()).collect();
    let (events, loaders) = (fastest(EVENTS, &sums), fastest(LOADERS, &sums));
    let mut table = Table::new(&[
        "YAML, per card",
        "median",
        "p99",
        "mean",
        "÷ libyaml-safer",
        "÷ fastest events-only",
        "÷ fastest loader",
    ]);
    for (k, row) in ROWS.iter().enumerate() {
        let s = &stats[k];
        table.row(&[
            row.to_string(),
            micros(s.median),
            micros(s.p99),
            micros(s.mean),
            ratio(sums[k] / sums[1]),
            ratio(sums[k] / sums[events]),
            ratio(sums[k] / sums[loaders]),
        ]);
    }
    let (vs_events, vs_loaders) = (sums[0] / sums[events], sums[0] / sums[loaders]);
    let text = format!(
        "{}\nYAML load ÷ fastest events-only parser ({}): {} (÷ libyaml-safer, the parser it uses: {})\n\
         YAML load ÷ fastest parser loading into its own values ({}): {}\n",
        table.render(),
        ROWS[events],
        ratio(vs_events),
        ratio(sums[0] / sums[1]),
        ROWS[loaders],
        ratio(vs_loaders),
    );
    Ok(YamlRun { text, vs_events, vs_loaders })
}
