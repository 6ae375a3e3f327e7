//! YAML loading against YAML parsers that only produce events (issue 18: "YAML loading ≤ 1.15× the fastest
//! maintained Rust YAML parser"). Each parser reads the whole text and every event is touched, nothing is
//! built: that is the floor any loader built on the parser pays. Vigil's row is its whole load
//! (`Document::from_str`: parse, values, spans, kind), the `parse` column of Table 2.
//!
//! - libyaml-safer: the parser Vigil's loader uses (a Rust port of libyaml, as PyYAML, Go's yaml and so
//!   kubectl read YAML);
//! - saphyr-parser: the YAML 1.2 parser of the saphyr project (yaml-rust2's successor), events with spans;
//! - yaml-rust2: the same lineage, events with a start mark only (no end, so no exact spans).

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::measure::{Samples, Stats, Table, interleaved, micros, ratio};

/// Reads one text, returning how many events (or documents) it gave.
pub type Reader = fn(&str) -> Result<usize, String>;

/// The rows, in the order of [`run`]'s closures.
pub const ROWS: [&str; 4] = [
    "Vigil YAML load (Document::from_str)",
    "libyaml-safer 0.3, events only",
    "saphyr-parser 0.3, events only",
    "yaml-rust2 0.10, events only",
];

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

fn vigil_load(text: &str) -> Result<usize, String> {
    vigil::Document::from_str("doc.yaml", text).map(|docs| black_box(docs).len()).map_err(|e| e.to_string())
}

/// Times Vigil's YAML load and each parser on every text, interleaved per document in rotating order, and
/// renders the table with each row's ratio to Vigil's parser (libyaml-safer) and to the fastest parser,
/// plus the "YAML load ÷ fastest parser" line.
pub fn run(texts: &[String], passes: usize, warmup: usize) -> Result<String, String> {
    let steps: [Reader; 4] = [vigil_load, libyaml_safer_events, saphyr_events, yaml_rust2_events];
    for (row, step) in ROWS.iter().zip(steps) {
        if let Some((i, e)) = texts.iter().enumerate().find_map(|(i, t)| step(t).err().map(|e| (i, e))) {
            return Err(format!("{row} fails on document {i}: {e}"));
        }
    }
    let samples: Vec<Samples> = interleaved(&ROWS, texts.len(), passes, warmup, |e, i| {
        let start = Instant::now();
        let _ = black_box(steps[e](&texts[i]));
        (start.elapsed(), Duration::ZERO)
    });
    let stats: Vec<Stats> = samples.iter().map(|s| Stats::of(&s.total)).collect();
    // Sums over all documents, so a ratio weighs large cards as they weigh in a run.
    let sums: Vec<f64> = samples.iter().map(|s| s.total.iter().sum()).collect();
    let fastest = (1..ROWS.len()).min_by(|&a, &b| sums[a].total_cmp(&sums[b])).unwrap_or(1);
    let mut table = Table::new(&["YAML, per card", "median", "p99", "mean", "÷ libyaml-safer", "÷ fastest parser"]);
    for (k, row) in ROWS.iter().enumerate() {
        let s = &stats[k];
        table.row(&[
            row.to_string(),
            micros(s.median),
            micros(s.p99),
            micros(s.mean),
            ratio(sums[k] / sums[1]),
            ratio(sums[k] / sums[fastest]),
        ]);
    }
    Ok(format!(
        "{}\nYAML load ÷ fastest parser ({}): {} (÷ libyaml-safer, the parser it uses: {})\n",
        table.render(),
        ROWS[fastest],
        ratio(sums[0] / sums[fastest]),
        ratio(sums[0] / sums[1])
    ))
}
